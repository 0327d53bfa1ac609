"""Financing added up by axis, by funder and by year: on the dashboard, in the dossier COPIL
and in the CAF bilan (read from the PDF's text), the same figures; the bilan of a year as the
lines stood on 31 December."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from axes.models import Role
from reporting.reports import build_report
from tests.factories import ActionFactory, AxisFactory, FinancingFactory, PlanFactory, UserFactory, grant
from tests.pdf import pdf_text

PARIS = datetime.timezone(datetime.timedelta(hours=1))
NB = "\u00a0"


def flat(text: str) -> str:
    return " ".join(text.replace(NB, " ").split())


@pytest.fixture
def plan(db):
    """Two axes; the CAF funds a fiche of each, the commune one, over 2024 and 2025."""
    with time_machine.travel(datetime.datetime(2025, 3, 1, 10, tzinfo=PARIS), tick=False):
        plan = PlanFactory(slug="sous", territory="CC des Sous", start_year=2023, end_year=2027)
        familles = AxisFactory(plan=plan, number=1, title="Accompagner les familles")
        jeunes = AxisFactory(plan=plan, number=2, title="Les jeunes")
        creche = ActionFactory(plan=plan, axis=familles, number=1, title="Micro-crèche")
        accueil = ActionFactory(plan=plan, axis=jeunes, number=2, title="Accueil jeunes")
        FinancingFactory(action=creche, funder="CAF 31", year=2024, planned=12500, granted=12000, spent=8000)
        FinancingFactory(action=creche, funder="Commune de Sous", year=2025, planned=Decimal("2500.50"))
        FinancingFactory(action=accueil, funder="CAF 31", year=2025, planned=4000, granted=4000)
    return plan


def row(label: str, *amounts: str) -> str:
    return f"{label}</th>" + "".join(f'<td class="number">{amount}</td>' for amount in amounts)


def test_the_dashboard_adds_up_by_axis_funder_and_year(client, plan):
    client.force_login(grant(UserFactory(), plan, Role.READER))
    page = flat(client.get(f"/plans/{plan.slug}/tableau-de-bord/").text)
    assert "Financements par axe" in page and "Financements par financeur" in page
    assert row("Axe 1 : Accompagner les familles", "15 000,50 €", "12 000 €", "8 000 €") in page
    assert row("Axe 2 : Les jeunes", "4 000 €", "4 000 €", "—") in page
    assert row("CAF 31", "16 500 €", "16 000 €", "8 000 €") in page
    assert row("Commune de Sous", "2 500,50 €", "—", "—") in page
    assert row("2024", "12 500 €", "12 000 €", "8 000 €") in page
    assert row("2025", "6 500,50 €", "4 000 €", "—") in page
    assert "3 lignes de financement : 19 000,50 € prévus, 16 000 € accordés, 8 000 € dépensés." in page


def test_a_plan_without_financing_says_so(client, db):
    plan = PlanFactory()
    ActionFactory(plan=plan, axis__plan=plan)
    client.force_login(grant(UserFactory(), plan, Role.READER))
    assert "Aucun financement renseigné" in client.get(f"/plans/{plan.slug}/tableau-de-bord/").text


def test_the_dossier_and_the_bilan_print_the_same_totals(plan, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(datetime.datetime(2026, 1, 20, 10, tzinfo=PARIS), tick=False):
        # Changed after the end of 2025: the bilan 2025 prints the line as it stood then.
        line = plan.actions.get(number=2).financing.get()
        line.save_edit(by=None, granted=Decimal(3000), spent=Decimal(1000))
        copil = flat(pdf_text(build_report("copil", plan).pdf))
        bilan = flat(pdf_text(build_report("bilan", plan, year=2025).pdf))
    assert "Financements par axe" in copil and "Financements par financeur" in copil
    assert "Axe 1 : Accompagner les familles 15 000,50 € 12 000 € 8 000 €" in copil
    assert "Axe 2 : Les jeunes 4 000 € 3 000 € 1 000 €" in copil
    assert "CAF 31 16 500 € 15 000 € 9 000 €" in copil
    assert "Axe 2 : Les jeunes 4 000 € 4 000 € —" in bilan
    assert "CAF 31 16 500 € 16 000 € 8 000 €" in bilan
    assert "2025 6 500,50 € 4 000 € —" in bilan


def test_the_exports_hold_the_lines_the_totals_and_the_tags(client, plan):
    from tests.factories import audience, theme
    from tests.reporting.test_exports import export_url, read

    creche = plan.actions.get(number=1)
    creche.themes.add(theme("Petite enfance"), theme("Parentalité"))
    creche.audiences.add(audience("0–3 ans", "0-3-ans"))
    client.force_login(grant(UserFactory(), plan, Role.READER))
    lines = read(client.get(export_url(plan, "financements", "xlsx")), "xlsx")
    assert lines[0] == [
        "N° de fiche",
        "Fiche-action",
        "Financeur",
        "Organisation",
        "Dispositif",
        "Année",
        "Montant prévu (€)",
        "Montant accordé (€)",
        "Montant dépensé (€)",
    ]
    assert lines[1][:3] == [1, "Micro-crèche", "CAF 31"] and lines[1][5:] == [2024, 12500, 12000, 8000]
    assert lines[2][6] == 2500.5
    totals = read(client.get(export_url(plan, "financements-totaux", "csv")), "csv")
    assert totals[0] == [
        "Regroupement",
        "Libellé",
        "Montant prévu (€)",
        "Montant accordé (€)",
        "Montant dépensé (€)",
    ]
    assert ["Axe", "Axe 1 : Accompagner les familles", "15000,5", "12000", "8000"] in totals
    assert ["Financeur", "CAF 31", "16500", "16000", "8000"] in totals
    assert ["Année", "2025", "6500,5", "4000", ""] in totals
    assert totals[-1] == ["Total", "Total", "19000,5", "16000", "8000"]
    # Only the fiches the list's filters keep.
    jeunes = read(client.get(export_url(plan, "financements-totaux", "csv"), {"axis": 2}), "csv")
    assert jeunes[-1] == ["Total", "Total", "4000", "4000", ""]
    fiches = read(client.get(export_url(plan, "fiches", "xlsx")), "xlsx")
    header = fiches[0]
    creche_row = fiches[1]
    assert set(creche_row[header.index("Thématiques")].split("; ")) == {"Petite enfance", "Parentalité"}
    assert creche_row[header.index("Publics visés")] == "0–3 ans"


def test_the_fiche_pdf_lists_its_lines_themes_and_publics(plan, settings, tmp_path):
    from tests.factories import audience, theme

    settings.MEDIA_ROOT = tmp_path
    creche = plan.actions.get(number=1)
    creche.themes.add(theme("Petite enfance"))
    creche.audiences.add(audience("Familles"))
    text = flat(pdf_text(build_report("fiche", plan, number=1).pdf))
    assert "Thématiques : Petite enfance. Publics visés : Familles." in text
    assert "CAF 31 Bonus territoire CTG 2024 12 500 € 12 000 € 8 000 €" in text
    assert "Commune de Sous Bonus territoire CTG 2025 2 500,50 € — —" in text
