"""The fiches of a plan as plain data, now or as they stood at a moment (read from the history).

Reports and dashboards read these, never model instances with attributes pinned on them, so a
bilan of a past year and the dossier of today share one template and one set of rules. The
history is django-simple-history's: the state of an object at a moment is its latest record at
or before it. A plan loaded after the fact (its first import) is its own earliest knowledge: the
records of that first import ("+" rows with IMPORT_REASON) count for any moment before them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Max, Prefetch, Q
from django.urls import reverse
from django.utils import timezone

from actions.models import (
    IMPORT_REASON,
    OPEN_STATUSES,
    Action,
    ActionPartner,
    CalendarEntry,
    Condition,
    Indicator,
    IndicatorValue,
    Note,
    NoteKind,
    Status,
    Step,
    date_label,
)
from axes.models import Plan
from partners.models import Organisation


@dataclass(frozen=True)
class StepLine:
    pk: int
    text: str
    done: bool
    commune: str | None
    children: tuple[StepLine, ...] = ()


@dataclass(frozen=True)
class CalendarLine:
    label: str
    description: str
    start: datetime.date | None
    end: datetime.date | None


@dataclass(frozen=True)
class IndicatorLine:
    name: str
    unit: str
    baseline: Decimal | None
    target: Decimal | None
    values: tuple[tuple[int, Decimal, str], ...]  # (year, value, comment), by year

    def value_of(self, year: int) -> tuple[Decimal, str] | None:
        return next(((value, comment) for y, value, comment in self.values if y == year), None)


@dataclass(frozen=True)
class FinancingLine:
    funder: str
    scheme: str
    year: int | None
    planned: Decimal | None
    granted: Decimal | None
    spent: Decimal | None


@dataclass(frozen=True)
class NoteLine:
    pk: int
    date: datetime.date
    kind: str
    text: str
    author: str
    date_precision: str = "day"

    @property
    def date_label(self) -> str:
        return date_label(self.date, self.date_precision)

    @property
    def kind_label(self) -> str:
        return NoteKind(self.kind).label if self.kind in NoteKind.values else self.kind


@dataclass(frozen=True)
class ObjectiveLine:
    """The objective a fiche comes under, in the plans that have this level (axes.Objective)."""

    pk: int
    position: int
    code: str
    title: str

    @property
    def label(self) -> str:
        return f"Objectif {self.code}" if self.code else "Objectif"


def _objective(objective) -> ObjectiveLine | None:
    if objective is None:
        return None
    return ObjectiveLine(objective.pk, objective.position, objective.code, objective.title)


@dataclass(frozen=True)
class DecisionLine:
    text: str
    status: str
    status_label: str
    meeting: str


@dataclass(frozen=True)
class Fiche:
    """One fiche-action with every section of the plan's fiche, then its follow-up."""

    pk: int
    plan_slug: str
    number: int
    axis_id: int
    axis_number: int
    axis_title: str
    title: str
    fiche_title: str
    pilotage: str
    pilots: tuple[str, ...]
    status: str
    progress: int
    steps: tuple[StepLine, ...] = ()
    partners: tuple[tuple[str, str], ...] = ()  # (name, role)
    conditions: tuple[str, ...] = ()
    calendar: tuple[CalendarLine, ...] = ()
    indicators: tuple[IndicatorLine, ...] = ()
    notes: tuple[NoteLine, ...] = ()  # newest first
    decisions: tuple[DecisionLine, ...] = ()
    financing: tuple[FinancingLine, ...] = ()
    themes: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    deadline: datetime.date | None = None
    is_late: bool = False
    objective: ObjectiveLine | None = None

    @property
    def label(self) -> str:
        return f"Action {self.number}"

    @property
    def status_label(self) -> str:
        return Status(self.status).label if self.status in Status.values else self.status

    def get_status_display(self) -> str:  # the name templates use for model instances
        return self.status_label

    def get_absolute_url(self) -> str:
        return reverse("action_detail", kwargs={"slug": self.plan_slug, "number": self.number})

    @property
    def steps_done(self) -> tuple[int, int]:
        """(done, total) over the steps that are work, not the headings grouping others."""
        work = [child for step in self.steps for child in (step.children or (step,))]
        return sum(step.done for step in work), len(work)

    def notes_of_year(self, year: int) -> list[NoteLine]:
        return [note for note in self.notes if note.date.year == year]


