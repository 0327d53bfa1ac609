"""Real Chromium through Playwright, pointed at Debian's build (`playwright install` cannot download)."""

import os

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
