"""What the browser tests do on a page, as a user (or an accessibility auditor) would."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

AXE = Path(__file__).resolve().parent.parent / "assets" / "axe.min.js"
AXE_SOURCE = AXE.read_text()
READER_PASSWORD = "motdepasse-lecteur"
# What tests.factories.UserFactory gives everyone.
FACTORY_PASSWORD = "motdepasse-de-test"


def sign_in(page, username="lecteur", password=READER_PASSWORD):
    """Fill the sign-in form the page is on, as a user would."""
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def sign_in_and_open(page, live_server, path, username, password=FACTORY_PASSWORD):
    """Sign in through the form, asking for `path`, and wait to land there."""
    page.goto(f"{live_server.url}/connexion/?next={path}")
    sign_in(page, username, password)
    page.wait_for_url(f"{live_server.url}{path}")
    return page


def signed_in_as(page, live_server, username):
    """Give the page's browser the session cookie of `username`, signed in by Django's test
    client: for the tests whose subject is not signing in (the form is walked as a user would in
    test_reading.py, test_a11y_focus.py, test_objectives_dashboard.py and test_copil_cycle.py),
    it saves the sign-in page and the landing page drawn for nothing."""
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )
    return page


def open_as(page, live_server, path, username):
    """Open `path` signed in as `username` (signed_in_as)."""
    signed_in_as(page, live_server, username)
    page.goto(f"{live_server.url}{path}")
    return page


def axe_violations(page):
    """WCAG 2 A and AA violations axe-core finds on the page as it is now."""
    if page.evaluate("matchMedia('(scripting: none)').matches"):
        # JavaScript is off: axe could not run there (timers never fire).
        return _violations_of_a_copy(page)
    return _run_axe(page)


def _run_axe(page):
    # Evaluated through the DevTools protocol, which the Content-Security-Policy (no inline
    # script) does not govern: no route to serve it (a route turns the page's HTTP cache off and
    # takes every later request of the page through the test), and no tag left in the page.
    # Injected once per document (unless audit_every_page put it there as the document started):
    # a second audit of the same page (another width) reuses it.
    if page.evaluate("typeof window.axe === 'undefined'"):
        page.evaluate(AXE_SOURCE)
    # Only the violations are read: axe then skips describing every node that passed (a fifth of
    # its time on our longer pages), and finds the same violations.
    return page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa'], resultTypes: ['violations']}))"
        ".violations"
    )


def audit_every_page(context):
    """For a test that audits every page it opens: axe put in each document of the context as
    it starts (the renderer compiles it once), rather than sent to each after it loaded."""
    context.add_init_script(AXE_SOURCE)


# The page each browser audits copies in: a context and its first page cost more than the audit.
_copies = {}


def _copy_page(browser):
    copy = _copies.get(browser)
    if copy is None or copy.is_closed():
        copy = browser.new_context().new_page()
        copy.route("**/*.js", lambda route: route.abort())
        _copies[browser] = copy
    return copy


def _violations_of_a_copy(page):
    """Audit the page's DOM as it is now, served at the same address to a page that runs
    scripts (axe's) but none of the app's: the same markup, the same styles."""
    html, address = page.content(), page.url.split("#")[0]
    copy = _copy_page(page.context.browser)
    copy.set_viewport_size(page.viewport_size)

    def this_address(url):
        return url.split("#")[0] == address

    def serve(route):
        route.fulfill(body=html, content_type="text/html; charset=utf-8")

    copy.route(this_address, serve)
    try:
        copy.goto(address)
        return _run_axe(copy)
    finally:
        copy.unroute(this_address, serve)


def describe(violations):
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} → {[n['target'] for n in v['nodes']]}" for v in violations
    )


def upload_plan(page, path):
    """On the import page: choose a plan file, as the file picker would, and ask for the preview."""
    page.get_by_label("Fichier du plan").set_input_files(path)
    page.get_by_role("button", name="Voir l'aperçu").click()
