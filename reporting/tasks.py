"""Background generation of the long reports (a full dossier COPIL takes seconds): queued here,
made by the worker (`manage.py db_worker`), reused while the plan has not changed."""

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from axes.models import Plan
from reporting.models import GeneratedReport, ReportStatus
from reporting.pdf import render_pdf
from reporting.reminders import send_reminders
from reporting.reports import ReportError, bilan_year, filename, fingerprint, report_context

# Made in the background: a dossier can take seconds. A fiche alone is made in the request.
BACKGROUND_KINDS = ["copil", "bilan", "evaluation"]


@transaction.atomic
def request_report(plan: Plan, kind: str, *, year: int | None = None, user=None):
    """The report as the plan is now: the one already made if nothing it shows changed since,
    else a new one queued for the worker. Returns (report, queued)."""
    if kind not in BACKGROUND_KINDS:
        raise ReportError(f"Rapport inconnu : « {kind} ».")
    year = bilan_year(plan, year) if kind == "bilan" else None
    key = fingerprint(plan)
    cached = (
        GeneratedReport.objects.filter(plan=plan, kind=kind, year=year, fingerprint=key)
        .exclude(status=ReportStatus.FAILED)
        .defer("pdf")
        .first()
    )
    if cached:
        return cached, False
    report = GeneratedReport.objects.create(
        plan=plan, kind=kind, year=year, fingerprint=key, requested_by=user
    )
    generate_report.enqueue(report.pk)
    return report, True


@task()
def generate_report(report_id: int) -> None:
    report = GeneratedReport.objects.select_related("plan").get(pk=report_id)
    try:
        report.set_progress(10, "Rassemblement des données du plan")
        template, context = report_context(report.kind, report.plan, year=report.year)
        report.set_progress(30, "Mise en page du PDF")
        pdf = render_pdf(template, context)
    except Exception:
        failed = "La génération a échoué : réessayez, ou signalez-le si cela se reproduit."
        report.set_progress(0, failed, status=ReportStatus.FAILED)
        raise
    report.pdf = pdf
    report.filename = filename(report.kind, report.plan, year=context.get("year"))
    report.finished_at = timezone.now()
    report.progress, report.step, report.status = 100, "Prêt", ReportStatus.DONE
    report.save()


@task()
def send_reminders_task(plan_slug: str | None = None) -> int:
    """The reminders, sent by a worker (`send_reminders --queue`). Several workers may take the
    same run: each digest is claimed before it is sent (reporting.reminders)."""
    plans = Plan.objects.filter(slug=plan_slug) if plan_slug else None
    return len(send_reminders(plans).sent)
