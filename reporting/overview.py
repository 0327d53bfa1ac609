"""The named queries behind dashboards and reports.

The dashboard page, its PDF counterpart and the CAF bilan all read their figures from these
functions, so a printed figure never disagrees with the screen. They work on the plain data of
reporting.snapshot: the plan now, or as it stood at a moment.
"""

from __future__ import annotations

import datetime
from calendar import monthrange
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    CharField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    FloatField,
    IntegerField,
    JSONField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone

from actions.forms import DUE_SOON_DAYS
from actions.models import Action, Financing, JSONList, Status, Step, Theme, json_rows
from axes.levels import by_objective
from axes.models import Axis, Plan
from partners.models import Organisation
from reporting import charts
from reporting.figures import counter as write_counter
from reporting.figures import refresh as refresh_figures
from reporting.models import Decision, Meeting
from reporting.snapshot import (
    CalendarLine,
    Fiche,
    FicheChanges,
    ObjectiveLine,
    as_of,
    changes_since,
    fiches_at,
    fiches_now,
    lateness,
)


def mean_progress(progress_sum: int | None, progress_n: int | None) -> int:
    """The mean progress, rounded, from a sum over the fiches not abandoned and their number
    (ActionQuerySet.figures' `progress_sum`, `progress_n`); 0 when no fiche counts."""
    return round((progress_sum or 0) / progress_n) if progress_n else 0


def average_progress(fiches) -> int:
    """Mean progress of the fiches still in the plan (abandoned ones left out), in %."""
    counted = [f.progress for f in fiches if f.status != Status.ABANDONED]
    return mean_progress(sum(counted), len(counted))


def status_counts(fiches) -> list[tuple[str, str, int]]:
    counts = Counter(f.status for f in fiches)
    return [(status.value, status.label, counts.get(status.value, 0)) for status in Status]


@dataclass
class ObjectiveSummary:
    """The fiches of one objective of an axis (or those of the axis without one: `objective`
    None), with the same figures as their axis."""

    objective: ObjectiveLine | None
    actions: list[Fiche]
    progress: int
    statuses: list[tuple[str, str, int]]
    late: int

    @property
    def label(self) -> str:
        return f"{self.objective.label} : {self.objective.title}" if self.objective else "Sans objectif"


@dataclass
class AxisSummary:
    axis: object
    actions: list[Fiche]
    progress: int
    statuses: list[tuple[str, str, int]]
    late: int
    # Its objectives in their order, then "Sans objectif" for its fiches without one; empty for
    # an axis whose fiches have no objective (plans without this level look as they always did).
    objectives: list[ObjectiveSummary] = field(default_factory=list)


def _figures(fiches) -> dict:
    return {
        "progress": average_progress(fiches),
        "statuses": status_counts(fiches),
        "late": sum(f.is_late for f in fiches),
    }


def axis_summary(axis, fiches: list[Fiche]) -> AxisSummary:
    """An axis's figures, and its objectives' where its fiches have some (axes.levels.by_objective)."""
    groups = by_objective(fiches)
    objectives = [] if all(objective is None for objective, _ in groups) else groups
    return AxisSummary(
        axis=axis,
        actions=fiches,
        objectives=[ObjectiveSummary(objective, group, **_figures(group)) for objective, group in objectives],
        **_figures(fiches),
    )


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
    financing: FinancingSummary | None = None
    charts: dict = field(default_factory=dict)

    @property
    def has_objectives(self) -> bool:
        return any(s.objectives for s in self.axes)


# ---------------------------------------------------------------------------
# Financing: totals by axis, by funder and by year


@dataclass(frozen=True)
class MoneyRow:
    label: str
    planned: Decimal | None
    granted: Decimal | None
    spent: Decimal | None
    sub: bool = False  # an objective's row under its axis's


@dataclass(frozen=True)
class FinancingSummary:
    """The plan's financing lines added up by axis (in the plan's order), by funder (the
    largest planned first) and by year (undated lines last), and in all."""

    by_axis: list[MoneyRow]
    by_funder: list[MoneyRow]
    by_year: list[MoneyRow]
    total: MoneyRow
    lines: int

    def __bool__(self) -> bool:
        return self.lines > 0

    @property
    def has_objectives(self) -> bool:
        return any(row.sub for row in self.by_axis)


