"""Spreadsheet exports of the fiches list (xlsx, ods, csv), read back as a spreadsheet would."""

import csv
import datetime
import io
import re
from decimal import Decimal

import openpyxl
import pytest
import tablib
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actions.models import Action, CalendarEntry, Indicator, Note, NoteKind, Status, Step
from axes.models import Role
from partners.models import Organisation
from reporting.exports import EXPORTS, FORMATS
from tests.factories import ActionFactory, PlanFactory, UserFactory, build_plan, grant
from tests.scale import copied_plan

WHATS = list(EXPORTS)
FMTS = list(FORMATS)


def export_url(plan, what="fiches", fmt="xlsx"):
    return reverse("export", args=[plan.slug, what, fmt])


def read(response, fmt) -> list[list]:
    """The rows of an exported file, header first, as the spreadsheet holds them."""
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        return [[cell.value for cell in row] for row in sheet.iter_rows()]
    if fmt == "csv":
        text = response.content.decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    data = tablib.Dataset().load(response.content, format="ods")
    return [list(data.headers), *[list(row) for row in data]]


def column(rows, name) -> list:
    index = rows[0].index(name)
    return [row[index] for row in rows[1:]]


@pytest.fixture
def other_client(client, db):
    """A reader of another plan only."""
    other = grant(UserFactory(), PlanFactory(), Role.READER)
    client.force_login(other)
    return client


