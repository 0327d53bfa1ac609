"""The named queries behind dashboards and reports.

The dashboard page, its PDF counterpart and the CAF bilan all read their figures from these
functions, so a printed figure never disagrees with the screen. They work on the plain data of
reporting.snapshot: the plan now, or as it stood at a moment.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.utils import timezone

from actions.forms import DUE_SOON_DAYS
from actions.models import Action, Status, Step
from axes.models import Plan
from partners.models import Organisation
from reporting import charts
from reporting.models import Decision, Meeting
from reporting.snapshot import Fiche, FicheChanges, changes_since, fiches_at, fiches_now


def average_progress(fiches) -> int:
    """Mean progress of the fiches still in the plan (abandoned ones left out), in %."""
    counted = [f.progress for f in fiches if f.status != Status.ABANDONED]
    return round(sum(counted) / len(counted)) if counted else 0


def status_counts(fiches) -> list[tuple[str, str, int]]:
    counts = Counter(f.status for f in fiches)
    return [(status.value, status.label, counts.get(status.value, 0)) for status in Status]


@dataclass
class AxisSummary:
    axis: object
    actions: list[Fiche]
    progress: int
    statuses: list[tuple[str, str, int]]
    late: int


@dataclass
class PlanOverview:
    plan: Plan
    today: datetime.date
    actions: list[Fiche]
    axes: list[AxisSummary]
    progress: int
    statuses: list[tuple[str, str, int]]
    late: list[Fiche]
    due_soon: list
    by_pilot: list[tuple[str, list[tuple[str, str, int]], int]]
    last_copil: Meeting | None
    next_copil: Meeting | None
    changes: list[FicheChanges]
    change_counts: dict[str, int]
    decisions_to_take: list
    charts: dict = field(default_factory=dict)


def plan_overview(
    plan: Plan,
    *,
    today: datetime.date | None = None,
    moment: datetime.datetime | None = None,
    full: bool = False,
) -> PlanOverview:
    """The plan's figures now, or as they stood at `moment` (read from the history): what the
    dashboard shows, and what the dossier and the bilan print (`full` adds each fiche's content).
    A fixed number of queries."""
    if moment is not None:
        today = timezone.localtime(moment).date()
        fiches = fiches_at(plan, moment)
    else:
        today = today or timezone.localdate()
        fiches = fiches_now(plan, today=today, full=full)
    by_axis: dict[int, list] = {}
    for fiche in fiches:
        by_axis.setdefault(fiche.axis_id, []).append(fiche)
    axes = [
        AxisSummary(
            axis=axis,
            actions=by_axis.get(axis.pk, []),
            progress=average_progress(by_axis.get(axis.pk, [])),
            statuses=status_counts(by_axis.get(axis.pk, [])),
            late=sum(f.is_late for f in by_axis.get(axis.pk, [])),
        )
        for axis in plan.axes.all()
    ]
    pilots: dict[str, list] = {}
    for fiche in fiches:
        for name in fiche.pilots or ["Pilote non désigné"]:
            pilots.setdefault(name, []).append(fiche)
    by_pilot = sorted(
        ((name, status_counts(group), len(group)) for name, group in pilots.items()),
        key=lambda row: (-row[2], row[0]),
    )
    horizon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    due_soon = [
        (fiche, entry)
        for fiche in fiches
        if fiche.status not in (Status.DONE, Status.ABANDONED)
        for entry in fiche.calendar
        if entry.end and today <= entry.end <= horizon
    ]
    last_copil = Meeting.objects.last_copil(plan, today)
    changes: list[FicheChanges] = []
    decisions: list = []
    if moment is None:
        decisions = list(Decision.objects.of_plan(plan).select_related("meeting").prefetch_related("actions"))
        if last_copil:
            since = timezone.make_aware(datetime.datetime.combine(last_copil.date, datetime.time.min))
            changes = changes_since(plan, fiches, since, decisions)
    overview = PlanOverview(
        plan=plan,
        today=today,
        actions=fiches,
        axes=axes,
        progress=average_progress(fiches),
        statuses=status_counts(fiches),
        late=[f for f in fiches if f.is_late],
        due_soon=sorted(due_soon, key=lambda pair: pair[1].end),
        by_pilot=by_pilot,
        last_copil=last_copil,
        next_copil=Meeting.objects.next_copil(plan, today),
        changes=changes,
        change_counts={
            "status": sum(c.status_changed for c in changes),
            "step_done": sum(len(c.steps_done) for c in changes),
            "note_added": sum(len(c.notes) for c in changes),
            "decision": sum(len(c.decisions) for c in changes),
        },
        decisions_to_take=sorted((d for d in decisions if d.is_open), key=lambda d: (d.meeting.date, d.pk)),
    )
    overview.charts = {
        "status_by_axis": charts.stacked_bars(
            [(f"{plan.level_label} {s.axis.number} : {s.axis.title}", s.statuses) for s in axes],
            title="Statut des fiches par axe",
        ),
        "progress_by_axis": charts.progress_bars(
            [(f"{plan.level_label} {s.axis.number} : {s.axis.title}", s.progress) for s in axes],
            title="Avancement moyen par axe",
        ),
        "timeline": charts.timeline(plan, fiches, today),
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
