"""actions/renderer.py draws Django's form templates in Python: every form of the fiche page and
the list's filters come out character for character as Django's templates draw them, empty,
filled, and with their errors (escaping included)."""

import pytest
from django.forms.renderers import DjangoTemplates

from actions import forms
from actions.renderer import Renderer
from tests.factories import (
    ActionFactory,
    CalendarEntryFactory,
    ConditionFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    OrganisationFactory,
    PartnerFactory,
    StepFactory,
)

HOSTILE = '<script>alert("x")</script> & « Médiathèque »'


def drawn(form) -> str:
    """Everything a template may ask of a form: each field whole, its widget, label, errors."""
    parts = [str(form.non_field_errors())]
    for field in form:
        parts += [field.as_field_group(), str(field), field.label_tag(), str(field.errors)]
    return "\n".join(parts)


def both_ways(make):
    """The form drawn by Django's templates, then by ours."""
    django = drawn(make(DjangoTemplates()))
    ours = drawn(make(Renderer()))
    return django, ours


@pytest.mark.django_db
def test_every_form_of_the_fiche_page_is_drawn_as_django_draws_it():
    commune = OrganisationFactory(name=HOSTILE)
    action = ActionFactory(pilotage=HOSTILE)
    step = StepFactory(action=action, text=HOSTILE, commune=commune)
    partner = PartnerFactory(action=action, name=HOSTILE, organisation=commune)
    condition = ConditionFactory(action=action, text=HOSTILE)
    entry = CalendarEntryFactory(action=action, label=HOSTILE)
    indicator = IndicatorFactory(action=action, name=HOSTILE)
    value = IndicatorValueFactory(indicator=indicator)
    organisations = [commune, OrganisationFactory(name="Autre")]
    bad = {"version": "x", "status": "nope", "progress": "200", "date": "hier", "text": HOSTILE, "year": "1"}
    cases = {
        "status": lambda data, r: forms.StatusForm(data, instance=action, renderer=r),
        "note": lambda data, r: forms.NoteForm(data, renderer=r),
        "pilots": lambda data, r: forms.PilotsForm(
            data, instance=action, organisations=organisations, renderer=r
        ),
        "step": lambda data, r: forms.StepForm(data, instance=step, communes=[commune], renderer=r),
        "new step": lambda data, r: forms.NewStepForm(data, communes=[commune], parents=[step], renderer=r),
        "partner": lambda data, r: forms.PartnerForm(
            data, instance=partner, organisations=organisations, renderer=r
        ),
        "condition": lambda data, r: forms.ConditionForm(data, instance=condition, renderer=r),
        "calendar": lambda data, r: forms.CalendarEntryForm(data, instance=entry, renderer=r),
        "indicator": lambda data, r: forms.IndicatorForm(data, instance=indicator, renderer=r),
        "value": lambda data, r: forms.IndicatorValueForm(data, instance=value, renderer=r),
        "filters": lambda data, r: forms.ActionFilterForm(
            data,
            plan=action.plan,
            axes=[action.axis],
            organisations=organisations,
            communes=[commune],
            renderer=r,
        ),
    }
    for name, make in cases.items():
        for data in (None, bad):
            django, ours = both_ways(lambda r, make=make, data=data: _validated(make(data, r)))
            assert ours == django, f"{name} ({'rempli' if data else 'vide'})"


def _validated(form):
    if form.is_bound:
        form.is_valid()
    return form


def test_the_forms_use_it():
    assert isinstance(forms.StatusForm().renderer, Renderer)
    assert isinstance(forms.NoteForm().renderer, Renderer)
