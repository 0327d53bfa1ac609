"""The open format of a plan, "ctg-plan/1": export, validation and import.

The public schema (schema/ctg-plan-1.schema.json) is the contract shared with other tools.
We add a few fields it allows (plan.organisations, partners[].organisation) so that a plan
travels with the organisations it names, and a storage schema with our own limits (text
lengths, number sizes) so that a file is refused before anything is written rather than
half-way through.
"""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from jsonschema import Draft202012Validator
from simple_history.utils import bulk_create_with_history

from actions.models import (
    IMPORT_REASON,
    Action,
    ActionPartner,
    Audience,
    CalendarEntry,
    Condition,
    DatePrecision,
    Financing,
    Indicator,
    IndicatorValue,
    Note,
    NoteKind,
    Step,
    TagChange,
    Theme,
    import_reason,
)
from actions.periods import MAX_YEAR, MIN_YEAR, parse_period
from actions.plan_io.cells import fold
from actions.plan_io.errors import PlanFormatError
from axes.levels import LevelWords
from axes.models import MANAGER_ROLES, Axis, Finding, FindingKind, Objective, Plan
from partners.models import Organisation, OrganisationKind

FORMAT = "ctg-plan/1"
SCHEMA_PATH = Path(__file__).parent.parent / "schema" / "ctg-plan-1.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))

# Our own limits and extension fields, checked beside the public schema.
_TEXT = {"type": "string"}
_NAME_OR_NULL = {"type": ["string", "null"], "maxLength": 200}
# What a DecimalField(max_digits=14, decimal_places=2) holds: |x| < 10^12.
LARGEST_AMOUNT = 999_999_999_999.99
_AMOUNT = {"type": ["number", "null"], "maximum": LARGEST_AMOUNT, "minimum": -LARGEST_AMOUNT}
_MONEY = {"type": ["number", "null"], "maximum": LARGEST_AMOUNT, "minimum": 0}  # euros
_FICHE_REF = {
    "type": "object",
    "required": ["plan", "number"],
    "properties": {
        "plan": {"type": "string", "minLength": 1, "maxLength": 60},
        "number": {"type": "integer", "minimum": 0, "maximum": 32767},
    },
}
STORAGE_SCHEMA: dict[str, Any] = {
    "$id": "ctg-plan/1/storage",
    "type": "object",
    "properties": {
        "plan": {
            "type": "object",
            "properties": {
                "slug": {"maxLength": 60},
                "title": {"maxLength": 200},
                "territory": {"maxLength": 200},
                "start_year": {"minimum": 1900, "maximum": 2200},
                "end_year": {"minimum": 1900, "maximum": 2200},
                "level_label": {"maxLength": 40},
                # Extension: what French needs besides the label, when it cannot be deduced.
                "level_plural": {"type": "string", "maxLength": 40},
                "level_gender": {"enum": ["m", "f", ""]},
                # Extension (backups): when the plan was closed by its renewal (read-only).
                "closed_at": {"type": ["string", "null"], "format": "date-time"},
                "signatories": {"items": {"maxLength": 200}},
                "communes": {"items": {"properties": {"name": {"minLength": 1, "maxLength": 200}}}},
                "organisations": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "kind"],
                        "properties": {
                            "name": {"type": "string", "minLength": 1, "maxLength": 200},
                            "short_name": {"type": ["string", "null"], "maxLength": 60},
                            "kind": {"enum": list(OrganisationKind.values)},
                            "insee": {"type": ["string", "null"], "pattern": "^[0-9AB]{5}$"},
                            "parent": _NAME_OR_NULL,
                        },
                    },
                },
            },
        },
        "axes": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "number": {"maximum": 32767},
                    "title": {"maxLength": 500},
                    "diagnostic": {
                        "properties": {
                            "theme": {"maxLength": 200},
                            "strengths": {"items": {"minLength": 1}},
                            "watch_points": {"items": {"minLength": 1}},
                        }
                    },
                    # Extension: the level between axis and fiche, for the plans that have it.
                    "objectives": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["title"],
                            "properties": {
                                "code": {"type": ["string", "null"], "maxLength": 20},
                                "title": {"type": "string", "minLength": 1, "maxLength": 500},
                            },
                        },
                    },
                    "actions": {"type": "array", "items": {"$ref": "#/$defs/action"}},
                },
            },
        },
    },
    "$defs": {
        "action": {
            "type": "object",
            "properties": {
                "number": {"maximum": 32767},
                "title": {"maxLength": 500},
                "fiche_title": {"maxLength": 500},
                "objective": {"type": ["string", "null"], "maxLength": 500},
                "pilotage": {"maxLength": 300},
                "pilots": {"items": {"minLength": 1, "maxLength": 200}},
                "steps": {"items": {"$ref": "#/$defs/step"}},
                "partners": {
                    "items": {
                        "properties": {
                            "name": {"maxLength": 300},
                            "role": {"maxLength": 300},
                            "organisation": _NAME_OR_NULL,
                        }
                    }
                },
                "conditions": {"items": {"minLength": 1, "maxLength": 2000}},
                "calendar": {
                    "items": {
                        "properties": {
                            "label": {"minLength": 1, "maxLength": 200},
                            "description": {"maxLength": 2000},
                        }
                    }
                },
                "indicators": {
                    "items": {
                        "properties": {
                            "name": {"minLength": 1, "maxLength": 300},
                            "unit": {"maxLength": 60},
                            "baseline": _AMOUNT,
                            "target": _AMOUNT,
                            "values": {
                                "items": {
                                    "properties": {
                                        "year": {"minimum": 1900, "maximum": 2200},
                                        "value": _AMOUNT,
                                        "comment": {"type": ["string", "null"], "maxLength": 2000},
                                    }
                                }
                            },
                        }
                    }
                },
                "archived_at": {"type": ["string", "null"], "format": "date-time"},
                # Extension (backups): the fiche's other lives across a renewal (Action.previous),
                # by plan identifier and fiche number; linked when that plan is there.
                "previous": _FICHE_REF,
                "continued_by": {"type": "array", "items": _FICHE_REF},
                # Extension: the fiche's financing lines, themes and publics (names of the
                # installation's lists, see actions.models.Theme and Audience).
                "financing": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["funder"],
                        "properties": {
                            "funder": {"type": "string", "minLength": 1, "maxLength": 200},
                            "organisation": _NAME_OR_NULL,
                            "scheme": {"type": ["string", "null"], "maxLength": 200},
                            "year": {"type": ["integer", "null"], "minimum": MIN_YEAR, "maximum": MAX_YEAR},
                            "planned": _MONEY,
                            "granted": _MONEY,
                            "spent": _MONEY,
                        },
                    },
                },
                "themes": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 100}},
                "audiences": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 100}},
                "notes": {
                    "items": {
                        "properties": {
                            "text": {"minLength": 1, "maxLength": 10000},
                            "author": {"maxLength": 200},
                            "kind": {"enum": list(NoteKind.values)},
                            "date_precision": {"enum": list(DatePrecision.values)},
                        }
                    }
                },
            },
        },
        "step": {
            "properties": {
                "text": {"maxLength": 2000},
                "commune": _NAME_OR_NULL,
                "children": {"items": {"$ref": "#/$defs/step"}},
            }
        },
    },
}

_VALIDATORS = [
    Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER),
    Draft202012Validator(STORAGE_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER),
]
del _TEXT


# ---------------------------------------------------------------------------
# Extensions: parts of the document that apps above this one own (reporting's meetings and
# decisions). Apps import downwards only, so they register here from their AppConfig.ready().


@dataclass(frozen=True)
class Extension:
    """An optional top-level part of a ctg-plan/1 document, documented in the README."""

    key: str  # its name in the document, e.g. "meetings"
    schema: dict[str, Any]  # JSON schema of its value
    export: Callable[[Plan], Any]  # the plan's part; empty (falsy) when it has none: left out
    errors: Callable[[dict[str, Any]], list[str]]  # what the schema cannot say, in French
    changes: Callable[[Plan | None, Any], list[str]]  # what importing it would do ([]: nothing)
    apply: Callable[..., list[str]]  # apply(plan, value, *, by, reason, folder) -> what it did
    # Bytes that travel beside the JSON in a backup (documents): write_files(plan, folder) writes
    # them under `folder` and says how many; `apply` reads them back from the `folder` it is given
    # (the backup's folder beside the JSON file, None for a file alone).
    write_files: Callable[[Plan, Path], int] | None = None


EXTENSIONS: dict[str, Extension] = {}


