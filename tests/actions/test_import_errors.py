"""A territory's officer gets the template right the first time: every error at once, located,
no knock-on errors; the words people type (accents, case, synonyms, percentages, dates by
month or year) read as meant; drop-down lists; the same workbook saved by LibreOffice (.ods)."""

import datetime
import io

import pytest
from django.db import transaction
from openpyxl import load_workbook

from actions.plan_io import open_format, spreadsheet
from actions.plan_io.errors import CellError
from tests.actions.importing import ods_of
from tests.factories import imported_plan


@pytest.fixture
def plan(db):
    return imported_plan()[0]


def template(plan) -> bytes:
    return spreadsheet.workbook_from_data(open_format.export_plan(plan))


@pytest.fixture(scope="module")
def blank_and_document(django_db_setup, django_db_blocker) -> tuple[bytes, dict]:
    """The template of a small imported plan, and the plan's document: made once for the tests
    that only read the file, instead of a plan and an export each (reading a file only reads
    the database: which plans and organisations already exist)."""
    with django_db_blocker.unblock(), transaction.atomic():
        plan = imported_plan()[0]
        made = template(plan), open_format.export_plan(plan)
        transaction.set_rollback(True)
    return made


@pytest.fixture
def blank(blank_and_document, db) -> bytes:
    return blank_and_document[0]


@pytest.fixture
def blank_document(blank_and_document) -> dict:
    return blank_and_document[1]


def edited(content: bytes, edit) -> bytes:
    workbook = load_workbook(io.BytesIO(content))
    edit(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def refused(content: bytes, name="plan.xlsx") -> list[CellError]:
    with pytest.raises(open_format.PlanFormatError) as exc:
        spreadsheet.read_document(name, content)
    return exc.value.cells


def row_of(sheet, number) -> int:
    return next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == number)


def test_every_error_of_a_file_at_once_located_without_knock_on(blank, blank_document):
    def many(wb):
        fiches, steps = wb["Fiches"], wb["Étapes"]
        first = row_of(fiches, 1)
        fiches.cell(first, 1).value = "1bis"  # the fiche's number: its steps must not each complain
        fiches.cell(first + 1, 7).value = "Fini peut-être"  # a bad status…
        fiches.cell(first + 1, 3).value = "x" * 501  # …does not hide a text too long on the same row
        fiches.cell(first + 1, 8).value = 150  # …nor a progress out of range
        steps.append(["1bis", 1, "Une étape de la fiche mal numérotée", None, "non"])
        steps.append([99, 1, "Une étape d'une fiche inconnue", None, "peut-être"])
        wb["Organisations"].append(["Mutuelle X", None, "Mutuelle", None, None])
        wb["Calendrier"].append([2, "2025", None, "31/02/2025", None])
        wb["Notes"].append([2, "l'an dernier", "Suivi", None, "Une note"])

    cells = refused(edited(blank, many))
    fiches = load_workbook(io.BytesIO(blank))["Fiches"]
    second = row_of(fiches, 1) + 1
    located = {(e.sheet, e.row, e.column): e.message for e in cells}
    assert (
        located[("Fiches", second - 1, "A")] == "« Numéro » doit être un nombre entier (trouvé : « 1bis »)."
    )
    assert located[("Fiches", second, "G")] == (
        "« Fini peut-être » n'est pas possible pour « Statut » ; valeurs possibles : "
        "À venir, En cours, Réalisée, En pause, Abandonnée."
    )
    assert located[("Fiches", second, "C")] == "texte trop long : 501 caractères pour 500 au plus"
    assert located[("Fiches", second, "H")].startswith(
        "« Avancement (%) » doit être un pourcentage de 0 à 100"
    )
    assert "fiche n° 99 inconnue" in located[("Étapes", 2 + _count(blank_document, "steps") + 1, "A")]
    assert located[("Étapes", 2 + _count(blank_document, "steps") + 1, "E")] == (
        "« Réalisée » attend oui ou non (trouvé : « peut-être »)."
    )
    kind = next(m for (sheet, _, column), m in located.items() if sheet == "Organisations" and column == "C")
    assert kind == (
        "« Mutuelle » n'est pas possible pour « Type » ; valeurs possibles : EPCI, Commune, CAF, "
        "Département, Région, État, Éducation nationale, MSA, CPAM, Association, Autre."
    )
    assert any(m == "date « 31/02/2025 » invalide (attendu JJ/MM/AAAA)." for m in located.values())
    assert any(m.startswith("date « l'an dernier » invalide : un jour") for m in located.values())
    # Nothing about the steps of the fiche whose number was refused, nothing unlocated.
    assert not any("1bis" in e.message for e in cells if e.sheet == "Étapes")
    assert all(e.sheet and e.row and e.column for e in cells)
    assert len(cells) == 9


