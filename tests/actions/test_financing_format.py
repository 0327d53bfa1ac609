"""Financing lines, themes and publics in the open format (the storage extension: the public
schema is untouched) and in the xlsx template: exported, imported, round-tripped, refused in
French when wrong."""

import copy
import io
import json
from decimal import Decimal

import jsonschema
import openpyxl
import pytest

from actions.models import Action, Financing
from actions.plan_io import open_format
from actions.plan_io.errors import PlanFormatError
from partners.models import OrganisationKind
from tests.factories import (
    ActionFactory,
    AxisFactory,
    FinancingFactory,
    OrganisationFactory,
    PlanFactory,
    audience,
    theme,
)

PUBLIC_SCHEMA = json.loads(open_format.SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def plan(db):
    plan = PlanFactory(slug="argent", territory="CC de l'Argent", start_year=2023, end_year=2027)
    caf = OrganisationFactory(name="CAF de la Haute-Garonne", short_name="CAF 31", kind=OrganisationKind.CAF)
    plan.signatories.add(caf)
    axis = AxisFactory(plan=plan, number=1)
    creche = ActionFactory(plan=plan, axis=axis, number=1, title="Micro-crèche")
    ActionFactory(plan=plan, axis=axis, number=2, title="Ludothèque")
    FinancingFactory(
        action=creche,
        funder="CAF 31",
        organisation=caf,
        year=2024,
        planned=12500,
        granted=Decimal("12000.50"),
        spent=8000,
    )
    FinancingFactory(
        action=creche, funder="Commune", scheme="", year=None, planned=None, granted=1500, spent=None
    )
    creche.themes.add(theme("Petite enfance"), theme("Parentalité"))
    creche.audiences.add(audience("0–3 ans", "0-3-ans"), audience("Familles"))
    return plan


def test_exported_in_the_storage_extension_and_still_valid_against_the_public_schema(plan):
    data = open_format.export_plan(plan)
    jsonschema.validate(data, PUBLIC_SCHEMA)
    assert open_format.validate(json.loads(json.dumps(data))) == []
    creche = data["axes"][0]["actions"][0]
    assert creche["financing"] == [
        {
            "funder": "CAF 31",
            "organisation": "CAF de la Haute-Garonne",
            "scheme": "Bonus territoire CTG",
            "year": 2024,
            "planned": 12500,
            "granted": 12000.5,
            "spent": 8000,
        },
        {
            "funder": "Commune",
            "organisation": None,
            "scheme": None,
            "year": None,
            "planned": None,
            "granted": 1500,
            "spent": None,
        },
    ]
    assert set(creche["themes"]) == {"Petite enfance", "Parentalité"}
    assert set(creche["audiences"]) == {"0–3 ans", "Familles"}
    assert "financing" not in data["axes"][0]["actions"][1]  # a fiche without: left out


def test_round_trip_through_an_empty_plan(plan):
    data = json.loads(json.dumps(open_format.export_plan(plan)))
    plan.delete()
    report = open_format.import_plan(data)
    creche = Action.objects.get(plan=report.plan, number=1)
    lines = list(creche.financing.order_by("position"))
    assert [(line.funder, line.organisation.name if line.organisation else None) for line in lines] == [
        ("CAF 31", "CAF de la Haute-Garonne"),
        ("Commune", None),
    ]
    assert lines[0].granted == Decimal("12000.50") and lines[1].year is None
    assert {t.name for t in creche.themes.all()} == {"Petite enfance", "Parentalité"}
    again = json.loads(json.dumps(open_format.export_plan(report.plan)))
    data.pop("exported_at"), again.pop("exported_at")
    assert again == data
    # The same file again writes nothing.
    assert open_format.import_plan(data).unchanged == 2


def test_an_import_updates_lines_and_tags_in_place(plan):
    data = json.loads(json.dumps(open_format.export_plan(plan)))
    creche = data["axes"][0]["actions"][0]
    creche["financing"][0]["spent"] = 9000
    del creche["financing"][1]
    creche["themes"] = ["parentalite"]  # by identifier, as well as by name
    open_format.import_plan(data)
    action = Action.objects.get(plan=plan, number=1)
    assert [(f.funder, f.spent) for f in action.financing.all()] == [("CAF 31", Decimal(9000))]
    assert [t.name for t in action.themes.all()] == ["Parentalité"]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f["financing"][0].update(planned=-1), "financing[0].planned"),
        (
            lambda f: f["financing"][0].update(spent=20000),
            "le montant dépensé (20 000 €) dépasse le montant accordé (12 000,50 €)",
        ),
        (lambda f: f["financing"][0].update(year=1800), "financing[0].year"),
        (
            lambda f: f.update(themes=["Astronomie"]),
            "thématique inconnue « Astronomie » ; valeurs possibles :",
        ),
        (lambda f: f.update(audiences=["Martiens"]), "public visé inconnu « Martiens »"),
    ],
)
def test_a_bad_line_or_tag_is_refused_and_changes_nothing(plan, change, message):
    data = json.loads(json.dumps(open_format.export_plan(plan)))
    change(data["axes"][0]["actions"][0])
    before = list(Financing.objects.values_list("pk", "version"))
    with pytest.raises(PlanFormatError) as refused:
        open_format.import_plan(copy.deepcopy(data))
    assert any(message in error for error in refused.value.errors), refused.value.errors
    assert list(Financing.objects.values_list("pk", "version")) == before


