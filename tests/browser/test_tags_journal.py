"""Ticking a fiche's themes and publics in place, in real Chromium: the journal on the page
gets the line at once ("Thématiques : ajouté « Parentalité » ; retiré « Jeunesse »"), with
JavaScript (out of band) and without (the page drawn again)."""

import pytest
from playwright.sync_api import expect

from axes.models import Role
from tests.browser.pages import open_as
from tests.factories import UserFactory, audience, grant, theme

# Scripts on and off for each test unless it narrows them (tests/browser/conftest.py, javascript).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("javascript"),
]

FICHE = "/plans/val-aigo/fiches/1/"


def test_ticking_themes_writes_a_journal_line(page, live_server, val_aigo, javascript):
    grant(UserFactory(username="claire", first_name="Claire", last_name="Dupont"), val_aigo, Role.COORDINATOR)
    # The lists a data migration seeds, which a browser test's flush before may have emptied.
    theme("Parentalité")
    audience("Familles")
    val_aigo.actions.get(number=1).set_tags(by=None, themes=[theme("Jeunesse")])
    open_as(page, live_server, FICHE, "claire")
    if javascript:
        page.evaluate("window.sansRechargement = true")

    tags = page.locator("#thematiques")
    tags.get_by_role("link", name="Modifier les thématiques et publics").click()
    tags.get_by_role("checkbox", name="Parentalité").check()
    tags.get_by_role("checkbox", name="Jeunesse").uncheck()
    tags.get_by_role("checkbox", name="Familles").check()
    tags.get_by_role("button", name="Enregistrer les thématiques et publics").click()

    expect(tags.locator("dd").first).to_have_text("Parentalité")
    lines = page.locator("#journal ol.journal > li")
    expect(lines.nth(0)).to_contain_text("Publics visés : ajouté « Familles », par Claire Dupont")
    expect(lines.nth(1)).to_contain_text(
        "Thématiques : ajouté « Parentalité » ; retiré « Jeunesse », par Claire Dupont"
    )
    if javascript:
        expect(page.locator("#annonce")).to_have_text("Thématiques et publics enregistrés")
        assert page.evaluate("window.sansRechargement") is True, "the form reloaded the page"
