"""The reports: dossier COPIL, bilan annuel pour la CAF, fiche-action, évaluation finale.

Each builds its context as plain data from reporting.overview and reporting.snapshot, the same
named queries as the dashboard; the bilan of a year reads the plan as it stood on 31 December.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, fields

from django.utils import timezone
from django.utils.text import slugify

from actions.models import OPEN_STATUSES, Action, Status
from actions.state import aggregate, plan_state
from axes.models import Finding, Plan
from reporting.models import Decision, Document, Instance, Meeting
from reporting.overview import plan_overview, status_counts
from reporting.pdf import render_pdf
from reporting.snapshot import Fiche, StepLine, end_of_year, fiches_at, fiches_now, new_notes

KINDS = {
    "copil": "Dossier COPIL",
    "bilan": "Bilan annuel pour la CAF",
    "fiche": "Fiche-action",
    "evaluation": "Évaluation finale",
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


def _since(meeting: Meeting | None) -> datetime.datetime | None:
    if meeting is None:
        return None
    return timezone.make_aware(datetime.datetime.combine(meeting.date, datetime.time.min))


NOTE_HEADINGS = [
    ("achievement", "Réalisations"),
    ("difficulty", "Difficultés"),
    ("outlook", "Perspectives"),
    ("follow_up", "Autres notes de suivi"),
]


@dataclass(frozen=True)
class CarriedFiche(Fiche):
    """A fiche as the reports print it: with, when it carries on a fiche of the plan it renews,
    "Suite de l'action N du plan X" (Action.previous)."""

    previous: str = ""
    # The documents joined to the fiche and its notes: (name, date added), oldest first. Their
    # names and dates only: a report never holds a document's content.
    documents: tuple[tuple[str, datetime.date], ...] = ()


def with_previous(plan: Plan, fiches: list[Fiche]) -> list[CarriedFiche]:
    """The fiches, each told where it comes from (reporting.renewal) and which documents it
    holds. Two queries."""
    joined: dict[int, list] = {}
    for action_id, name, at in (
        Document.objects.filter(action_id__in=[fiche.pk for fiche in fiches])
        .order_by("uploaded_at", "pk")
        .values_list("action_id", "name", "uploaded_at")
    ):
        joined.setdefault(action_id, []).append((name, timezone.localdate(at)))
    origins = {
        pk: f"Suite de l'action {number} du plan « {title} » ({start}-{end})"
        for pk, number, title, start, end in Action.objects.filter(
            plan=plan, previous__isnull=False
        ).values_list(
            "pk",
            "previous__number",
            "previous__plan__title",
            "previous__plan__start_year",
            "previous__plan__end_year",
        )
    }
    names = [f.name for f in fields(Fiche)]
    return [
        CarriedFiche(
            **{name: getattr(fiche, name) for name in names},
            previous=origins.get(fiche.pk, ""),
            documents=tuple(joined.get(fiche.pk, ())),
        )
        for fiche in fiches
    ]


def meeting_documents(meetings) -> list:
    """The documents joined to these meetings (their minutes, photos…), by meeting date then as
    added: one query. Names and dates only are printed."""
    return list(
        Document.objects.filter(meeting__in=meetings)
        .select_related("meeting")
        .order_by("meeting__date", "meeting__pk", "uploaded_at", "pk")
    )


def _fiche_context(plan: Plan, number: int | None, today: datetime.date) -> dict:
    fiche = next(
        iter(with_previous(plan, fiches_now(plan, today=today, numbers=[number])) if number else []), None
    )
    if fiche is None:
        raise ReportError(f"Le plan « {plan.slug} » n'a pas de fiche-action n° {number}.")
    last = Meeting.objects.last_copil(plan, today)
    since = _since(last)
    return {
        "plan": plan,
        "fiche": fiche,
        "notes": new_notes(plan, since).get(fiche.pk, []) if since else list(fiche.notes),
        "since": last.date if last else None,
        "title": f"Action {fiche.number}",
        "subtitle": fiche.title,
        "today": today,
    }


def _copil_context(plan: Plan, today: datetime.date) -> dict:
    o = plan_overview(plan, today=today, full=True)
    since = o.last_copil.date if o.last_copil else None
    written = {change.fiche.pk: change.notes for change in o.changes}
    sections = [
        (
            summary,
            [
                (fiche, written.get(fiche.pk, []) if since else list(fiche.notes))
                for fiche in with_previous(plan, summary.actions)
            ],
        )
        for summary in o.axes
    ]
    next_copil = o.next_copil
    # The meetings' documents since the last COPIL, its own minutes included (all without one).
    meetings = plan.meetings.filter(date__gte=since) if since else plan.meetings.all()
    return {
        "plan": plan,
        "o": o,
        "sections": sections,
        "since": since,
        "meeting_documents": meeting_documents(meetings),
        "title": KINDS["copil"],
        "subtitle": f"COPIL du {next_copil.date:%d/%m/%Y}" if next_copil else f"État au {today:%d/%m/%Y}",
        "today": today,
    }


def _bilan_context(plan: Plan, year: int, today: datetime.date) -> dict:
    moment = min(end_of_year(year), timezone.now())
    o = plan_overview(plan, moment=moment)
    meetings = list(
        plan.meetings.filter(date__year=year).order_by("date", "pk").prefetch_related("decisions__actions")
    )
    decisions_of: dict[int, list] = {}
    for meeting in meetings:
        for decision in meeting.decisions.all():
            for action in decision.actions.all():
                decisions_of.setdefault(action.pk, []).append((meeting, decision))
    sections = []
    for summary in o.axes:
        fiches = []
        for fiche in summary.actions:
            notes = fiche.notes_of_year(year)
            headings = [
                (label, [n for n in notes if n.kind == kind])
                for kind, label in NOTE_HEADINGS
                if any(n.kind == kind for n in notes)
            ]
            fiches.append((fiche, headings, decisions_of.get(fiche.pk, [])))
        sections.append((summary, fiches))
    return {
        "plan": plan,
        "o": o,
        "sections": sections,
        "meetings": meetings,
        "meeting_documents": meeting_documents(meetings),
        "year": year,
        "title": f"{KINDS['bilan']} {year}",
        "subtitle": f"État au {timezone.localtime(moment):%d/%m/%Y}",
        "today": today,
    }


@dataclass(frozen=True)
class EvaluatedFiche:
    """One fiche over the whole period, for the final evaluation."""

    fiche: CarriedFiche
    years: tuple[tuple[int, Fiche | None], ...]  # the fiche as it stood on 31 December of each past year
    steps_done: tuple[str, ...]
    steps_open: tuple[str, ...]
    indicators: tuple[tuple[object, tuple], ...]  # (IndicatorLine, ((year, (value, comment) | None), …))


def _work(steps: tuple[StepLine, ...]) -> list[tuple[str, bool]]:
    """The steps that are work, as text: a commune's heading names its sub-steps."""
    return [
        (f"{step.text} : {child.text}" if step.children else step.text, child.done)
        for step in steps
        for child in (step.children or (step,))
    ]


