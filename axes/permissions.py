"""What a user may do with a plan, read once with the plan itself (the access helper of issue
12, as healthchecks' `_get_check_for_user`): views ask here instead of repeating
`Plan.objects.managed_by(user).filter(pk=plan.pk).exists()`. The rules stay in PlanQuerySet."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Value
from django.shortcuts import get_object_or_404

from axes.models import Plan, Role


@dataclass(frozen=True)
class PlanAccess:
    can_manage: bool  # every fiche, the members, the meetings, the import (an open plan)
    can_administer: bool  # besides: grants the role of administrateur


def get_plan_for_user(user, slug: str, *, manage: str = "") -> tuple[Plan, PlanAccess]:
    """The plan if the user may read it (404 otherwise, as for a plan that does not exist), and
    what they may do with it: one query. With `manage`, the refusal (403) given to those who
    only read it."""
    manages = Exists(Plan.objects.managed_by(user).filter(pk=OuterRef("pk")))
    if user.is_authenticated and user.is_superuser:
        administers = Value(True)
    else:
        administers = Exists(Plan.objects.with_role(user, [Role.ADMIN]).filter(pk=OuterRef("pk")))
    plan = get_object_or_404(
        Plan.objects.visible_to(user).annotate(may_manage=manages, may_administer=administers), slug=slug
    )
    access = PlanAccess(can_manage=plan.may_manage, can_administer=plan.may_administer)
    if manage and not access.can_manage:
        raise PermissionDenied(manage)
    return plan, access
