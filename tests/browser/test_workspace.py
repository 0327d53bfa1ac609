"""Working on the plan in real Chromium, with JavaScript (htmx, in place) and without (plain forms):
filter the fiches, tick a step, change a status, post a note, be refused, meet a colleague's edit."""

import re

import pytest
from playwright.sync_api import expect

from actions.models import Action, Note, Status, Step
from axes.models import Role
from partners.models import Organisation
from tests.browser.pages import axe_violations, describe, open_as
from tests.factories import UserFactory, grant

# Scripts on and off for each test unless it narrows them (tests/browser/conftest.py, javascript).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("javascript"),
]

LIST = "/plans/val-aigo/fiches/"
FICHE_LINKS = 'table a[href^="/plans/val-aigo/fiches/"]'
PS_JEUNES = "Mettre en place la PS jeunes"


@pytest.fixture
def villemur(val_aigo):
    return Organisation.objects.get(name="Villemur-sur-Tarn")


@pytest.fixture
def contributor(val_aigo, villemur):
    """Marc works for Villemur-sur-Tarn, one of the four communes piloting Action 12."""
    user = UserFactory(username="marc", first_name="Marc", last_name="Lefèvre")
    return grant(user, val_aigo, Role.CONTRIBUTOR, villemur)


def step_of_action_12(text):
    return Step.objects.get(action__plan__slug="val-aigo", action__number=12, text=text)


def test_contributor_filters_the_fiches_by_commune(page, live_server, contributor, villemur, javascript):
    open_as(page, live_server, LIST, "marc")
    assert page.evaluate("typeof window.htmx") == ("object" if javascript else "undefined")
    heading = page.locator("#resultats-titre")
    expect(heading).to_have_text("20 fiches sur 20")

    if javascript:
        page.evaluate("window.sansRechargement = true")
    page.get_by_label("Commune").select_option(label="Villemur-sur-Tarn")
    if not javascript:
        page.get_by_role("button", name="Filtrer").click()

    expect(heading).to_have_text("1 fiche sur 20")
    expect(page).to_have_url(re.compile(rf"{LIST}\?(.*&)?commune={villemur.pk}(&|$)"))
    expect(page.locator(FICHE_LINKS)).to_have_count(1)
    expect(page.locator(FICHE_LINKS)).to_have_attribute("href", f"{LIST}12/")

    if javascript:
        assert page.evaluate("window.sansRechargement") is True, "the page was reloaded"
        page.go_back()
        expect(page).to_have_url(f"{live_server.url}{LIST}")
        expect(heading).to_have_text("20 fiches sur 20")
        expect(page.locator(FICHE_LINKS)).to_have_count(20)


def test_contributor_ticks_a_step_sets_the_status_and_posts_a_note(
    page, live_server, contributor, val_aigo, javascript
):
    fiche = f"{LIST}12/"
    step = step_of_action_12(PS_JEUNES)
    open_as(page, live_server, fiche, "marc")
    if javascript:
        page.evaluate("window.sansRechargement = true")
    journal = page.locator("#journal")
    expect(journal).to_contain_text("Aucune modification depuis le chargement du plan.")

    # One toggle per step, named by the step's text; aria-pressed says whether it is done.
    tick = page.locator("#etapes button.tick", has=page.locator(f"#etape-{step.pk}"))
    expect(page.locator(f"#etape-{step.pk}")).to_have_text(PS_JEUNES)
    expect(tick).to_have_attribute("aria-pressed", "false")
    tick.click()
    expect(tick).to_have_attribute("aria-pressed", "true")
    expect(journal).to_contain_text(f"Étape réalisée : « {PS_JEUNES} », par Marc Lefèvre")

    status = page.locator("#statut")
    status.get_by_label("Statut").select_option(label="En cours")
    status.get_by_label("Avancement (%)").fill("30")
    status.get_by_role("button", name="Enregistrer le statut").click()
    expect(page.locator("#statut .badge").first).to_have_text("En cours")
    expect(page.locator("#statut .progress-value")).to_have_text("30 %")
    expect(journal).to_contain_text("Statut : à venir → en cours, par Marc Lefèvre")

    notes = page.locator("#notes")
    notes.get_by_label("Note de suivi").fill("Réunion avec le collège tenue.")
    notes.get_by_role("button", name="Publier la note").click()
    expect(notes.locator("ul.notes > li").first).to_contain_text("Réunion avec le collège tenue.")
    expect(notes.locator("ul.notes > li").first).to_contain_text("Marc Lefèvre")
    expect(journal).to_contain_text("Note de suivi ajoutée")
    if javascript:
        assert page.evaluate("window.sansRechargement") is True, "a form reloaded the page"

    step.refresh_from_db()
    assert step.done
    action = val_aigo.actions.get(number=12)
    assert (action.status, action.progress) == (Status.IN_PROGRESS, 30)
    note = Note.objects.get(action=action, text="Réunion avec le collège tenue.")
    assert (note.author, note.author_name) == (contributor, "Marc Lefèvre")


