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
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from jsonschema import Draft202012Validator
from simple_history.utils import bulk_create_with_history

from actions.models import (
    IMPORT_REASON,
    Action,
    ActionPartner,
    CalendarEntry,
    Condition,
    Indicator,
    IndicatorValue,
    Note,
    NoteKind,
    Step,
)
from actions.periods import MAX_YEAR, MIN_YEAR, parse_period
from axes.models import Axis, Finding, FindingKind, Plan
from partners.models import Organisation, OrganisationKind

FORMAT = "ctg-plan/1"
SCHEMA_PATH = Path(__file__).parent / "schema" / "ctg-plan-1.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))

# Our own limits and extension fields, checked beside the public schema.
_TEXT = {"type": "string"}
_NAME_OR_NULL = {"type": ["string", "null"], "maxLength": 200}
_AMOUNT = {"type": ["number", "null"], "maximum": 1e12, "minimum": -1e12}
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
                "conditions": {"items": {"minLength": 1}},
                "calendar": {"items": {"properties": {"label": {"minLength": 1, "maxLength": 200}}}},
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
                                        "comment": {"type": ["string", "null"]},
                                    }
                                }
                            },
                        }
                    }
                },
                "notes": {
                    "items": {
                        "properties": {
                            "text": {"minLength": 1},
                            "author": {"maxLength": 200},
                            "kind": {"enum": list(NoteKind.values)},
                        }
                    }
                },
            },
        },
        "step": {
            "properties": {
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


class PlanFormatError(Exception):
    """A plan file that cannot be imported. `errors` lists every problem, in French."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


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
                "kind": note.kind,
                "text": note.text,
                "author": note.author_name or None,
            }
            for note in sorted(action.notes.all(), key=lambda note: (note.date, note.pk))
        ],
    }


def _organisation_data(org: Organisation) -> dict[str, Any]:
    return {
        "name": org.name,
        "short_name": org.short_name or None,
        "kind": org.kind,
        "insee": org.insee or None,
        "parent": org.parent.name if org.parent else None,
    }


def export_plan(plan: Plan) -> dict[str, Any]:
    """The whole plan as a ctg-plan/1 document. A fixed number of queries."""
    actions = list(Action.objects.filter(plan=plan).with_details())
    axes = list(plan.axes.prefetch_related("findings"))
    signatories = list(plan.signatories.all())
    communes = list(plan.communes.order_by("name"))

    used: dict[int, Organisation] = {org.pk: org for org in signatories + communes}
    for action in actions:
        used.update((org.pk, org) for org in action.pilots.all())
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

    return {
        "format": FORMAT,
        "exported_at": timezone.now().isoformat(timespec="seconds"),
        "plan": {
            "slug": plan.slug,
            "title": plan.title,
            "territory": plan.territory,
            "start_year": plan.start_year,
            "end_year": plan.end_year,
            "level_label": plan.level_label,
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
                "actions": [_action_data(action) for action in by_axis.get(axis.pk, [])],
            }
            for axis in axes
        ],
    }


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
        return f"doit être au moins {expected} (trouvé : {error.instance})"
    if kind == "maximum":
        return f"doit être au plus {expected} (trouvé : {error.instance})"
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
    if plan["end_year"] < plan["start_year"]:
        errors.append("plan.end_year : l'année de fin précède l'année de début")

    axis_numbers = Counter(axis["number"] for axis in data["axes"])
    for number, count in sorted(axis_numbers.items()):
        if count > 1:
            errors.append(f"axes : le numéro d'axe {number} apparaît {count} fois")

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
        for k, note in enumerate(action.get("notes", [])):
            if not MIN_YEAR <= int(note["date"][:4]) <= MAX_YEAR:
                errors.append(f"{where}.notes[{k}].date : date invraisemblable ({note['date']})")
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
    return errors


def validate(data: Any) -> list[str]:
    """Every problem of a document, each naming its place; [] when it can be imported."""
    errors = []
    for validator in _VALIDATORS:
        for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
            message = f"{_path(error.absolute_path)} : {_french(error)}"
            if message not in errors:
                errors.append(message)
    if errors:
        return errors
    return _semantic_errors(data) or _database_errors(data)


def load(text: str | bytes) -> dict[str, Any]:
    """Parse and validate a document; raise PlanFormatError listing every problem."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PlanFormatError([f"le fichier n'est pas un texte UTF-8 (octet {exc.start})"]) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFormatError(
            [f"le fichier n'est pas du JSON valide : ligne {exc.lineno}, colonne {exc.colno} ({exc.msg})"]
        ) from exc
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
    removed_actions: list[int] = field(default_factory=list)
    new_organisations: list[str] = field(default_factory=list)
    unchanged: int = 0

    def summary(self) -> str:
        verb = "créé" if self.created else "mis à jour"
        text = f"Plan « {self.plan.slug} » {verb} : {self.axes} axes, {self.actions} fiches-actions"
        text += f" ({self.unchanged} inchangées)." if self.unchanged else "."
        if self.removed_actions:
            text += (
                " Fiches supprimées (absentes du fichier) : "
                + ", ".join(map(str, self.removed_actions))
                + "."
            )
        if self.new_organisations:
            text += f" {len(self.new_organisations)} organisation(s) ajoutée(s)."
        return text


class _Organisations:
    """Finds organisations by name, creating the ones the installation does not know yet."""

    def __init__(self, declared: list[dict[str, Any]], report: ImportReport):
        self.declared = {org["name"]: org for org in declared}
        self.report = report
        names = set(self.declared)
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
                kind=spec.get("kind", kind),
                insee=spec.get("insee") or insee or "",
                parent=self.get(parent) if parent else None,
            )
            self.report.new_organisations.append(name)
        self.cache[name] = org
        return org


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _calendar_dates(entry: dict[str, Any]) -> tuple[datetime.date | None, datetime.date | None]:
    # A file that states dates keeps them; one that only gives the label gets them computed.
    if "start" in entry or "end" in entry:
        return _date(entry.get("start")), _date(entry.get("end"))
    period = parse_period(entry["label"])
    return (period.start, period.end) if period else (None, None)


