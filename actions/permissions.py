"""What the templates need to know of the permission rules, computed from the scoped querysets
(ActionQuerySet.editable_by / notable_by, StepQuerySet.editable_by): never a rule of its own."""

from __future__ import annotations

from dataclasses import dataclass

from actions.models import Action, Step


@dataclass(frozen=True)
class FichePermissions:
    can_edit: bool  # status, progress, pilotage, steps, calendar, partners, conditions
    can_note: bool
    editable_steps: frozenset[int]  # steps the user may tick or reword (their commune's, for a contributeur)

    @property
    def can_edit_anything(self) -> bool:
        return self.can_edit or self.can_note or bool(self.editable_steps)


def fiche_permissions(user, action: Action) -> FichePermissions:
    """Three queries."""
    can_edit = Action.objects.editable_by(user).filter(pk=action.pk).exists()
    can_note = can_edit or Action.objects.notable_by(user).filter(pk=action.pk).exists()
    steps = Step.objects.filter(action=action)
    editable = steps if can_edit else steps.editable_by(user)
    return FichePermissions(can_edit, can_note, frozenset(editable.values_list("pk", flat=True)))
