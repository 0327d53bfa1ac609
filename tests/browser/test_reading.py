"""Reading the plan in real Chromium: sign in, browse the plan and its fiches, keyboard and RGAA checks."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import axe_violations, describe, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FICHE_LINKS = 'table a[href^="/plans/val-aigo/fiches/"]'
ACTION_12 = (
    "Accompagner le renforcement de l'offre jeunesse sur les communes du territoire"
    " - dans le respect des compétences communales"
)


def test_anonymous_visitor_signs_in_and_lands_on_the_plan(page, live_server, reader, val_aigo):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/connexion/\?next=/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")

    sign_in(page)

    # A reader (an élu) lands on the plan's dashboard; the plan is one link away.
    expect(page).to_have_url(f"{live_server.url}/plans/val-aigo/tableau-de-bord/")
    page.get_by_role("navigation", name="Fil d'Ariane").get_by_role("link", name="CC de Val'Aïgo").click()
    expect(page).to_have_url(f"{live_server.url}/plans/val-aigo/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Plan d'action de la CTG")
    expect(page.locator(FICHE_LINKS)).to_have_count(20)
    # Its six axes, each a heading over its fiches; then the organisations the plan declares.
    expect(page.get_by_role("heading", level=2, name=re.compile(r"^Axe \d : "))).to_have_count(6)
    expect(page.get_by_role("heading", level=2).last).to_have_text("Organisations du plan")


def test_the_sign_in_page_meets_wcag_and_a_wrong_password_says_so(page, live_server, reader):
    page.goto(f"{live_server.url}/connexion/")
    violations = axe_violations(page)
    assert violations == [], describe(violations)

    sign_in(page, password="pas-le-bon")
    expect(page.get_by_role("alert")).to_have_text("Identifiant ou mot de passe incorrect.")
    expect(page).to_have_url(re.compile(r"/connexion/$"))


def test_link_opens_the_fiche_of_action_12(signed_in_page, live_server):
    page = signed_in_page
    page.get_by_role("link", name=ACTION_12).click()

    expect(page).to_have_url(f"{live_server.url}/plans/val-aigo/fiches/12/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Action 12 : {ACTION_12}")
    steps = page.locator("ol.steps > li")
    expect(steps).to_have_count(4)
    villemur = steps.first
    expect(villemur).to_contain_text("Villemur-sur-Tarn")
    expect(villemur.locator("ol.substeps > li")).to_have_count(5)
    expect(villemur.get_by_text("Mettre en place la PS jeunes")).to_be_visible()
    calendar = page.get_by_role("table", name="Calendrier de l'action 12")
    expect(calendar.get_by_role("rowheader")).to_have_text(["Selon les communes"])
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("htmx.version").startswith("2")


# Not on the sign-in page: Django's form puts autofocus on "Identifiant", so Tab starts from there.
def test_skip_link_is_the_first_tab_stop(reader_page, live_server):
    page = reader_page
    # Each page freshly loaded in the same tab: Tab starts from the top of the new document.
    for path in ["/plans/val-aigo/", "/plans/val-aigo/fiches/12/"]:
        page.goto(f"{live_server.url}{path}")
        skip_link = page.get_by_role("link", name="Aller au contenu")
        expect(skip_link).not_to_be_in_viewport()

        page.keyboard.press("Tab")
        expect(skip_link).to_be_focused()
        expect(skip_link).to_be_in_viewport()

        page.keyboard.press("Enter")
        expect(page.get_by_role("main")).to_be_focused()


def test_findings_open_with_the_keyboard_and_meet_wcag_a_and_aa(signed_in_page):
    page = signed_in_page
    details = page.locator("details.diagnostic").first
    watch_points = details.get_by_role("heading", name="Points de vigilance")
    expect(watch_points).to_be_hidden()

    details.locator("summary", has_text="Synthèse des enjeux").focus()
    page.keyboard.press("Enter")

    expect(details).to_have_attribute("open", "")
    expect(watch_points).to_be_visible()

    # The plan page with every finding open (and nothing focused, as when it was first drawn).
    page.evaluate("document.activeElement.blur()")
    page.eval_on_selector_all("details", "all => all.forEach(d => { d.open = true; })")
    expect(page.get_by_role("heading", name="Points de vigilance")).to_have_count(6)
    violations = axe_violations(page)
    assert violations == [], describe(violations)


def test_fiche_pages_meet_wcag_a_and_aa(reader_page, live_server):
    page = reader_page
    found = {}
    for number in (1, 12):
        page.goto(f"{live_server.url}/plans/val-aigo/fiches/{number}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"Action {number} :")
        if violations := axe_violations(page):
            found[number] = describe(violations)
    assert not found, "\n\n".join(f"Action {number} :\n{text}" for number, text in found.items())