def lateness(status: str, calendar, today: datetime.date) -> tuple[datetime.date | None, bool]:
    """The last end date of the calendar and whether the fiche is late on `today`: the rule of
    ActionQuerySet.with_deadline, for a fiche read as plain data."""
    ends = [entry.end for entry in calendar if entry.end]
    open_ended = any(entry.end is None and entry.start for entry in calendar)
    deadline = max(ends) if ends else None
    late = status in OPEN_STATUSES and deadline is not None and deadline < today and not open_ended
    return deadline, late


def _calendar(entries) -> tuple[CalendarLine, ...]:
    return tuple(CalendarLine(e.label, e.description, e.start, e.end) for e in entries)


def _steps(top, children_of) -> tuple[StepLine, ...]:
    def line(step, children=()):
        commune = step.commune.name if getattr(step, "commune", None) else None
        return StepLine(step.pk if hasattr(step, "pk") else step.id, step.text, step.done, commune, children)

    return tuple(line(step, tuple(line(child) for child in children_of(step))) for step in top)


# ---------------------------------------------------------------------------
# Now


def fiches_now(
    plan: Plan, *, today: datetime.date | None = None, full: bool = True, numbers=None
) -> list[Fiche]:
    """The plan's fiches as they are, in number order. `full` adds what reports print (steps,
    partners, conditions, indicators, notes, decisions); dashboards need only the calendar.
    A fixed number of queries."""
    today = today or timezone.localdate()
    queryset = (
        Action.objects.filter(plan=plan)
        .select_related("plan", "axis", "objective")
        .prefetch_related("pilots", "calendar_entries")
        .order_by("number")
    )
    if numbers is not None:
        queryset = queryset.filter(number__in=numbers)
    if full:
        queryset = queryset.prefetch_related(
            Prefetch(
                "steps", queryset=Step.objects.filter(parent=None).select_related("commune"), to_attr="top"
            ),
            Prefetch("top__children", queryset=Step.objects.select_related("commune")),
            "partners",
            "conditions",
            Prefetch("indicators", queryset=Indicator.objects.prefetch_related("values")),
            Prefetch("notes", queryset=Note.objects.order_by("-date", "-pk")),
            "decisions__meeting",
            "financing",
            "themes",
            "audiences",
        )
    fiches = []
    for action in queryset:
        calendar = _calendar(action.calendar_entries.all())
        extra = {}
        if full:
            extra = {
                "steps": _steps(action.top, lambda step: step.children.all()),
                "partners": tuple((p.name, p.role) for p in action.partners.all()),
                "conditions": tuple(c.text for c in action.conditions.all()),
                "indicators": tuple(
                    IndicatorLine(
                        i.name,
                        i.unit,
                        i.baseline,
                        i.target,
                        tuple((v.year, v.value, v.comment) for v in i.values.all()),
                    )
                    for i in action.indicators.all()
                ),
                "notes": tuple(
                    NoteLine(n.pk, n.date, n.kind, n.text, n.author_name, n.date_precision)
                    for n in action.notes.all()
                ),
                "decisions": tuple(
                    DecisionLine(d.text, d.status, d.get_status_display(), str(d.meeting))
                    for d in sorted(action.decisions.all(), key=lambda d: (d.meeting.date, d.pk))
                ),
                "financing": tuple(
                    FinancingLine(f.funder, f.scheme, f.year, f.planned, f.granted, f.spent)
                    for f in action.financing.all()
                ),
                "themes": tuple(theme.name for theme in action.themes.all()),
                "audiences": tuple(audience.name for audience in action.audiences.all()),
            }
        deadline, late = lateness(action.status, calendar, today)
        fiches.append(
            Fiche(
                pk=action.pk,
                plan_slug=plan.slug,
                number=action.number,
                axis_id=action.axis_id,
                axis_number=action.axis.number,
                axis_title=action.axis.title,
                objective=_objective(action.objective),
                title=action.title,
                fiche_title=action.fiche_title,
                pilotage=action.pilotage,
                pilots=tuple(sorted(org.label for org in action.pilots.all())),
                status=action.status,
                progress=action.progress,
                calendar=calendar,
                deadline=deadline,
                is_late=late,
                **extra,
            )
        )
    return fiches


# ---------------------------------------------------------------------------
# At a moment, from the history


