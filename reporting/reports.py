"""The three reports: dossier COPIL, bilan annuel pour la CAF, fiche-action.

Each is built from reporting.overview, the same named queries as the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.text import slugify

from actions.models import Action, ActionPartner, CalendarEntry, Condition, IndicatorValue, Note, Step
from axes.models import Plan
from reporting.models import GeneratedReport, Meeting, ReportStatus
from reporting.overview import notes_of_year, plan_actions, plan_overview
from reporting.pdf import render_pdf

KINDS = {
    "copil": "Dossier COPIL",
    "bilan": "Bilan annuel pour la CAF",
    "fiche": "Fiche-action",
}


class ReportError(Exception):
    """A report that cannot be made as asked (unknown fiche, year outside the plan…)."""


@dataclass
class Report:
    filename: str
    pdf: bytes


def bilan_year(plan: Plan, year: int | None) -> int:
    """The year of a bilan: the current one by default, and within the plan's period."""
    year = year or timezone.localdate().year
    if not plan.start_year <= year <= plan.end_year:
        raise ReportError(
            f"L'année {year} est hors de la période du plan ({plan.start_year}-{plan.end_year})."
        )
    return year


def _notes_since(action, since):
    notes = list(action.notes.all())
    return [n for n in notes if n.date >= since] if since else notes


def report_context(
    kind: str, plan: Plan, *, year: int | None = None, number: int | None = None
) -> tuple[str, dict]:
    today = timezone.localdate()
    if kind == "fiche":
        action = plan_actions(plan).filter(number=number).first() if number else None
        if action is None:
            raise ReportError(f"Le plan « {plan.slug} » n'a pas de fiche-action n° {number}.")
        last = Meeting.objects.last_copil(plan, today)
        since = last.date if last else None
        return "reporting/pdf/fiche.html", {
            "plan": plan,
            "action": action,
            "notes": _notes_since(action, since),
            "since": since,
            "title": f"Action {action.number}",
            "subtitle": action.title,
            "today": today,
        }
    overview = plan_overview(plan, today=today)
    if kind == "copil":
        since = overview.last_copil.date if overview.last_copil else None
        for action in overview.actions:
            action.notes_since = _notes_since(action, since)
        next_copil = overview.next_copil
        subtitle = f"COPIL du {next_copil.date:%d/%m/%Y}" if next_copil else f"État au {today:%d/%m/%Y}"
        return "reporting/pdf/copil.html", {
            "plan": plan,
            "o": overview,
            "since": since,
            "title": KINDS["copil"],
            "subtitle": subtitle,
            "today": today,
        }
    if kind == "bilan":
        year = year or today.year
        if not plan.start_year <= year <= plan.end_year:
            raise ReportError(
                f"L'année {year} est hors de la période du plan ({plan.start_year}-{plan.end_year})."
            )
        for action in overview.actions:
            notes = notes_of_year(action, year)
            action.year = {
                "headings": [
                    ("Réalisations", notes.achievements),
                    ("Difficultés", notes.difficulties),
                    ("Perspectives", notes.outlook),
                    ("Autres notes de suivi", notes.follow_up),
                ]
            }
        return "reporting/pdf/bilan.html", {
            "plan": plan,
            "o": overview,
            "year": year,
            "title": f"{KINDS['bilan']} {year}",
            "subtitle": "Bilan de la Convention territoriale globale",
            "today": today,
        }
    raise ReportError(f"Rapport inconnu : « {kind} ». Rapports possibles : {', '.join(KINDS)}.")


def filename(kind: str, plan: Plan, *, year: int | None = None, number: int | None = None) -> str:
    suffix = {"copil": "dossier-copil", "bilan": f"bilan-caf-{year}", "fiche": f"fiche-{number}"}[kind]
    return f"{slugify(plan.slug)}-{suffix}.pdf"


def build_report(kind: str, plan: Plan, *, year: int | None = None, number: int | None = None) -> Report:
    template, context = report_context(kind, plan, year=year, number=number)
    return Report(
        filename(kind, plan, year=context.get("year"), number=number), render_pdf(template, context)
    )


def fingerprint(plan: Plan) -> str:
    """What the plan looks like now, for the reports' cache: the last recorded change of its
    fiches and their contents, its meetings and indicators, and today's date (lateness and the
    edition date depend on it). Eight small aggregate queries."""
    marks = [timezone.localdate().isoformat()]
    marks.append(str(Action.history.filter(plan_id=plan.pk).aggregate(m=Max("history_id"))["m"]))
    for model in (Step, CalendarEntry, ActionPartner, Condition, Note):
        marks.append(str(model.history.filter(action__plan=plan).aggregate(m=Max("history_id"))["m"]))
    marks.append(str(plan.meetings.aggregate(n=Count("decisions"), m=Max("decisions__pk"), k=Max("pk"))))
    marks.append(
        str(IndicatorValue.objects.filter(indicator__action__plan=plan).aggregate(n=Count("pk"), m=Max("pk")))
    )
    return "|".join(marks)[:200]


# Made in the background: a dossier can take seconds. A fiche alone is made in the request.
BACKGROUND_KINDS = ["copil", "bilan"]


@transaction.atomic
def request_report(plan: Plan, kind: str, *, year: int | None = None, user=None):
    """The report as the plan is now: the one already made if nothing changed since, else a new
    one queued for the worker. Returns (report, queued)."""
    from reporting.tasks import generate_report  # the task module imports this one

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
