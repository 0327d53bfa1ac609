"""The named queries behind dashboards and reports.

The dashboard page, its PDF counterpart and the CAF bilan all read their figures from these
functions, so a printed figure never disagrees with the screen.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone

from actions.forms import DUE_SOON_DAYS
from actions.journal import JournalEntry, journal
from actions.models import Action, ActionPartner, Indicator, Note, NoteKind, Status, Step
from axes.models import Plan
from partners.models import Organisation
from reporting import charts
from reporting.models import Decision, Meeting


def average_progress(actions) -> int:
    """Mean progress of the fiches still in the plan (abandoned ones left out), in %."""
    counted = [a.progress for a in actions if a.status != Status.ABANDONED]
    return round(sum(counted) / len(counted)) if counted else 0


def status_counts(actions) -> list[tuple[str, str, int]]:
    counts = Counter(a.status for a in actions)
    return [(status.value, status.label, counts.get(status.value, 0)) for status in Status]


@dataclass
class AxisSummary:
    axis: object
    actions: list
    progress: int
    statuses: list[tuple[str, str, int]]
    late: int


@dataclass
class PlanOverview:
    plan: Plan
    today: datetime.date
    actions: list
    axes: list[AxisSummary]
    progress: int
    statuses: list[tuple[str, str, int]]
    late: list
    due_soon: list
    by_pilot: list[tuple[str, list[tuple[str, str, int]], int]]
    last_copil: Meeting | None
    next_copil: Meeting | None
    changes: list[tuple[JournalEntry, Action]]
    change_counts: dict[str, int]
    decisions_to_take: list
    charts: dict = field(default_factory=dict)


def plan_actions(plan: Plan, today: datetime.date | None = None):
    """The fiches of a plan with what every report shows of them. A fixed number of queries."""
    return (
        Action.objects.filter(plan=plan)
        .for_listing()
        .select_related("axis")
        .prefetch_related(
            "calendar_entries",
            Prefetch(
                "steps",
                queryset=Step.objects.filter(parent=None).select_related("commune"),
                to_attr="top_steps",
            ),
            Prefetch("top_steps__children", queryset=Step.objects.select_related("commune")),
            Prefetch("partners", queryset=ActionPartner.objects.select_related("organisation")),
            Prefetch("indicators", queryset=Indicator.objects.prefetch_related("values")),
            Prefetch("notes", queryset=Note.objects.order_by("-date", "-pk")),
        )
    )


def plan_overview(plan: Plan, *, today: datetime.date | None = None) -> PlanOverview:
    today = today or timezone.localdate()
    actions = list(plan_actions(plan))
    by_axis: dict[int, list] = {}
    for action in actions:
        by_axis.setdefault(action.axis_id, []).append(action)
    axes = [
        AxisSummary(
            axis=axis,
            actions=by_axis.get(axis.pk, []),
            progress=average_progress(by_axis.get(axis.pk, [])),
            statuses=status_counts(by_axis.get(axis.pk, [])),
            late=sum(a.is_late for a in by_axis.get(axis.pk, [])),
        )
        for axis in plan.axes.all()
    ]
    pilots: dict[str, list] = {}
    for action in actions:
        names = [org.label for org in action.pilots.all()] or ["Pilote non désigné"]
        for name in names:
            pilots.setdefault(name, []).append(action)
    by_pilot = sorted(
        ((name, status_counts(group), len(group)) for name, group in pilots.items()),
        key=lambda row: (-row[2], row[0]),
    )
    horizon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    due_soon = [
        (action, entry)
        for action in actions
        if action.status not in (Status.DONE, Status.ABANDONED)
        for entry in action.calendar_entries.all()
        if entry.end and today <= entry.end <= horizon
    ]
    last_copil = Meeting.objects.last_copil(plan, today)
    since = (
        timezone.make_aware(datetime.datetime.combine(last_copil.date, datetime.time.min))
        if last_copil
        else None
    )
    by_pk = {a.pk: a for a in actions}
    entries = journal(by_pk, since=since)
    changes = [(entry, by_pk[entry.action_id]) for entry in entries]
    decisions = list(Decision.objects.of_plan(plan).still_open())
    overview = PlanOverview(
        plan=plan,
        today=today,
        actions=actions,
        axes=axes,
        progress=average_progress(actions),
        statuses=status_counts(actions),
        late=[a for a in actions if a.is_late],
        due_soon=sorted(due_soon, key=lambda pair: pair[1].end),
        by_pilot=by_pilot,
        last_copil=last_copil,
        next_copil=Meeting.objects.next_copil(plan, today),
        changes=changes,
        change_counts=Counter(entry.change for entry in entries),
        decisions_to_take=decisions,
    )
    overview.charts = {
        "status_by_axis": charts.stacked_bars(
            [(f"{plan.level_label} {s.axis.number}", s.statuses) for s in axes],
            title="Statut des fiches par axe",
        ),
        "progress_by_axis": charts.progress_bars(
            [(f"{plan.level_label} {s.axis.number}", s.progress) for s in axes],
            title="Avancement moyen par axe",
        ),
        "timeline": charts.timeline(plan, actions, today),
    }
    return overview


@dataclass
class CommuneOverview:
    plan: Plan
    commune: Organisation
    piloted: list
    steps: list
    partner_of: list


def commune_overview(plan: Plan, commune: Organisation) -> CommuneOverview:
    """What concerns one commune: the fiches it pilots, its steps, the fiches it partners."""
    listing = Action.objects.filter(plan=plan).for_listing()
    return CommuneOverview(
        plan=plan,
        commune=commune,
        piloted=list(listing.filter(pilots=commune)),
        steps=list(
            Step.objects.filter(action__plan=plan, commune=commune)
            .select_related("action__plan", "parent")
            .order_by("action__number", "parent__position", "position")
        ),
        partner_of=list(listing.filter(partners__organisation=commune).distinct()),
    )


@dataclass
class PlanLine:
    plan: Plan
    fiches: int
    progress: int
    late: int
    last_copil: datetime.date | None


def plans_side_by_side(plans) -> list[PlanLine]:
    """Every plan given, with its progress, its late fiches and its last COPIL. Three queries."""
    plans = list(plans)
    today = timezone.localdate()
    actions: dict[int, list] = {}
    for action in (
        Action.objects.filter(plan__in=plans).with_deadline(today).only("plan", "status", "progress")
    ):
        actions.setdefault(action.plan_id, []).append(action)
    last_copils = dict(
        Meeting.objects.filter(plan__in=plans, instance="copil", date__lte=today)
        .order_by("plan", "date")
        .values_list("plan", "date")
    )
    return [
        PlanLine(
            plan=plan,
            fiches=len(actions.get(plan.pk, [])),
            progress=average_progress(actions.get(plan.pk, [])),
            late=sum(a.is_late for a in actions.get(plan.pk, [])),
            last_copil=last_copils.get(plan.pk),
        )
        for plan in plans
    ]


@dataclass
class FicheYear:
    action: Action
    achievements: list
    difficulties: list
    outlook: list
    follow_up: list


def notes_of_year(action: Action, year: int) -> FicheYear:
    """A fiche's notes of one year, sorted into the bilan's headings (from prefetched notes)."""
    notes = [n for n in action.notes.all() if n.date.year == year]
    by_kind = {kind: [n for n in notes if n.kind == kind] for kind in NoteKind.values}
    return FicheYear(
        action,
        by_kind[NoteKind.ACHIEVEMENT],
        by_kind[NoteKind.DIFFICULTY],
        by_kind[NoteKind.OUTLOOK],
        by_kind[NoteKind.FOLLOW_UP],
    )