def write_files(plan: Plan, folder: Path) -> int:
    """The bytes the extensions keep beside a plan's JSON in a backup (folder: DIR/<slug>)."""
    return sum(
        extension.write_files(plan, folder) for extension in EXTENSIONS.values() if extension.write_files
    )


def register(extension: Extension) -> None:
    EXTENSIONS[extension.key] = extension


# ---------------------------------------------------------------------------
# Export


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _step_data(step: Step, *, top: bool = True) -> dict[str, Any]:
    # Steps have one level of children: sub-steps are not asked for theirs (no query each).
    return {
        "text": step.text,
        "commune": step.commune.name if step.commune else None,
        "done": step.done,
        "children": [_step_data(child, top=False) for child in step.children.all()] if top else [],
    }


def _action_data(action: Action) -> dict[str, Any]:
    return {
        "number": action.number,
        "title": action.title,
        "fiche_title": action.fiche_title,
        # Our extension: the objective the fiche comes under, by its title within the axis.
        **({"objective": action.objective.title} if action.objective_id else {}),
        "pilotage": action.pilotage,
        "pilots": sorted(org.name for org in action.pilots.all()),
        "steps": [_step_data(step) for step in action.top_steps],
        "partners": [
            {
                "name": partner.name,
                "role": partner.role or None,
                "organisation": partner.organisation.name if partner.organisation else None,
            }
            for partner in action.partners.all()
        ],
        "conditions": [condition.text for condition in action.conditions.all()],
        "calendar": [
            {
                "label": entry.label,
                "description": entry.description or None,
                "start": entry.start.isoformat() if entry.start else None,
                "end": entry.end.isoformat() if entry.end else None,
            }
            for entry in action.calendar_entries.all()
        ],
        "status": action.status,
        "progress": action.progress,
        "indicators": [
            {
                "name": indicator.name,
                "unit": indicator.unit or None,
                "baseline": _number(indicator.baseline),
                "target": _number(indicator.target),
                "values": [
                    {"year": value.year, "value": _number(value.value), "comment": value.comment or None}
                    for value in indicator.values.all()
                ],
            }
            for indicator in action.indicators.all()
        ],
        "notes": [
            {
                "date": note.date.isoformat(),
                **(
                    {"date_precision": note.date_precision}
                    if note.date_precision != DatePrecision.DAY
                    else {}
                ),
                "kind": note.kind,
                "text": note.text,
                "author": note.author_name or None,
            }
            for note in sorted(action.notes.all(), key=lambda note: (note.date, note.pk))
        ],
        **({"archived_at": action.archived_at.isoformat(timespec="seconds")} if action.archived_at else {}),
        **_extension_data(action),
    }


def _extension_data(action: Action) -> dict[str, Any]:
    """The storage extension of a fiche: financing lines, themes, publics (left out if none)."""
    data: dict[str, Any] = {}
    lines = [
        {
            "funder": line.funder,
            "organisation": line.organisation.name if line.organisation else None,
            "scheme": line.scheme or None,
            "year": line.year,
            "planned": _number(line.planned),
            "granted": _number(line.granted),
            "spent": _number(line.spent),
        }
        for line in action.financing.all()
    ]
    if lines:
        data["financing"] = lines
    themes = [theme.name for theme in action.themes.all()]
    if themes:
        data["themes"] = themes
    audiences = [audience.name for audience in action.audiences.all()]
    if audiences:
        data["audiences"] = audiences
    return data


def _lineage_data(action: Action) -> dict[str, Any]:
    """A backup's fiche: the fiche it carries on and those that carry it on, by plan and number
    (both sides, so that the link comes back whichever plan is restored first)."""
    data: dict[str, Any] = {}
    if action.previous_id:
        data["previous"] = {"plan": action.previous.plan.slug, "number": action.previous.number}
    later = [{"plan": a.plan.slug, "number": a.number} for a in action.continuations.all()]
    if later:
        data["continued_by"] = later
    return data


def _level_data(plan: Plan) -> dict[str, Any]:
    """Our extension: the plural and gender of the plan's first level, when the plan states
    them (otherwise deduced from the label, axes.levels)."""
    data = {}
    if plan.level_plural:
        data["level_plural"] = plan.level_plural
    if plan.level_gender:
        data["level_gender"] = plan.level_gender
    return data


def _objectives_data(axis: Axis) -> dict[str, Any]:
    """Our extension: the axis's objectives, for the plans that have this level (none: no key)."""
    objectives = [{"code": o.code or None, "title": o.title} for o in axis.objectives.all()]
    return {"objectives": objectives} if objectives else {}


def _organisation_data(org: Organisation) -> dict[str, Any]:
    return {
        "name": org.name,
        "short_name": org.short_name or None,
        "kind": org.kind,
        "insee": org.insee or None,
        "parent": org.parent.name if org.parent else None,
    }


def export_plan(plan: Plan, *, archived: bool = False) -> dict[str, Any]:
    """The whole plan as a ctg-plan/1 document. A fixed number of queries. `archived` adds the
    archived fiches, each with its `archived_at` (the backup keeps them; an import of the file
    restores them archived)."""
    actions = (
        (Action.all_objects if archived else Action.objects)
        .filter(plan=plan)
        .with_details()
        .select_related("objective")
    )
    if archived:  # a backup: the fiches' other lives across a renewal too
        actions = actions.select_related("previous__plan").prefetch_related(
            Prefetch(
                "continuations", queryset=Action.all_objects.select_related("plan").order_by("plan", "number")
            )
        )
    actions = list(actions)
    axes = list(plan.axes.prefetch_related("findings", "objectives"))
    signatories = list(plan.signatories.all())
    communes = list(plan.communes.order_by("name"))

    used: dict[int, Organisation] = {org.pk: org for org in signatories + communes}
    used.update((org.pk, org) for org in plan.partners.all())
    for action in actions:
        used.update((org.pk, org) for org in action.pilots.all())
        used.update((f.organisation.pk, f.organisation) for f in action.financing.all() if f.organisation)
        used.update((p.organisation.pk, p.organisation) for p in action.partners.all() if p.organisation)
        for step in action.top_steps:
            for s in [step, *step.children.all()]:
                if s.commune:
                    used[s.commune.pk] = s.commune
    parents = Organisation.objects.filter(children__in=used.keys()).distinct()
    used.update((org.pk, org) for org in parents)
    organisations = sorted(
        Organisation.objects.filter(pk__in=used.keys()).select_related("parent"),
        key=lambda org: org.name,
    )

    by_axis: dict[int, list[Action]] = {}
    for action in actions:
        by_axis.setdefault(action.axis_id, []).append(action)

    document = {
        "format": FORMAT,
        "exported_at": timezone.now().isoformat(timespec="seconds"),
        "plan": {
            "slug": plan.slug,
            "title": plan.title,
            "territory": plan.territory,
            "start_year": plan.start_year,
            "end_year": plan.end_year,
            "level_label": plan.level_label,
            **_level_data(plan),
            **(
                {"closed_at": plan.closed_at.isoformat(timespec="seconds")}
                if archived and plan.closed_at
                else {}
            ),
            "signatories": [org.name for org in signatories],
            "communes": [{"name": org.name, "insee": org.insee or None} for org in communes],
            "organisations": [_organisation_data(org) for org in organisations],
        },
        "axes": [
            {
                "number": axis.number,
                "title": axis.title,
                "diagnostic": {
                    "theme": axis.theme,
                    "strengths": [f.text for f in axis.findings.all() if f.kind == FindingKind.STRENGTH],
                    "watch_points": [
                        f.text for f in axis.findings.all() if f.kind == FindingKind.WATCH_POINT
                    ],
                },
                **_objectives_data(axis),
                "actions": [
                    {**_action_data(action), **(_lineage_data(action) if archived else {})}
                    for action in by_axis.get(axis.pk, [])
                ],
            }
            for axis in axes
        ],
    }
    for extension in EXTENSIONS.values():
        value = extension.export(plan)
        if value:
            document[extension.key] = value
    return document


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# ---------------------------------------------------------------------------
# Validation

_TYPES_FR = {
    "string": "un texte",
    "integer": "un nombre entier",
    "number": "un nombre",
    "boolean": "vrai ou faux (true/false)",
    "array": "une liste",
    "object": "un objet",
    "null": "null",
}


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(racine du document)"


