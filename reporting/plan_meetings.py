"""The plan's meetings and decisions in the open format: an optional part of a ctg-plan/1
document, "meetings", so that an export (our backup) keeps them and an import restores them.

Registered with actions.plan_io.open_format from ReportingConfig.ready(): actions does not import the
reporting app. An import never deletes a meeting or a decision: it adds those the installation
lacks (a meeting is matched by instance and date, a decision by its text within its meeting) and
brings the others' agenda, attendees, state and fiches up to the file's, journaled like any write.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from actions.models import Action, validate_plausible_date
from actions.periods import MAX_YEAR, MIN_YEAR
from actions.plan_io.open_format import Extension
from axes.models import Plan
from reporting.models import Decision, DecisionStatus, Instance, Meeting

SCHEMA: dict[str, Any] = {
    "type": "array",
    "maxItems": 2000,
    "items": {
        "type": "object",
        "required": ["instance", "date"],
        "additionalProperties": False,
        "properties": {
            "instance": {"enum": list(Instance.values)},
            "date": {"type": "string", "format": "date"},
            "attendees": {
                "type": "array",
                "maxItems": 30,
                "items": {"type": "string", "minLength": 1, "maxLength": 300},
            },
            "agenda": {"type": ["string", "null"], "maxLength": 10000},
            "decisions": {
                "type": "array",
                "maxItems": 500,
                "items": {
                    "type": "object",
                    "required": ["text", "status"],
                    "additionalProperties": False,
                    "properties": {
                        "text": {"type": "string", "minLength": 1, "maxLength": 5000},
                        "status": {"enum": list(DecisionStatus.values)},
                        "actions": {"type": "array", "items": {"type": "integer", "minimum": 1}},
                        "status_changed_at": {"type": ["string", "null"], "format": "date-time"},
                    },
                },
            },
        },
    },
}


def _fiche_numbers(decisions) -> dict[int, list[int]]:
    """The fiches each decision names, archived ones included (the relation's manager hides
    them). One query."""
    numbers: dict[int, list[int]] = {}
    links = Decision.actions.through.objects.filter(decision__in=decisions)
    for decision_id, number in links.values_list("decision_id", "action__number"):
        numbers.setdefault(decision_id, []).append(number)
    return {pk: sorted(found) for pk, found in numbers.items()}


def export(plan: Plan) -> list[dict[str, Any]]:
    """The plan's meetings, oldest first, with their decisions. Three queries."""
    meetings = list(plan.meetings.order_by("date", "pk").prefetch_related("decisions"))
    numbers = _fiche_numbers([d for m in meetings for d in m.decisions.all()])
    return [
        {
            "instance": meeting.instance,
            "date": meeting.date.isoformat(),
            "attendees": meeting.attendee_list,
            "agenda": meeting.agenda or None,
            "decisions": [
                {
                    "text": decision.text,
                    "status": decision.status,
                    "actions": numbers.get(decision.pk, []),
                    "status_changed_at": (
                        decision.status_changed_at.isoformat(timespec="seconds")
                        if decision.status_changed_at
                        else None
                    ),
                }
                for decision in sorted(meeting.decisions.all(), key=lambda d: d.pk)
            ],
        }
        for meeting in meetings
    ]


def errors(data: dict[str, Any]) -> list[str]:
    """Dates a meeting cannot have, decisions naming fiches the file does not have."""
    numbers = {action["number"] for axis in data["axes"] for action in axis["actions"]}
    found = []
    for i, meeting in enumerate(data["meetings"]):
        day = datetime.date.fromisoformat(meeting["date"])
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            found.append(f"meetings[{i}].date : date invraisemblable ({meeting['date']})")
        for k, decision in enumerate(meeting.get("decisions", [])):
            for number in decision.get("actions", []):
                if number not in numbers:
                    found.append(
                        f"meetings[{i}].decisions[{k}].actions : fiche n° {number} absente du fichier"
                    )
    return found


