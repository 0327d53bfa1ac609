"""The next plan: from an ending plan, start the plan of the next period.

`renew_plan` writes, in one transaction, a new plan with the same territory, communes,
signatories, axes and diagnosis, the fiches chosen to carry on and the roles of the old plan;
the old plan is then closed (Plan.closed_at): read-only, kept with its history, still readable.

What a carried fiche takes along, and why:
- its names, pilotage and pilots, partners, conditions de réussite / moyens, themes and publics;
- its **open steps only** (a commune's heading with the open sub-steps under it): what was done
  belongs to the old plan's record, where it stays;
- its indicators with their unit and target, **without their values** (those are the old
  period's); the baseline of the new period is the **last value known** (the latest year), or
  the old baseline when none was ever entered;
- its status when still open (à venir, en cours, en pause), "à venir" for a finished or
  abandoned fiche taken up again, and a progress of 0 %: the new period measures its own;
- not its calendar (its dates were the old period's) nor its financing lines (each the funding
  of a year of the old period), nor its notes and decisions, which stay on
  the old fiche, one click away through `Action.previous`.
Carried fiches are numbered 1, 2, 3… in the order of their old numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from actions.models import (
    OPEN_STATUSES,
    Action,
    ActionPartner,
    Condition,
    Indicator,
    IndicatorValue,
    Status,
    Step,
)
from actions.periods import MAX_YEAR, MIN_YEAR
from axes.models import Axis, Finding, Objective, Plan, PlanRole, Role

RENEWAL_YEARS = 5  # a CTG runs 4-5 years: the next one is proposed for five


class RenewalError(Exception):
    """A renewal that cannot be made (the plan was closed meanwhile)."""


def may_renew(user, plan: Plan) -> bool:
    """Administrateurs of the plan and installation superusers, while the plan is open. One query."""
    if plan.closed_at is not None or not user.is_authenticated:
        return False
    return user.is_superuser or Plan.objects.with_role(user, [Role.ADMIN]).filter(pk=plan.pk).exists()


def unfinished(action) -> bool:
    return action.status not in (Status.DONE, Status.ABANDONED)


class RenewalForm(forms.Form):
    slug = forms.SlugField(
        label="Identifiant du nouveau plan",
        max_length=Plan._meta.get_field("slug").max_length,
        help_text="Lettres, chiffres et tirets ; il figure dans les adresses du plan.",
    )
    title = forms.CharField(label="Titre", max_length=Plan._meta.get_field("title").max_length)
    start_year = forms.IntegerField(label="Année de début", min_value=MIN_YEAR, max_value=MAX_YEAR)
    end_year = forms.IntegerField(label="Année de fin", min_value=MIN_YEAR, max_value=MAX_YEAR)
    carry = forms.TypedMultipleChoiceField(
        label="Fiches-actions à poursuivre",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Les fiches non terminées sont proposées ; chacune garde le lien vers sa vie précédente.",
    )

    def __init__(self, *args, plan: Plan, actions, **kwargs):
        initial = {
            "slug": f"{plan.slug}-{plan.end_year + 1}"[:60],
            "title": plan.title,
            "start_year": plan.end_year + 1,
            "end_year": plan.end_year + RENEWAL_YEARS,
            "carry": [a.number for a in actions if unfinished(a)],
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["carry"].choices = [
            (a.number, f"Action {a.number} : {a.title} ({a.get_status_display().lower()}, {a.progress} %)")
            for a in actions
        ]

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if Plan.objects.filter(slug=slug).exists():
            raise forms.ValidationError("Cet identifiant est déjà celui d'un autre plan.")
        return slug

    def clean(self):
        data = super().clean()
        start, end = data.get("start_year"), data.get("end_year")
        if start is not None and end is not None and end < start:
            self.add_error("end_year", "L'année de fin doit suivre l'année de début.")
        return data


@dataclass
class Renewal:
    plan: Plan
    carried: list[tuple[Action, Action]]  # (old, new)


def _create(model, by, **values):
    """A new object journaled in the name of who renewed the plan."""
    obj = model(**values)
    obj._history_user = by
    obj.save()
    return obj


@transaction.atomic
def renew_plan(plan: Plan, *, slug: str, title: str, start_year: int, end_year: int, numbers, by) -> Renewal:
    """Start the next plan from `plan`, carrying the fiches numbered `numbers`, and close `plan`.
    All or nothing."""
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    if plan.closed_at is not None:
        raise RenewalError(f"Ce plan est clos depuis le {timezone.localtime(plan.closed_at):%d/%m/%Y}.")
    new = Plan.objects.create(
        slug=slug,
        title=title,
        territory=plan.territory,
        start_year=start_year,
        end_year=end_year,
        level_label=plan.level_label,
        level_plural=plan.level_plural,
        level_gender=plan.level_gender,
    )
    new.signatories.set(plan.signatories.all())
    new.communes.set(plan.communes.all())

    axes: dict[int, Axis] = {}
    objectives: dict[int, Objective] = {}
    for axis in plan.axes.prefetch_related("findings", "objectives").order_by("number"):
        axes[axis.pk] = Axis.objects.create(plan=new, number=axis.number, title=axis.title, theme=axis.theme)
        for objective in axis.objectives.all():
            objectives[objective.pk] = Objective.objects.create(
                axis=axes[axis.pk], position=objective.position, code=objective.code, title=objective.title
            )
        Finding.objects.bulk_create(
            Finding(axis=axes[axis.pk], kind=f.kind, position=f.position, text=f.text)
            for f in axis.findings.all()
        )

    olds = (
        Action.objects.filter(plan=plan, number__in=list(numbers))
        .order_by("number")
        .prefetch_related(
            "pilots",
            "themes",
            "audiences",
            Prefetch("steps", queryset=Step.objects.order_by("position", "pk")),
            "partners",
            "conditions",
            Prefetch("indicators", queryset=Indicator.objects.prefetch_related("values")),
        )
    )
    carried = []
    for number, old in enumerate(olds, start=1):
        fiche = _create(
            Action,
            by,
            plan=new,
            axis=axes[old.axis_id],
            objective=objectives.get(old.objective_id),
            number=number,
            title=old.title,
            fiche_title=old.fiche_title,
            pilotage=old.pilotage,
            status=old.status if old.status in OPEN_STATUSES else Status.PLANNED,
            progress=0,
            previous=old,
        )
        fiche.pilots.set(old.pilots.all())
        fiche.set_tags(by=by, themes=list(old.themes.all()), audiences=list(old.audiences.all()))
        _carry_open_steps(old, fiche, by)
        for partner in old.partners.all():
            _create(
                ActionPartner,
                by,
                action=fiche,
                position=partner.position,
                name=partner.name,
                role=partner.role,
                organisation_id=partner.organisation_id,
            )
        for condition in old.conditions.all():
            _create(Condition, by, action=fiche, position=condition.position, text=condition.text)
        for indicator in old.indicators.all():
            values: list[IndicatorValue] = sorted(indicator.values.all(), key=lambda v: v.year)
            _create(
                Indicator,
                by,
                action=fiche,
                position=indicator.position,
                name=indicator.name,
                unit=indicator.unit,
                baseline=values[-1].value if values else indicator.baseline,
                target=indicator.target,
            )
        carried.append((old, fiche))

    for role in plan.roles.prefetch_related("organisations"):
        copy = PlanRole.objects.create(plan=new, user_id=role.user_id, role=role.role)
        copy.organisations.set(role.organisations.all())

    plan.closed_at = timezone.now()
    plan.save(update_fields=["closed_at"])
    return Renewal(new, carried)


def _carry_open_steps(old: Action, fiche: Action, by) -> None:
    """The steps still to do; a heading (a commune's) comes along when one of its sub-steps does."""
    steps = list(old.steps.all())
    for top in (s for s in steps if s.parent_id is None):
        children = [s for s in steps if s.parent_id == top.pk]
        open_children = [c for c in children if not c.done]
        if (children and not open_children) or (not children and top.done):
            continue
        heading = _create(
            Step,
            by,
            action=fiche,
            position=top.position,
            text=top.text,
            commune_id=top.commune_id,
            done=False,
        )
        for child in open_children:
            _create(
                Step,
                by,
                action=fiche,
                parent=heading,
                position=child.position,
                text=child.text,
                commune_id=child.commune_id,
                done=False,
            )
