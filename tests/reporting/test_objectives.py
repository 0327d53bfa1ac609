"""Plans with objectives between axis and fiche (axes.Objective): the dashboard shows each
axis's objectives under it (progress, statuses, financing), the exports carry an "Objectif"
column, and the dossier COPIL and the bilan name each fiche's objective. Plans without
objectives read as before."""

import csv
import datetime
import io
import re
from decimal import Decimal
from html import unescape

import openpyxl
import pytest
import tablib
from django.urls import reverse

from actions.models import Action, Status
from axes.models import Objective, Role
from reporting.reports import build_report
from tests.factories import ActionFactory, AxisFactory, FinancingFactory, PlanFactory, UserFactory, grant
from tests.pdf import pdf_text

NB = "\u00a0"


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).replace(NB, " ").split())


@pytest.fixture
def plan(db):
    """An "Enjeu" plan. Enjeu 1 has two objectives: 1.1 holds fiches 1 (20 %) and 2 (60 %),
    1.2 fiche 3 (done); fiche 4 has none. Enjeu 2 has no objectives (fiche 5, 10 %)."""
    plan = PlanFactory(slug="bastides", territory="CC des Bastides", level_label="Enjeu")
    familles = AxisFactory(plan=plan, number=1, title="Soutenir les familles")
    vie = AxisFactory(plan=plan, number=2, title="Animer la vie sociale")
    parents = Objective.objects.create(axis=familles, position=1, code="1.1", title="Accompagner les parents")
    info = Objective.objects.create(axis=familles, position=2, code="1.2", title="Informer les familles")
    fiches = [
        ActionFactory(
            plan=plan,
            axis=familles,
            number=1,
            title="Cafés des parents",
            objective=parents,
            status=Status.IN_PROGRESS,
            progress=20,
        ),
        ActionFactory(
            plan=plan,
            axis=familles,
            number=2,
            title="Ateliers parents-enfants",
            objective=parents,
            status=Status.IN_PROGRESS,
            progress=60,
        ),
        ActionFactory(
            plan=plan,
            axis=familles,
            number=3,
            title="Guide des familles",
            objective=info,
            status=Status.DONE,
            progress=100,
        ),
        ActionFactory(
            plan=plan,
            axis=familles,
            number=4,
            title="Lieu d'accueil enfants-parents",
            status=Status.PLANNED,
            progress=0,
        ),
        ActionFactory(
            plan=plan, axis=vie, number=5, title="Centre social", status=Status.IN_PROGRESS, progress=10
        ),
    ]
    FinancingFactory(action=fiches[0], funder="CAF 31", year=2025, planned=1000)
    FinancingFactory(action=fiches[1], funder="CAF 31", year=2025, planned=500)
    FinancingFactory(action=fiches[2], funder="Commune", year=2025, planned=Decimal("250.50"))
    FinancingFactory(action=fiches[4], funder="CAF 31", year=2025, planned=300)
    return plan


def reader(client, plan):
    client.force_login(grant(UserFactory(), plan, Role.READER))
    return client


def dashboard(client, plan) -> str:
    return client.get(reverse("dashboard", args=[plan.slug])).text


def data_rows(html: str, table_id: str) -> list[str]:
    """The rows of one chart's data table, as read: header cell then figures."""
    table = re.search(rf'<table class="chart-data">\s*<caption id="{table_id}".*?</table>', html, re.S).group(
        0
    )
    return [visible_text(row) for row in re.findall(r"<tr[^>]*>.*?</tr>", table, re.S)]


def test_the_dashboard_shows_the_objectives_under_their_axis(client, plan):
    html = dashboard(reader(client, plan), plan)
    page = visible_text(html)
    assert "Avancement par enjeu et par objectif" in page
    assert data_rows(html, "graphique-avancement-donnees-titre") == [
        "Enjeu Avancement moyen",
        "Enjeu 1 : Soutenir les familles 45 %",  # (20 + 60 + 100 + 0) / 4
        "Objectif 1.1 : Accompagner les parents 40 %",
        "Objectif 1.2 : Informer les familles 100 %",
        "Sans objectif 0 %",
        "Enjeu 2 : Animer la vie sociale 10 %",  # no objectives: no rows under it
    ]
    statuses = data_rows(html, "graphique-statuts-donnees-titre")
    assert statuses[0] == "Enjeu À venir En cours Réalisée En pause Abandonnée Total"
    assert statuses[1:] == [
        "Enjeu 1 : Soutenir les familles 1 2 1 0 0 4",
        "Objectif 1.1 : Accompagner les parents 0 2 0 0 0 2",
        "Objectif 1.2 : Informer les familles 0 0 1 0 0 1",
        "Sans objectif 1 0 0 0 0 1",
        "Enjeu 2 : Animer la vie sociale 0 1 0 0 0 1",
    ]
    # The objectives' rows are marked as such (indented under their axis, in the SVG too).
    # (two charts' tables of three objective rows, and the financing's two)
    assert html.count('<tr class="sub">') == 3 * 2 + 2
    assert '<text x="16" y="' in html and ">Objectif 1.2 : Informer les familles</text>" in html
    assert "Financements par enjeu et par objectif" in page
    assert (
        "Enjeu 1 : Soutenir les familles 1 750,50 € — — Objectif 1.1 : Accompagner les parents 1 500 € — — "
        "Objectif 1.2 : Informer les familles 250,50 € — — Enjeu 2 : Animer la vie sociale 300 € — —"
    ) in page
    assert "Sans objectif 0 € " not in page  # fiche 4 has no financing: no row of its own