def _stored(plan: Plan | None) -> tuple[dict[tuple[str, str], list[Meeting]], dict[int, list[int]]]:
    """The plan's meetings by (instance, date), and the fiche numbers of each decision."""
    if plan is None or plan.pk is None:
        return {}, {}
    by_key: dict[tuple[str, str], list[Meeting]] = {}
    meetings = list(plan.meetings.order_by("date", "pk").prefetch_related("decisions"))
    for meeting in meetings:
        by_key.setdefault((meeting.instance, meeting.date.isoformat()), []).append(meeting)
    return by_key, _fiche_numbers([d for m in meetings for d in m.decisions.all()])


def _plan_of(items, stored):
    """Pair each meeting of the file with the stored one it matches (or None), in order."""
    taken: dict[tuple[str, str], int] = {}
    for spec in items:
        key = (spec["instance"], spec["date"])
        index = taken.get(key, 0)
        taken[key] = index + 1
        candidates = stored.get(key, [])
        yield spec, candidates[index] if index < len(candidates) else None


def _meeting_fields(spec) -> dict[str, Any]:
    return {"attendees": "\n".join(spec.get("attendees", [])), "agenda": spec.get("agenda") or ""}


def _decision_state(decision: Decision, numbers: dict[int, list[int]]) -> tuple:
    return (decision.status, numbers.get(decision.pk, []))


def _work(plan: Plan | None, items) -> tuple[int, int, int, int]:
    """(meetings to add, meetings to update, decisions to add, decisions to update)."""
    counts = [0, 0, 0, 0]
    stored_meetings, numbers = _stored(plan)
    for spec, meeting in _plan_of(items, stored_meetings):
        if meeting is None:
            counts[0] += 1
            counts[2] += len(spec.get("decisions", []))
            continue
        if any(getattr(meeting, k) != v for k, v in _meeting_fields(spec).items()):
            counts[1] += 1
        stored = {d.text: d for d in meeting.decisions.all()}
        for decision in spec.get("decisions", []):
            current = stored.get(decision["text"])
            if current is None:
                counts[2] += 1
            elif _decision_state(current, numbers) != (
                decision["status"],
                sorted(decision.get("actions", [])),
            ):
                counts[3] += 1
    return tuple(counts)


def _describe(counts) -> list[str]:
    labels = [
        "réunion(s) ajoutée(s)",
        "réunion(s) mise(s) à jour",
        "décision(s) ajoutée(s)",
        "décision(s) mise(s) à jour",
    ]
    return [f"{n} {label}." for n, label in zip(counts, labels, strict=True) if n]


def changes(plan: Plan | None, items) -> list[str]:
    return _describe(_work(plan, items))


def apply(plan: Plan, items, *, by, reason: str, folder=None) -> list[str]:
    counts = _work(plan, items)
    actions = {a.number: a for a in Action.all_objects.filter(plan=plan)}

    def mark(obj):
        obj._history_user = by
        obj._change_reason = reason
        return obj

    stored_meetings, numbers = _stored(plan)
    for spec, meeting in _plan_of(items, stored_meetings):
        fields = _meeting_fields(spec)
        if meeting is None:
            day = datetime.date.fromisoformat(spec["date"])
            validate_plausible_date(day)
            meeting = Meeting(plan=plan, instance=spec["instance"], date=day, **fields)
            mark(meeting).save()
            stored: dict[str, Decision] = {}
        else:
            if any(getattr(meeting, k) != v for k, v in fields.items()):
                for name, value in fields.items():
                    setattr(meeting, name, value)
                mark(meeting).save()
            stored = {d.text: d for d in meeting.decisions.all()}
        for item in spec.get("decisions", []):
            wanted = sorted(item.get("actions", []))
            decision = stored.get(item["text"])
            if decision is not None and _decision_state(decision, numbers) == (item["status"], wanted):
                continue
            changed_at = item.get("status_changed_at")
            decision = decision or Decision(meeting=meeting, text=item["text"])
            decision.status = item["status"]
            decision.status_changed_at = (
                datetime.datetime.fromisoformat(changed_at) if changed_at else decision.status_changed_at
            ) or (timezone.now() if decision.pk else None)
            mark(decision).save()
            decision.actions.set([actions[n] for n in wanted if n in actions])
    return _describe(counts)


EXTENSION = Extension(
    key="meetings", schema=SCHEMA, export=export, errors=errors, changes=changes, apply=apply
)