def _create(model, objects):
    return bulk_create_with_history(list(objects), model, default_change_reason=IMPORT_REASON)


def _replace_children(action: Action, spec: dict[str, Any], orgs: _Organisations, *, new: bool) -> None:
    # The lists inside a fiche are replaced wholesale. Their rows go without a journal line
    # each (QuerySet._raw_delete sends no signals): the import is one act, not 200 deletions.
    if not new:
        for related in ("steps", "partners", "conditions", "calendar_entries", "notes"):
            queryset = getattr(action, related).all()
            queryset._raw_delete(queryset.db)
        action.indicators.all().delete()

    def commune(name):
        return orgs.get(name, kind=OrganisationKind.COMMUNE) if name else None

    parents = _create(
        Step,
        (
            Step(
                action=action,
                position=i,
                text=s["text"],
                commune=commune(s.get("commune")),
                done=s.get("done", False),
            )
            for i, s in enumerate(spec["steps"])
        ),
    )
    _create(
        Step,
        (
            Step(
                action=action,
                parent=parent,
                position=k,
                text=c["text"],
                commune=commune(c.get("commune")),
                done=c.get("done", False),
            )
            for parent, s in zip(parents, spec["steps"], strict=True)
            for k, c in enumerate(s.get("children", []))
        ),
    )
    _create(
        ActionPartner,
        (
            ActionPartner(
                action=action,
                position=i,
                name=p["name"],
                role=p.get("role") or "",
                organisation=orgs.get(p["organisation"]) if p.get("organisation") else None,
            )
            for i, p in enumerate(spec["partners"])
        ),
    )
    _create(
        Condition,
        (Condition(action=action, position=i, text=text) for i, text in enumerate(spec["conditions"])),
    )
    _create(
        CalendarEntry,
        (
            CalendarEntry(
                action=action,
                position=i,
                label=entry["label"],
                description=entry.get("description") or "",
                start=_calendar_dates(entry)[0],
                end=_calendar_dates(entry)[1],
            )
            for i, entry in enumerate(spec["calendar"])
        ),
    )
    indicators = Indicator.objects.bulk_create(
        Indicator(
            action=action,
            position=i,
            name=ind["name"],
            unit=ind.get("unit") or "",
            baseline=ind.get("baseline"),
            target=ind.get("target"),
        )
        for i, ind in enumerate(spec.get("indicators", []))
    )
    IndicatorValue.objects.bulk_create(
        IndicatorValue(indicator=indicator, year=v["year"], value=v["value"], comment=v.get("comment") or "")
        for indicator, ind in zip(indicators, spec.get("indicators", []), strict=True)
        for v in ind.get("values", [])
    )
    _create(
        Note,
        (
            Note(
                action=action,
                date=_date(n["date"]),
                kind=n.get("kind") or NoteKind.FOLLOW_UP,
                text=n["text"],
                author_name=n.get("author") or "",
            )
            for n in spec.get("notes", [])
        ),
    )


def _amount(value) -> int | float | None:
    """A figure as the database keeps it (two decimals), for comparisons."""
    return None if value is None else _number(Decimal(str(value)).quantize(Decimal("0.01")))


def _comparable(spec: dict[str, Any]) -> dict[str, Any]:
    """A fiche of a document, spelled as export_plan spells a stored one, defaults filled in."""

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
        "notes": sorted(
            (
                {
                    "date": n["date"],
                    "kind": n.get("kind") or NoteKind.FOLLOW_UP.value,
                    "text": n["text"],
                    "author": n.get("author") or None,
                }
                for n in spec.get("notes", [])
            ),
            key=lambda n: n["date"],
        ),
    }


def _stored(action: Action) -> dict[str, Any]:
    data = _action_data(action)
    data["notes"] = sorted(data["notes"], key=lambda n: n["date"])
    return data