def test_the_template_round_trip(plan):
    from actions.plan_io import spreadsheet

    data = json.loads(json.dumps(open_format.export_plan(plan)))
    content = spreadsheet.workbook_from_data(data)
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book["Financements"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:6] == [
        "Fiche *",
        "Financeur *",
        "Organisation",
        "Dispositif",
        "Année",
        "Montant prévu (€)",
    ]
    assert rows[1] == [
        1,
        "CAF 31",
        "CAF de la Haute-Garonne",
        "Bonus territoire CTG",
        2024,
        12500,
        12000.5,
        8000,
    ]
    fiches = [[cell.value for cell in row] for row in book["Fiches"].iter_rows()]
    header = fiches[0]
    assert set(fiches[1][header.index("Thématiques")].split("; ")) == {"Petite enfance", "Parentalité"}
    read = spreadsheet.read_document("argent.xlsx", content)
    plan.delete()
    imported = open_format.import_plan(read).plan
    again = json.loads(json.dumps(open_format.export_plan(imported)))
    data.pop("exported_at"), again.pop("exported_at")
    assert again == data


def test_bad_financing_cells_are_each_located(plan):
    from actions.plan_io import spreadsheet

    content = spreadsheet.workbook_from_data(json.loads(json.dumps(open_format.export_plan(plan))))
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book["Financements"]
    sheet["F2"] = "-12"  # planned
    sheet["H3"] = "5 000 €"  # spent above the granted 1 500
    sheet.append([1, "Département", None, None, None, "douze mille"])
    book["Fiches"]["J2"] = "Astronomie"
    output = io.BytesIO()
    book.save(output)
    with pytest.raises(PlanFormatError) as refused:
        spreadsheet.read_document("argent.xlsx", output.getvalue())
    errors = refused.value.errors
    assert any(
        e.startswith("feuille « Financements », ligne 2, colonne F") and "négatif" in e for e in errors
    ), errors
    assert any(
        e.startswith("feuille « Financements », ligne 3, colonne H")
        and "le montant dépensé (5\u00a0000\u00a0€) dépasse le montant accordé (1\u00a0500\u00a0€)" in e
        for e in errors
    ), errors
    assert any(e.startswith("feuille « Financements », ligne 4, colonne F") for e in errors), errors
    assert any(
        e.startswith("feuille « Fiches », ligne 2, colonne J") and "« Astronomie »" in e for e in errors
    ), errors


def test_themes_and_publics_as_people_type_them(plan):
    """Accents, case and dashes aside, by name or identifier, in any order: the same tags, and
    the same file again is "nothing to do" (it was "modifiée" at every import)."""
    data = json.loads(json.dumps(open_format.export_plan(plan)))
    creche = data["axes"][0]["actions"][0]
    creche["themes"] = ["acces aux droits", "parentalite", "PETITE ENFANCE"]
    creche["audiences"] = ["Familles", "0-3 ans"]
    assert open_format.preview(data).changed == [1]
    open_format.import_plan(data)
    action = Action.objects.get(plan=plan, number=1)
    assert [t.name for t in action.themes.all()] == ["Petite enfance", "Parentalité", "Accès aux droits"]
    assert [a.name for a in action.audiences.all()] == ["0–3 ans", "Familles"]
    assert open_format.preview(data).nothing_to_do
