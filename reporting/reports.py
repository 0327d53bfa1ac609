"""The three reports: dossier COPIL, bilan annuel pour la CAF, fiche-action.

Each is built from reporting.overview, the same named queries as the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.text import slugify

from axes.models import Plan
from reporting.models import Meeting
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
