"""The header's plan links, and French wording helpers every template may load."""

from django import template

from axes.models import Plan

register = template.Library()


@register.simple_tag(takes_context=True)
def plan_navigation(context) -> dict:
    """The plan the page is about, if any, for the header's plan links and search box. Costs no
    query: "Mes fiches" is offered to everyone on a plan (it says so when nothing is theirs)
    rather than adding a role lookup to every page's query budget."""
    plan = context.get("plan")
    if not isinstance(plan, Plan):
        return {}
    return {"plan": plan, "query": context.get("search_query", "")}


@register.filter
def pluriel(count, words: str = "fiche,fiches") -> str:
    """ "0 fiche", "1 fiche", "2 fiches": French takes the singular below 2 (unlike `pluralize`).
    `words` is "singular,plural"; the count is written before it."""
    singular, _, plural = words.partition(",")
    try:
        number = int(count)
    except (TypeError, ValueError):
        number = len(count)
    return f"{number} {singular if number < 2 else plural}"
