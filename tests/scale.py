"""Plans in volume for the query-bound tests (issue 10): thousands of fiches or a thousand plans
in a second or two, with bulk_create instead of one factory call per row.

The rows look like a real plan's (pilots, steps with a sub-step, a partner, a calendar entry, a
note, each with its history row, as an import writes them), so that the pages read everything
they read on a real plan; the figures themselves are not what these tests check.
"""

from __future__ import annotations

import datetime

from actions.models import (
    IMPORT_REASON,
    Action,
    ActionPartner,
    CalendarEntry,
    Financing,
    Note,
    Status,
    Step,
    Theme,
)
from axes.models import Axis, Plan
from partners.models import Organisation, OrganisationKind
from tests.factories import OrganisationFactory, PlanFactory, create_with_history
from tests.snapshot import Snapshot

STATUSES = [Status.PLANNED, Status.IN_PROGRESS, Status.DONE, Status.ON_HOLD, Status.ABANDONED]


def _history(model, objects):
    return create_with_history(model, objects, reason=IMPORT_REASON)


def bulk_fiches(plan: Plan, n_fiches: int, *, n_axes: int = 6, communes=None) -> list[Action]:
    """`n_fiches` fiches over `n_axes` new axes of `plan`, with their lists and history."""
    communes = communes or list(plan.communes.all()) or [None]
    axes = Axis.objects.bulk_create(
        [Axis(plan=plan, number=i + 1, title=f"Orientation {i + 1}") for i in range(n_axes)]
    )
    actions = _history(
        Action,
        [
            Action(
                plan=plan,
                axis=axes[n % n_axes],
                number=n,
                title=f"Action du synoptique {n}",
                fiche_title=f"Nom de l'action {n}",
                pilotage="CCVA",
                status=STATUSES[n % len(STATUSES)],
                progress=100 if STATUSES[n % len(STATUSES)] == Status.DONE else (n * 7) % 100,
            )
            for n in range(1, n_fiches + 1)
        ],
    )
    pilots = [c for c in communes if c is not None]
    if pilots:
        Action.pilots.through.objects.bulk_create(
            [Action.pilots.through(action=a, organisation=pilots[a.number % len(pilots)]) for a in actions]
        )
    tops = _history(
        Step,
        [
            Step(action=a, position=p, text=f"Étape {p} de l'action {a.number}", done=p == 1)
            for a in actions
            for p in range(2)
        ],
    )
    _history(
        Step,
        [
            Step(action=s.action, parent=s, position=0, text="Sous-étape", commune=communes[0])
            for s in tops
            if s.position == 0
        ],
    )
    _history(ActionPartner, [ActionPartner(action=a, name="CAF", role="Cofinanceur") for a in actions])
    # Alternately ended long ago (late while open), open-ended, and ending in the future.
    periods = [
        ("2024", datetime.date(2024, 1, 1), datetime.date(2024, 12, 31)),
        ("2025 et après", datetime.date(2025, 1, 1), None),
        ("2099", datetime.date(2099, 1, 1), datetime.date(2099, 12, 31)),
    ]
    _history(
        CalendarEntry,
        [
            CalendarEntry(action=a, label=label, start=start, end=end)
            for a in actions
            for label, start, end in [periods[a.number % len(periods)]]
        ],
    )
    _history(Note, [Note(action=a, text="Réunion tenue.", author_name="M. Dupont") for a in actions])
    return actions


def _bulk_plan(n_fiches: int, n_axes: int) -> Plan:
    plan = PlanFactory()
    plan.communes.set(OrganisationFactory.create_batch(3, commune=True))
    bulk_fiches(plan, n_fiches, n_axes=n_axes)
    return plan


_copies: dict[tuple, Snapshot] = {}


def copied_plan(build, *args, **kwargs) -> Plan:
    """The plan `build(*args, **kwargs)` makes, built once per test process and arguments, then
    copied (tests/snapshot.py): for the tests that make the same plans over and over, in each
    case of a parametrized test or in several modules (taking the copy costs more than a build
    made once).

    Copied even where the test already holds plans or organisations (the query-count tests make
    a small plan before the big one): these builds read nothing of them but the factories'
    sequences, whose names and codes the copy keeps from the first build; a copied row clashing
    with one of the test's (a unique slug or code) makes the real build run instead."""
    key = (build, args, tuple(sorted(kwargs.items())))
    if key not in _copies:
        _copies[key] = Snapshot(
            lambda: build(*args, **kwargs),
            key=lambda plan: plan.pk,
            find=lambda pk: Plan.objects.get(pk=pk),
            unless=lambda: False,
        )
    return _copies[key]()


def bulk_plan(n_fiches: int, *, n_axes: int = 6, copied: bool = False) -> Plan:
    """A new plan with three communes and `n_fiches` fiches (`copied`: copied_plan)."""
    if copied:
        return copied_plan(_bulk_plan, n_fiches, n_axes)
    return _bulk_plan(n_fiches, n_axes)


def bulk_plans(
    n_plans: int,
    *,
    signatory: Organisation,
    fiches_per_plan: int = 3,
    first: int = 0,
    theme: Theme | None = None,
) -> list[Plan]:
    """`n_plans` small plans signed by `signatory` (a CAF), each with one axis and a few fiches,
    one calendar entry each (some late), and no COPIL. With a `theme`: the odd-numbered fiches
    tagged with it, and every fiche financed by two lines of 2025 (the CAF's, the commune's)."""
    plans = Plan.objects.bulk_create(
        [
            Plan(
                slug=f"territoire-{i:04d}",
                title="Plan d'action de la CTG",
                territory=f"CC du Territoire {i:04d}",
                start_year=2023,
                end_year=2027,
            )
            for i in range(first, first + n_plans)
        ]
    )
    Plan.signatories.through.objects.bulk_create(
        [Plan.signatories.through(plan=p, organisation=signatory) for p in plans]
    )
    axes = Axis.objects.bulk_create([Axis(plan=p, number=1, title="Orientation") for p in plans])
    actions = Action.objects.bulk_create(
        [
            Action(
                plan=axis.plan,
                axis=axis,
                number=n,
                title=f"Action {n}",
                fiche_title=f"Action {n}",
                status=STATUSES[n % len(STATUSES)],
                progress=100 if STATUSES[n % len(STATUSES)] == Status.DONE else (10 * n) % 100,
            )
            for axis in axes
            for n in range(1, fiches_per_plan + 1)
        ]
    )
    CalendarEntry.objects.bulk_create(
        [
            CalendarEntry(
                action=a, label="2024", start=datetime.date(2024, 1, 1), end=datetime.date(2024, 12, 31)
            )
            for a in actions
        ]
    )
    if theme is not None:
        Action.themes.through.objects.bulk_create(
            Action.themes.through(action=a, theme=theme) for a in actions if a.number % 2
        )
        Financing.objects.bulk_create(
            Financing(action=a, funder=funder, year=2025, planned=1000 * a.number)
            for a in actions
            for funder in ("CAF 31", "Commune")
        )
    return plans


def caf() -> Organisation:
    return Organisation.objects.create(
        name="CAF de la Haute-Garonne", short_name="CAF", kind=OrganisationKind.CAF
    )
