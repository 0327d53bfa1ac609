from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """`forms|get_item:item.pk`: the form of one item, from a dict built by the view."""
    return mapping.get(key) if mapping else None
