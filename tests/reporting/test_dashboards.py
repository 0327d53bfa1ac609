"""Dashboards: what the élus read before a COPIL, per commune, and the CAF's overview."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions.models import Action, Status, Step
from axes.models import Role
from partners.models import Organisation
from reporting.models import Decision, DecisionStatus, Instance, Meeting
from reporting.overview import plan_overview
from tests.factories import UserFactory, build_plan, grant
from tests.scale import copied_plan


def text(html: str) -> str:
    import html as html_module

    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def progressed(val_aigo):
    """Val'Aïgo a year on: some fiches moved."""
    Action.objects.filter(plan=val_aigo, number=1).update(status=Status.DONE, progress=100)
    Action.objects.filter(plan=val_aigo, number=2).update(status=Status.IN_PROGRESS, progress=50)
    Action.objects.filter(plan=val_aigo, number=7).update(status=Status.ABANDONED, progress=0)
    return val_aigo


def test_dashboard_figures(reader_client, progressed):
    html = text(reader_client.get(reverse("dashboard", args=["val-aigo"])).text)
    # (100 + 50 + 0 × 17) / 19 fiches not abandoned = 7.9 → 8 %
    assert "Avancement global 8 %" in html
    assert "Fiches-actions 20" in html
    assert "Réalisée 1" in html and "Abandonnée 1" in html and "En cours 4" in html
    # Axis 1: actions 1-5, progress (100 + 50 + 0 + 0 + 0) / 5 = 30 %
    assert re.search(r"Axe 1 : Poursuivre [^%]+ territoire 30 %", html)  # the chart's table
    assert "Axe 1 : Poursuivre et renforcer l'investissement partagé" in html
    assert "Calendrier des fiches-actions, 2023-2027" in html
    assert "aujourd'hui" in html
    # CCVA pilots 11 fiches: 1 done, 2 and 3 and 9 in progress, 7 abandoned, 6 to come.
    assert "CCVA 6 3 1 0 1 11" in html


def test_every_chart_has_its_table(reader_client, val_aigo):
    html = reader_client.get(reverse("dashboard", args=["val-aigo"])).text
    charts = html.count('<svg role="img"')
    assert charts == 3
    assert html.count('<table class="chart-data">') == charts
    for title in ["Avancement moyen par axe", "Statut des fiches par axe", "Calendrier des fiches-actions"]:
        assert f'-donnees-titre">{title}' in html


def test_changes_since_the_last_copil(client, reader_client, val_aigo):
    coordinator = grant(UserFactory(first_name="Claire", last_name="Dupont"), val_aigo, Role.COORDINATOR)
    client.force_login(coordinator)
    action = val_aigo.actions.get(number=3)
    step = action.steps.get(position=0)
    client.post(
        reverse("action_status", args=["val-aigo", 3]), {"status": "on_hold", "progress": 10, "version": 1}
    )
    # That change was before the COPIL; these after.
    action.history.update(history_date=timezone.now() - datetime.timedelta(days=10))
    Meeting.objects.create(
        plan=val_aigo, instance=Instance.COPIL, date=timezone.localdate() - datetime.timedelta(days=5)
    )
    client.post(reverse("step_toggle", args=["val-aigo", 3, step.pk]), {"done": "1", "version": 1})
    client.post(
        reverse("note_create", args=["val-aigo", 3]), {"date": "2026-11-20", "text": "Conférence tenue."}
    )
    html = text(reader_client.get(reverse("dashboard", args=["val-aigo"])).text)
    copil = (timezone.localdate() - datetime.timedelta(days=5)).strftime("%d/%m/%Y")
    assert f"Depuis le dernier COPIL ({copil})" in html
    assert "Changements de statut : 0" in html
    assert "Étapes réalisées : 1" in html
    assert "Nouvelles notes : 1" in html
    assert "Étape réalisée : Renforcer les temps de réunions entre les services" in html
    assert "Note du 20/11/2026 (Claire Dupont) : Conférence tenue." in html
    assert "Statut : à venir → en pause" not in html


def test_decisions_to_take_and_next_copil(reader_client, val_aigo):
    meeting = Meeting.objects.create(
        plan=val_aigo, instance=Instance.COPIL, date=timezone.localdate() + datetime.timedelta(days=20)
    )
    Decision.objects.create(
        meeting=meeting, text="Valider la relance des ateliers parents-enfants", status=DecisionStatus.TO_TAKE
    )
    Decision.objects.create(meeting=meeting, text="Déjà tranché", status=DecisionStatus.TAKEN)
    html = text(reader_client.get(reverse("dashboard", args=["val-aigo"])).text)
    assert "Valider la relance des ateliers parents-enfants" in html
    assert "Déjà tranché" not in html


def test_commune_dashboard(reader_client, val_aigo):
    villemur = Organisation.objects.get(name="Villemur-sur-Tarn")
    Step.objects.filter(commune=villemur, text="Mettre en place la PS jeunes").update(done=True)
    html = text(reader_client.get(reverse("commune_dashboard", args=["val-aigo", villemur.insee])).text)
    assert "Fiches pilotées par la commune (1)" in html
    assert "Étapes qui concernent la commune (6)" in html
    assert "Mettre en place la PS jeunes Réalisée" in html
    assert "Fiches où la commune est partenaire (0)" in html
    assert reader_client.get(reverse("commune_dashboard", args=["val-aigo", "75056"])).status_code == 404


def test_plans_side_by_side_for_the_caf(client, val_aigo):
    caf = Organisation.objects.get(short_name="CAF", kind="caf")
    other = build_plan(4)
    other.signatories.add(caf)
    unsigned = build_plan(2)
    Meeting.objects.create(plan=val_aigo, instance=Instance.COPIL, date=datetime.date(2025, 6, 12))
    Meeting.objects.create(plan=val_aigo, instance=Instance.COPIL, date=datetime.date(2026, 1, 20))
    user = UserFactory()
    user.memberships.create(organisation=caf)
    client.force_login(user)
    html = text(client.get(reverse("plans_dashboard")).text)
    assert "CC de Val'Aïgo 2023-2027 20 0 % 5 20/01/2026" in html
    assert f"{other.territory} 2023-2027 4 0 %" in html
    assert unsigned.territory not in html


@pytest.mark.parametrize("who", ["outsider", "anonymous"])
def test_dashboards_of_a_plan_you_do_not_follow(client, val_aigo, who):
    if who == "outsider":
        client.force_login(UserFactory())
    for url in [
        reverse("dashboard", args=["val-aigo"]),
        reverse("commune_dashboard", args=["val-aigo", "31584"]),
    ]:
        response = client.get(url)
        assert response.status_code == (404 if who == "outsider" else 302)


def test_overview_and_page_agree(reader_client, progressed):
    overview = plan_overview(progressed)
    html = text(reader_client.get(reverse("dashboard", args=["val-aigo"])).text)
    assert f"Avancement global {overview.progress} %" in html
    assert f"En retard {len(overview.late)}" in html


@pytest.mark.parametrize("page", ["dashboard", "commune", "plans"])
def test_queries_do_not_grow_with_the_plan(client, db, page):
    user = UserFactory()
    counts = []
    for size in (20, 200):
        plan = copied_plan(build_plan, size)  # the same two plans in each case
        grant(user, plan, Role.READER)
        Meeting.objects.create(plan=plan, instance=Instance.COPIL, date=datetime.date(2025, 1, 1))
        url = {
            "dashboard": reverse("dashboard", args=[plan.slug]),
            "commune": reverse("commune_dashboard", args=[plan.slug, plan.communes.first().insee]),
            "plans": reverse("plans_dashboard"),
        }[page]
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