FINANCING_FIELDS = ("action_id", "funder", "year", "planned", "granted", "spent")


def financing_rows(plan: Plan, moment: datetime.datetime | None = None) -> list[dict]:
    """The plan's financing lines as plain rows, now or as they stood at `moment` (from the
    history). One query."""
    if moment is None:
        lines = Financing.objects.filter(action__plan=plan, action__archived_at=None)
    else:
        lines = as_of(
            Financing.history.filter(action_id__in=Action.all_objects.filter(plan=plan).values("pk")), moment
        )
    return list(lines.values(*FINANCING_FIELDS))


def plan_financing_json():
    """The plan's financing lines as JSON, to annotate the plan read by the dashboard's first
    query (so the page costs no query more): plan_overview(financing=...) reads them."""
    return json_rows(
        Financing.objects.filter(action__plan=OuterRef("pk"), action__archived_at=None),
        by="action__plan",
        **{name: name for name in ("action_id", "funder", "year")},
        **{name: Cast(name, CharField()) for name in ("planned", "granted", "spent")},
    )


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _money_row(label: str, lines: list[dict], *, sub: bool = False) -> MoneyRow:
    sums = {}
    for name in ("planned", "granted", "spent"):
        given = [line[name] for line in lines if line[name] is not None]
        sums[name] = sum(given, Decimal(0)) if given else None
    return MoneyRow(label, **sums, sub=sub)


def _objective_key(objective: ObjectiveLine | None) -> tuple:
    # by_objective's order: the objectives' own, the lines without one last.
    return (objective is None, objective.position if objective else 0, objective.pk if objective else 0)


def financing_summary(plan: Plan, fiches, axes, rows) -> FinancingSummary:
    """Totals of the lines of `fiches` (the overview's: the plan now, or at a moment); by axis,
    each axis followed by its objectives' where its fiches have some."""
    axis_of = {fiche.pk: fiche.axis_id for fiche in fiches}
    objective_of = {fiche.pk: fiche.objective for fiche in fiches}
    lines = [
        {**row, **{name: _decimal(row[name]) for name in ("planned", "granted", "spent")}}
        for row in rows or []
        if row["action_id"] in axis_of
    ]
    by_axis, by_funder, by_year = {}, {}, {}
    for line in lines:
        by_axis.setdefault(axis_of[line["action_id"]], []).append(line)
        by_funder.setdefault(line["funder"], []).append(line)
        by_year.setdefault(line["year"], []).append(line)
    funders = [_money_row(name, group) for name, group in by_funder.items()]
    axis_rows = []
    for axis in axes:
        if axis.pk not in by_axis:
            continue
        axis_rows.append(_money_row(f"{plan.level.number(axis.number)} : {axis.title}", by_axis[axis.pk]))
        by_objective_lines: dict = {}
        for line in by_axis[axis.pk]:
            by_objective_lines.setdefault(objective_of[line["action_id"]], []).append(line)
        if set(by_objective_lines) != {None}:
            axis_rows += [
                _money_row(f"{o.label} : {o.title}" if o else "Sans objectif", group, sub=True)
                for o, group in sorted(by_objective_lines.items(), key=lambda item: _objective_key(item[0]))
            ]
    return FinancingSummary(
        by_axis=axis_rows,
        by_funder=sorted(funders, key=lambda row: (-(row.planned or 0), row.label.lower())),
        by_year=[
            _money_row(str(year) if year else "Année non précisée", by_year[year])
            for year in sorted(by_year, key=lambda year: (year is None, year or 0))
        ],
        total=_money_row("Total", lines),
        lines=len(lines),
    )


