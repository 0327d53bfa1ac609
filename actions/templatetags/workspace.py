import html

from django import template
from django.utils.safestring import SafeString, mark_safe

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


@register.filter
def journal_lines(entries) -> SafeString:
    """The journal's lines, newest first, each an `<li>` keyed by its place (JournalEntry.key),
    for the fiche page and the lines a write sends it: written here rather than as a template
    loop, whose six lookups and escapes a line cost the page as much as the rest of its journal
    (fifty lines and more). Text and author escaped as `{{ }}` would; the key and the moment
    are digits and punctuation made by actions.journal.Stamp."""
    escape = html.escape
    return mark_safe(  # noqa: S308 (every user text escaped above)
        "".join(
            f'\n          <li data-key="{entry.key}">{escape(entry.text)}, par {escape(entry.author)}, '
            f'le <time datetime="{entry.iso}">{entry.day} à {entry.hour}</time></li>'
            for entry in entries
        )
    )