def _evaluation_context(plan: Plan, today: datetime.date) -> dict:
    """The whole period: each fiche's state now and at the end of each past year (from the
    history), indicators year by year against baseline and target, the COPILs' decisions, what
    was done and what was not. A fixed number of queries per year of the plan."""
    o = plan_overview(plan, today=today, full=True)
    period = list(range(plan.start_year, plan.end_year + 1))
    past = [year for year in period if year < today.year]
    at_year_end = {year: {f.pk: f for f in fiches_at(plan, end_of_year(year))} for year in past}
    sections = []
    for summary in o.axes:
        rows = []
        for fiche in with_previous(plan, summary.actions):
            work = _work(fiche.steps)
            rows.append(
                EvaluatedFiche(
                    fiche=fiche,
                    years=tuple((year, at_year_end[year].get(fiche.pk)) for year in past),
                    steps_done=tuple(text for text, done in work if done),
                    steps_open=tuple(text for text, done in work if not done),
                    indicators=tuple(
                        (indicator, tuple((year, indicator.value_of(year)) for year in period))
                        for indicator in fiche.indicators
                    ),
                )
            )
        sections.append((summary, rows))
    copils = list(
        plan.meetings.filter(instance=Instance.COPIL)
        .order_by("date", "pk")
        .prefetch_related("decisions__actions")
    )
    return {
        "plan": plan,
        "o": o,
        "sections": sections,
        "period": period,
        "past": past,
        "year_statuses": [(f"31/12/{year}", status_counts(at_year_end[year].values())) for year in past]
        + [(f"{today:%d/%m/%Y}", o.statuses)],
        "done": [f for f in o.actions if f.status == Status.DONE],
        "abandoned": [f for f in o.actions if f.status == Status.ABANDONED],
        "unfinished": [f for f in o.actions if f.status in OPEN_STATUSES],
        "copils": copils,
        "title": KINDS["evaluation"],
        "subtitle": f"Période {plan.start_year}-{plan.end_year}, état au {today:%d/%m/%Y}",
        "today": today,
    }