def plan_overview(
    plan: Plan,
    *,
    today: datetime.date | None = None,
    moment: datetime.datetime | None = None,
    full: bool = False,
    financing: list[dict] | None = None,
) -> PlanOverview:
    """The plan's figures now, or as they stood at `moment` (read from the history): what the
    dashboard shows, and what the dossier and the bilan print (`full` adds each fiche's content).
    `financing`: the plan's financing rows when read already (plan_financing_json). A fixed
    number of queries."""
    if moment is not None:
        today = timezone.localtime(moment).date()
        fiches = fiches_at(plan, moment)
        plan_axes = list(plan.axes.all())
    elif full:
        today = today or timezone.localdate()
        fiches = fiches_now(plan, today=today, full=True)
        plan_axes = list(plan.axes.all())
    else:
        today = today or timezone.localdate()
        plan_axes, fiches = _dashboard_fiches(plan, today)
    by_axis: dict[int, list] = {}
    for fiche in fiches:
        by_axis.setdefault(fiche.axis_id, []).append(fiche)
    axes = [axis_summary(axis, by_axis.get(axis.pk, [])) for axis in plan_axes]
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
    last_copil, next_copil = _copils(plan, today)
    changes: list[FicheChanges] = []
    decisions: list = []
    if moment is None:
        decisions = list(
            Decision.objects.of_plan(plan)
            .select_related("meeting", "status_changed_by")
            .prefetch_related(Prefetch("actions", queryset=Action.objects.select_related("plan")))
        )
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
        next_copil=next_copil,
        changes=changes,
        change_counts={
            "status": sum(c.status_changed for c in changes),
            "step_done": sum(len(c.steps_done) for c in changes),
            "note_added": sum(len(c.notes) for c in changes),
            "decision": sum(len(c.decisions) for c in changes),
        },
        decisions_to_take=sorted((d for d in decisions if d.is_open), key=lambda d: (d.meeting.date, d.pk)),
        financing=financing_summary(
            plan, fiches, plan_axes, financing if financing is not None else financing_rows(plan, moment)
        ),
    )
    # Where the plan has objectives, each axis's bar is followed by its objectives' (indented).
    per = f"{plan.level.per} et par objectif" if overview.has_objectives else plan.level.per
    overview.charts = {
        "status_by_axis": charts.stacked_bars(
            _by_axis_rows(plan, axes, lambda s: s.statuses), title=f"Statut des fiches {per}"
        ),
        "progress_by_axis": charts.progress_bars(
            _by_axis_rows(plan, axes, lambda s: s.progress), title=f"Avancement moyen {per}"
        ),
        "timeline": charts.timeline(plan, fiches, today),
    }
    return overview


def _by_axis_rows(plan: Plan, axes: list[AxisSummary], figure) -> list[charts.Row]:
    rows = []
    for s in axes:
        rows.append(charts.Row(f"{plan.level.number(s.axis.number)} : {s.axis.title}", figure(s)))
        rows += [charts.Row(o.label, figure(o), sub=True) for o in s.objectives]
    return rows


def _copils(plan: Plan, today: datetime.date) -> tuple[Meeting | None, Meeting | None]:
    """The last COPIL held and the next one (Meeting.objects.copils_held, copils_to_come), in one
    query."""
    copils = Meeting.objects.filter(plan=plan)
    last = copils.copils_held(today).values("pk")[:1]
    upcoming = copils.copils_to_come(today).values("pk")[:1]
    found = list(copils.filter(Q(pk__in=last) | Q(pk__in=upcoming)))
    return (
        next((m for m in found if m.date <= today), None),
        next((m for m in found if m.date > today), None),
    )


