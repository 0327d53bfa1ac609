"""What the browser tests do on a page, as a user (or an accessibility auditor) would."""

from pathlib import Path

AXE = Path(__file__).resolve().parent.parent / "assets" / "axe.min.js"
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


def axe_violations(page):
    """WCAG 2 A and AA violations axe-core finds on the page as it is now."""
    if page.evaluate("matchMedia('(scripting: none)').matches"):
        # JavaScript is off: axe could not run there (timers never fire).
        return _violations_of_a_copy(page)
    return _run_axe(page)


def _run_axe(page):
    # The Content-Security-Policy refuses inline scripts, so axe comes from the page's own origin
    # (answered by the test, never by the server) like any script of the site.
    # Injected once per document: a second audit of the same page (another width) reuses it.
    if page.evaluate("typeof window.axe === 'undefined'"):
        url = "/".join(page.url.split("/")[:3]) + "/__tests__/axe.min.js"
        page.route(url, lambda route: route.fulfill(path=AXE, content_type="text/javascript"))
        page.add_script_tag(url=url)
    # Only the violations are read: axe then skips describing every node that passed (a fifth of
    # its time on our longer pages), and finds the same violations.
    return page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa'], resultTypes: ['violations']}))"
        ".violations"
    )


def _violations_of_a_copy(page):
    """Audit the page's DOM as it is now, served at the same address to a page that runs
    scripts (axe's) but none of the app's: the same markup, the same styles."""
    html, address = page.content(), page.url.split("#")[0]
    context = page.context.browser.new_context(viewport=page.viewport_size)
    try:
        copy = context.new_page()
        copy.route("**/*.js", lambda route: route.abort())
        copy.route(
            lambda url: url.split("#")[0] == address,
            lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8"),
        )
        copy.goto(address)
        return _run_axe(copy)
    finally:
        context.close()


def describe(violations):
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} → {[n['target'] for n in v['nodes']]}" for v in violations
    )


def upload_plan(page, path):
    """On the import page: choose a plan file, as the file picker would, and ask for the preview."""
    page.get_by_label("Fichier du plan").set_input_files(path)
    page.get_by_role("button", name="Voir l'aperçu").click()
