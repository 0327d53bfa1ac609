"""The fiche page for the one who updates it, in real Chromium: edits in place with focus and
announcement, few Tab stops to the note, deletions confirmed with and without JavaScript,
WCAG A/AA and reflow at 320 px for an editor and a reader."""

import pytest
from playwright.sync_api import expect

from actions.models import Condition, Indicator
from axes.models import Role
from tests.browser.pages import axe_violations, describe, open_as, signed_in_as
from tests.factories import IndicatorFactory, IndicatorValueFactory, UserFactory, grant

# Scripts on and off for each test unless it narrows them (tests/browser/conftest.py, javascript).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("javascript"),
]

FICHE = "/plans/val-aigo/fiches/1/"


@pytest.fixture
def coordinator(val_aigo):
    return grant(
        UserFactory(username="claire", first_name="Claire", last_name="Dupont"), val_aigo, Role.COORDINATOR
    )


@pytest.fixture
def indicator(val_aigo):
    indicator = IndicatorFactory(action=val_aigo.actions.get(number=1), name="Familles accueillies")
    IndicatorValueFactory(indicator=indicator, year=2024, value=12)
    return indicator


def focused(page, selector):
    """Focus comes to sit on or inside `selector` (never on <body>): the app moves it just
    after the swap settles, so this waits for it (and fails after a few seconds)."""
    page.wait_for_function(
        "s => document.activeElement !== document.body && !!document.activeElement.closest(s)",
        arg=selector,
        timeout=5000,
    )
    return True


def expect_announced(page, text):
    expect(page.locator("#annonce")).to_have_text(text)


def with_javascript_only(why):
    """Run with scripts on only (`why`): chosen before the browser context, the plan and the
    database are made, rather than skipped once they are."""
    return pytest.mark.parametrize("javascript", [True], ids=["js"], indirect=True)


@with_javascript_only("in place means with JavaScript; test_workspace.py covers the plain forms")
def test_edits_in_place_say_what_they_did_and_keep_the_focus(
    page, live_server, coordinator, indicator, javascript
):
    open_as(page, live_server, FICHE, "claire")
    page.evaluate("window.sansRechargement = true")

    status = page.locator("#statut")
    status.get_by_label("Statut").select_option(label="En cours")
    status.get_by_label("Avancement (%)").fill("30")
    status.get_by_role("button", name="Enregistrer le statut").click()
    expect_announced(page, "Statut enregistré")
    expect(page.locator("#statut .badge").first).to_have_text("En cours")
    assert focused(page, "#statut")

    tick = page.locator("#etapes button.tick[aria-pressed=false]").first
    text = tick.inner_text()
    tick.click()
    expect_announced(page, "Étape cochée")
    ticked = page.locator("#etapes button.tick", has_text=text)
    expect(ticked).to_have_attribute("aria-pressed", "true")
    page.wait_for_function("() => document.activeElement.matches('#etapes button.tick[aria-pressed=true]')")

    notes = page.locator("#notes")
    notes.get_by_label("Note de suivi").fill("Réunion tenue avec les parents.")
    notes.get_by_role("button", name="Publier la note").click()
    expect_announced(page, "Note ajoutée")
    expect(notes.locator("ul.notes > li").first).to_contain_text("Réunion tenue avec les parents.")
    assert focused(page, "#notes")

    calendar = page.locator("#calendrier")
    calendar.get_by_role("link", name="Modifier « Début 2024 »").click()
    description = calendar.get_by_label("Ce qui est prévu")
    expect(description).to_be_visible()
    assert focused(page, "#calendrier form")  # the form just opened has the focus
    description.fill("relance de la concertation, avec les élus")
    calendar.get_by_role("button", name="Enregistrer").click()
    expect_announced(page, "Échéance enregistrée")
    expect(calendar).to_contain_text("relance de la concertation, avec les élus")
    assert focused(page, "#calendrier")

    indicators = page.locator("#indicateurs")
    indicators.get_by_role("link", name="Modifier « Familles accueillies »").click()
    target = indicators.locator("form").get_by_label("Cible")
    expect(target).to_be_visible()
    # Typed once the form has settled and taken the focus, as a person would.
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.closest('#indicateurs form')"
    )
    target.fill("40")
    indicators.get_by_role("button", name="Enregistrer").click()
    expect_announced(page, "Indicateur enregistré")
    expect(indicators).to_contain_text("cible : 40")
    assert focused(page, "#indicateurs")

    # A refused input says so, and nothing changed.
    status.get_by_label("Avancement (%)").evaluate("input => input.removeAttribute('max')")
    status.get_by_label("Avancement (%)").fill("150")
    status.get_by_role("button", name="Enregistrer le statut").click()
    expect_announced(page, "Rien n'a été enregistré : le formulaire contient des erreurs.")
    page.wait_for_function("() => document.activeElement.getAttribute('aria-invalid') === 'true'")

    assert page.evaluate("window.sansRechargement") is True, "a form reloaded the page"
    assert page.url == f"{live_server.url}{FICHE}", "an in-place edit changed the address"
    assert Indicator.objects.get(pk=indicator.pk).target == 40


