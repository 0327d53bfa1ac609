"""Fiches grouped under their objective, for the plans that have this level (axes.Objective)."""

from django import template

from axes.levels import by_objective as group

register = template.Library()


@register.filter
def by_objective(fiches):
    """[(objective or None, [fiche…])…]: one group (None, every fiche) when no fiche has an
    objective, so a plan without objectives reads exactly as before."""
    return group(fiches)
