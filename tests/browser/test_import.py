"""Bringing a whole plan in from the Excel template, in real Chromium: an installation administrator
downloads the blank template, uploads a plan a territory filled in, reads the preview, confirms,
and finds the new plan; a file with a mistake is refused, naming its cell, and writes nothing.
The import pages are plain forms: the same path is walked with JavaScript on and off."""

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from actions.models import Action, PlanImport, Status, Step
from axes.models import Plan
from partners.models import Organisation
from tests.browser.pages import axe_violations, describe, open_as, upload_plan
from tests.factories import UserFactory

# Scripts on and off for each test unless it narrows them (tests/browser/conftest.py, javascript).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("javascript"),
]

# Filled in by hand from the blank template: see tests/assets/make_plan_coteaux.py.
PLAN_COTEAUX = Path(__file__).resolve().parent.parent / "assets" / "plan-coteaux.xlsx"
SLUG = "coteaux-girou"
CAF = "Caisse d'allocations familiales de la Haute-Garonne"
# Tied to fiche 8 through its steps only: it pilots nothing and partners nothing.
CASTELFORT = "Castelfort-du-Girou"


@pytest.fixture
def administrator(val_aigo):
    """Administers the installation, which already holds the Val'Aïgo plan: only such an
    administrator may create a new plan."""
    return UserFactory(username="admin", first_name="Hélène", last_name="Garnier", is_superuser=True)


def test_administrator_imports_a_new_plan_from_the_template(
    page, live_server, administrator, javascript, tmp_path
):
    open_as(page, live_server, "/import/", "admin")
    assert page.evaluate("typeof window.htmx") == ("object" if javascript else "undefined")
    expect(page.get_by_role("heading", level=1)).to_have_text("Importer un plan depuis Excel")

    # The blank template, to fill in.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="modèle Excel (.xlsx)").click()
    download = download_info.value
    assert download.suggested_filename == "modele-plan-ctg.xlsx"
    template = tmp_path / download.suggested_filename
    download.save_as(template)
    workbook = load_workbook(template)
    assert workbook.sheetnames[0] == "Lisez-moi"
    assert "Fiches" in workbook.sheetnames and workbook["Fiches"]["A1"].value == "Numéro *"
    assert workbook["Fiches"].max_row == 1  # blank: headers only

    # The plan the territory filled in: a preview first, nothing written.
    upload_plan(page, PLAN_COTEAUX)
    page.wait_for_url(re.compile(rf"{live_server.url}/import/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Aperçu de l'import")
    expect(page.get_by_role("heading", level=1)).to_contain_text("plan-coteaux.xlsx")
    summary = page.locator("main p", has_text=f"Plan « {SLUG} »")
    expect(summary).to_have_text(
        f"Plan « {SLUG} » (CC des Coteaux du Girou) : création d'un nouveau plan, 4 enjeux."
    )

    def row(label):
        return page.locator("tr", has=page.get_by_role("rowheader", name=label, exact=True)).locator("td")

    expect(row("Nouvelles")).to_have_text(["12", ", ".join(str(n) for n in range(1, 13))])
    for label in ["Modifiées", "Inchangées", "Fiches archivées (absentes du fichier)"]:
        expect(row(label)).to_have_text(["0", "—"])
    violations = axe_violations(page)
    assert violations == [], describe(violations)
    assert not Plan.objects.filter(slug=SLUG).exists()

    page.get_by_role("button", name="Confirmer l'import").click()
    page.wait_for_url(f"{live_server.url}/plans/{SLUG}/")
    expect(page.locator(".messages")).to_contain_text(f"Plan « {SLUG} » créé : 4 enjeux, 12 fiches-actions.")
    # The title says its years: the heading does not repeat them after the territory.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Convention territoriale globale 2024-2028 CC des Coteaux du Girou"
    )
    enjeux = page.locator("section.axis h2")
    expect(enjeux).to_have_text([re.compile(rf"^Enjeu {n} : ") for n in range(1, 5)])
    expect(enjeux.first).to_have_text("Enjeu 1 : Accompagner les parents et soutenir la fonction parentale")
    fiches = page.locator(f'section.axis table a[href^="/plans/{SLUG}/fiches/"]')
    expect(fiches).to_have_count(12)
    for n, numbers in enumerate([(1, 2, 3), (4, 5, 6), (7, 8, 9), (10, 11, 12)], start=1):
        section = page.locator("section.axis", has=page.locator(f"#axe-{n}"))
        expect(section.locator("tbody td:first-child")).to_have_text([str(k) for k in numbers])

    # The fiches of one commune: fiche 8 groups its steps by commune.
    page.get_by_role("link", name="Rechercher et filtrer les fiches-actions").click()
    page.wait_for_url(f"{live_server.url}/plans/{SLUG}/fiches/")
    heading = page.locator("#resultats-titre")
    expect(heading).to_have_text("12 fiches sur 12")
    page.get_by_label("Commune").select_option(label=CASTELFORT)
    if not javascript:
        page.get_by_role("button", name="Filtrer").click()
    expect(heading).to_have_text("1 fiche sur 12")
    listed = page.locator(f'#resultats table a[href^="/plans/{SLUG}/fiches/"]')
    expect(listed).to_have_count(1)
    expect(listed).to_have_text("Développer l'offre jeunesse dans chaque commune")
    listed.click()
    page.wait_for_url(f"{live_server.url}/plans/{SLUG}/fiches/8/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Action 8 : Développer l'offre jeunesse dans chaque commune"
    )
    group = Step.objects.get(action__plan__slug=SLUG, action__number=8, parent=None, text=CASTELFORT)
    assert {step.commune.name for step in [group, *group.children.all()]} == {CASTELFORT}
    expect(page.locator(f"#etape-{group.pk}")).to_have_text(CASTELFORT)
    castelfort = page.locator("#etapes ol.steps > li", has=page.locator(f"#etape-{group.pk}"))
    expect(castelfort.locator("ol.substeps > li [id^='etape-']")).to_have_text(
        ["Aménager l'ancienne école en local jeunes", "Organiser des sorties pendant les vacances scolaires"]
    )

    plan = Plan.objects.get(slug=SLUG)
    assert (plan.territory, plan.start_year, plan.end_year, plan.level_label) == (
        "CC des Coteaux du Girou",
        2024,
        2028,
        "Enjeu",
    )
    assert sorted(plan.communes.values_list("insee", flat=True)) == ["31901", "31902", "31903", "31904"]
    assert Action.objects.filter(plan=plan).count() == 12
    assert Action.objects.get(plan=plan, number=12).status == Status.ON_HOLD
    # The CAF the installation already knew signs this plan too: found by name, not duplicated.
    assert Organisation.objects.filter(name=CAF).count() == 1
    assert plan.signatories.filter(name=CAF, kind="caf").exists()
    assert PlanImport.objects.get().applied_at is not None


