"""Long reports are made by the worker, followed on a status page, cached until the plan changes."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from actions.models import Status
from axes.models import Role
from reporting.models import GeneratedReport, ReportStatus
from tests.factories import UserFactory, build_plan, grant
from tests.pdf import pdf_text


def run_worker():
    """The real worker, in batch mode. It closes the database connection when done, so the tests
    that call it run outside the usual test transaction."""
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)


needs_worker = pytest.mark.django_db(transaction=True)


@needs_worker
def test_dossier_copil_is_made_by_the_worker(client):
    """On a small plan: the test is about the queue and the download (Val'Aïgo's 30-page dossier
    is read page by page in tests/reporting/test_reports.py::test_dossier_copil)."""
    plan = build_plan(3, n_axes=2)
    client.force_login(grant(UserFactory(), plan, Role.READER))
    response = client.post(reverse("report_request", args=[plan.slug]), {"kind": "copil"})
    report = GeneratedReport.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "report_status", args=[plan.slug, report.pk]
    )
    assert report.status == ReportStatus.QUEUED and DBTaskResult.objects.count() == 1
    waiting = client.get(response.url, HTTP_HX_REQUEST="true").text
    assert "En file d&#x27;attente" in waiting and 'hx-trigger="every 1s"' in waiting

    run_worker()
    report.refresh_from_db()
    assert (report.status, report.progress, report.filename) == (
        ReportStatus.DONE,
        100,
        f"{plan.slug}-dossier-copil.pdf",
    )
    ready = client.get(response.url, HTTP_HX_REQUEST="true").text
    assert "Prêt" in ready and "every 1s" not in ready
    download = client.get(reverse("report_download", args=[plan.slug, report.pk]))
    assert download["Content-Type"] == "application/pdf"
    assert f'filename="{plan.slug}-dossier-copil.pdf"' in download["Content-Disposition"]
    text = pdf_text(download.content)
    fiche = plan.actions.get(number=3)
    assert "Dossier COPIL" in text and f"Action 3 : {fiche.title}" in text


@needs_worker
def test_same_plan_same_report_until_it_changes(client):
    """On a small plan, as above: the report's key, not its content (Val'Aïgo's bilan is read in
    tests/reporting/test_reports.py::test_bilan_caf)."""
    plan = build_plan(3, n_axes=2)
    client.force_login(grant(UserFactory(), plan, Role.READER))
    url = reverse("report_request", args=[plan.slug])
    client.post(url, {"kind": "bilan", "year": 2025})
    run_worker()
    again = client.post(url, {"kind": "bilan", "year": 2025}, follow=True)
    assert GeneratedReport.objects.count() == 1
    assert "Le plan n&#x27;a pas changé depuis ce rapport : le voici." in again.text
    action = plan.actions.get(number=2)
    action.save_edit(by=None, status=Status.IN_PROGRESS)
    client.post(url, {"kind": "bilan", "year": 2025})
    assert GeneratedReport.objects.count() == 2
    assert GeneratedReport.objects.first().status == ReportStatus.QUEUED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "bilan", "year": 2031}, "L&#x27;année 2031 est hors de la période du plan (2023-2027)."),
        ({"kind": "bilan", "year": "deux-mille"}, "Année invalide."),
        ({"kind": "roman"}, "Rapport inconnu : « roman »."),
    ],
)
def test_bad_requests_are_refused_in_french(reader_client, val_aigo, data, message):
    response = reader_client.post(reverse("report_request", args=["val-aigo"]), data, follow=True)
    assert message in response.text and "Aucun rapport n&#x27;a été demandé." in response.text
    assert not GeneratedReport.objects.exists() and not DBTaskResult.objects.exists()


def test_fiche_pdf_is_made_in_the_request(reader_client, val_aigo):
    response = reader_client.get(reverse("fiche_pdf", args=["val-aigo", 12]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "Action 12 : Accompagner le renforcement" in pdf_text(response.content)
    assert reader_client.get(reverse("fiche_pdf", args=["val-aigo", 99])).status_code == 404


def test_reports_of_a_plan_you_do_not_follow(client, reader_client, val_aigo):
    reader_client.post(reverse("report_request", args=["val-aigo"]), {"kind": "copil"})
    report = GeneratedReport.objects.get()
    client.force_login(UserFactory())
    for url in [
        reverse("reports", args=["val-aigo"]),
        reverse("report_status", args=["val-aigo", report.pk]),
        reverse("report_download", args=["val-aigo", report.pk]),
        reverse("fiche_pdf", args=["val-aigo", 1]),
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("report_request", args=["val-aigo"]), {"kind": "copil"}).status_code == 404
    assert GeneratedReport.objects.count() == 1


def test_download_of_an_unfinished_report_is_404(reader_client, val_aigo):
    reader_client.post(reverse("report_request", args=["val-aigo"]), {"kind": "copil"})
    report = GeneratedReport.objects.get()
    assert reader_client.get(reverse("report_download", args=["val-aigo", report.pk])).status_code == 404
