"""The state of a plan's fiches as one short string, which moves whenever any of them changes.

Every write to a fiche or what it holds leaves a history row (a deletion leaves a "-" row), so
the highest history id of each kind moves on each change; the many-to-many tables have no
history, so their row count and highest id stand in for it. Confirming an import compares the
state recorded at upload with the current one; reporting extends it for what it reads besides.
"""

from __future__ import annotations

from django.db.models import F, Func, IntegerField, Subquery

from actions.models import (
    Action,
    ActionPartner,
    CalendarEntry,
    Condition,
    Financing,
    Indicator,
    IndicatorValue,
    Note,
    Step,
)
from axes.models import Plan


def aggregate(queryset, function: str, field: str) -> Subquery:
    # MAX/COUNT as a plain function: a correlated-free scalar subquery with no GROUP BY.
    return Subquery(
        queryset.order_by().annotate(state_value=Func(F(field), function=function)).values("state_value")[:1],
        output_field=IntegerField(),
    )


def plan_state(plan: Plan) -> str:
    """A fingerprint of everything of the plan's fiches (archived included). One query."""
    # Through the fiches' own history, so the rows of a fiche since deleted still count.
    action_ids = Action.history.filter(plan_id=plan.pk).values("id")
    indicator_ids = Indicator.history.filter(action_id__in=action_ids).values("id")
    histories = {
        "fiche": Action.history.filter(plan_id=plan.pk),
        "etape": Step.history.filter(action_id__in=action_ids),
        "calendrier": CalendarEntry.history.filter(action_id__in=action_ids),
        "partenaire": ActionPartner.history.filter(action_id__in=action_ids),
        "condition": Condition.history.filter(action_id__in=action_ids),
        "indicateur": Indicator.history.filter(action_id__in=action_ids),
        "valeur": IndicatorValue.history.filter(indicator_id__in=indicator_ids),
        "note": Note.history.filter(action_id__in=action_ids),
        "financement": Financing.history.filter(action_id__in=action_ids),
    }
    links = {
        "pilotes": Action.pilots.through.objects.filter(action__plan_id=plan.pk),
        "thematiques": Action.themes.through.objects.filter(action__plan_id=plan.pk),
        "publics": Action.audiences.through.objects.filter(action__plan_id=plan.pk),
        "signataires": Plan.signatories.through.objects.filter(plan_id=plan.pk),
        "communes": Plan.communes.through.objects.filter(plan_id=plan.pk),
    }
    annotations = {name: aggregate(qs, "MAX", "history_id") for name, qs in histories.items()}
    for name, qs in links.items():
        annotations[f"{name}_n"] = aggregate(qs, "COUNT", "pk")
        annotations[f"{name}_max"] = aggregate(qs, "MAX", "pk")
    values = Plan.objects.filter(pk=plan.pk).annotate(**annotations).values(*annotations).get()
    return ";".join(f"{name}={values[name] or 0}" for name in annotations)