def _axis_state(spec: dict[str, Any]) -> tuple:
    diagnostic = spec.get("diagnostic", {})
    return (
        spec["title"],
        diagnostic.get("theme", ""),
        tuple(diagnostic.get("strengths", [])),
        tuple(diagnostic.get("watch_points", [])),
    )


def _stored_axis_state(axis: Axis) -> tuple:
    findings = list(axis.findings.all())
    return (
        axis.title,
        axis.theme,
        tuple(f.text for f in findings if f.kind == FindingKind.STRENGTH),
        tuple(f.text for f in findings if f.kind == FindingKind.WATCH_POINT),
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
    removed: list[int]

    @property
    def nothing_to_do(self) -> bool:
        return self.plan_exists and not (self.new or self.changed or self.removed)


def _existing(plan: Plan | None):
    if plan is None:
        return {}, {}
    actions = {a.number: a for a in Action.objects.filter(plan=plan).with_details()}
    axes = {a.number: a for a in plan.axes.prefetch_related("findings")}
    return actions, axes


def preview(data: dict[str, Any]) -> Preview:
    """Compare a validated document with the installation, writing nothing."""
    plan = Plan.objects.filter(slug=data["plan"]["slug"]).first()
    existing, _ = _existing(plan)
    new, changed, unchanged = [], [], []
    for _, spec in _iter_actions(data):
        stored = existing.get(spec["number"])
        if stored is None:
            new.append(spec["number"])
        elif _stored(stored) == _comparable(spec) and stored.axis.number == _axis_number(data, spec):
            unchanged.append(spec["number"])
        else:
            changed.append(spec["number"])
    numbers = {spec["number"] for _, spec in _iter_actions(data)}
    return Preview(
        slug=data["plan"]["slug"],
        territory=data["plan"]["territory"],
        plan_exists=plan is not None,
        axes=len(data["axes"]),
        new=sorted(new),
        changed=sorted(changed),
        unchanged=sorted(unchanged),
        removed=sorted(set(existing) - numbers),
    )


def _axis_number(data: dict[str, Any], action_spec: dict[str, Any]) -> int:
    return next(axis["number"] for axis in data["axes"] if action_spec in axis["actions"])


@transaction.atomic
def import_plan(data: dict[str, Any]) -> ImportReport:
    """Create or update the plan a validated document describes (matched by slug).

    Axes and fiches are matched by number and updated in place; the lists inside a fiche
    (steps, partners, calendar…) are replaced by the file's; fiches and axes the file no
    longer has are removed. All or nothing: one transaction.
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
    }
    plan = Plan.objects.filter(slug=spec["slug"]).first()
    created = plan is None
    if created:
        plan = Plan.objects.create(slug=spec["slug"], **fields)
    elif any(getattr(plan, name) != value for name, value in fields.items()):
        for name, value in fields.items():
            setattr(plan, name, value)
        plan.save()
    report = ImportReport(plan=plan, created=created)
    orgs = _Organisations(spec.get("organisations", []), report)
    plan.communes.set(
        [
            orgs.get(c["name"], kind=OrganisationKind.COMMUNE, insee=c.get("insee"))
            for c in spec.get("communes", [])
        ]
    )
    plan.signatories.set([orgs.get(name) for name in spec.get("signatories", [])])

    existing_actions, existing_axes = _existing(plan)
    kept_axes, kept_actions = set(), set()
    for axis_spec in data["axes"]:
        axis = existing_axes.get(axis_spec["number"]) or Axis(plan=plan, number=axis_spec["number"])
        kept_axes.add(axis.number)
        diagnostic = axis_spec.get("diagnostic", {})
        if axis.pk and _stored_axis_state(axis) == _axis_state(axis_spec):
            axis_unchanged = True
        else:
            axis_unchanged = False
            axis.title = axis_spec["title"]
            axis.theme = diagnostic.get("theme", "")
            axis.save()
            axis.findings.all().delete()
        if not axis_unchanged:
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
        for action_spec in axis_spec["actions"]:
            kept_actions.add(action_spec["number"])
            stored = existing_actions.get(action_spec["number"])
            if stored and stored.axis_id == axis.pk and _stored(stored) == _comparable(action_spec):
                report.unchanged += 1
                continue  # re-importing the same file changes nothing: no save, no new version
            action = stored or Action(plan=plan, number=action_spec["number"])
            action.axis = axis
            action.title = action_spec["title"]
            action.fiche_title = action_spec["fiche_title"]
            action.pilotage = action_spec["pilotage"]
            action.status = action_spec["status"]
            action.progress = action_spec["progress"]
            action._change_reason = IMPORT_REASON
            action.save()
            action.pilots.set([orgs.get(name) for name in action_spec.get("pilots", [])])
            _replace_children(action, action_spec, orgs, new=stored is None)

    removed = sorted(set(existing_actions) - kept_actions)
    plan.actions.filter(number__in=removed).delete()
    plan.axes.exclude(number__in=kept_axes).delete()
    report.axes, report.actions, report.removed_actions = len(kept_axes), len(kept_actions), removed
    return report