def _figure(value) -> str:
    """A number as a French reader writes it: 999 999 999 999,99."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return text.replace(",", "\u202f").replace(".", ",").replace("\u202f", " ")


# Deeper than any plan (document, axes, fiche, steps, sub-steps… is about ten levels): a
# document nested further is hostile, and would exhaust the validator's recursion.
MAX_DEPTH = 32
# C0 controls other than tab, line feed and carriage return: PostgreSQL refuses NUL in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _hostile_values(data: Any) -> list[str]:
    """What no schema catches and no database stores: nesting deeper than a plan, control
    characters, lone surrogates, numbers that are not numbers. Walked without recursion."""
    errors: list[str] = []
    stack: list[tuple[Any, tuple, int]] = [(data, (), 0)]
    while stack and len(errors) < 50:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return [f"{_path(path)} : le document est imbriqué trop profondément pour être un plan"]
        if isinstance(value, dict):
            stack.extend((v, (*path, k), depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, (*path, i), depth + 1) for i, v in enumerate(value))
        elif isinstance(value, str):
            found = _CONTROL.search(value)
            if found:
                errors.append(f"{_path(path)} : caractère de contrôle interdit (U+{ord(found.group()):04X})")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                errors.append(f"{_path(path)} : caractère invalide (moitié isolée d'un caractère Unicode)")
        elif isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            errors.append(f"{_path(path)} : « {value} » n'est pas un nombre")
    return sorted(errors)


def _organisation_loops(plan: dict[str, Any]) -> list[str]:
    """Declared organisations whose parents lead back to them."""
    declared = plan.get("organisations", [])
    parent_of = {org["name"]: org.get("parent") for org in declared}
    errors = []
    for i, org in enumerate(declared):
        name, seen = org["name"], [org["name"]]
        parent = parent_of.get(name)
        if parent == name:
            errors.append(f"plan.organisations[{i}].parent : « {name} » est son propre parent")
            continue
        while parent in parent_of and parent not in seen:
            seen.append(parent)
            parent = parent_of[parent]
        if parent == name:
            errors.append(f"plan.organisations[{i}].parent : boucle de parents ({' → '.join([*seen, name])})")
    return errors


def _french(error) -> str:
    kind, expected = error.validator, error.validator_value
    if kind == "required":
        match = re.match(r"'(.+)' is a required property", error.message)
        name = match.group(1) if match else "?"
        return f"le champ « {name} » est obligatoire"
    if kind == "type":
        types = [expected] if isinstance(expected, str) else expected
        wanted = " ou ".join(_TYPES_FR.get(t, t) for t in types)
        return f"doit être {wanted} (trouvé : {json.dumps(error.instance, ensure_ascii=False)[:60]})"
    if kind == "enum":
        allowed = ", ".join(str(v) for v in expected)
        return f"valeur « {error.instance} » non reconnue ; valeurs possibles : {allowed}"
    if kind == "const":
        return f"doit valoir « {expected} » (trouvé : « {error.instance} »)"
    if kind == "minLength":
        return "ne doit pas être vide"
    if kind == "maxLength":
        return f"texte trop long : {len(error.instance)} caractères pour {expected} au plus"
    if kind == "minimum":
        return f"doit être au moins {_figure(expected)} (trouvé : {_figure(error.instance)})"
    if kind == "maximum":
        return f"doit être au plus {_figure(expected)} (trouvé : {_figure(error.instance)})"
    if kind == "pattern":
        if error.path and error.path[-1] == "slug":
            return "l'identifiant ne peut contenir que des minuscules sans accent, chiffres et tirets"
        if error.path and error.path[-1] == "insee":
            return f"code INSEE « {error.instance} » invalide : 5 caractères (chiffres, A ou B)"
        return f"format invalide : « {error.instance} »"
    if kind == "format" and expected == "date":
        return f"date « {error.instance} » invalide : format attendu AAAA-MM-JJ"
    return error.message


def _iter_actions(data: dict[str, Any]):
    for i, axis in enumerate(data.get("axes", [])):
        for j, action in enumerate(axis.get("actions", [])):
            yield f"axes[{i}].actions[{j}]", action


def _semantic_errors(data: dict[str, Any]) -> list[str]:
    """What the schema cannot say: uniqueness, order of dates, depth of steps."""
    errors = []
    plan = data["plan"]
    years = (plan.get("start_year"), plan.get("end_year"))
    if all(isinstance(y, int) for y in years) and years[1] < years[0]:
        errors.append("plan.end_year : l'année de fin précède l'année de début")

    axis_numbers = Counter(axis["number"] for axis in data["axes"])
    for number, count in sorted(axis_numbers.items()):
        if count > 1:
            errors.append(f"axes : le numéro d'axe {number} apparaît {count} fois")

    for i, axis in enumerate(data["axes"]):
        titles = Counter(o["title"] for o in axis.get("objectives", []))
        for title, count in sorted(titles.items()):
            if count > 1:
                errors.append(f"axes[{i}].objectives : l'objectif « {title} » apparaît {count} fois")
        for j, action in enumerate(axis["actions"]):
            if action.get("objective") and action["objective"] not in titles:
                errors.append(
                    f"axes[{i}].actions[{j}].objective : l'objectif « {action['objective']} » "
                    f"n'est pas dans axes[{i}].objectives"
                )

    places: dict[int, list[str]] = {}
    for where, action in _iter_actions(data):
        places.setdefault(action["number"], []).append(where)
        for k, step in enumerate(action["steps"]):
            for m, child in enumerate(step.get("children", [])):
                if child.get("children"):
                    errors.append(
                        f"{where}.steps[{k}].children[{m}].children : "
                        "une étape ne peut avoir qu'un niveau de sous-étapes"
                    )
        for k, entry in enumerate(action["calendar"]):
            start, end = entry.get("start"), entry.get("end")
            if start and end and end < start:
                errors.append(f"{where}.calendar[{k}] : la fin ({end}) précède le début ({start})")
            for name in ("start", "end"):
                if entry.get(name) and not MIN_YEAR <= int(entry[name][:4]) <= MAX_YEAR:
                    errors.append(f"{where}.calendar[{k}].{name} : date invraisemblable ({entry[name]})")
        if action["status"] == "done" and action["progress"] != 100:
            errors.append(
                f"{where}.progress : une fiche « Réalisée » est à 100 % d'avancement "
                f"(trouvé : {action['progress']} %) ; corrigez le statut ou l'avancement"
            )
        for k, note in enumerate(action.get("notes", [])):
            if (
                re.fullmatch(r"\d{4}-.*", note.get("date") or "")
                and not MIN_YEAR <= int(note["date"][:4]) <= MAX_YEAR
            ):
                errors.append(f"{where}.notes[{k}].date : date invraisemblable ({note['date']})")
        for k, line in enumerate(action.get("financing", [])):
            granted, spent = line.get("granted"), line.get("spent")
            if isinstance(granted, int | float) and isinstance(spent, int | float) and spent > granted:
                errors.append(
                    f"{where}.financing[{k}].spent : le montant dépensé ({_figure(spent)} €) dépasse "
                    f"le montant accordé ({_figure(granted)} €)"
                )
        for k, indicator in enumerate(action.get("indicators", [])):
            years = Counter(v["year"] for v in indicator.get("values", []))
            for year, count in sorted(years.items()):
                if count > 1:
                    errors.append(f"{where}.indicators[{k}].values : l'année {year} apparaît {count} fois")
    for number, wheres in sorted(places.items()):
        if len(wheres) > 1:
            errors.append(f"fiche-action n° {number} en double : {', '.join(wheres)}")

    names = Counter(org["name"] for org in plan.get("organisations", []))
    for name, count in sorted(names.items()):
        if count > 1:
            errors.append(f"plan.organisations : l'organisation « {name} » apparaît {count} fois")
    declared = {org["name"] for org in plan.get("organisations", [])}
    for i, org in enumerate(plan.get("organisations", [])):
        if org.get("parent") and org["parent"] not in declared:
            errors.append(
                f"plan.organisations[{i}].parent : « {org['parent']} » "
                "n'est pas déclarée dans plan.organisations"
            )
    return errors


def _database_errors(data: dict[str, Any]) -> list[str]:
    """Conflicts with what the installation already holds (shared organisations)."""
    errors = []
    wanted = [
        (f"plan.organisations[{i}]", org["name"], org.get("insee"))
        for i, org in enumerate(data["plan"].get("organisations", []))
    ] + [
        (f"plan.communes[{i}]", commune["name"], commune.get("insee"))
        for i, commune in enumerate(data["plan"].get("communes", []))
    ]
    codes = {insee for _, _, insee in wanted if insee}
    holders = dict(Organisation.objects.filter(insee__in=codes).values_list("insee", "name"))
    seen: dict[str, str] = {}
    for where, name, insee in wanted:
        if not insee:
            continue
        holder = holders.get(insee) or seen.get(insee)
        if holder and holder != name:
            errors.append(f"{where}.insee : le code INSEE {insee} appartient déjà à « {holder} »")
        seen.setdefault(insee, name)
    for model, key, label in (
        (Theme, "themes", "thématique inconnue"),
        (Audience, "audiences", "public visé inconnu"),
    ):
        known = _tag_index(model)
        for where, action in _iter_actions(data):
            for k, name in enumerate(action.get(key, [])):
                if _find_tag(known, name) is None:
                    allowed = ", ".join(tag.name for tag in _in_list_order(known.values())) or "aucun"
                    errors.append(
                        f"{where}.{key}[{k}] : {label} « {name} » ; valeurs possibles : {allowed} "
                        "(un administrateur de l'installation complète la liste)"
                    )
    return errors


def _tag_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _tag_index(model) -> dict[str, Any]:
    """The installation's list, found by name (case aside) or by identifier, then as people
    type them: accents, dashes and plurals aside ("0-3 ans" for "0–3 ans", "parentalite").
    One query."""
    tags = list(model.objects.all())
    index = {}
    for tag in tags:
        index[_tag_key(tag.slug)] = tag
        index[_tag_key(tag.name)] = tag
    for tag in tags:  # an exact name wins over a folded one
        index.setdefault(fold(tag.name), tag)
        index.setdefault(fold(tag.slug), tag)
    return index


def _find_tag(index: dict[str, Any], name: str):
    return index.get(_tag_key(name)) or index.get(fold(name))


def _in_list_order(tags) -> list:
    """Tags once each, in the order of the installation's list (as a fiche's are read)."""
    return sorted({tag.pk: tag for tag in tags}.values(), key=lambda tag: (tag.position, tag.name))


def validate(data: Any) -> list[str]:
    """Every problem of a document, each naming its place; [] when it can be imported."""
    errors = _hostile_values(data)
    if errors:
        return errors
    for validator in _VALIDATORS:
        for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
            message = f"{_path(error.absolute_path)} : {_french(error)}"
            if message not in errors:
                errors.append(message)
    for key, extension in EXTENSIONS.items():
        if isinstance(data, dict) and key in data:
            validator = Draft202012Validator(
                extension.schema, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
            for error in sorted(
                validator.iter_errors(data[key]), key=lambda e: list(map(str, e.absolute_path))
            ):
                errors.append(f"{_path([key, *error.absolute_path])} : {_french(error)}")
    # The rules the schema cannot say are checked even when it refused something, so that a
    # file's errors come all at once; each check skips what it cannot read.
    semantic = _guarded(lambda: _semantic_errors(data)) + _guarded(lambda: _organisation_loops(data["plan"]))
    for key, extension in EXTENSIONS.items():
        if isinstance(data, dict) and key in data:
            semantic += _guarded(lambda extension=extension: extension.errors(data))
    if errors:
        return errors + [error for error in semantic if error not in errors]
    return semantic or _database_errors(data)


def _guarded(check: Callable[[], list[str]]) -> list[str]:
    """A semantic check over a document the schema refused: what it finds, or nothing if the
    document is too broken for it (the schema's errors already say why)."""
    try:
        return check()
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return []


class _NotANumber(ValueError):
    pass


def _no_constant(name: str):
    raise _NotANumber(f"le fichier contient « {name} », qui n'est pas un nombre : écrivez un nombre ou null")


def _bounded_int(digits: str) -> int:
    # Python refuses to read integers of more than 4,300 digits, and no figure of a plan has 20.
    if len(digits.lstrip("-")) > 20:
        raise _NotANumber(f"le fichier contient un nombre trop grand ({len(digits)} chiffres) pour un plan")
    return int(digits)


def load(text: str | bytes) -> dict[str, Any]:
    """Parse and validate a document; raise PlanFormatError listing every problem."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PlanFormatError([f"le fichier n'est pas un texte UTF-8 (octet {exc.start})"]) from exc
    try:
        data = json.loads(text, parse_constant=_no_constant, parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        raise PlanFormatError(
            [f"le fichier n'est pas du JSON valide : ligne {exc.lineno}, colonne {exc.colno} ({exc.msg})"]
        ) from exc
    except _NotANumber as exc:
        raise PlanFormatError([str(exc)]) from exc
    except RecursionError as exc:
        raise PlanFormatError(["le fichier JSON est imbriqué trop profondément pour être un plan"]) from exc
    errors = validate(data)
    if errors:
        raise PlanFormatError(errors)
    return data


# ---------------------------------------------------------------------------
# Import


@dataclass
class ImportReport:
    plan: Plan
    created: bool
    axes: int = 0
    actions: int = 0
    archived_actions: list[int] = field(default_factory=list)
    restored_actions: list[int] = field(default_factory=list)
    new_organisations: list[str] = field(default_factory=list)
    unchanged: int = 0
    extra: list[str] = field(default_factory=list)  # what the extensions (meetings…) did

    def summary(self) -> str:
        verb = "créé" if self.created else "mis à jour"
        level = LevelWords.of(self.plan.level_label, self.plan.level_plural, self.plan.level_gender)
        text = f"Plan « {self.plan.slug} » {verb} : {level.count(self.axes)}, {self.actions} fiches-actions"
        text += f" ({self.unchanged} inchangées)." if self.unchanged else "."
        if self.archived_actions:
            text += (
                " Fiches archivées (absentes du fichier ; leurs notes et leur journal sont conservés) : "
                + ", ".join(map(str, self.archived_actions))
                + "."
            )
        if self.restored_actions:
            text += " Fiches restaurées : " + ", ".join(map(str, self.restored_actions)) + "."
        if self.new_organisations:
            text += f" {len(self.new_organisations)} organisation(s) ajoutée(s)."
        for line in self.extra:
            text += f" {line}"
        return text


# Names that say what an organisation is, for one a file names without declaring it (a
# signatory "CAF de la Haute-Garonne" is a CAF: its staff then read the plan). Only
# institutions whose name is unambiguous; anything else stays "Autre".
_KIND_IN_NAME = [
    (re.compile(r"\bcaf\b|caisse d.allocations? familiales?", re.IGNORECASE), OrganisationKind.CAF),
    (re.compile(r"\bmsa\b|mutualit[ée] sociale agricole", re.IGNORECASE), OrganisationKind.MSA),
    (re.compile(r"\bcpam\b|caisse primaire d.assurance maladie", re.IGNORECASE), OrganisationKind.CPAM),
    (re.compile(r"conseil d[ée]partemental|^d[ée]partement\b", re.IGNORECASE), OrganisationKind.DEPARTEMENT),
    (re.compile(r"conseil r[ée]gional|^r[ée]gion\b", re.IGNORECASE), OrganisationKind.REGION),
    (re.compile(r"[ée]ducation nationale|\bdsden\b|\brectorat\b", re.IGNORECASE), OrganisationKind.EDUCATION),
]


def kind_from_name(name: str, default: str = OrganisationKind.OTHER) -> str:
    return next((kind for pattern, kind in _KIND_IN_NAME if pattern.search(name)), default)


def organisation_changes(plan: Plan | None, data: dict[str, Any], by) -> tuple[list[str], dict[str, str]]:
    """What the file's Organisations would change, in French, and the kinds to correct
    (name → kind). An installation administrator's import (or the command line) corrects the
    kind of an organisation the installation already holds; anyone else's leaves it, and says
    so. A query or two, whatever the number of organisations."""
    declared = data["plan"].get("organisations", [])
    existing = {org.name: org for org in Organisation.objects.filter(name__in=[o["name"] for o in declared])}
    may_correct = by is None or by.is_superuser
    lines, corrections = [], {}
    new = [o["name"] for o in declared if o["name"] not in existing]
    if new:
        lines.append(f"Organisations nouvelles dans l'installation ({len(new)}) : {', '.join(new)}.")
    for spec in declared:
        org = existing.get(spec["name"])
        if org is None or org.kind == spec["kind"]:
            continue
        old, wanted = OrganisationKind(org.kind).label, OrganisationKind(spec["kind"]).label
        if may_correct:
            corrections[org.name] = spec["kind"]
            lines.append(f"Type de « {org.name} » corrigé : {old} → {wanted}.")
        else:
            lines.append(
                f"« {org.name} » reste « {old} » (le fichier dit « {wanted} ») : seul un administrateur "
                "de l'installation corrige une organisation déjà enregistrée."
            )
    if plan is not None:
        current = set(plan.partners.values_list("name", flat=True))
        added = [o["name"] for o in declared if o["name"] not in current and o["name"] not in new]
        if added and current:  # a plan imported before organisations were kept gets them silently
            lines.append(f"Organisations ajoutées au plan ({len(added)}) : {', '.join(added)}.")
        removed = sorted(current - {o["name"] for o in declared} - _named_organisations(data))
        if removed:
            lines.append(f"Organisations retirées du plan ({len(removed)}) : {', '.join(removed)}.")
    return lines, corrections


class _Organisations:
    """Finds organisations by name, creating the ones the installation does not know yet."""

    def __init__(self, declared: list[dict[str, Any]], report: ImportReport, named=()):
        self.declared = {org["name"]: org for org in declared}
        self.report = report
        # Every organisation the document names, in one query: a name missing from the cache
        # is then one the installation does not have.
        names = set(self.declared) | set(named)
        self.cache = {org.name: org for org in Organisation.objects.filter(name__in=names)}

    def get(self, name: str, *, kind: str = OrganisationKind.OTHER, insee: str | None = None) -> Organisation:
        if name in self.cache:
            return self.cache[name]
        org = Organisation.objects.filter(name=name).first()
        if org is None:
            spec = self.declared.get(name, {})
            parent = spec.get("parent")
            org = Organisation.objects.create(
                name=name,
                short_name=spec.get("short_name") or "",
                kind=spec.get("kind") or (kind if kind != OrganisationKind.OTHER else kind_from_name(name)),
                insee=spec.get("insee") or insee or "",
                parent=self.get(parent) if parent else None,
            )
            self.report.new_organisations.append(name)
        self.cache[name] = org
        return org

    def pk(self, name: str | None, *, kind: str = OrganisationKind.OTHER) -> int | None:
        return self.get(name, kind=kind).pk if name else None


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _calendar_dates(entry: dict[str, Any]) -> tuple[datetime.date | None, datetime.date | None]:
    # A file that states dates keeps them; one that only gives the label gets them computed.
    if "start" in entry or "end" in entry:
        return _date(entry.get("start")), _date(entry.get("end"))
    period = parse_period(entry["label"])
    return (period.start, period.end) if period else (None, None)


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


@dataclass
class _Writer:
    """Writes of one import, each journaled in the importer's name with the import's reason."""

    by: Any
    reason: str

    @cached_property
    def tags(self) -> _Tags:
        return _Tags()

    def _mark(self, obj):
        obj._history_user = self.by
        obj._change_reason = self.reason
        return obj

    def save(self, obj) -> None:
        self._mark(obj).save()

    def delete(self, obj) -> None:
        self._mark(obj).delete()

    def create_all(self, model, objects) -> list:
        objects = list(objects)
        if not objects:
            return []
        return bulk_create_with_history(
            objects, model, default_user=self.by, default_change_reason=self.reason
        )

    def sync(self, model, existing: list, wanted: list[dict[str, Any]], **common) -> list:
        """Match `existing` (in order) with `wanted` by position: update those that differ,
        create the new ones, delete the extra ones, one history row each. Positions of kept
        items stay as they are (already in order); new ones come after."""
        result, position = [], -1
        for i, fields in enumerate(wanted):
            if i < len(existing):
                obj = existing[i]
                changed = {name: value for name, value in fields.items() if getattr(obj, name) != value}
                if changed:
                    for name, value in changed.items():
                        setattr(obj, name, value)
                    self.save(obj)
            else:
                obj = model(**common, **fields, position=max(i, position + 1))
                self.save(obj)
            position = obj.position
            result.append(obj)
        for obj in existing[len(wanted) :]:
            self.delete(obj)
        return result


def _step_fields(spec: dict[str, Any], orgs: _Organisations) -> dict[str, Any]:
    return {
        "text": spec["text"],
        "commune_id": orgs.pk(spec.get("commune"), kind=OrganisationKind.COMMUNE),
        "done": spec.get("done", False),
    }


def _list_fields(spec: dict[str, Any], orgs: _Organisations) -> dict[str, list[dict[str, Any]]]:
    """The file's lists of a fiche, as model field values."""
    calendar = []
    for entry in spec["calendar"]:
        start, end = _calendar_dates(entry)
        calendar.append(
            {
                "label": entry["label"],
                "description": entry.get("description") or "",
                "start": start,
                "end": end,
            }
        )
    return {
        "partners": [
            {
                "name": p["name"],
                "role": p.get("role") or "",
                "organisation_id": orgs.pk(p.get("organisation")),
            }
            for p in spec["partners"]
        ],
        "conditions": [{"text": text} for text in spec["conditions"]],
        "calendar": calendar,
        "indicators": [
            {
                "name": ind["name"],
                "unit": ind.get("unit") or "",
                "baseline": _decimal(ind.get("baseline")),
                "target": _decimal(ind.get("target")),
            }
            for ind in spec.get("indicators", [])
        ],
        "financing": [
            {
                "funder": line["funder"],
                "organisation_id": orgs.pk(line.get("organisation")),
                "scheme": line.get("scheme") or "",
                "year": line.get("year"),
                "planned": _decimal(line.get("planned")),
                "granted": _decimal(line.get("granted")),
                "spent": _decimal(line.get("spent")),
            }
            for line in spec.get("financing", [])
        ],
    }


class _Tags:
    """The installation's themes and publics, as a file names them (read once per import)."""

    @cached_property
    def index(self) -> dict[str, dict[str, Any]]:  # read on first use: a plan without tags costs nothing
        return {"themes": _tag_index(Theme), "audiences": _tag_index(Audience)}

    def of(self, spec: dict[str, Any], key: str) -> list:
        """The tags a fiche names, once each, in the list's order (the file's order and
        spelling aside: "parentalite; Petite enfance" is the stored "Petite enfance, Parentalité")."""
        found = (_find_tag(self.index[key], name) for name in spec.get(key, []))
        return _in_list_order(tag for tag in found if tag is not None)  # unknown: validate() says so


def _note_key(date: datetime.date, kind: str, text: str) -> tuple:
    return (date, kind, text)


def _file_notes(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "date": _date(n["date"]),
            "date_precision": n.get("date_precision") or DatePrecision.DAY.value,
            "kind": n.get("kind") or NoteKind.FOLLOW_UP.value,
            "text": n["text"],
            "author_name": n.get("author") or "",
        }
        for n in spec.get("notes", [])
    ]