def _dashboard_fiches(plan: Plan, today: datetime.date) -> tuple[list[Axis], list[Fiche]]:
    """The plan's axes and its fiches as the dashboard needs them (no steps, notes…), each fiche
    with its pilots and calendar: the same Fiche as fiches_now(full=False), in one query.

    Axes LEFT JOIN their fiches in force, LEFT JOIN each fiche's calendar entries and pilots:
    a row per (axis, fiche, entry, pilot), folded back here. An axis without fiches still comes
    back (the join keeps it), archived fiches never do (filtered in the join)."""
    rows = (
        Axis.objects.filter(plan=plan)
        .annotate(live=FilteredRelation("actions", condition=Q(actions__archived_at=None)))
        .order_by("number", "live__number", "live__calendar_entries__position", "live__calendar_entries__pk")
        .values_list(
            "pk",
            "number",
            "title",
            "live__pk",
            "live__number",
            "live__title",
            "live__fiche_title",
            "live__pilotage",
            "live__status",
            "live__progress",
            "live__calendar_entries__pk",
            "live__calendar_entries__label",
            "live__calendar_entries__description",
            "live__calendar_entries__start",
            "live__calendar_entries__end",
            "live__pilots__pk",
            "live__pilots__name",
            "live__pilots__short_name",
            "live__objective__pk",
            "live__objective__position",
            "live__objective__code",
            "live__objective__title",
        )
    )
    axes: dict[int, Axis] = {}
    actions: dict[int, dict] = {}
    for (
        axis_pk,
        axis_number,
        axis_title,
        pk,
        number,
        title,
        fiche_title,
        pilotage,
        status,
        progress,
        entry_pk,
        label,
        description,
        start,
        end,
        pilot_pk,
        pilot_name,
        pilot_short,
        objective_pk,
        objective_position,
        objective_code,
        objective_title,
    ) in rows:
        if axis_pk not in axes:
            axes[axis_pk] = Axis(pk=axis_pk, plan=plan, number=axis_number, title=axis_title)
        if pk is None:
            continue
        action = actions.setdefault(
            pk,
            {
                "pk": pk,
                "number": number,
                "axis_id": axis_pk,
                "axis_number": axis_number,
                "axis_title": axis_title,
                "title": title,
                "fiche_title": fiche_title,
                "pilotage": pilotage,
                "status": status,
                "progress": progress,
                "objective": (
                    ObjectiveLine(objective_pk, objective_position, objective_code, objective_title)
                    if objective_pk is not None
                    else None
                ),
                "calendar": {},
                "pilots": {},
            },
        )
        if entry_pk is not None:
            action["calendar"].setdefault(entry_pk, CalendarLine(label, description, start, end))
        if pilot_pk is not None:
            action["pilots"][pilot_pk] = pilot_short or pilot_name
    fiches = []
    for action in sorted(actions.values(), key=lambda a: a["number"]):
        calendar = tuple(action.pop("calendar").values())  # rows came in calendar order
        pilots = tuple(sorted(action.pop("pilots").values()))
        deadline, late = lateness(action["status"], calendar, today)
        fiches.append(
            Fiche(
                plan_slug=plan.slug,
                pilots=pilots,
                calendar=calendar,
                deadline=deadline,
                is_late=late,
                **action,
            )
        )
    return list(axes.values()), fiches


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
            Step.objects.filter(action__plan=plan, action__archived_at=None, commune=commune)
            .select_related("action__plan", "parent")
            .order_by("action__number", "parent__position", "position")
        ),
        partner_of=list(listing.filter(partners__organisation=commune).distinct()),
    )


@dataclass
class PlanLine:
    """One plan of the overview, as its row shows it."""

    pk: int
    slug: str
    territory: str
    start_year: int
    end_year: int
    last_copil: datetime.date | None
    fiches: int
    progress_sum: int
    progress_n: int
    late: int

    @property
    def progress(self) -> int:
        """The plan's overall progress (see average_progress): the mean over its fiches not
        abandoned, rounded; 0 when there is none."""
        return mean_progress(self.progress_sum, self.progress_n)


@dataclass
class PlansTotals:
    plans: int
    fiches: int
    progress: int
    late: int


LINE_FIELDS = (
    "pk",
    "slug",
    "territory",
    "start_year",
    "end_year",
    "figures__last_copil",
    "figures__fiches",
    "figures__progress_sum",
    "figures__progress_n",
    "figures__late",
)


class PlanLines:
    """The overview's plans, filtered and sorted, as a Paginator takes them: their number was
    counted with the totals, and a slice reads only its rows (one query; none for no row)."""

    def __init__(self, queryset, length: int):
        self.queryset, self.length = queryset, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: slice) -> list[PlanLine]:
        if index.start is not None and index.start >= (index.stop if index.stop is not None else self.length):
            return []
        # A plan signed between the totals and this query has no figures yet: zeros until the
        # next request computes them.
        return [PlanLine(*row[:6], *(n or 0 for n in row[6:])) for row in self.queryset[index]]


