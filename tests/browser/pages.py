"""What the browser tests do on a page, as a user (or an accessibility auditor) would."""

from pathlib import Path

AXE = Path(__file__).resolve().parent.parent / "assets" / "axe.min.js"
READER_PASSWORD = "motdepasse-lecteur"


def sign_in(page, username="lecteur", password=READER_PASSWORD):
    """Fill the sign-in form the page is on, as a user would."""
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def axe_violations(page):
    """WCAG 2 A and AA violations axe-core finds on the page as it is now."""
    page.add_script_tag(path=AXE)
    return page.evaluate("async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']})).violations")


def describe(violations):
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} → {[n['target'] for n in v['nodes']]}" for v in violations
    )