def _new_notes(action: Action | None, spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The file's notes the fiche does not have yet (same date, nature and text). Notes of the
    fiche that the file lacks are none of the import's business: they are kept."""
    stored = Counter(_note_key(n.date, n.kind, n.text) for n in action.notes.all()) if action else Counter()
    new = []
    for note in _file_notes(spec):
        key = _note_key(note["date"], note["kind"], note["text"])
        if stored[key]:
            stored[key] -= 1
        else:
            new.append(note)
    return new


def _named_organisations(data: dict[str, Any]) -> set[str]:
    """The names of all the organisations a document refers to (plan, pilots, partners, steps)."""
    plan = data["plan"]
    names = {org["name"] for org in plan.get("organisations", [])}
    names |= {c["name"] for c in plan.get("communes", [])} | set(plan.get("signatories", []))
    for _, action in _iter_actions(data):
        names |= set(action.get("pilots", []))
        names |= {p["organisation"] for p in action["partners"] if p.get("organisation")}
        names |= {f["organisation"] for f in action.get("financing", []) if f.get("organisation")}
        for step in action["steps"]:
            names |= {s["commune"] for s in [step, *step.get("children", [])] if s.get("commune")}
    return names


def _create_fiches(
    fiches: list[tuple[Action, dict[str, Any]]], orgs: _Organisations, writer: _Writer
) -> None:
    """New fiches and everything they hold, created in bulk for all of them together: two
    queries (rows and history rows) per kind of row, whatever the number of fiches."""
    if not fiches:
        return
    actions = writer.create_all(Action, [action for action, _ in fiches])
    Action.pilots.through.objects.bulk_create(
        [
            Action.pilots.through(action=action, organisation=orgs.get(name))
            for action, (_, spec) in zip(actions, fiches, strict=True)
            for name in dict.fromkeys(spec.get("pilots", []))
        ]
    )
    lists = [
        (action, spec, _list_fields(spec, orgs)) for action, (_, spec) in zip(actions, fiches, strict=True)
    ]
    tops = [
        (Step(action=action, position=i, **_step_fields(s, orgs)), s)
        for action, spec, _ in lists
        for i, s in enumerate(spec["steps"])
    ]
    writer.create_all(Step, [step for step, _ in tops])
    writer.create_all(
        Step,
        [
            Step(action=parent.action, parent=parent, position=k, **_step_fields(c, orgs))
            for parent, s in tops
            for k, c in enumerate(s.get("children", []))
        ],
    )
    writer.create_all(
        ActionPartner,
        [ActionPartner(action=a, position=i, **p) for a, _, f in lists for i, p in enumerate(f["partners"])],
    )
    writer.create_all(
        Condition,
        [Condition(action=a, position=i, **c) for a, _, f in lists for i, c in enumerate(f["conditions"])],
    )
    writer.create_all(
        CalendarEntry,
        [CalendarEntry(action=a, position=i, **e) for a, _, f in lists for i, e in enumerate(f["calendar"])],
    )
    indicators = [
        (Indicator(action=a, position=i, **ind), spec_ind)
        for a, spec, f in lists
        for i, (ind, spec_ind) in enumerate(zip(f["indicators"], spec.get("indicators", []), strict=True))
    ]
    writer.create_all(Indicator, [indicator for indicator, _ in indicators])
    writer.create_all(
        IndicatorValue,
        [
            IndicatorValue(
                indicator=indicator,
                year=v["year"],
                value=_decimal(v["value"]),
                comment=v.get("comment") or "",
            )
            for indicator, ind in indicators
            for v in ind.get("values", [])
        ],
    )
    writer.create_all(Note, [Note(action=a, **n) for a, spec, _ in lists for n in _file_notes(spec)])
    writer.create_all(
        Financing,
        [
            Financing(action=a, position=i, **line)
            for a, _, f in lists
            for i, line in enumerate(f["financing"])
        ],
    )
    tags = writer.tags
    for key, model in (("themes", Action.themes.through), ("audiences", Action.audiences.through)):
        field = "theme" if key == "themes" else "audience"
        model.objects.bulk_create(
            [model(action=a, **{field: tag}) for a, spec, _ in lists for tag in tags.of(spec, key)]
        )
    # Their journal lines, as set_tags() writes them for a fiche that exists.
    changes = [
        TagChange.between(a, key, [], tags.of(spec, key), by=writer.by, reason=writer.reason)
        for a, spec, _ in lists
        for key in ("themes", "audiences")
    ]
    TagChange.objects.bulk_create([change for change in changes if change is not None])


def _update_children(action: Action, spec: dict[str, Any], orgs: _Organisations, writer: _Writer) -> None:
    """An existing fiche brought in line with the file, item by item: each change leaves a
    history row in the importer's name. `action` carries with_details()'s prefetches."""
    lists = _list_fields(spec, orgs)
    tops = list(action.top_steps)
    for extra in tops[len(spec["steps"]) :]:
        for child in extra.children.all():  # explicitly, so each has its journal line
            writer.delete(child)
    parents = writer.sync(
        Step, tops, [_step_fields(s, orgs) for s in spec["steps"]], action=action, parent=None
    )
    for parent, s in zip(parents, spec["steps"], strict=True):
        children = list(parent.children.all()) if parent in tops else []
        writer.sync(
            Step,
            children,
            [_step_fields(c, orgs) for c in s.get("children", [])],
            action=action,
            parent=parent,
        )
    writer.sync(ActionPartner, list(action.partners.all()), lists["partners"], action=action)
    writer.sync(Condition, list(action.conditions.all()), lists["conditions"], action=action)
    writer.sync(CalendarEntry, list(action.calendar_entries.all()), lists["calendar"], action=action)
    stored = list(action.indicators.all())
    for extra in stored[len(lists["indicators"]) :]:
        for value in extra.values.all():  # explicitly, so each has its history row
            writer.delete(value)
    indicators = writer.sync(Indicator, stored, lists["indicators"], action=action)
    for indicator, ind in zip(indicators, spec.get("indicators", []), strict=True):
        # Values are matched by year, which is unique per indicator.
        values = {v.year: v for v in indicator.values.all()} if indicator in stored else {}
        wanted = {v["year"]: v for v in ind.get("values", [])}
        for year, value in values.items():
            if year not in wanted:
                writer.delete(value)
        for year, v in wanted.items():
            fields = {"value": _decimal(v["value"]), "comment": v.get("comment") or ""}
            value = values.get(year) or IndicatorValue(indicator=indicator, year=year)
            if value.pk is None or any(getattr(value, k) != f for k, f in fields.items()):
                for name, f in fields.items():
                    setattr(value, name, f)
                writer.save(value)
    for note in _new_notes(action, spec):
        writer.save(Note(action=action, **note))
    writer.sync(Financing, list(action.financing.all()), lists["financing"], action=action)
    tags = writer.tags
    action.set_tags(
        by=writer.by, reason=writer.reason, **{key: tags.of(spec, key) for key in ("themes", "audiences")}
    )


def _amount(value) -> int | float | None:
    """A figure as the database keeps it (two decimals), for comparisons."""
    return None if value is None else _number(Decimal(str(value)).quantize(Decimal("0.01")))


def _comparable(spec: dict[str, Any], tags: _Tags) -> dict[str, Any]:
    """A fiche of a document, spelled as export_plan spells a stored one, defaults filled in.
    Notes are left out: see _new_notes()."""

    def step(s):
        return {
            "text": s["text"],
            "commune": s.get("commune"),
            "done": s.get("done", False),
            "children": [step(c) for c in s.get("children", [])],
        }

    def entry(e):
        start, end = _calendar_dates(e)
        return {
            "label": e["label"],
            "description": e.get("description") or None,
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
        }

    return {
        "number": spec["number"],
        "title": spec["title"],
        "fiche_title": spec["fiche_title"],
        **({"objective": spec["objective"]} if spec.get("objective") else {}),
        "pilotage": spec["pilotage"],
        "pilots": sorted(spec.get("pilots", [])),
        "steps": [step(s) for s in spec["steps"]],
        "partners": [
            {"name": p["name"], "role": p.get("role") or None, "organisation": p.get("organisation")}
            for p in spec["partners"]
        ],
        "conditions": list(spec["conditions"]),
        "calendar": [entry(e) for e in spec["calendar"]],
        "status": spec["status"],
        "progress": spec["progress"],
        "indicators": [
            {
                "name": i["name"],
                "unit": i.get("unit") or None,
                "baseline": _amount(i.get("baseline")),
                "target": _amount(i.get("target")),
                "values": sorted(
                    (
                        {"year": v["year"], "value": _amount(v["value"]), "comment": v.get("comment") or None}
                        for v in i.get("values", [])
                    ),
                    key=lambda v: v["year"],
                ),
            }
            for i in spec.get("indicators", [])
        ],
        **_comparable_extension(spec, tags),
    }


def _comparable_extension(spec: dict[str, Any], tags: _Tags) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if spec.get("financing"):
        data["financing"] = [
            {
                "funder": line["funder"],
                "organisation": line.get("organisation"),
                "scheme": line.get("scheme") or None,
                "year": line.get("year"),
                **{name: _amount(line.get(name)) for name in ("planned", "granted", "spent")},
            }
            for line in spec["financing"]
        ]
    for key in ("themes", "audiences"):
        if spec.get(key):
            data[key] = [tag.name for tag in tags.of(spec, key)]
    return data


def _stored(action: Action) -> dict[str, Any]:
    data = _action_data(action)
    del data["notes"]
    data.pop("archived_at", None)
    return data


def _archived_in(spec: dict[str, Any]) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(spec["archived_at"]) if spec.get("archived_at") else None


def _unchanged(stored: Action, spec: dict[str, Any], axis_number: int, tags: _Tags) -> bool:
    """Whether importing `spec` would write nothing to this fiche."""
    return (
        stored.is_archived == bool(spec.get("archived_at"))
        and stored.axis.number == axis_number
        and _stored(stored) == _comparable(spec, tags)
        and not _new_notes(stored, spec)
    )


def _axis_state(spec: dict[str, Any]) -> tuple:
    diagnostic = spec.get("diagnostic", {})
    return (
        spec["title"],
        diagnostic.get("theme", ""),
        tuple(diagnostic.get("strengths", [])),
        tuple(diagnostic.get("watch_points", [])),
        tuple((o.get("code") or "", o["title"]) for o in spec.get("objectives", [])),
    )


def _stored_axis_state(axis: Axis) -> tuple:
    findings = list(axis.findings.all())
    return (
        axis.title,
        axis.theme,
        tuple(f.text for f in findings if f.kind == FindingKind.STRENGTH),
        tuple(f.text for f in findings if f.kind == FindingKind.WATCH_POINT),
        tuple((o.code, o.title) for o in axis.objectives.all()),
    )


@dataclass
class Preview:
    """What importing a document would do, fiche by fiche."""

    slug: str
    territory: str
    plan_exists: bool
    axes: int
    new: list[int]
    changed: list[int]
    unchanged: list[int]
    archived: list[int]  # in force today, absent from the file: archived, not deleted
    restored: list[int] = field(default_factory=list)  # archived today, back in the file
    kept_notes: int = 0  # notes of the file's fiches that the file lacks: kept
    extra: list[str] = field(default_factory=list)  # what the extensions (meetings…) would do
    # (the plan's territory, the file's) when the file's identifier is the plan of another
    # territory: importing it would change the territory of that plan.
    territory_change: tuple[str, str] | None = None
    level: LevelWords = field(default_factory=lambda: LevelWords.of("Axe"))  # the file's words

    @property
    def axes_text(self) -> str:
        """ "5 enjeux", in the file's own words."""
        return self.level.count(self.axes)

    @property
    def nothing_to_do(self) -> bool:
        return self.plan_exists and not (
            self.new or self.changed or self.archived or self.restored or self.extra or self.territory_change
        )


def _existing(plan: Plan | None):
    """The plan's fiches (archived ones too) and axes, by number."""
    if plan is None:
        return {}, {}
    actions = {
        a.number: a for a in Action.all_objects.filter(plan=plan).with_details().select_related("objective")
    }
    axes = {a.number: a for a in plan.axes.prefetch_related("findings", "objectives")}
    return actions, axes


def _update_objectives(axis: Axis, stored: list[Objective], specs: list[dict[str, Any]]) -> dict[str, int]:
    """The axis's objectives as the file lists them, matched by title: a fiche keeps its
    objective when only the objective's number or order changes. Those the file drops go (their
    fiches are given the file's objective right after). Their pks by title."""
    by_title = {o.title: o for o in stored}
    kept: dict[str, int] = {}
    for position, spec in enumerate(specs):
        objective = by_title.pop(spec["title"], None) or Objective(axis=axis, title=spec["title"])
        if objective.pk is None or (objective.code, objective.position) != (spec.get("code") or "", position):
            objective.code, objective.position = spec.get("code") or "", position
            objective.save()
        kept[objective.title] = objective.pk
    if by_title:
        Objective.objects.filter(pk__in=[o.pk for o in by_title.values()]).delete()
    return kept


def _kept_notes(stored: Action, spec: dict[str, Any]) -> int:
    wanted = Counter(_note_key(n["date"], n["kind"], n["text"]) for n in _file_notes(spec))
    stored_notes = Counter(_note_key(n.date, n.kind, n.text) for n in stored.notes.all())
    return sum((stored_notes - wanted).values())


def preview(data: dict[str, Any], *, by=None) -> Preview:
    """Compare a validated document with the installation, writing nothing. `by`: who would
    import it (None: the command line, an installation administrator)."""
    plan = Plan.objects.filter(slug=data["plan"]["slug"]).first()
    existing, existing_axes = _existing(plan)
    tags = _Tags()
    new, changed, unchanged, restored, kept_notes = [], [], [], [], 0
    for axis in data["axes"]:
        for spec in axis["actions"]:
            stored = existing.get(spec["number"])
            if stored is None:
                new.append(spec["number"])
                continue
            kept_notes += _kept_notes(stored, spec)
            if stored.is_archived and not spec.get("archived_at"):
                restored.append(spec["number"])
            elif _unchanged(stored, spec, axis["number"], tags):
                unchanged.append(spec["number"])
            else:
                changed.append(spec["number"])
    numbers = {spec["number"] for _, spec in _iter_actions(data)}
    in_force = {number for number, action in existing.items() if not action.is_archived}
    archived = sorted(in_force - numbers)
    return Preview(
        slug=data["plan"]["slug"],
        territory=data["plan"]["territory"],
        plan_exists=plan is not None,
        axes=len(data["axes"]),
        new=sorted(new),
        changed=sorted(changed),
        unchanged=sorted(unchanged),
        archived=archived,
        restored=sorted(restored),
        kept_notes=kept_notes,
        territory_change=territory_change(plan, data),
        level=LevelWords.of(
            data["plan"].get("level_label") or "Axe",
            data["plan"].get("level_plural") or "",
            data["plan"].get("level_gender") or "",
        ),
        extra=plan_changes(plan, data, existing_axes)
        + organisation_changes(plan, data, by)[0]
        + [
            line
            for key, extension in EXTENSIONS.items()
            if key in data
            for line in extension.changes(plan, data[key])
        ],
    )


def plan_changes(plan: Plan | None, data: dict[str, Any], axes: dict[int, Axis]) -> list[str]:
    """What the file would change above the fiches, in French: the plan's title, years and
    words, its communes and signatories, its axes (title, diagnostic, objectives), so that a
    file changing only these is not previewed as changing nothing. `axes`: the stored ones, by
    number, with their findings and objectives (as _existing reads them). A query or two."""
    if plan is None:
        return []
    spec, lines = data["plan"], []
    if plan.title != spec["title"]:
        lines.append(f"Titre du plan : « {plan.title} » → « {spec['title']} ».")
    if (plan.start_year, plan.end_year) != (spec["start_year"], spec["end_year"]):
        lines.append(
            f"Années du plan : {plan.start_year}-{plan.end_year} → {spec['start_year']}-{spec['end_year']}."
        )
    stored_words = (plan.level_label, plan.level_plural, plan.level_gender)
    words = (spec.get("level_label") or "Axe", spec.get("level_plural") or "", spec.get("level_gender") or "")
    if stored_words != words:
        before, after = plan.level, LevelWords.of(*words)
        lines.append(
            f"Nom du premier niveau : « {before.singular} » (« {before.plural} », "
            f"{'féminin' if before.is_feminine else 'masculin'}) → « {after.singular} » "
            f"(« {after.plural} », {'féminin' if after.is_feminine else 'masculin'})."
        )
    for label, stored, wanted in (
        (
            "Communes",
            plan.communes.values_list("name", flat=True),
            [c["name"] for c in spec.get("communes", [])],
        ),
        ("Signataires", plan.signatories.values_list("name", flat=True), spec.get("signatories", [])),
    ):
        added, removed = sorted(set(wanted) - set(stored)), sorted(set(stored) - set(wanted))
        said = [f"en plus : {', '.join(added)}"] * bool(added) + [f"en moins : {', '.join(removed)}"] * bool(
            removed
        )
        if said:
            lines.append(f"{label} du plan — {' ; '.join(said)}.")
    level = LevelWords.of(*words)
    for axis_spec in data["axes"]:
        number, stored = axis_spec["number"], axes.get(axis_spec["number"])
        if stored is None:
            lines.append(f"{level.singular} {number} : {level.agree('nouveau', 'nouvelle')}.")
            continue
        before, after = _stored_axis_state(stored), _axis_state(axis_spec)
        what = [
            word
            for word, differs in (
                ("intitulé", before[0] != after[0]),
                ("diagnostic", before[1:4] != after[1:4]),
                ("objectifs", before[4] != after[4]),
            )
            if differs
        ]
        if what:
            lines.append(
                f"{level.singular} {number} {level.agree('modifié', 'modifiée')} : {', '.join(what)}."
            )
    for number in sorted(set(axes) - {a["number"] for a in data["axes"]}):
        lines.append(
            f"{level.singular} {number} : {level.agree('absent', 'absente')} du fichier, "
            f"{level.agree('retiré', 'retirée')} du plan "
            "(à moins que des fiches archivées n'y soient rattachées)."
        )
    return lines


def territory_change(plan: Plan | None, data: dict[str, Any]) -> tuple[str, str] | None:
    """(the plan's territory, the file's) when they differ: the file's identifier is already
    the plan of another territory (or the territory was renamed). None otherwise."""
    if plan is None or plan.territory == data["plan"]["territory"]:
        return None
    return plan.territory, data["plan"]["territory"]


def signatories_refusal(plan: Plan | None, spec: dict[str, Any], user) -> str | None:
    """Signing a plan gives a CAF's staff the right to read it: only installation
    administrators (and the command line) change who signed. None when the import may go on."""
    if plan is None or user is None or user.is_superuser:
        return None
    if sorted(spec.get("signatories", [])) == sorted(plan.signatories.values_list("name", flat=True)):
        return None
    return (
        "plan.signatories : ce fichier change les signataires du plan ; seul un administrateur de "
        "l'installation peut le faire. Reprenez les signataires actuels du plan dans le fichier."
    )


@transaction.atomic
def import_plan(
    data: dict[str, Any], *, by=None, filename: str | None = None, folder: Path | None = None
) -> ImportReport:
    """Create or update the plan a validated document describes (matched by slug).

    Axes and fiches are matched by number and updated in place; inside a fiche, steps,
    partners, conditions, calendar entries and indicators are matched by position and only
    what differs is written; the file's new notes are added, and no note is ever deleted.
    Fiches the file no longer has are archived (restorable), never deleted. When the plan
    exists, every write is journaled in the name of `by` with the reason "import du <date> de
    <filename>"; creating a plan writes the silent baseline (IMPORT_REASON). All or nothing.
    """
    errors = validate(data)
    if errors:
        raise PlanFormatError(errors)
    spec = data["plan"]
    fields = {
        "title": spec["title"],
        "territory": spec["territory"],
        "start_year": spec["start_year"],
        "end_year": spec["end_year"],
        "level_label": spec.get("level_label") or "Axe",
        "level_plural": spec.get("level_plural") or "",
        "level_gender": spec.get("level_gender") or "",
    }
    plan = Plan.objects.filter(slug=spec["slug"]).first()
    refusal = signatories_refusal(plan, spec, by)
    if refusal:
        raise PlanFormatError([refusal])
    created = plan is None
    if created:
        plan = Plan.objects.create(slug=spec["slug"], **fields)
    elif any(getattr(plan, name) != value for name, value in fields.items()):
        for name, value in fields.items():
            setattr(plan, name, value)
        plan.save()
    writer = _Writer(by=by, reason=IMPORT_REASON if created else import_reason(filename))
    report = ImportReport(plan=plan, created=created)
    orgs = _Organisations(spec.get("organisations", []), report, _named_organisations(data))
    plan.communes.set(
        [
            orgs.get(c["name"], kind=OrganisationKind.COMMUNE, insee=c.get("insee"))
            for c in spec.get("communes", [])
        ]
    )
    plan.signatories.set([orgs.get(name) for name in spec.get("signatories", [])])
    lines, corrections = organisation_changes(None if created else plan, data, by)
    for name, kind in corrections.items():
        org = orgs.get(name)
        org.kind = kind
        org.save(update_fields=["kind"])
    report.extra += [line for line in lines if not line.startswith("Organisations nouvelles")]
    plan.partners.set([orgs.get(org["name"]) for org in spec.get("organisations", [])])

    existing_actions, existing_axes = _existing(plan) if not created else ({}, {})
    kept_axes, kept_actions = set(), set()
    new_fiches: list[tuple[Action, dict[str, Any]]] = []
    for axis_spec in data["axes"]:
        axis = existing_axes.get(axis_spec["number"]) or Axis(plan=plan, number=axis_spec["number"])
        kept_axes.add(axis.number)
        diagnostic = axis_spec.get("diagnostic", {})
        objectives = {o.title: o.pk for o in axis.objectives.all()} if axis.pk else {}
        if not (axis.pk and _stored_axis_state(axis) == _axis_state(axis_spec)):
            stored_objectives = list(axis.objectives.all()) if axis.pk else []
            axis.title = axis_spec["title"]
            axis.theme = diagnostic.get("theme", "")
            axis.save()
            axis.findings.all().delete()
            Finding.objects.bulk_create(
                [
                    Finding(axis=axis, kind=FindingKind.STRENGTH, position=i, text=t)
                    for i, t in enumerate(diagnostic.get("strengths", []))
                ]
                + [
                    Finding(axis=axis, kind=FindingKind.WATCH_POINT, position=i, text=t)
                    for i, t in enumerate(diagnostic.get("watch_points", []))
                ]
            )
            objectives = _update_objectives(axis, stored_objectives, axis_spec.get("objectives", []))
        for action_spec in axis_spec["actions"]:
            kept_actions.add(action_spec["number"])
            stored = existing_actions.get(action_spec["number"])
            if stored and _unchanged(stored, action_spec, axis.number, writer.tags):
                report.unchanged += 1
                continue  # re-importing the same file changes nothing: no save, no new version
            action = stored or Action(plan=plan, number=action_spec["number"])
            own = {
                "axis_id": axis.pk,
                "title": action_spec["title"],
                "fiche_title": action_spec["fiche_title"],
                "objective_id": objectives.get(action_spec.get("objective")),
                "pilotage": action_spec["pilotage"],
                "status": action_spec["status"],
                "progress": action_spec["progress"],
            }
            archived_at = _archived_in(action_spec)  # a backup's archived fiche stays archived
            restoring = stored is not None and stored.is_archived and archived_at is None
            if archived_at and not action.is_archived:
                action.archived_at = archived_at
            if restoring:
                action.archived_at, action.archived_by = None, None
                report.restored_actions.append(action.number)
            archiving = archived_at is not None and (stored is None or not stored.is_archived)
            if stored is None:  # created with the other new fiches, in bulk, after the loop
                for name, value in own.items():
                    setattr(action, name, value)
                new_fiches.append((action, action_spec))
                continue
            if (
                stored is None
                or restoring
                or archiving
                or any(getattr(action, k) != v for k, v in own.items())
            ):
                for name, value in own.items():
                    setattr(action, name, value)
                writer.save(action)
            pilots = [orgs.get(name) for name in action_spec.get("pilots", [])]
            if {org.pk for org in stored.pilots.all()} != {org.pk for org in pilots}:
                action.pilots.set(pilots)
            _update_children(action, action_spec, orgs, writer)
    _create_fiches(new_fiches, orgs, writer)

    for number in sorted(set(existing_actions) - kept_actions):
        action = existing_actions[number]
        if not action.is_archived:
            action.archive(by=by, reason=writer.reason)
            report.archived_actions.append(number)
    # An axis the file dropped goes, unless archived fiches still hang on it (deleting it
    # would delete them, their notes and their journal).
    plan.axes.exclude(number__in=kept_axes).exclude(
        pk__in=Action.all_objects.filter(plan=plan).values("axis")
    ).delete()
    for key, extension in EXTENSIONS.items():
        if key in data:
            report.extra += extension.apply(plan, data[key], by=by, reason=writer.reason, folder=folder)
    _link_lineage(plan, data, by)
    if created and spec.get("closed_at"):  # a backup of a renewed plan: restored read-only
        plan.closed_at = datetime.datetime.fromisoformat(spec["closed_at"])
        plan.save(update_fields=["closed_at"])
    report.axes, report.actions = len(kept_axes), len(kept_actions)
    return report


def _link_lineage(plan: Plan, data: dict[str, Any], by=None) -> None:
    """A backup's renewal links (Action.previous), for those whose other plan is in the
    installation; the rest come back when that plan is restored, whose file names them too.
    Never re-points a link already there. A query when the file names any, one per link set.
    Not journaled: the link is no edit but where the fiche comes from, set by the renewal.

    A restore from the command line (`by` None) or by an installation administrator links
    any plans; anyone else's file only reaches the plans they coordinate (or coordinated,
    for a closed one) and changes fiches of open plans they manage only: a plan they hold
    no such role on is neither written nor named back to them, nor told to exist."""
    previous, later = {}, {}
    for _, spec in _iter_actions(data):
        if spec.get("previous"):
            previous[spec["number"]] = (spec["previous"]["plan"], spec["previous"]["number"])
        for ref in spec.get("continued_by", []):
            later[(ref["plan"], ref["number"])] = spec["number"]
    if not (previous or later):
        return
    slugs = {plan.slug} | {slug for slug, _ in [*previous.values(), *later]}
    fiches_of = Action.all_objects.filter(plan__slug__in=slugs)
    writable = None  # every plan
    if by is not None and not by.is_superuser:
        fiches_of = fiches_of.filter(Q(plan=plan) | Q(plan__in=Plan.objects.with_role(by, MANAGER_ROLES)))
        writable = {plan.pk, *Plan.objects.managed_by(by).filter(slug__in=slugs).values_list("pk", flat=True)}
    fiches = {(a.plan.slug, a.number): a for a in fiches_of.select_related("plan")}
    links = [(fiches.get((plan.slug, n)), fiches.get(ref)) for n, ref in previous.items()]
    links += [(fiches.get(ref), fiches.get((plan.slug, n))) for ref, n in later.items()]
    for action, carried in links:
        if action is None or carried is None or action.previous_id is not None:
            continue
        if writable is None or action.plan_id in writable:
            Action.all_objects.filter(pk=action.pk).update(previous=carried)
