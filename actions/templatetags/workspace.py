from django import template

from actions.amounts import euros as format_euros

register = template.Library()


@register.filter
def get_item(mapping, key):
    """`forms|get_item:item.pk`: the form of one item, from a dict built by the view."""
    return mapping.get(key) if mapping else None


@register.filter
def euros(value):
    """ "12 500 €"; "—" when there is no amount (actions.amounts.euros)."""
    return format_euros(value)
