"""Django's form templates for a label, a field, an input, a select and a textarea, written in
Python: the same markup, character for character, without the template engine.

A fiche page always shows two forms (status, note) and a write answers with one of them. Drawn
through Django's templates, each `<option>` of a select is an include of an include: the two
forms cost a fiche page about a fifth of its time. Any other template (a fieldset, checkboxes…)
is Django's own. tests/actions/test_renderer.py renders every form of the fiche page both ways
and compares.
"""

from __future__ import annotations

import html as html_module

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape as django_conditional_escape
from django.utils.safestring import SafeData, mark_safe


def conditional_escape(value) -> str:
    """Django's, without its lazy-text wrapper for a plain string (what most values are): the
    same characters (django.utils.html.escape is html.escape), a fifth of the filters' page."""
    if type(value) is str:
        return html_module.escape(value)
    return django_conditional_escape(value)


def _text(value) -> str:
    """`{{ value|stringformat:'s' }}`: kept as is when marked safe, escaped otherwise."""
    return str(value) if isinstance(value, SafeData) else html_module.escape(str(value))


def _attrs(attrs) -> str:
    """django/forms/attrs.html and django/forms/widgets/attrs.html."""
    html = []
    for name, value in (attrs or {}).items():
        if value is False:
            continue
        html.append(
            f" {conditional_escape(name)}"
            if value is True
            else f' {conditional_escape(name)}="{_text(value)}"'
        )
    return "".join(html)


def _input(context) -> str:
    widget = context["widget"]
    value = "" if widget["value"] is None else f' value="{_text(widget["value"])}"'
    kind, name = conditional_escape(widget["type"]), conditional_escape(widget["name"])
    return f'<input type="{kind}" name="{name}"{value}{_attrs(widget["attrs"])}>'


def _select(context) -> str | None:
    widget = context["widget"]
    html = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            html.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in group_choices:
            if option["template_name"] != "django/forms/widgets/select_option.html":
                return None
            html.append(
                f'\n  <option value="{_text(option["value"])}"{_attrs(option["attrs"])}>'
                f"{conditional_escape(option['label'])}</option>\n"
            )
        if group_name:
            html.append("\n  </optgroup>")
    html.append("\n</select>")
    return "".join(html)


def _textarea(context) -> str:
    widget = context["widget"]
    value = conditional_escape(widget["value"]) if widget["value"] else ""
    return (
        f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'
    )


def _label(context) -> str:
    label = conditional_escape(context["label"])
    if not context["use_tag"]:
        return label
    tag = conditional_escape(context["tag"])
    return f"<{tag}{_attrs(context['attrs'])}>{label}</{tag}>"


def _errors(context) -> str:
    errors = context["errors"]
    if not errors:
        return ""
    field_id = getattr(errors, "field_id", None)
    html = [f'<ul class="{conditional_escape(context["error_class"])}"']
    if field_id:
        html.append(f' id="{conditional_escape(field_id)}_error"')
    html.append(">")
    html.extend(f"<li>{conditional_escape(error)}</li>" for error in errors)
    html.append("</ul>")
    return "".join(html)


def _field(context) -> str | None:
    field = context["field"]
    if field.use_fieldset:
        return None
    label = field.label_tag() if field.label else ""
    help_text = ""
    if field.help_text:
        id_ = f' id="{conditional_escape(field.auto_id)}_helptext"' if field.auto_id else ""
        help_text = f'<div class="helptext"{id_}>{field.help_text}</div>'
    return f"\n  {label}\n\n{help_text}\n{field.errors}\n{field}"


_INPUTS = (
    "text",
    "number",
    "hidden",
    "date",
    "email",
    "url",
    "password",
    "search",
    "tel",
    "time",
    "datetime",
    "checkbox",
)
TEMPLATES = {
    **{f"django/forms/widgets/{name}.html": _input for name in _INPUTS},
    "django/forms/widgets/input.html": _input,
    "django/forms/widgets/select.html": _select,
    "django/forms/widgets/textarea.html": _textarea,
    "django/forms/label.html": _label,
    "django/forms/errors/list/default.html": _errors,
    "django/forms/errors/list/ul.html": _errors,
    "django/forms/field.html": _field,
}


class Renderer(DjangoTemplates):
    """Django's renderer, with the templates above drawn in Python."""

    def render(self, template_name, context, request=None):
        draw = TEMPLATES.get(template_name)
        html = draw(context) if draw is not None else None
        if html is None:
            return super().render(template_name, context, request=request)
        return mark_safe(html.strip())  # noqa: S308 (every value above is escaped)