def test_a_plan_without_objectives_shows_its_axes_as_before(client, plan):
    Action.objects.filter(plan=plan).update(objective=None)
    html = dashboard(reader(client, plan), plan)
    page = visible_text(html)
    assert "objectif" not in page.lower()
    assert "Avancement par enjeu" in page and 'class="sub"' not in html
    assert data_rows(html, "graphique-avancement-donnees-titre") == [
        "Enjeu Avancement moyen",
        "Enjeu 1 : Soutenir les familles 45 %",
        "Enjeu 2 : Animer la vie sociale 10 %",
    ]


def test_the_dossier_copil_groups_by_objective_and_names_each_fiche_s(plan):
    text = pdf_text(build_report("copil", plan).pdf).replace(NB, " ")
    # L'essentiel: progress by enjeu, each followed by its objectives.
    assert "Avancement moyen par enjeu et par objectif" in text
    essential = text[text.index("Enjeu 1 : Soutenir les familles 45 %") :]
    assert essential.index("Objectif 1.1 : Accompagner les parents 40 %") < essential.index(
        "Enjeu 2 : Animer la vie sociale 10 %"
    )
    # Each fiche says which objective it serves, above its title; fiche 4 has none.
    for objective, fiche in (
        ("1.1 : Accompagner les parents", "Action 1 : Cafés des parents"),
        ("1.1 : Accompagner les parents", "Action 2 : Ateliers parents-enfants"),
        ("1.2 : Informer les familles", "Action 3 : Guide des familles"),
    ):
        assert f"Objectif {objective} {fiche} Statut" in text
    assert "Enjeu 1 : Soutenir les familles Action 4 : Lieu d'accueil enfants-parents Statut" in text


def test_the_bilan_names_each_fiche_s_objective(plan):
    text = pdf_text(build_report("bilan", plan, year=datetime.date.today().year).pdf).replace(NB, " ")
    for fiche, objective in (
        ("Action 1 : Cafés des parents", "1.1 : Accompagner les parents"),
        ("Action 2 : Ateliers parents-enfants", "1.1 : Accompagner les parents"),
        ("Action 3 : Guide des familles", "1.2 : Informer les familles"),
    ):
        assert f"{fiche} Objectif {objective} Statut au" in text
    assert "Action 4 : Lieu d'accueil enfants-parents Statut au" in text
    assert "Avancement moyen par enjeu et par objectif" in text


def read(response, fmt) -> list[list]:
    """The rows of an exported file, header first, as a spreadsheet reads them back."""
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        return [[cell.value for cell in row] for row in sheet.iter_rows()]
    if fmt == "csv":
        text = response.content.decode("utf-8-sig")
        return [
            [int(v) if v.isdigit() else v for v in row]
            for row in csv.reader(io.StringIO(text), delimiter=";")
        ]
    data = tablib.Dataset().load(response.content, format="ods")
    return [list(data.headers), *[list(row) for row in data]]


@pytest.mark.parametrize("fmt", ["xlsx", "ods", "csv"])
def test_the_fiches_export_has_an_objective_column(client, plan, fmt):
    reader(client, plan)
    rows = read(client.get(reverse("export", args=[plan.slug, "fiches", fmt])), fmt)
    assert rows[0][:5] == ["N°", "Enjeu", "Intitulé (enjeu)", "Objectif", "Intitulé (synoptique)"]
    objectives = {row[0]: row[3] or "" for row in rows[1:]}
    assert objectives == {
        1: "1.1 : Accompagner les parents",
        2: "1.1 : Accompagner les parents",
        3: "1.2 : Informer les familles",
        4: "",
        5: "",
    }
    # Filtered like the list: the export of enjeu 2 still has the column, empty.
    rows = read(client.get(reverse("export", args=[plan.slug, "fiches", fmt]), {"axis": 2}), fmt)
    assert rows[0][3] == "Objectif" and [row[3] or "" for row in rows[1:]] == [""]


def test_an_objective_without_code_exports_its_title(client, plan):
    Objective.objects.filter(code="1.2").update(code="")
    rows = read(reader(client, plan).get(reverse("export", args=[plan.slug, "fiches", "xlsx"])), "xlsx")
    assert rows[3][3] == "Informer les familles"


def test_the_financing_totals_export_has_the_objectives(client, plan):
    rows = read(
        reader(client, plan).get(reverse("export", args=[plan.slug, "financements-totaux", "xlsx"])), "xlsx"
    )
    assert [row[:3] for row in rows[1:5]] == [
        ["Enjeu", "Enjeu 1 : Soutenir les familles", Decimal("1750.5")],
        ["Objectif", "Objectif 1.1 : Accompagner les parents", 1500],
        ["Objectif", "Objectif 1.2 : Informer les familles", Decimal("250.5")],
        ["Enjeu", "Enjeu 2 : Animer la vie sociale", 300],
    ]
