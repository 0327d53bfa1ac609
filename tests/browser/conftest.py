"""Real Chromium through Playwright, pointed at Debian's build (`playwright install` cannot download)."""

import os
from collections import defaultdict
from urllib.parse import urlsplit

# Playwright's sync API runs an event loop in the test thread, which Django would otherwise take for
# async code and refuse database access from.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402

from tests.browser.pages import READER_PASSWORD, open_as, signed_in_as  # noqa: E402
from tests.factories import grant  # noqa: E402

# The binary itself skips the /usr/bin/chromium wrapper script and its noise.
DEBIAN_CHROMIUM = "/usr/lib/chromium/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    default = DEBIAN_CHROMIUM if os.path.exists(DEBIAN_CHROMIUM) else "/usr/bin/chromium"
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", default),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


# Browser contexts, and a page in each, kept across the tests of a process. A new context and its
# first page cost Chromium about 0.75 s of CPU, a new page in an open context 0.3 s, and an audit
# in a new page's renderer over half a second more than in a page that has run one (the renderer
# has compiled axe and the app's scripts): the contexts tests get from pytest-playwright's
# fixtures (page, context, new_context) come from a pool, one kind per set of options (scripts on
# or off, downloads...), and go back to it emptied: cookies cleared, the storage of the origins
# the test visited cleared (local and session storage, IndexedDB...), every page closed but one,
# which is taken back to about:blank with no history, the context's viewport, the mouse out of
# it, no console messages, errors or requests recorded, and is the next test's first new_page().
# The HTTP cache is kept: static files only (pages carry no validator, so Chromium never serves
# one from it).
# A context goes back only when the test passed and changed nothing the emptying cannot undo:
# after a failure, an init script (audit_every_page's), a route, a listener, a timeout, the
# clock... it is closed, as before; a page likewise (test_csp's init script closes its page).
# What a context and a page both offer that leaves state behind, then each one's own.
_CHANGES = (
    "add_init_script",
    "expose_binding",
    "expose_function",
    "on",
    "once",
    "route",
    "route_from_har",
    "route_web_socket",
    "set_default_navigation_timeout",
    "set_default_timeout",
    "set_extra_http_headers",
)
_CONTEXT_CHANGES = (*_CHANGES, "grant_permissions", "set_geolocation", "set_offline", "set_storage_state")
# Parts of a context any call to which leaves state behind (page.clock is the context's).
_CONTEXT_PARTS = ("clock", "credentials", "tracing")
_PAGE_CHANGES = (*_CHANGES, "add_locator_handler", "emulate_media")
# A key or a button left held down.
_PAGE_PART_CHANGES = {"keyboard": ("down",), "mouse": ("down",)}
# Every kind of storage of an origin but the HTTP cache (cookies are cleared for all origins).
_STORAGE = (
    "local_storage,indexeddb,websql,file_systems,cache_storage,service_workers,shared_storage,storage_buckets"
)
# pytest-playwright's artifacts follow each context of a test: with them on, no pooling.
_ARTIFACTS = ("--tracing", "--video", "--screenshot")


@pytest.fixture(scope="session")
def _context_pool(browser):
    idle = defaultdict(list)
    yield idle
    for contexts in idle.values():
        for context in contexts:
            context.close()


def _watch(thing, names, parts=(), part_changes=None):
    """Set thing.changed when a test calls one of `names` on it, anything on one of its `parts`,
    or one of `part_changes`' methods of a part."""
    thing.changed = False

    def watched(method):
        def call(*args, **kwargs):
            thing.changed = True
            return method(*args, **kwargs)

        return call

    for name in names:
        setattr(thing, name, watched(getattr(thing, name)))
    for part in parts:
        part = getattr(thing, part)
        for name in dir(type(part)):
            if not name.startswith("_") and callable(getattr(part, name)):
                setattr(part, name, watched(getattr(part, name)))
    for part, methods in (part_changes or {}).items():
        part = getattr(thing, part)
        for name in methods:
            setattr(part, name, watched(getattr(part, name)))