def _count(data, what) -> int:
    fiches = [a for axis in data["axes"] for a in axis["actions"]]
    if what == "steps":
        return sum(1 + len(s.get("children", [])) for a in fiches for s in a["steps"])
    raise ValueError(what)


def test_a_fiche_on_an_unknown_axis_is_reported_once(blank):
    def unknown_axis(wb):
        fiches = wb["Fiches"]
        fiches.cell(row_of(fiches, 1), 2).value = 9

    cells = refused(edited(blank, unknown_axis))
    assert [(e.sheet, e.column, e.message) for e in cells] == [
        ("Fiches", "B", "axe 9 inconnu (absent de la feuille « Axes »).")
    ]


def test_an_axis_whose_number_is_unreadable_is_reported_once(blank):
    def bad_axis(wb):
        axes = wb["Axes"]
        number = axes["A2"].value
        axes["A2"] = "I"
        fiches = wb["Fiches"]
        for row in range(2, fiches.max_row + 1):
            if fiches.cell(row, 2).value == number:
                fiches.cell(row, 2).value = "I"

    cells = refused(edited(blank, bad_axis))
    assert [str(e) for e in cells] == [
        "feuille « Axes », ligne 2, colonne A : « Numéro » doit être un nombre entier (trouvé : « I »)."
    ]


@pytest.mark.parametrize(
    ("typed", "status"),
    [
        ("A venir", "planned"),
        ("à venir", "planned"),
        ("  À VENIR ", "planned"),
        ("Prévue", "planned"),
        ("En cours", "in_progress"),
        ("en cours de réalisation", "in_progress"),
        ("Réalisé", "done"),
        ("Terminée", "done"),
        ("terminé", "done"),
        ("Suspendu", "on_hold"),
        ("Abandonné", "abandoned"),
        ("Annulée", "abandoned"),
    ],
)
def test_statuses_as_people_type_them(blank, typed, status):
    def set_status(wb):
        fiches = wb["Fiches"]
        row = row_of(fiches, 1)
        fiches.cell(row, 7).value = typed
        fiches.cell(row, 8).value = 100 if status == "done" else 10

    data = spreadsheet.read_document("plan.xlsx", edited(blank, set_status))
    assert _fiche(data, 1)["status"] == status


def _fiche(data, number):
    return next(a for axis in data["axes"] for a in axis["actions"] if a["number"] == number)


@pytest.mark.parametrize(("typed", "progress"), [("50 %", 50), ("50%", 50), ("50", 50), (0.5, 50), (35, 35)])
def test_percentages(blank, typed, progress):
    def set_progress(wb):
        fiches = wb["Fiches"]
        row = row_of(fiches, 1)
        fiches.cell(row, 7).value, fiches.cell(row, 8).value = "En cours", typed

    data = spreadsheet.read_document("plan.xlsx", edited(blank, set_progress))
    assert _fiche(data, 1)["progress"] == progress


def test_a_cell_formatted_as_a_percentage(blank):
    def formatted(wb):
        fiches = wb["Fiches"]
        row = row_of(fiches, 1)
        fiches.cell(row, 7).value = "En cours"
        cell = fiches.cell(row, 8)
        cell.value, cell.number_format = 1, "0%"  # shows 100 %: a done fiche's 100, not 1
        fiches.cell(row, 7).value = "Réalisée"
        other = fiches.cell(row_of(fiches, 2), 8)
        other.value, other.number_format = 0.5, "0 %"
        fiches.cell(row_of(fiches, 2), 7).value = "En cours"

    data = spreadsheet.read_document("plan.xlsx", edited(blank, formatted))
    assert (_fiche(data, 1)["progress"], _fiche(data, 2)["progress"]) == (100, 50)


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2024", "2024-01-01"),
        (2024, "2024-01-01"),
        ("03/2024", "2024-03-01"),
        ("mars 2024", "2024-03-01"),
        ("Sept. 2024", "2024-09-01"),
        ("15/03/2024", "2024-03-15"),
        (datetime.datetime(2024, 3, 15), "2024-03-15"),
    ],
)
def test_notes_dated_by_day_month_or_year(blank, typed, day):
    def note(wb):
        wb["Notes"].append([1, typed, "Suivi", "Marc L.", "Une note datée à la main"])

    data = spreadsheet.read_document("plan.xlsx", edited(blank, note))
    written = next(n for n in _fiche(data, 1)["notes"] if n["text"] == "Une note datée à la main")
    assert written["date"] == day


