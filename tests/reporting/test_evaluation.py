"""The final evaluation: the whole period, each fiche now and at the end of each past year,
indicators year by year, the COPILs' decisions, what was done and what was not."""

import datetime
import io
import re

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from actions.models import IndicatorValue, Status
from axes.models import Role
from reporting.models import GeneratedReport
from reporting.reports import build_report
from tests.factories import (
    ActionFactory,
    AxisFactory,
    DecisionFactory,
    MeetingFactory,
    PlanFactory,
    StepFactory,
    UserFactory,
    grant,
)
from tests.pdf import pdf_text

PARIS = datetime.timezone(datetime.timedelta(hours=1))


def at(*args):
    return time_machine.travel(datetime.datetime(*args, tzinfo=PARIS), tick=False)


@pytest.fixture
def ending_plan(db):
    """A 2025-2027 plan followed over two years: the micro-crèche at 40 % at the end of 2025,
    70 % at the end of 2026, done in 2027; the ludothèque abandoned in 2026; the guide done in
    2025; the accueil jeunes still in progress."""
    with at(2025, 3, 1, 10):
        plan = PlanFactory(
            slug="fin", territory="CC de Val'Aïgo", title="CTG", start_year=2025, end_year=2027
        )
        axis = AxisFactory(plan=plan, number=1, title="Accompagner les familles")
        creche = ActionFactory(
            plan=plan, axis=axis, number=1, title="Créer une micro-crèche", in_progress=True
        )
        ludo = ActionFactory(plan=plan, axis=axis, number=2, title="Ludothèque itinérante")
        guide = ActionFactory(plan=plan, axis=axis, number=3, title="Guide des familles", in_progress=True)
        jeunes = ActionFactory(plan=plan, axis=axis, number=4, title="Accueil jeunes", in_progress=True)
        local = StepFactory(action=creche, text="Trouver le local")
        StepFactory(action=creche, text="Recruter l'équipe")
        places = creche.indicators.create(name="Places d'accueil", unit="places", baseline=0, target=12)
    with at(2025, 6, 16, 18):
        copil = MeetingFactory(plan=plan, date=datetime.date(2025, 6, 16))
        DecisionFactory(meeting=copil, text="Lancer l'étude de faisabilité", status="taken", actions=[creche])
    with at(2025, 9, 1, 9):
        guide.save_edit(by=None, status=Status.DONE, progress=100)
        IndicatorValue.objects.create(indicator=places, year=2025, value=4)
    with at(2026, 4, 1, 9):
        creche.save_edit(by=None, progress=70)
        local.save_edit(by=None, done=True)
        IndicatorValue.objects.create(indicator=places, year=2026, value=10)
    with at(2026, 6, 16, 18):
        copil = MeetingFactory(plan=plan, date=datetime.date(2026, 6, 16))
        DecisionFactory(meeting=copil, text="Abandonner la ludothèque", status="taken", actions=[ludo])
        ludo.save_edit(by=None, status=Status.ABANDONED, progress=0)
    with at(2027, 2, 1, 9):
        creche.save_edit(by=None, status=Status.DONE, progress=100)
    return plan, jeunes


def test_the_evaluation_tells_the_whole_period(ending_plan):
    plan, jeunes = ending_plan
    with at(2027, 3, 15, 12):
        text = pdf_text(build_report("evaluation", plan).pdf)
    assert "Évaluation finale" in text and "Période 2025-2027, état au 15/03/2027" in text
    # The status of the fiches at the end of each past year, then now.
    assert re.search(
        r"Au À venir En cours Réalisée En pause Abandonnée 31/12/2025 1 2 1 0 0 "
        r"31/12/2026 0 2 1 0 1 15/03/2027 0 1 2 0 1",
        text,
    )
    creche = text[text.index("Action 1 : Créer une micro-crèche État") :]
    creche = creche[: creche.index("Action 2 :")]
    assert "État atteint : Réalisée, avancement 100 %, étapes réalisées 1 / 2" in creche
    assert "En fin d'année : 2025 : en cours, 40 % ; 2026 : en cours, 70 %." in creche
    assert "Ce qui a été fait : Trouver le local" in creche
    assert "Ce qui reste à faire : Recruter l'équipe" in creche
    # Year by year against the baseline and the target (none yet for 2027).
    assert "Places d'accueil (places) 0 4 10 — 12" in creche
    assert "Lancer l'étude de faisabilité" in creche
    # What was done and what was not.
    assert "Fiches réalisées (2) Action 1 : Créer une micro-crèche Action 3 : Guide des familles" in text
    assert "Fiches non terminées (1) Action 4 : Accueil jeunes (en cours, 40 %)" in text
    assert "Fiches abandonnées (1) Action 2 : Ludothèque itinérante" in text
    # The COPILs' decisions, in order.
    copils = text[text.index("Les décisions des COPIL COPIL") :]
    assert copils.index(
        "COPIL du 16/06/2025 Lancer l'étude de faisabilité (prise ; Action 1)"
    ) < copils.index("COPIL du 16/06/2026 Abandonner la ludothèque (prise ; Action 2)")


def test_the_evaluation_from_the_command_line(ending_plan, tmp_path):
    plan, jeunes = ending_plan
    output = tmp_path / "evaluation.pdf"
    with at(2027, 3, 15, 12):
        call_command("report", "evaluation", plan.slug, "--output", str(output), stdout=io.StringIO())
    assert "Fiches réalisées (2)" in pdf_text(output.read_bytes())


def test_the_evaluation_is_queued_from_the_reports_page(ending_plan, client):
    plan, jeunes = ending_plan
    reader = grant(UserFactory(), plan, Role.READER)
    client.force_login(reader)
    page = client.get(reverse("reports", kwargs={"slug": plan.slug}))
    assert "Préparer l'évaluation finale" in page.content.decode()
    response = client.post(reverse("report_request", kwargs={"slug": plan.slug}), {"kind": "evaluation"})
    report = GeneratedReport.objects.get(plan=plan, kind="evaluation")
    assert response.status_code == 302 and response.url == reverse(
        "report_status", kwargs={"slug": plan.slug, "pk": report.pk}
    )
    assert "Évaluation finale" in client.get(response.url).content.decode()
