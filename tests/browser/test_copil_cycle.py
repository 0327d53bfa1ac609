"""The COPIL cycle in real Chromium: a coordinator records a COPIL, marks its decision taken in
place, changes a fiche's status; the dashboard shows both since the COPIL, and the dossier asked
for afterwards is a new one that shows them."""

import datetime

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from axes.models import Role
from reporting.models import GeneratedReport
from tests.browser.pages import sign_in_and_open
from tests.factories import ActionFactory, AxisFactory, PlanFactory, UserFactory, grant
from tests.pdf import pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def plan(db):
    """A plan written a month ago."""
    with time_machine.travel(timezone.now() - datetime.timedelta(days=30)):
        plan = PlanFactory(slug="cycle", territory="CC des Coteaux")
        axis = AxisFactory(plan=plan, number=1, title="Petite enfance")
        ActionFactory(plan=plan, axis=axis, number=1, title="Ouvrir une micro-crèche")
        ActionFactory(plan=plan, axis=axis, number=2, title="Former les assistantes maternelles")
    return plan


def test_a_coordinator_runs_a_copil_cycle(page, live_server, plan, tmp_path):
    grant(UserFactory(username="claire", first_name="Claire", last_name="Dupont"), plan, Role.COORDINATOR)
    base = live_server.url
    sign_in_and_open(page, live_server, "/plans/cycle/reunions/", "claire")
    page.get_by_label("Instance").select_option("copil")
    page.get_by_label("Date").fill(timezone.localdate().isoformat())
    page.get_by_label("Ordre du jour").fill("Point d'étape de la CTG")
    page.get_by_role("button", name="Enregistrer la réunion").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("COPIL du")

    page.get_by_role("textbox", name="Décision").fill("Lancer l'étude de besoins")
    page.get_by_label("État").select_option("to_take")
    page.get_by_label("Fiches-actions concernées").select_option(label="Action 1 : Ouvrir une micro-crèche")
    page.get_by_role("button", name="Enregistrer la décision").click()
    # A dossier asked for now, before the COPIL's follow-up.
    page.goto(f"{base}/plans/cycle/rapports/")
    page.get_by_role("button", name="Préparer le dossier COPIL").click()
    first = GeneratedReport.objects.get()

    page.goto(f"{base}/plans/cycle/tableau-de-bord/")
    decision = page.locator(".decision", has_text="Lancer l'étude de besoins")
    decision.get_by_label("État de la décision").select_option("taken")
    decision.get_by_role("button", name="Changer l'état").click()
    swapped = page.locator(".decision", has_text="Lancer l'étude de besoins")
    expect(swapped).to_contain_text("Prise le")  # swapped in place, no reload
    expect(swapped).to_contain_text("par Claire Dupont")

    page.goto(f"{base}/plans/cycle/fiches/2/")
    page.get_by_role("combobox", name="Statut").select_option("in_progress")
    page.get_by_label("Avancement (%)").fill("25")
    page.get_by_role("button", name="Enregistrer le statut").click()
    expect(page.locator("#annonce")).to_contain_text("Statut enregistré")

    page.goto(f"{base}/plans/cycle/tableau-de-bord/")
    since = page.locator("section", has=page.get_by_role("heading", name="Depuis le dernier COPIL"))
    expect(since).to_contain_text("Statut : à venir → en cours")
    expect(since).to_contain_text("Décision prise : Lancer l'étude de besoins")
    expect(page.get_by_role("heading", name="Décisions à prendre")).to_have_count(0)

    page.goto(f"{base}/plans/cycle/rapports/")
    page.get_by_role("button", name="Préparer le dossier COPIL").click()
    assert GeneratedReport.objects.count() == 2  # the plan changed: a new dossier, not the first
    second = GeneratedReport.objects.exclude(pk=first.pk).get()
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    page.goto(f"{base}/plans/cycle/rapports/{second.pk}/")
    with page.expect_download() as info:
        page.get_by_role("link", name="Télécharger le PDF").click()
    saved = tmp_path / "dossier.pdf"
    info.value.save_as(saved)
    text = pdf_text(saved)
    assert "Statut : à venir → en cours" in text
    assert "Décision prise : Lancer l'étude de besoins" in text