@dataclass
class PlansOverview:
    lines: PlanLines  # filtered and sorted, to be paged
    totals: PlansTotals  # over every plan given, whatever the filters


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` months earlier (the last day of the month when it has fewer)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return datetime.date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


# The unrounded mean progress the overview sorts by; NULL when no fiche counts.
_MEAN = ExpressionWrapper(
    Cast("figures__progress_sum", FloatField()) / NullIf("figures__progress_n", 0),
    output_field=FloatField(),
)

# The overview's sort keys (query string `sort`); every one breaks its ties by territory (in
# the database's collation) then by pk, the order of creation. No progress (every fiche
# abandoned) and no COPIL held come first in the rising order, last in the falling one.
PLAN_SORTS = {
    "territory": (F("territory").asc(),),
    "-territory": (F("territory").desc(),),
    "progress": (F("mean").asc(nulls_first=True),),
    "-progress": (F("mean").desc(nulls_last=True),),
    "late": (F("figures__late").asc(),),
    "-late": (F("figures__late").desc(),),
    "last_copil": (F("figures__last_copil").asc(nulls_first=True),),
    "-last_copil": (F("figures__last_copil").desc(nulls_last=True),),
}


def _plans_figures(plans, shown: Q, today: datetime.date) -> dict:
    """The totals of `plans` from their kept figures, how many of them `shown` keeps, and the
    ids of those whose figures are missing or stale (reporting/figures.py). One query."""
    stale = Q(figures=None) | ~Q(figures__day=today) | ~Q(figures__changes=write_counter())
    return plans.order_by().aggregate(
        plans=Count("pk"),
        fiches=Sum("figures__fiches"),
        progress_sum=Sum("figures__progress_sum"),
        progress_n=Sum("figures__progress_n"),
        late=Sum("figures__late"),
        shown=Count("pk", filter=shown) if shown else Count("pk"),
        stale=JSONList("pk", filter=stale),
    )


def plans_overview(
    plans,
    *,
    territory: str = "",
    late_only: bool = False,
    no_copil_months: int | None = None,
    sort: str = "territory",
    today: datetime.date | None = None,
) -> PlansOverview:
    """The overview of `plans` (a queryset: the CAF's), read in SQL from each plan's kept
    figures (reporting/figures.py: computed again for the plans written to since, or on a new
    day): the totals over them all and the number the filters keep in one query, then a page
    of them, filtered and sorted, when the paginator slices `lines`. Two queries whatever the
    number of plans; two more (the stale plans' figures computed and kept in one, the totals
    read again) on a request that finds some stale."""
    today = today or timezone.localdate()
    shown = Q()
    if territory:
        shown &= Q(territory__icontains=territory)  # the database's own icontains
    if late_only:
        shown &= Q(figures__late__gt=0)
    if no_copil_months:
        cutoff = months_before(today, no_copil_months)
        shown &= Q(figures__last_copil=None) | Q(figures__last_copil__lt=cutoff)
    found = _plans_figures(plans, shown, today)
    if found["stale"]:
        refresh_figures(found["stale"], today)
        found = _plans_figures(plans, shown, today)
    totals = PlansTotals(
        plans=found["plans"],
        fiches=found["fiches"] or 0,
        progress=mean_progress(found["progress_sum"], found["progress_n"]),
        late=found["late"] or 0,
    )
    lines = (
        plans.filter(shown)
        .annotate(mean=_MEAN)
        .order_by(*PLAN_SORTS.get(sort, PLAN_SORTS["territory"]), "territory", "pk")
        .values_list(*LINE_FIELDS)
    )
    return PlansOverview(lines=PlanLines(lines, found["shown"]), totals=totals)


# ---------------------------------------------------------------------------
# One theme across every plan the user may read (for the CAF: every plan it signed)


def _financing_sum(field_name: str) -> Subquery:
    """The sum of one amount over the outer fiche's financing lines (NULL when none gives it)."""
    lines = Financing.objects.filter(action=OuterRef("pk")).order_by().values("action")
    return Subquery(lines.annotate(total=Sum(field_name)).values("total"), output_field=DecimalField())


THEMED_ORDER = ("plan__territory", "plan__start_year", "number", "pk")  # pk: a total order for paging


class IdList(Subquery):
    """The ids a subquery selects (as `pk`), as one JSON array read with the outer row (NULL
    when there are none), on PostgreSQL and SQLite alike."""

    template = '(SELECT JSONB_AGG("ids"."pk") FROM (%(subquery)s) "ids")'
    output_field = JSONField()

    def as_sqlite(self, compiler, connection, **extra_context):
        template = '(SELECT JSON_GROUP_ARRAY("ids"."pk") FROM (%(subquery)s) "ids")'
        return super().as_sql(compiler, connection, template=template, **extra_context)


def readable_plan_ids(user) -> IdList:
    """The ids of the plans the user may read (Plan.objects.visible_to), to annotate the row the
    page reads first (the theme): themed_fiches hands them to the database as a list."""
    return IdList(Plan.objects.visible_to(user).values("pk"))


def themed_fiches(plan_ids: list[int], theme_slug: str, *, audience_slug: str = ""):
    """The fiches in force tagged with a theme (and a public, if given) in the plans of
    `plan_ids` (readable_plan_ids: every plan the user may read; a CAF's staff read every plan
    their CAF signed), by territory then number. Lean (no annotation): what themed_totals adds
    up and what is paged; themed_page reads one page's rows.

    The plans come as a list, not as the permission rule's subquery: of that subquery the
    database cannot tell how many plans it keeps (it guessed three in four), so it read every
    fiche of the installation to find those of the user's plans, in each of the page's three
    queries: 40 ms a query for one plan among a thousand, against 0.2 ms through the fiches'
    plan index."""
    return (
        Action.objects.filter(plan__in=plan_ids)
        .tagged(theme=theme_slug, audience=audience_slug or None)
        .order_by(*THEMED_ORDER)
    )


def themed_page(page, today: datetime.date | None = None) -> list[Action]:
    """One page of themed_fiches (a slice of it), each fiche with its plan, lateness and
    financing totals (`planned`, `granted`, `spent`). One query: the slice picks the page's
    fiches among all of them by their sort keys alone, and only those get their plan, axis,
    lateness and financing read (the database otherwise works them out for every fiche before
    the ones it skips: a deep page of 10,000 fiches cost as much as all of them)."""
    return list(
        Action.objects.filter(pk__in=page.values("pk"))
        .with_deadline(today)
        .select_related("plan", "axis")
        .annotate(
            planned=_financing_sum("planned"),
            granted=_financing_sum("granted"),
            spent=_financing_sum("spent"),
        )
        .order_by(*THEMED_ORDER)
    )


def themed_totals(fiches, today: datetime.date | None = None) -> dict:
    """What the theme's page says of all its fiches, whatever page is shown: how many, in how
    many plans, their mean progress (abandoned ones aside), how many late, and their financing
    added up. Two aggregates in SQL, whatever the number of fiches and plans."""
    figures = fiches.figures(today, plans=Count("plan", distinct=True))
    money = Financing.objects.filter(action__in=fiches.order_by().values("pk")).aggregate(
        planned=Sum("planned"), granted=Sum("granted"), spent=Sum("spent")
    )
    progress = mean_progress(figures.pop("progress_sum"), figures.pop("progress_n"))
    return {**figures, "progress": progress, **money}


def themes_of(user) -> list:
    """Every theme of the installation's list, each with `fiches`: how many fiches in force of
    the plans the user may read it tags. One query."""
    tagged = (
        Action.themes.through.objects.filter(
            theme=OuterRef("pk"),
            action__archived_at=None,
            action__plan__in=Plan.objects.visible_to(user),
        )
        .order_by()
        .values("theme")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return list(Theme.objects.annotate(fiches=Coalesce(Subquery(tagged, output_field=IntegerField()), 0)))