def as_of(history, moment: datetime.datetime):
    """The record of each object as it stood at `moment` (deleted ones left out). One query."""
    known = history.filter(
        Q(history_date__lte=moment) | Q(history_type="+", history_change_reason=IMPORT_REASON)
    )
    latest = known.order_by().values("id").annotate(last=Max("history_id")).values("last")
    return history.filter(history_id__in=latest).exclude(history_type="-")


def end_of_year(year: int) -> datetime.datetime:
    """The last instant of 31 December, in the installation's time zone."""
    return timezone.make_aware(datetime.datetime(year, 12, 31, 23, 59, 59, 999999))


def fiches_at(plan: Plan, moment: datetime.datetime) -> list[Fiche]:
    """The plan's fiches as they stood at `moment`: status, progress, steps done, calendar,
    partners and conditions from the history; notes dated up to that day and indicator values of
    the years up to it, as they are now (they are dated, and often written after the fact).
    Pilots (a many-to-many without history) are today's. A fixed number of queries."""
    day = timezone.localtime(moment).date()
    actions = [
        row
        for row in as_of(Action.history.filter(plan_id=plan.pk), moment).order_by("number")
        if getattr(row, "archived_at", None) is None or row.archived_at > moment
    ]
    ids = [row.id for row in actions]

    def children(model, **scope):
        rows: dict[int, list] = {}
        for row in as_of(model.history.filter(**scope), moment).order_by("position", "id"):
            rows.setdefault(row.action_id, []).append(row)
        return rows

    steps = children(Step, action_id__in=ids)
    communes = dict(
        Organisation.objects.filter(
            pk__in={s.commune_id for rows in steps.values() for s in rows}
        ).values_list("pk", "name")
    )
    calendar = children(CalendarEntry, action_id__in=ids)
    partners = children(ActionPartner, action_id__in=ids)
    conditions = children(Condition, action_id__in=ids)
    # Notes and indicator values carry their own date or year, and the bilan of a year is written
    # early the next: they are read as they are now, up to the moment's year.
    indicators: dict[int, list] = {}
    for indicator in Indicator.objects.filter(action_id__in=ids).prefetch_related(
        Prefetch("values", queryset=IndicatorValue.objects.filter(year__lte=day.year))
    ):
        indicators.setdefault(indicator.action_id, []).append(indicator)
    notes: dict[int, list] = {}
    for note in Note.objects.filter(action_id__in=ids, date__lte=day).order_by("-date", "-pk"):
        notes.setdefault(note.action_id, []).append(note)
    pilots: dict[int, list[str]] = {}
    for action_id, name, short in Action.pilots.through.objects.filter(action_id__in=ids).values_list(
        "action_id", "organisation__name", "organisation__short_name"
    ):
        pilots.setdefault(action_id, []).append(short or name)

    # The axes and their objectives (today's: neither has a history), in one query.
    axes: dict[int, tuple[int, str]] = {}
    objectives: dict[int, ObjectiveLine] = {}
    for pk, number, title, o_pk, o_position, o_code, o_title in plan.axes.values_list(
        "pk",
        "number",
        "title",
        "objectives__pk",
        "objectives__position",
        "objectives__code",
        "objectives__title",
    ):
        axes[pk] = (number, title)
        if o_pk is not None:
            objectives[o_pk] = ObjectiveLine(o_pk, o_position, o_code, o_title)
    fiches = []
    for row in actions:
        own_steps = steps.get(row.id, [])
        top = [s for s in own_steps if s.parent_id is None]
        step_lines = tuple(
            StepLine(
                s.id,
                s.text,
                s.done,
                communes.get(s.commune_id),
                tuple(
                    StepLine(c.id, c.text, c.done, communes.get(c.commune_id))
                    for c in own_steps
                    if c.parent_id == s.id
                ),
            )
            for s in top
        )
        entries = _calendar(calendar.get(row.id, []))
        deadline, late = lateness(row.status, entries, day)
        fiches.append(
            Fiche(
                pk=row.id,
                plan_slug=plan.slug,
                number=row.number,
                axis_id=row.axis_id,
                axis_number=axes.get(row.axis_id, (0, ""))[0],
                axis_title=axes.get(row.axis_id, (0, ""))[1],
                objective=objectives.get(getattr(row, "objective_id", None)),
                title=row.title,
                fiche_title=row.fiche_title,
                pilotage=row.pilotage,
                pilots=tuple(sorted(pilots.get(row.id, []))),
                status=row.status,
                progress=row.progress,
                steps=step_lines,
                partners=tuple((p.name, p.role) for p in partners.get(row.id, [])),
                conditions=tuple(c.text for c in conditions.get(row.id, [])),
                calendar=entries,
                indicators=tuple(
                    IndicatorLine(
                        i.name,
                        i.unit,
                        i.baseline,
                        i.target,
                        tuple((v.year, v.value, v.comment) for v in i.values.all()),
                    )
                    for i in indicators.get(row.id, [])
                ),
                notes=tuple(
                    NoteLine(n.pk, n.date, n.kind, n.text, n.author_name, n.date_precision)
                    for n in notes.get(row.id, [])
                ),
                deadline=deadline,
                is_late=late,
            )
        )
    return fiches