def test_contributor_reads_action_1_but_may_not_change_it(
    page, live_server, contributor, val_aigo, javascript
):
    fiche = f"{LIST}1/"
    open_as(page, live_server, fiche, "marc")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Action 1 :")
    expect(page.get_by_role("button", name="Enregistrer le statut")).to_have_count(0)
    expect(page.locator("#statut form")).to_have_count(0)

    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    forged = {"status": "done", "progress": "100", "version": "1"}
    response = page.request.post(
        f"{live_server.url}{fiche}statut/", form=forged, headers={"X-CSRFToken": token}
    )
    assert response.status == 403
    # Refused for who Marc is, not for a missing token.
    assert "Vous ne pouvez pas modifier cette fiche-action." in response.text()

    if javascript:
        # The same forgery sent through htmx from the page is announced, not silent.
        with page.expect_response(f"{live_server.url}{fiche}statut/") as refused:
            page.evaluate(
                "values => htmx.ajax('POST', location.pathname + 'statut/', {target: '#resume', values})",
                forged,
            )
        assert refused.value.status == 403
        assert "Vous ne pouvez pas modifier cette fiche-action." in refused.value.text()
        expect(page.locator("#annonces")).to_have_text(
            "Action refusée : vous n'avez pas le droit de modifier cet élément."
        )
        expect(page.locator("#statut .badge").first).to_have_text("À venir")

    action = val_aigo.actions.get(number=1)
    assert (action.status, action.progress, action.version) == (Status.PLANNED, 0, 1)


def test_a_stale_status_edit_is_refused_with_the_colleagues_value(page, new_context, live_server, val_aigo):
    for username, first, last in [("claire", "Claire", "Dupont"), ("paul", "Paul", "Roux")]:
        grant(UserFactory(username=username, first_name=first, last_name=last), val_aigo, Role.COORDINATOR)
    fiche = f"{LIST}3/"
    first = open_as(page, live_server, fiche, "claire")
    second = open_as(new_context().new_page(), live_server, fiche, "paul")

    first.locator("#statut").get_by_label("Statut").select_option(label="En pause")
    first.get_by_role("button", name="Enregistrer le statut").click()
    expect(first.locator("#statut .badge").first).to_have_text("En pause")

    # Paul still sees the fiche as it was when he opened it.
    second.locator("#statut").get_by_label("Statut").select_option(label="Réalisée")
    second.locator("#statut").get_by_label("Avancement (%)").fill("100")
    second.get_by_role("button", name="Enregistrer le statut").click()
    refusal = second.locator("#statut").get_by_role("alert")
    expect(refusal).to_contain_text("Claire Dupont (le ")
    expect(refusal).to_contain_text("Valeur actuelle : statut « En pause »")
    expect(refusal).to_contain_text("Vos changements n'ont pas été enregistrés")
    expect(second.locator("#statut .badge").first).to_have_text("En pause")

    assert val_aigo.actions.get(number=3).status == Status.ON_HOLD


def test_workspace_pages_meet_wcag_a_and_aa(page, live_server, contributor, villemur, javascript):
    open_as(page, live_server, f"{LIST}?commune={villemur.pk}", "marc")
    expect(page.locator("#resultats-titre")).to_have_text("1 fiche sur 20")
    violations = axe_violations(page)
    assert violations == [], describe(violations)

    if javascript:
        # The step's form as htmx puts it in place.
        page.goto(f"{live_server.url}{LIST}12/")
        page.get_by_role("link", name="Modifier les étapes").click()
        page.get_by_role("link", name=f"Modifier l'étape « {PS_JEUNES} »").click()
    else:
        # Without scripts each of those links loads a page: the step's form is the page at the
        # second link's address, opened directly (the fiche page and the steps' editing page
        # on the way were loaded only to reach it).
        step = step_of_action_12(PS_JEUNES)
        page.goto(f"{live_server.url}{LIST}12/?modifier=etapes-{step.pk}#etapes")
    expect(page.locator("#etapes").get_by_role("button", name="Enregistrer l'étape")).to_be_visible()
    violations = axe_violations(page)
    assert violations == [], describe(violations)

    # The browser itself refuses 150 (max=100): take that guard off to reach the server's.
    progress = page.locator("#statut").get_by_label("Avancement (%)")
    progress.evaluate("input => input.removeAttribute('max')")
    progress.fill("150")
    page.get_by_role("button", name="Enregistrer le statut").click()
    expect(page.locator("#statut")).to_contain_text("L'avancement est un pourcentage, de 0 à 100.")
    expect(page.locator("#statut").get_by_label("Avancement (%)")).to_have_attribute("aria-invalid", "true")
    violations = axe_violations(page)
    assert violations == [], describe(violations)
    assert Action.objects.get(plan__slug="val-aigo", number=12).progress == 0
