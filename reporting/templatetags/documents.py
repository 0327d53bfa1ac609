from django import template

from reporting.documents import human_size

register = template.Library()


@register.filter
def octets(size) -> str:
    """A document's size: "850 ko", "1,4 Mo"."""
    return human_size(int(size or 0))
