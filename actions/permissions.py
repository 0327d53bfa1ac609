"""Who may do what on a fiche, computed from the scoped querysets (ActionQuerySet.editable_by /
notable_by, StepQuerySet.editable_by): never a rule of its own.

One access helper per object, as healthchecks' `_get_check_for_user`: it returns the object
and what the user may do with it, read in the same query as the object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django.utils import timezone

from actions import prepared
from actions.models import Action, Step
from axes.models import Plan


@dataclass(frozen=True)
class FicheAccess:
    can_edit: bool  # status, progress, pilotage, steps, calendar, partners, conditions, indicators
    can_note: bool
    # Steps the user may tick or reword besides those of a fiche they edit (their commune's,
    # for a contributeur). Filled where the page reads its steps; empty elsewhere.
    editable_steps: frozenset[int] = frozenset()

    def may_edit_step(self, step) -> bool:
        return self.can_edit or step.pk in self.editable_steps

    @property
    def can_edit_steps(self) -> bool:
        return self.can_edit or bool(self.editable_steps)

    @property
    def can_edit_anything(self) -> bool:
        return self.can_edit or self.can_note or bool(self.editable_steps)


# The former name, for readers of the templates' `perms`.
FichePermissions = FicheAccess


def fiches_for_user(user, queryset=None):
    """Fiches the user may read, each annotated with `may_edit` and `may_note` (two EXISTS in
    the same query: no query of their own)."""
    queryset = Action.objects.all() if queryset is None else queryset
    # Each rule applied to this one fiche (and its plan), correlated: `visible_to` and
    # `notable_by` written as `pk__in` lists would list every plan and every fiche of the
    # installation the user may touch, for each page.
    this = Action.objects.filter(pk=OuterRef("pk"))
    return queryset.filter(Exists(Plan.objects.visible_to(user).filter(pk=OuterRef("plan_id")))).annotate(
        may_edit=Exists(this.editable_by(user)),
        may_note=Exists(this.notable_by(user)),
    )


# The access query of each kind of fiche view (keyed by what it reads with the fiche), its SQL
# compiled once (actions/prepared.py): the rules above cost more to build than to run.
_ACCESS: dict[tuple[Callable, bool], prepared.Prepared] = {}


def _access_query(fiches: Callable, superuser: bool) -> prepared.Prepared:
    """The rules read `is_superuser` (a superuser reads every plan): one SQL for each."""
    query = _ACCESS.get((fiches, superuser))
    if query is None:

        def build(user, slug, number, today):
            return fiches_for_user(user, fiches(today, user)).filter(plan__slug=slug, number=number)

        stand_ins = {
            "user": prepared.stand_in_user(superuser=superuser),
            "slug": prepared.TEXT,
            "number": prepared.NUMBER,
            "today": prepared.DAY,
        }
        query = _ACCESS.setdefault((fiches, superuser), prepared.Prepared(build, **stand_ins))
    return query


def _plain(today, user):
    return Action.objects.all()


def get_fiche_for_user(user, slug: str, number: int, fiches: Callable = _plain) -> tuple[Action, FicheAccess]:
    """The fiche and what the user may do with it; 404 if they may not read it. One query.
    `fiches(today, user)` is the queryset of what the view reads with the fiche (its lateness…),
    built once per process (it may read nothing else than the day and the user); a queryset
    in hand is run through the ORM as it is."""
    if not user.is_authenticated:
        raise Http404("Fiche-action introuvable.")
    if isinstance(fiches, QuerySet):
        found = list(fiches_for_user(user, fiches).filter(plan__slug=slug, number=number))
    else:
        query = _access_query(fiches, user.is_superuser)
        found = query.run(user=user, slug=slug, number=number, today=timezone.localdate())
    if not found:
        raise Http404("Fiche-action introuvable.")
    action = found[0]
    return action, FicheAccess(can_edit=action.may_edit, can_note=action.may_edit or action.may_note)


def get_rw_fiche_for_user(
    user, slug: str, number: int, fiches: Callable = _plain
) -> tuple[Action, FicheAccess]:
    """The fiche, if the user may edit it: 404 if they may not read it, 403 if they only read it."""
    action, access = get_fiche_for_user(user, slug, number, fiches)
    if not access.can_edit:
        raise PermissionDenied("Vous ne pouvez pas modifier cette fiche-action.")
    return action, access


def may_edit_step(user, access: FicheAccess, step: Step) -> bool:
    """Whether the user may tick or reword this step: one query, for a contributeur only."""
    return access.can_edit or Step.objects.editable_by(user).filter(pk=step.pk).exists()


def fiche_permissions(user, action: Action) -> FicheAccess:
    """What the user may do on a fiche already in hand (two queries)."""
    can_edit = Action.objects.editable_by(user).filter(pk=action.pk).exists()
    can_note = can_edit or Action.objects.notable_by(user).filter(pk=action.pk).exists()
    steps = Step.objects.filter(action=action)
    editable = frozenset() if can_edit else frozenset(steps.editable_by(user).values_list("pk", flat=True))
    return FicheAccess(can_edit, can_note, editable)
