"""Background generation of the long reports (a full dossier COPIL takes seconds)."""

from django.utils import timezone
from django_tasks import task

from reporting.models import GeneratedReport, ReportStatus
from reporting.pdf import render_pdf
from reporting.reports import filename, report_context


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