def test_organisation_kinds_by_their_usual_names(blank):
    def declare(wb):
        for name, kind in [
            ("MSA Midi-Pyrénées Nord", "MSA"),
            ("CPAM de la Haute-Garonne", "Caisse primaire d'assurance maladie"),
            ("Région Occitanie", "Conseil régional"),
            ("DSDEN 31", "Education Nationale"),
            ("Préfecture de la Haute-Garonne", "préfecture"),
        ]:
            wb["Organisations"].append([name, None, kind, None, None])

    data = spreadsheet.read_document("plan.xlsx", edited(blank, declare))
    kinds = {o["name"]: o["kind"] for o in data["plan"]["organisations"]}
    assert [kinds[n] for n in ("MSA Midi-Pyrénées Nord", "CPAM de la Haute-Garonne", "Région Occitanie")] == [
        "msa",
        "cpam",
        "region",
    ]
    assert (kinds["DSDEN 31"], kinds["Préfecture de la Haute-Garonne"]) == ("education", "etat")


def test_the_template_offers_drop_down_lists(blank):
    workbook = load_workbook(io.BytesIO(blank))

    def lists(title):
        return {
            str(dv.sqref).split(":")[0][0]: dv.formula1
            for dv in workbook[title].data_validations.dataValidation
        }

    assert lists("Fiches")["G"] == '"À venir,En cours,Réalisée,En pause,Abandonnée"'
    assert lists("Fiches")["B"] == "'Axes'!$A$2:$A$10001"
    assert "Éducation nationale" in lists("Organisations")["C"] and "MSA" in lists("Organisations")["C"]
    assert lists("Étapes")["D"] == "'Communes'!$A$2:$A$10001"
    assert lists("Partenaires")["D"] == "'Organisations'!$A$2:$A$10001"
    assert lists("Étapes")["A"] == "'Fiches'!$A$2:$A$10001"


# --- The same workbook saved by LibreOffice as .ods --------------------------------------


def test_the_template_saved_as_ods_reads_like_the_xlsx(blank):
    xlsx = blank
    assert spreadsheet.read_document("plan.ods", ods_of(xlsx)) == spreadsheet.read_document("plan.xlsx", xlsx)


def test_ods_round_trip_into_an_empty_installation(plan):
    from axes.models import Plan

    before = open_format.export_plan(plan)
    content = ods_of(template(plan), percent_progress=True)
    Plan.objects.all().delete()
    report = open_format.import_plan(spreadsheet.read_document("plan.ods", content))
    after = open_format.export_plan(report.plan)
    for data in (before, after):
        data.pop("exported_at", None)
    assert after == before


def test_ods_errors_are_located_like_the_xlsx_ones(blank):
    def two(wb):
        fiches = wb["Fiches"]
        fiches.cell(row_of(fiches, 1), 7).value = "Peut-être"
        wb["Étapes"].append([99, 1, "Étape", None, "non"])

    xlsx = edited(blank, two)
    assert [str(e) for e in refused(ods_of(xlsx), "plan.ods")] == [str(e) for e in refused(xlsx)]


def test_a_note_dated_by_year_or_month_reads_so_everywhere(client, plan):
    """A note the plan dates "2024" or "mars 2024" is kept so: the fiche page, the open format
    and the template give it back as written, not as "01/01/2024"; the same file again writes
    nothing."""
    from django.urls import reverse

    from actions.models import Note
    from axes.models import Role
    from tests.factories import UserFactory, grant

    def notes(wb):
        wb["Notes"].append([1, "2024", "Suivi", "Marc L.", "Bilan de l'année écrite à la main"])
        wb["Notes"].append([1, "mars 2024", "Réalisation", "Marc L.", "Ouverture au printemps"])

    content = edited(template(plan), notes)
    open_format.import_plan(spreadsheet.read_document("plan.xlsx", content))
    by_text = {n.text: n for n in Note.objects.filter(action__plan=plan)}
    year, month = by_text["Bilan de l'année écrite à la main"], by_text["Ouverture au printemps"]
    assert (year.date, year.date_precision) == (datetime.date(2024, 1, 1), "year")
    assert (month.date, month.date_precision) == (datetime.date(2024, 3, 1), "month")

    client.force_login(grant(UserFactory(), plan, Role.READER))
    page = client.get(reverse("action_detail", args=[plan.slug, 1])).text
    assert '<time datetime="2024">2024</time>' in page
    assert '<time datetime="2024-03">mars 2024</time>' in page
    assert "01/01/2024</time>, Marc L." not in page and "01/03/2024</time>, Marc L." not in page

    fiches = [fiche for axis in open_format.export_plan(plan)["axes"] for fiche in axis["actions"]]
    exported = [n for fiche in fiches for n in fiche["notes"] if "date_precision" in n]
    assert {(n["date"], n["date_precision"]) for n in exported} == {
        ("2024-01-01", "year"),
        ("2024-03-01", "month"),
    }
    before, count = open_format.export_plan(plan), Note.objects.filter(action__plan=plan).count()
    report = open_format.import_plan(spreadsheet.read_document("plan.xlsx", template(plan)))
    assert report.unchanged == report.actions
    after = open_format.export_plan(plan)
    assert {**after, "exported_at": None} == {**before, "exported_at": None}
    assert Note.objects.filter(action__plan=plan).count() == count