def report_context(
    kind: str, plan: Plan, *, year: int | None = None, number: int | None = None
) -> tuple[str, dict]:
    today = timezone.localdate()
    if kind == "fiche":
        return "reporting/pdf/fiche.html", _fiche_context(plan, number, today)
    if kind == "copil":
        return "reporting/pdf/copil.html", _copil_context(plan, today)
    if kind == "bilan":
        return "reporting/pdf/bilan.html", _bilan_context(plan, bilan_year(plan, year), today)
    if kind == "evaluation":
        return "reporting/pdf/evaluation.html", _evaluation_context(plan, today)
    raise ReportError(f"Rapport inconnu : « {kind} ». Rapports possibles : {', '.join(KINDS)}.")


def filename(kind: str, plan: Plan, *, year: int | None = None, number: int | None = None) -> str:
    suffix = {
        "copil": "dossier-copil",
        "bilan": f"bilan-caf-{year}",
        "fiche": f"fiche-{number}",
        "evaluation": "evaluation-finale",
    }[kind]
    return f"{slugify(plan.slug)}-{suffix}.pdf"


def build_report(kind: str, plan: Plan, *, year: int | None = None, number: int | None = None) -> Report:
    template, context = report_context(kind, plan, year=year, number=number)
    return Report(
        filename(kind, plan, year=context.get("year"), number=number), render_pdf(template, context)
    )


def fingerprint(plan: Plan) -> str:
    """Everything a report reads, in one short key: the plan's fiches and all they hold
    (actions.state.plan_state), its meetings and decisions and the fiches they name, the text of
    the plan, its axes, their objectives and diagnosis, and today's date (lateness and the
    edition date depend on it). A generated report is reused only while this key is the same. Four queries."""
    decisions = Decision.history.filter(meeting_id__in=Meeting.history.filter(plan_id=plan.pk).values("id"))
    links = Decision.actions.through.objects.filter(decision__meeting__plan_id=plan.pk)
    marks = (
        Plan.objects.filter(pk=plan.pk)
        .annotate(
            meetings_mark=aggregate(Meeting.history.filter(plan_id=plan.pk), "MAX", "history_id"),
            decisions_mark=aggregate(decisions, "MAX", "history_id"),
            documents_mark=aggregate(Document.history.filter(plan_id=plan.pk), "MAX", "history_id"),
            links_n=aggregate(links, "COUNT", "pk"),
            links_max=aggregate(links, "MAX", "pk"),
        )
        .values_list(
            "title",
            "territory",
            "start_year",
            "end_year",
            "level_label",
            "level_plural",
            "level_gender",
            "meetings_mark",
            "decisions_mark",
            "documents_mark",
            "links_n",
            "links_max",
        )
        .get()
    )
    text = list(
        plan.axes.values_list(
            "number",
            "title",
            "theme",
            "objectives__pk",
            "objectives__position",
            "objectives__code",
            "objectives__title",
        )
    )
    text += list(Finding.objects.filter(axis__plan=plan).values_list("axis_id", "kind", "position", "text"))
    key = repr((timezone.localdate().isoformat(), plan_state(plan), marks, text))
    return hashlib.sha256(key.encode()).hexdigest()