@with_javascript_only("in place means with JavaScript")
def test_after_writes_in_place_the_journal_is_the_one_a_reload_shows(
    page, live_server, coordinator, val_aigo, javascript
):
    """Each write sends only the journal's new lines; with more history than the journal
    shows, the lines that fall out of it leave the page too."""
    action = val_aigo.actions.get(number=1)
    for n in range(55):
        action.refresh_from_db()
        action.save_edit(by=coordinator, progress=n)
    open_as(page, live_server, FICHE, "claire")
    page.evaluate("window.sansRechargement = true")
    lines = page.locator("#journal-lignes > li")
    expect(lines.first).to_contain_text("Avancement : 53 % → 54 %")
    status = page.locator("#statut")
    for label, before, progress in [("En cours", "54", "30"), ("En pause", "30", "35")]:
        status.get_by_label("Statut").select_option(label=label)
        status.get_by_label("Avancement (%)").fill(progress)
        with page.expect_response(lambda response: response.url.endswith("/statut/")) as answer:
            status.get_by_role("button", name="Enregistrer le statut").click()
        expect(lines.nth(1)).to_contain_text(f"Avancement : {before} % → {progress} %")
        assert 'hx-swap-oob="afterbegin"' in answer.value.text()  # the new lines only
    notes = page.locator("#notes")
    notes.get_by_label("Note de suivi").fill("Point d'étape avec les familles.")
    notes.get_by_role("button", name="Publier la note").click()
    expect(lines.first).to_contain_text("Note de suivi ajoutée : « Point d'étape avec les familles. »")
    in_place = lines.all_inner_texts()
    assert page.evaluate("window.sansRechargement") is True, "a form reloaded the page"
    page.reload()
    expect(lines.first).to_contain_text("Note de suivi ajoutée")
    assert lines.all_inner_texts() == in_place
    assert len(in_place) >= 50


@with_javascript_only("the same markup either way: counted once")
def test_the_note_field_is_at_most_twenty_tab_stops_from_the_top(
    page, live_server, coordinator, val_aigo, javascript
):
    open_as(page, live_server, "/plans/val-aigo/fiches/12/", "claire")
    page.locator("main").focus()
    presses = 0
    while presses < 40 and not page.evaluate("document.activeElement.matches('#notes textarea')"):
        page.keyboard.press("Tab")
        presses += 1
    assert page.evaluate("document.activeElement.matches('#notes textarea')")
    assert presses <= 20, presses


def test_a_deletion_asks_first(page, live_server, coordinator, val_aigo, javascript):
    condition = Condition.objects.get(action__plan=val_aigo, action__number=1, text="Temps agent nécessaire")
    open_as(page, live_server, FICHE, "claire")
    section = page.locator("#conditions")
    section.get_by_role("link", name="Modifier « Temps agent nécessaire »").click()
    section.get_by_role("link", name="Supprimer « Temps agent nécessaire »").click()
    if javascript:
        # In place: the question, its button focused.
        expect(section).to_contain_text("Supprimer la condition « Temps agent nécessaire » ?")
        page.wait_for_function("() => document.activeElement.textContent === 'Supprimer'")
        confirm = section.get_by_role("button", name="Supprimer")
    else:
        # A page of its own.
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Supprimer la condition « Temps agent nécessaire » ?"
        )
        confirm = page.get_by_role("button", name="Supprimer")
    assert Condition.objects.filter(pk=condition.pk).exists()  # asking deleted nothing
    confirm.click()
    expect(page.locator("#conditions")).not_to_contain_text("Temps agent nécessaire")
    if javascript:
        expect_announced(page, "Suppression enregistrée")
    assert not Condition.objects.filter(pk=condition.pk).exists()


@with_javascript_only("one audit of the page is enough")
def test_the_fiche_meets_wcag_and_reflows_for_an_editor_and_a_reader(
    page, live_server, val_aigo, indicator, javascript
):
    """Each page loaded once, audited at the width it was loaded at, then laid out again at the
    other: media queries follow the viewport and no script of ours reads the width
    (static/js/app.js), so a load per width would show nothing more (as in test_reflow.py). The
    editor's pages, then the reader's, in one browser context, its session cookie replaced."""
    grant(UserFactory(username="claire"), val_aigo, Role.COORDINATOR)
    grant(UserFactory(username="elu"), val_aigo, Role.READER)
    fiche_12 = "/plans/val-aigo/fiches/12/"
    walks = {"claire": [fiche_12, f"{FICHE}?modifier=pilotage"], "elu": [fiche_12]}
    widths = [1366, 320]
    page.set_viewport_size({"width": widths[0], "height": 900})
    found = {}
    for username, paths in walks.items():
        signed_in_as(page, live_server, username)
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            for width in widths:
                if page.viewport_size["width"] != width:
                    page.set_viewport_size({"width": width, "height": 900})
                if width == 320 and (scroll := page.evaluate("document.documentElement.scrollWidth")) > 320:
                    found[f"{username} : {path} (320 px, défilement)"] = f"la page fait {scroll} px de large"
                if violations := axe_violations(page):
                    found[f"{username} : {path} ({width} px, axe)"] = describe(violations)
            widths.reverse()  # the next page loaded at the width this one was left at
    assert not found, "\n\n".join(f"{path}:\n{text}" for path, text in found.items())
