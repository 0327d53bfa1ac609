"""Hostile plan files: each refused with the French list of errors and nothing written, never a 500
nor a traceback. Run on PostgreSQL by the suite, and on SQLite by scripts/test too."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from actions.plan_io import open_format, spreadsheet
from axes.models import Plan
from partners.models import Organisation
from tests.factories import ActionFactory, AxisFactory, PlanFactory


def small_plan_data() -> dict:
    plan = PlanFactory(slug="coteaux")
    ActionFactory(plan=plan, axis=AxisFactory(plan=plan, number=1), number=1)
    data = open_format.export_plan(plan)
    plan.delete()
    return data


def refused(data) -> list[str]:
    """Import a document as the command would read it; return the French errors."""
    text = data if isinstance(data, str | bytes) else json.dumps(data, ensure_ascii=False)
    with pytest.raises(open_format.PlanFormatError) as exc:
        open_format.import_plan(open_format.load(text))
    assert not Plan.objects.filter(slug="coteaux").exists()
    return exc.value.errors


def fiche(data):
    return data["axes"][0]["actions"][0]


def test_steps_nested_450_deep(db):
    data = small_plan_data()
    step = {"text": "racine", "children": []}
    fiche(data)["steps"] = [step]
    for depth in range(450):
        child = {"text": f"niveau {depth}", "children": []}
        step["children"].append(child)
        step = child
    errors = refused(data)
    assert any("imbriqué trop profondément" in e or "un niveau de sous-étapes" in e for e in errors), errors


def test_an_integer_of_thousands_of_digits(db):
    data = small_plan_data()
    text = json.dumps(data).replace('"progress": 0', '"progress": ' + "9" * 5000)
    errors = refused(text)
    assert any("nombre" in e and "trop" in e for e in errors), errors


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_not_a_number(db, literal):
    data = small_plan_data()
    fiche(data)["indicators"] = [{"name": "Familles", "baseline": 1, "target": 2, "values": []}]
    text = json.dumps(data).replace('"baseline": 1', f'"baseline": {literal}')
    errors = refused(text)
    assert any("n'est pas un nombre" in e for e in errors), errors


def test_a_nul_character(db):
    data = small_plan_data()
    fiche(data)["title"] = "Avant\u0000après"
    errors = refused(data)
    assert any("caractère de contrôle" in e for e in errors), errors


def test_a_lone_surrogate(db):
    data = small_plan_data()
    text = json.dumps(data).replace('"pilotage": "CCVA"', '"pilotage": "CCVA \\ud800"')
    errors = refused(text)
    assert any("caractère invalide" in e for e in errors), errors


def test_an_organisation_that_is_its_own_parent(db):
    data = small_plan_data()
    data["plan"]["organisations"] = [{"name": "CCVA", "kind": "other", "parent": "CCVA"}]
    errors = refused(data)
    assert any("est son propre parent" in e or "boucle" in e for e in errors), errors
    assert not Organisation.objects.filter(name="CCVA").exists()


def test_two_organisations_each_others_parent(db):
    data = small_plan_data()
    data["plan"]["organisations"] = [
        {"name": "A", "kind": "other", "parent": "B"},
        {"name": "B", "kind": "other", "parent": "A"},
    ]
    errors = refused(data)
    assert any("boucle" in e for e in errors), errors


@pytest.mark.parametrize("amount", [1e12, -1e12, 12345678901234])
def test_a_figure_larger_than_the_database_holds(db, amount):
    data = small_plan_data()
    fiche(data)["indicators"] = [{"name": "Familles", "baseline": amount, "target": 2, "values": []}]
    errors = refused(data)
    assert any("baseline" in e and "999 999 999 999,99" in e for e in errors), errors


def test_the_largest_figure_the_database_holds_is_accepted(db):
    data = small_plan_data()
    fiche(data)["indicators"] = [{"name": "Familles", "baseline": 999999999999.99, "target": 2, "values": []}]
    plan = open_format.import_plan(open_format.load(json.dumps(data))).plan
    assert (
        open_format.export_plan(plan)["axes"][0]["actions"][0]["indicators"][0]["baseline"] == 999999999999.99
    )


def test_the_command_prints_the_errors_without_a_traceback(db, tmp_path, capsys):
    data = small_plan_data()
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data).replace('"progress": 0', '"progress": NaN'), encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("import_plan", str(path))
    assert "Import refusé, rien n'a été modifié." in str(exc.value) and "Traceback" not in str(exc.value)


def xlsx_without_dimension(rows: int) -> bytes:
    """A workbook whose sheet does not declare its size (no <dimension>), as hand-made files do."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Fiches")
    for i in range(rows):
        sheet.append([i, "x"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_rows_are_counted_while_reading_not_trusted_from_the_file(db):
    content = xlsx_without_dimension(spreadsheet.MAX_ROWS + 50)
    with pytest.raises(spreadsheet.SpreadsheetError) as exc:
        spreadsheet.data_from_workbook(content)
    assert exc.value.errors == [f"Trop de lignes : plus de {spreadsheet.MAX_ROWS} au total."]


def test_a_commune_without_insee_code_works_everywhere(client, db):
    from django.urls import reverse

    from axes.models import Role
    from tests.factories import UserFactory, grant

    data = small_plan_data()
    data["plan"]["communes"] = [{"name": "Hameau sans code", "insee": None}]
    fiche(data)["steps"] = [{"text": "Réunir le hameau", "commune": "Hameau sans code", "children": []}]
    plan = open_format.import_plan(open_format.load(json.dumps(data))).plan
    commune = plan.communes.get()
    client.force_login(grant(UserFactory(), plan, Role.READER))
    dashboard = client.get(reverse("dashboard", args=[plan.slug]))
    assert dashboard.status_code == 200 and "Hameau sans code" in dashboard.text
    page = client.get(reverse("commune_dashboard", args=[plan.slug, commune.url_key]))
    assert page.status_code == 200 and "Réunir le hameau" in page.text
    for url in [reverse("plan_detail", args=[plan.slug]), reverse("action_list", args=[plan.slug])]:
        assert client.get(url).status_code == 200
    assert open_format.export_plan(plan)["plan"]["communes"] == [{"name": "Hameau sans code", "insee": None}]


def test_only_installation_administrators_change_signatories(db):
    from axes.models import Role
    from partners.models import OrganisationKind
    from tests.factories import OrganisationFactory, UserFactory, grant

    plan = ActionFactory(number=1).plan
    data = open_format.export_plan(plan)
    caf = OrganisationFactory(name="CAF de la Haute-Garonne", kind=OrganisationKind.CAF)
    data["plan"]["signatories"] = [caf.name]
    coordinator = grant(UserFactory(), plan, Role.COORDINATOR)
    with pytest.raises(open_format.PlanFormatError) as exc:
        open_format.import_plan(data, by=coordinator)
    assert "seul un administrateur de l'installation" in exc.value.errors[0]
    assert not plan.signatories.exists()
    open_format.import_plan(data, by=UserFactory(is_superuser=True))
    assert list(plan.signatories.all()) == [caf]


# --- The same guards for a LibreOffice workbook (.ods) ---------------------------------------

ODS_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    "<office:body><office:spreadsheet>"
)
ODS_TAIL = "</office:spreadsheet></office:body></office:document-content>"


def ods(content_xml: str, *, extra: dict[str, bytes] | None = None) -> bytes:
    """An .ods archive as LibreOffice lays it out, around the given content.xml."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )  # stored first, uncompressed
        archive.writestr("content.xml", content_xml)
        archive.writestr("META-INF/manifest.xml", "<manifest/>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def ods_rows(rows: int, *, repeated: int = 1) -> str:
    row = (
        '<table:table-row table:number-rows-repeated="{n}">'
        '<table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell>'
        "</table:table-row>"
    )
    return (
        ODS_HEAD
        + '<table:table table:name="Fiches">'
        + row.format(n=repeated) * rows
        + "</table:table>"
        + ODS_TAIL
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (ods_rows(spreadsheet.MAX_ROWS + 1), "Trop de lignes : plus de 10000 au total."),
        # One row "repeated" a million times: refused before a single copy is made.
        (ods_rows(1, repeated=1_000_000), "Trop de lignes : plus de 10000 au total."),
        (
            ods(
                '<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
                + ODS_HEAD[len('<?xml version="1.0" encoding="UTF-8"?>') :]
                + '<table:table table:name="Plan"><table:table-row><table:table-cell><text:p>&b;</text:p>'
                "</table:table-cell></table:table-row></table:table>" + ODS_TAIL
            ),
            "Ce classeur est endommagé ou incomplet",
        ),
        (ods("<garbage"), "Ce classeur est endommagé ou incomplet"),
        (
            ods(ODS_HEAD + ODS_TAIL, extra={"padding.xml": b"0" * (60 * 1024 * 1024)}),
            "décompressé, il ferait",
        ),
        (ods(ODS_HEAD + ODS_TAIL, extra={"Basic/Standard/Module1.xml": b"<m/>"}), "contient des macros"),
    ],
    ids=["rows", "repeated row", "entities", "broken xml", "zip bomb", "macros"],
)
def test_hostile_ods_is_refused_like_a_hostile_xlsx(db, content, message):
    if isinstance(content, str):
        content = ods(content)
    with pytest.raises(open_format.PlanFormatError) as exc:
        spreadsheet.read_document("plan.ods", content)
    assert any(message in error for error in exc.value.errors), exc.value.errors


def test_an_empty_row_repeated_to_the_end_of_the_sheet_is_not_a_row(db):
    """LibreOffice closes every sheet with an empty row repeated a million times."""
    content = ods(
        ODS_HEAD
        + '<table:table table:name="Communes"><table:table-row><table:table-cell office:value-type="string">'
        "<text:p>Nom</text:p></table:table-cell></table:table-row>"
        '<table:table-row table:number-rows-repeated="1048575">'
        '<table:table-cell table:number-columns-repeated="1024"/>'
        "</table:table-row></table:table>" + ODS_TAIL
    )
    with pytest.raises(open_format.PlanFormatError) as exc:
        spreadsheet.read_document("plan.ods", content)
    assert "Trop de lignes" not in " ".join(exc.value.errors)
    assert "Feuille « Plan » manquante." in exc.value.errors
