import re

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe

from actions.amounts import euros as format_euros

register = template.Library()

NNBSP = "\u202f"  # espace fine insécable


@register.filter(needs_autoescape=True)
def typo(value, autoescape=True):
    """French typography on user text: a thin no-break space before ; : ! ? » and after «,
    so that the signs never start a line. Applied to the raw text, which is escaped after."""
    if isinstance(value, SafeData):
        return value  # already markup: leave its entities alone
    text = str(value)
    text = re.sub(r"[ \u00a0]?([;:!?»])", lambda m: NNBSP + m.group(1), text)
    text = re.sub(r"«[ \u00a0]?", "«" + NNBSP, text)
    # Keep URLs and times ("10:30") as they were.
    text = re.sub(rf"(https?){NNBSP}:", r"\1:", text)
    text = re.sub(rf"(\d){NNBSP}:(\d)", r"\1:\2", text)
    return conditional_escape(text) if autoescape else mark_safe(text)  # noqa: S308 - autoescape off asked for


@register.filter
def figure(value):
    """A figure in French: "1 234,5"; "—" when there is none."""
    if value is None or value == "":
        return "—"
    from django.utils.formats import number_format

    decimals = 0 if value == int(value) else 2
    return number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)


@register.filter
def euros(value):
    """ "12 500 €"; "—" when there is no amount."""
    return format_euros(value)


@register.simple_tag
def decision_statuses():
    """The states a decision may take, for its in-place form."""
    from reporting.models import DecisionStatus

    return DecisionStatus.choices