def _pooled(context):
    """Watch a context the pool made, and its pages; new_page() hands out its kept page first."""
    _watch(context, _CONTEXT_CHANGES, parts=_CONTEXT_PARTS)
    context.kept_page = None
    close, new_page = context.close, context.new_page

    def _close(*args, **kwargs):
        context.lent.remove(context)  # closed by the test: not kept
        close(*args, **kwargs)

    def _new_page():
        page, context.kept_page = context.kept_page, None
        if page is not None and not page.is_closed():
            return page
        page = new_page()
        _watch(page, _PAGE_CHANGES, part_changes=_PAGE_PART_CHANGES)
        page.first_viewport = page.viewport_size
        requests, page.earlier_requests = page.requests, set()
        page.requests = lambda: [r for r in requests() if r not in page.earlier_requests]
        return page

    context.close, context.new_page = _close, _new_page


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _empty(context, origins):
    """Empty the context for the next test (see above); False if it cannot be."""
    pages = context.pages
    if not pages:
        return False  # nowhere to clear the storage from
    origins |= {_origin(page.url) for page in pages if page.url.startswith("http")}
    kept = next((page for page in pages if not getattr(page, "changed", True)), None)
    if kept is not None and kept.url != "about:blank":
        # From the page itself, so that its renderer stays (a navigation from outside to
        # about:blank starts another one); scripts off only stops the page's own.
        kept.evaluate("location.replace('about:blank')")
        kept.wait_for_url("about:blank", timeout=5000)
    cdp = context.new_cdp_session(kept or pages[0])
    for origin in origins:
        cdp.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": _STORAGE})
        if kept is not None:  # the other pages' session storage goes with them
            cdp.send("DOMStorage.clear", {"storageId": {"securityOrigin": origin, "isLocalStorage": False}})
    if kept is not None:
        cdp.send("Page.resetNavigationHistory")
    cdp.detach()
    for page in pages:
        if page is not kept:
            page.close()
    if kept is not None:
        if kept.viewport_size != kept.first_viewport:
            kept.set_viewport_size(kept.first_viewport)
        kept.mouse.move(-1, -1)  # nothing hovered in the next document
        kept.clear_console_messages()
        kept.clear_page_errors()
        kept.earlier_requests.update(kept.requests())
    context.clear_cookies()
    context.kept_page = kept
    return True


def _passed(item):
    call = getattr(item, "rep_call", None)  # set by pytest-playwright's report hook
    return call is not None and call.passed and item.rep_setup.passed


@pytest.fixture
def new_context(new_context, browser, browser_context_args, _context_pool, request, pytestconfig):
    """pytest-playwright's new_context (behind its context and page), from the pool above."""
    if any(pytestconfig.getoption(option) != "off" for option in _ARTIFACTS):
        yield new_context
        return
    marker = next(request.node.iter_markers("browser_context_args"), None)
    defaults = {**browser_context_args, **(marker.kwargs if marker else {})}
    lent = []

    def _new_context(**kwargs):
        args = {**defaults, **kwargs}
        key = repr(sorted(args.items()))
        idle = _context_pool[key]
        if idle:
            context = idle.pop()
        else:
            context = browser.new_context(**args)
            _pooled(context)
        context.key, context.lent = key, lent
        lent.append(context)
        return context

    yield _new_context
    origins = set()
    if "live_server" in request.fixturenames:
        origins.add(_origin(request.getfixturevalue("live_server").url))
    passed = _passed(request.node)
    for context in list(lent):
        try:
            kept = passed and not context.changed and _empty(context, set(origins))
        except Exception:
            kept = False
        if kept:
            _context_pool[context.key].append(context)
        else:
            context.close()


@pytest.fixture(params=[True, False], ids=["js", "sans-js"])
def javascript(request):
    """Scripts on, then off: a module whose pytestmark says `usefixtures("javascript")` runs
    each of its tests both ways (a test may narrow it with parametrize), and its pages with them
    (browser_context_args below)."""
    return request.param


@pytest.fixture
def browser_context_args(browser_context_args, request):
    """The pages of a test that runs with `javascript` follow it; other tests keep Playwright's."""
    if "javascript" not in request.fixturenames:
        return browser_context_args
    return {**browser_context_args, "java_script_enabled": request.getfixturevalue("javascript")}


@pytest.fixture
def reader(django_user_model, val_aigo):
    """Like the suite's reader, with a password we know to type in the form."""
    return grant(django_user_model.objects.create_user("lecteur", password=READER_PASSWORD), val_aigo)


@pytest.fixture
def reader_page(page, live_server, reader):
    """A blank page whose browser is signed in as the reader (by its session cookie: where a
    reader lands through the form is test_reading.py's subject), for a test to open its page."""
    return signed_in_as(page, live_server, reader.username)


@pytest.fixture
def signed_in_page(reader_page, live_server, val_aigo):
    """A page signed in as a reader, on the Val'Aïgo plan."""
    return open_as(reader_page, live_server, f"/plans/{val_aigo.slug}/", "lecteur")