def _fiche_under_an_unknown_enjeu(tmp_path):
    """The same workbook, with fiche 5 filed under an enjeu 9 the Axes sheet does not have, and
    a calendar date that does not exist: two errors in two sheets."""
    workbook = load_workbook(PLAN_COTEAUX)
    fiches = workbook["Fiches"]
    row = next(cell.row for (cell,) in fiches.iter_rows(min_row=2, max_col=1) if cell.value == 5)
    fiches.cell(row=row, column=2, value=9)
    calendar = workbook["Calendrier"]
    calendar.append([2, "2025", None, "31/02/2025", None])
    path = tmp_path / "plan-coteaux-erreur.xlsx"
    workbook.save(path)
    return path, row, calendar.max_row


@pytest.mark.parametrize("javascript", [True], ids=["js"])
def test_a_file_with_a_mistake_is_refused_and_names_its_cell(page, live_server, administrator, tmp_path):
    path, row, calendar_row = _fiche_under_an_unknown_enjeu(tmp_path)
    organisations = Organisation.objects.count()
    open_as(page, live_server, "/import/", "admin")
    upload_plan(page, path)

    expect(page.get_by_role("alert")).to_have_text(
        "Import refusé, rien n'a été modifié. 2 erreurs, dans le tableau ci-dessous :"
    )
    caption = "2 erreurs à corriger dans le classeur, par feuille, ligne et colonne"
    table = page.get_by_role("table", name=caption)
    expect(table.get_by_role("columnheader")).to_have_text(["Feuille", "Ligne", "Colonne", "Message"])
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").nth(0).locator("td")).to_have_text(
        ["Fiches", str(row), "B", "enjeu 9 inconnu (absent de la feuille « Axes »)."]
    )
    expect(table.locator("tbody tr").nth(1).locator("td")).to_have_text(
        ["Calendrier", str(calendar_row), "D", "date « 31/02/2025 » invalide (attendu JJ/MM/AAAA)."]
    )
    expect(page).to_have_url(f"{live_server.url}/import/")
    violations = axe_violations(page)
    assert violations == [], describe(violations)
    # At 320 px (400 % zoom) the page does not scroll sideways: the table scrolls in its own
    # region, named by its caption and reachable from the keyboard.
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    region = page.get_by_role("region", name=caption)
    expect(region).to_have_attribute("tabindex", "0")
    violations = axe_violations(page)
    assert violations == [], describe(violations)

    assert not Plan.objects.filter(slug=SLUG).exists()
    assert not PlanImport.objects.exists()
    assert Organisation.objects.count() == organisations