@dataclass
class FicheChanges:
    """What changed on one fiche since a moment (the last COPIL)."""

    fiche: Fiche
    status_from: str | None  # None: the fiche did not exist then
    steps_done: list[str] = field(default_factory=list)
    notes: list[NoteLine] = field(default_factory=list)
    decisions: list = field(default_factory=list)

    @property
    def status_changed(self) -> bool:
        return self.status_from != self.fiche.status

    @property
    def status_from_label(self) -> str:
        return Status(self.status_from).label if self.status_from in Status.values else ""


def _fiche_ids(plan: Plan):
    """The ids of the plan's fiches, archived ones included, as a subquery: history rows are
    filtered on it rather than joined to the fiches (SQLite took 3 s on 2,000 fiches joined)."""
    return Action.all_objects.filter(plan=plan).values("pk")


def new_notes(plan: Plan, since: datetime.datetime) -> dict[int, list[NoteLine]]:
    """The notes written since a moment, by fiche, newest first: THE definition of "nouvelles
    notes" that the dashboard counts and the dossier lists (written since, whatever date the
    note carries). An import's notes count, except the first load of a plan. One query."""
    written = (
        Note.history.filter(action_id__in=_fiche_ids(plan), history_type="+", history_date__gte=since)
        .exclude(history_change_reason=IMPORT_REASON)
        .values("id")
    )
    notes: dict[int, list[NoteLine]] = {}
    for n in Note.objects.filter(pk__in=written).order_by("-date", "-pk"):
        notes.setdefault(n.action_id, []).append(
            NoteLine(n.pk, n.date, n.kind, n.text, n.author_name, n.date_precision)
        )
    return notes


def changes_since(plan: Plan, fiches: list[Fiche], since: datetime.datetime, decisions) -> list[FicheChanges]:
    """Per fiche, what changed since `since`: status from → to, steps done, notes written,
    decisions whose state changed. `fiches` is the plan now; `decisions` the plan's decisions.
    Four queries."""
    status_then = dict(as_of(Action.history.filter(plan_id=plan.pk), since).values_list("id", "status"))
    # Two plain queries, the difference taken here: in one query (NOT IN / NOT EXISTS over
    # as_of's grouped subquery) PostgreSQL re-runs the subquery for every step.
    done_then = set(
        as_of(Step.history.filter(action_id__in=_fiche_ids(plan)), since)
        .filter(done=True)
        .values_list("id", flat=True)
    )
    steps_done: dict[int, list[str]] = {}
    for pk, action_id, text in (
        Step.objects.filter(action__plan=plan, done=True)
        .order_by("position", "pk")
        .values_list("pk", "action_id", "text")
    ):
        if pk not in done_then:
            steps_done.setdefault(action_id, []).append(text)
    notes = new_notes(plan, since)
    by_fiche: dict[int, list] = {}
    for decision in decisions:
        if decision.status_changed_at and decision.status_changed_at >= since:
            for action in decision.actions.all():
                by_fiche.setdefault(action.pk, []).append(decision)
    changes = []
    for fiche in fiches:
        change = FicheChanges(
            fiche=fiche,
            status_from=status_then.get(fiche.pk),
            steps_done=steps_done.get(fiche.pk, []),
            notes=notes.get(fiche.pk, []),
            decisions=by_fiche.get(fiche.pk, []),
        )
        if change.status_changed or change.steps_done or change.notes or change.decisions:
            changes.append(change)
    return changes