def test_fiches_export_is_the_fiches_list(reader_client, val_aigo):
    Action.objects.filter(plan=val_aigo, number=2).update(status=Status.IN_PROGRESS, progress=40)
    response = reader_client.get(export_url(val_aigo, "fiches", "xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert re.fullmatch(
        r'attachment; filename="val-aigo-fiches-\d{4}-\d{2}-\d{2}\.xlsx"', response["Content-Disposition"]
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "Fiches-actions"
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == [
        "N°",
        "Axe",
        "Intitulé (axe)",
        "Objectif",
        "Intitulé (synoptique)",
        "Nom de l'action (fiche)",
        "Pilotage",
        "Organisations pilotes",
        "Statut",
        "Avancement (%)",
        "En retard",
        "Dernière échéance",
        "Thématiques",
        "Publics visés",
    ]
    assert column(rows, "N°") == list(range(1, 21))
    two = rows[2]
    assert two[0] == 2 and two[1] == 1
    assert two[8] == "En cours" and two[9] == 40
    # Val'Aïgo has no objectives: the column is there, empty (the same columns for every plan).
    assert column(rows, "Objectif") == [None] * 20
    # Numbers and dates stay numbers and dates.
    assert sheet["A3"].data_type == "n" and sheet["J3"].data_type == "n"
    twelve = dict(zip(rows[0], rows[12], strict=True))
    assert twelve["Intitulé (synoptique)"].startswith("Accompagner le renforcement de l'offre jeunesse")
    assert twelve["Statut"] == "À venir"
    late = set(Action.objects.filter(plan=val_aigo).overdue().values_list("number", flat=True))
    assert {row[0] for row in rows[1:] if row[10] == "Oui"} == late
    deadline = Action.objects.filter(plan=val_aigo).with_deadline().get(number=12).deadline
    assert twelve["Dernière échéance"] == (
        datetime.datetime.combine(deadline, datetime.time()) if deadline else None
    )


@pytest.mark.parametrize("fmt", FMTS)
def test_every_export_in_every_format(reader_client, val_aigo, fmt):
    expected_headers = {
        "fiches": "Nom de l'action (fiche)",
        "etapes": "Étape parente",
        "calendrier": "Ce qui est prévu",
        "partenaires": "Rôle",
        "notes": "Nature",
        "indicateurs": "Valeur de référence",
        "financements": "Dispositif",
        "financements-totaux": "Montant accordé (€)",
    }
    for what in WHATS:
        response = reader_client.get(export_url(val_aigo, what, fmt))
        assert response.status_code == 200, what
        assert response["Content-Disposition"].endswith(f'.{fmt}"')
        rows = read(response, fmt)
        assert rows[0][0] in {"N°", "N° de fiche", "Regroupement"}
        assert expected_headers[what] in rows[0]
    assert FORMATS["csv"].content_type == "text/csv; charset=utf-8"


def test_steps_partners_calendar_rows(reader_client, val_aigo):
    rows = read(reader_client.get(export_url(val_aigo, "etapes", "xlsx")), "xlsx")
    assert rows[0] == ["N° de fiche", "Fiche-action", "Étape parente", "Étape", "Commune", "Réalisée"]
    assert len(rows) - 1 == Step.objects.filter(action__plan=val_aigo).count()
    assert column(rows, "N° de fiche") == sorted(column(rows, "N° de fiche"))
    villemur = [row for row in rows if row[4] == "Villemur-sur-Tarn"]
    assert villemur and all(row[0] == 12 for row in villemur)
    assert ["Mettre en place la PS jeunes", "Non"] in [row[3:6:2] for row in villemur]
    # A child step comes right after its parent and names it.
    children = [row for row in rows[1:] if row[2]]
    assert children
    for child in children:
        assert any(row[3] == child[2] and row[0] == child[0] for row in rows[1:])

    rows = read(reader_client.get(export_url(val_aigo, "partenaires", "csv")), "csv")
    assert rows[0] == ["N° de fiche", "Fiche-action", "Partenaire", "Rôle", "Organisation"]
    sdjes = Organisation.objects.get(short_name="SDJES")
    assert any(row[0] == "10" and row[4] == sdjes.name for row in rows[1:])

    rows = read(reader_client.get(export_url(val_aigo, "calendrier", "ods")), "ods")
    assert rows[0] == ["N° de fiche", "Fiche-action", "Période", "Ce qui est prévu", "Début", "Fin"]
    entry = CalendarEntry.objects.filter(action__plan=val_aigo).exclude(start=None).first()
    assert [entry.action.number, entry.label, entry.start] in [[int(r[0]), r[2], r[4]] for r in rows[1:]]


def test_notes_and_indicators(reader_client, val_aigo):
    action = val_aigo.actions.get(number=2)
    Note.objects.create(
        action=action,
        date=datetime.date(2025, 3, 12),
        kind=NoteKind.ACHIEVEMENT,
        text="Bilan partagé avec les élus.",
        author_name="Claire Dupont",
    )
    indicator = Indicator.objects.create(
        action=action, name="Familles reçues", unit="familles", baseline=12, target=Decimal("40.5")
    )
    indicator.values.create(year=2024, value=15)
    indicator.values.create(year=2025, value=27, comment="Hausse après la campagne d'affichage")
    Indicator.objects.create(action=action, name="Ateliers tenus", unit="ateliers")

    rows = read(reader_client.get(export_url(val_aigo, "notes", "xlsx")), "xlsx")
    assert rows[0] == ["N° de fiche", "Fiche-action", "Date", "Nature", "Auteur", "Note"]
    assert [2, "Réalisation", "Claire Dupont", "Bilan partagé avec les élus."] in [
        [r[0], r[3], r[4], r[5]] for r in rows[1:]
    ]

    rows = read(reader_client.get(export_url(val_aigo, "indicateurs", "xlsx")), "xlsx")
    assert rows[0] == [
        "N° de fiche",
        "Fiche-action",
        "Indicateur",
        "Unité",
        "Valeur de référence",
        "Cible",
        "Année",
        "Valeur",
        "Commentaire",
    ]
    lines = [r[2:] for r in rows[1:] if r[0] == 2]
    assert lines == [
        ["Familles reçues", "familles", 12, 40.5, 2024, 15, None],
        ["Familles reçues", "familles", 12, 40.5, 2025, 27, "Hausse après la campagne d'affichage"],
        ["Ateliers tenus", "ateliers", None, None, None, None, None],
    ]
    # CSV for spreadsheets set to French: semicolons, decimal comma, accents kept.
    response = reader_client.get(export_url(val_aigo, "indicateurs", "csv"))
    assert response.content.startswith("\ufeff".encode())
    rows = read(response, "csv")
    assert ["2", "Familles reçues", "12", "40,5", "2025", "27"] in [[r[0], r[2], *r[4:8]] for r in rows]


def test_exports_follow_the_list_filters(reader_client, val_aigo):
    villemur = Organisation.objects.get(name="Villemur-sur-Tarn")
    rows = read(reader_client.get(export_url(val_aigo, "fiches", "csv"), {"axis": 2}), "csv")
    assert column(rows, "N°") == ["6", "7", "8", "9"]
    rows = read(
        reader_client.get(export_url(val_aigo, "etapes", "xlsx"), {"status": "planned", "axis": 2}), "xlsx"
    )
    planned = set(
        Action.objects.filter(plan=val_aigo, axis__number=2, status="planned").values_list(
            "number", flat=True
        )
    )
    assert set(column(rows, "N° de fiche")) == planned
    rows = read(reader_client.get(export_url(val_aigo, "fiches", "ods"), {"commune": villemur.pk}), "ods")
    assert [int(n) for n in column(rows, "N°")] == [12]
    rows = read(reader_client.get(export_url(val_aigo, "fiches", "xlsx"), {"q": "médiathèque"}), "xlsx")
    assert column(rows, "N°") == [5, 10, 12]
    late = sorted(Action.objects.filter(plan=val_aigo).overdue().values_list("number", flat=True))
    rows = read(reader_client.get(export_url(val_aigo, "fiches", "xlsx"), {"late": "on"}), "xlsx")
    assert column(rows, "N°") == late
    # Nothing matches: the headers alone.
    rows = read(reader_client.get(export_url(val_aigo, "notes", "xlsx"), {"q": "zzzintrouvable"}), "xlsx")
    assert len(rows) == 1


def test_bad_filters_are_ignored_as_on_the_list(reader_client, val_aigo):
    response = reader_client.get(
        export_url(val_aigo, "fiches", "csv"), {"status": "nimporte", "axis": "abc", "commune": "999999"}
    )
    assert response.status_code == 200
    assert len(read(response, "csv")) == 21
    response = reader_client.get(export_url(val_aigo, "fiches", "csv"), {"q": "x" * 500, "pilot": "-1"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/plans/val-aigo/export/inconnu.xlsx",
        "/plans/val-aigo/export/fiches.pdf",
        "/plans/val-aigo/export/fiches.xls",
        "/plans/val-aigo/export/fiches.xlsx.exe",
        "/plans/val-aigo/export/fiches",
        "/plans/inconnu/export/fiches.xlsx",
    ],
)
def test_unknown_export_is_404(reader_client, val_aigo, path):
    assert reader_client.get(path).status_code == 404


def test_export_is_get_only(reader_client, val_aigo):
    assert reader_client.post(export_url(val_aigo)).status_code == 405


def test_who_may_export(client, reader_client, val_aigo):
    assert reader_client.get(export_url(val_aigo, "notes", "csv")).status_code == 200
    reader_client.logout()
    response = client.get(export_url(val_aigo, "notes", "csv"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    other = grant(UserFactory(), PlanFactory(), Role.READER)
    client.force_login(other)
    for what in WHATS:
        assert client.get(export_url(val_aigo, what, "xlsx")).status_code == 404


def test_a_plan_exports_its_own_fiches_only(reader_client, val_aigo):
    stranger = ActionFactory(title="Fiche d'un autre plan", number=3)
    grant(UserFactory(), stranger.plan)
    rows = read(reader_client.get(export_url(val_aigo, "fiches", "xlsx")), "xlsx")
    assert "Fiche d'un autre plan" not in column(rows, "Intitulé (synoptique)")
    assert len(rows) == 21


def test_the_plan_names_its_axes(client, db):
    plan = build_plan(2, n_axes=1)
    plan.level_label = "Enjeu"
    plan.save()
    client.force_login(grant(UserFactory(), plan, Role.READER))
    rows = read(client.get(export_url(plan, "fiches", "xlsx")), "xlsx")
    assert rows[0][1:3] == ["Enjeu", "Intitulé (enjeu)"]


def test_queries_do_not_grow_with_the_plan(client, db, django_assert_max_num_queries):
    user = UserFactory()
    counts = {}
    for size in (20, 200):
        plan = copied_plan(build_plan, size)  # the plans other modules make
        grant(user, plan, Role.READER)
        client.force_login(user)
        for what in WHATS:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(export_url(plan, what, "xlsx"), {"late": "on", "axis": 2})
            assert response.status_code == 200
            counts.setdefault(what, []).append(len(queries))
        with django_assert_max_num_queries(5):
            rows = read(client.get(export_url(plan, "etapes", "csv")), "csv")
        assert len(rows) == 1 + 3 * size
    for what, (small, large) in counts.items():
        assert small == large, (what, counts)
        assert large <= 6, (what, counts)


def test_the_list_offers_the_exports_with_its_filters(reader_client, val_aigo):
    list_url = reverse("action_list", args=[val_aigo.slug])
    html = reader_client.get(list_url, {"axis": 2, "status": "planned"}).text
    assert "Exporter" in html
    for what in WHATS:
        for fmt in FMTS:
            assert f'href="/plans/val-aigo/export/{what}.{fmt}?axis=2&amp;status=planned"' in html
    # The fragment htmx swaps in carries the new filters too.
    fragment = reader_client.get(list_url, {"axis": 3}, HTTP_HX_REQUEST="true").text
    assert 'href="/plans/val-aigo/export/fiches.xlsx?axis=3"' in fragment
    assert (
        "Les 4 fiches affichées, avec les filtres choisis." in reader_client.get(list_url, {"axis": 2}).text
    )
    html = reader_client.get(list_url).text
    assert 'href="/plans/val-aigo/export/notes.ods"' in html
    html = reader_client.get(list_url, {"q": "zzzintrouvable"}).text
    assert "/export/" not in html


# import-export's own admin template reads `export_url`, which only its "export selected" action sets.
@pytest.mark.ignore_template_errors
def test_admin_exports_the_fiches(admin_client, val_aigo):
    url = reverse("admin:actions_action_export")
    page = admin_client.get(url)
    assert page.status_code == 200
    fields = [
        "number",
        "axis",
        "axis_title",
        "objective",
        "title",
        "fiche_title",
        "pilotage",
        "pilots",
        "status",
        "progress",
        "late",
        "deadline",
    ]
    data = {"format": "0", "resource": "0", **{f"actionresource_{name}": "on" for name in fields}}
    response = admin_client.post(url, data)
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:4] == ["N°", "Axe", "Intitulé (axe)", "Objectif"] and "Statut" in rows[0]
    assert len(rows) == 21
    # The admin's change list keeps its inlines and its pages.
    action = val_aigo.actions.get(number=1)
    assert admin_client.get(reverse("admin:actions_action_change", args=[action.pk])).status_code == 200
