"""The journal of a plan's fiches, read from django-simple-history's records.

Each historical row is compared with the previous row of the same object, and each change a
person would care about becomes one French line: "Statut : à venir → en cours". The same
function serves the fiche page and, later, "what changed since the last COPIL".
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from itertools import groupby

from actions.models import (
    IMPORT_REASON,
    IMPORT_REASON_PREFIX,
    Action,
    ActionPartner,
    CalendarEntry,
    Condition,
    Note,
    Status,
    Step,
)


@dataclass(frozen=True)
class JournalEntry:
    at: datetime.datetime
    action_id: int
    user: object | None  # the user who made the change; None for imports and commands
    kind: str  # "action", "step", "calendar", "partner", "condition", "note"
    text: str
    reason: str = ""  # "import du 30/11/2026 de val-aigo.xlsx" for a change an import made

    @property
    def change(self) -> str:
        """What dashboards count: "status", "step_done", "note_added", or "other"."""
        if self.kind == "action" and self.text.startswith("Statut :"):
            return "status"
        if self.kind == "step" and self.text.startswith("Étape réalisée"):
            return "step_done"
        if self.kind == "note" and self.text.startswith("Note de suivi ajoutée"):
            return "note_added"
        return "other"

    @property
    def author(self) -> str:
        """Who made the change: "Claire Dupont", "Claire Dupont (import du 30/11/2026 de
        val-aigo.xlsx)", or the import alone when a command made it."""
        imported = self.reason if self.reason.startswith(IMPORT_REASON_PREFIX) else ""
        if self.user is None:
            return imported or "import ou commande"
        name = self.user.get_full_name() or self.user.get_username()
        return f"{name} ({imported})" if imported else name


def _quote(text: str, limit: int = 90) -> str:
    text = " ".join(str(text).split())
    return f"« {text[: limit - 1]}… »" if len(text) > limit else f"« {text} »"


def _status(value: str) -> str:
    return Status(value).label.lower() if value in Status.values else value


def _action_lines(old, new) -> list[str]:
    if old is None:
        return ["Fiche créée"]
    lines = []
    if old.archived_at is None and new.archived_at is not None:
        reason = new.history_change_reason or ""
        lines.append(
            f"Fiche archivée (absente de l'{reason})"
            if reason.startswith(IMPORT_REASON_PREFIX)
            else "Fiche archivée"
        )
    elif old.archived_at is not None and new.archived_at is None:
        lines.append("Fiche restaurée")
    if old.status != new.status:
        lines.append(f"Statut : {_status(old.status)} → {_status(new.status)}")
    if old.progress != new.progress:
        lines.append(f"Avancement : {old.progress} % → {new.progress} %")
    for field, label in [("title", "Intitulé"), ("fiche_title", "Nom de l'action"), ("pilotage", "Pilotage")]:
        if getattr(old, field) != getattr(new, field):
            lines.append(f"{label} : {_quote(getattr(old, field))} → {_quote(getattr(new, field))}")
    return lines


def _step_lines(old, new) -> list[str]:
    if old is None:
        return [f"Étape ajoutée : {_quote(new.text)}"]
    lines = []
    if old.text != new.text:
        lines.append(f"Étape reformulée : {_quote(old.text)} → {_quote(new.text)}")
    if old.done != new.done:
        lines.append(f"Étape {'réalisée' if new.done else 'rouverte'} : {_quote(new.text)}")
    if old.position != new.position and old.text == new.text:
        lines.append(f"Étape déplacée : {_quote(new.text)}")
    return lines


def _calendar_label(entry) -> str:
    return f"{entry.label} : {entry.description}" if entry.description else entry.label


def _dates(entry) -> str:
    if not entry.start and not entry.end:
        return "sans dates"
    start = entry.start.strftime("%d/%m/%Y") if entry.start else "…"
    end = entry.end.strftime("%d/%m/%Y") if entry.end else "…"
    return f"{start} – {end}"


def _calendar_lines(old, new) -> list[str]:
    if old is None:
        return [f"Échéance ajoutée : {_quote(_calendar_label(new))}"]
    lines = []
    if _calendar_label(old) != _calendar_label(new):
        lines.append(f"Échéance : {_quote(_calendar_label(old))} → {_quote(_calendar_label(new))}")
    if (old.start, old.end) != (new.start, new.end):
        lines.append(f"Dates de {_quote(new.label)} : {_dates(old)} → {_dates(new)}")
    return lines


def _partner_label(partner) -> str:
    return f"{partner.name} : {partner.role}" if partner.role else partner.name


def _partner_lines(old, new) -> list[str]:
    if old is None:
        return [f"Partenaire ajouté : {_quote(_partner_label(new))}"]
    if _partner_label(old) != _partner_label(new) or old.organisation_id != new.organisation_id:
        return [f"Partenaire : {_quote(_partner_label(old))} → {_quote(_partner_label(new))}"]
    return []


def _condition_lines(old, new) -> list[str]:
    if old is None:
        return [f"Condition ajoutée : {_quote(new.text)}"]
    return [f"Condition : {_quote(old.text)} → {_quote(new.text)}"] if old.text != new.text else []


def _note_lines(old, new) -> list[str]:
    return [f"Note de suivi ajoutée : {_quote(new.text)}"] if old is None else []


_REMOVED = {
    "step": lambda row: f"Étape supprimée : {_quote(row.text)}",
    "calendar": lambda row: f"Échéance supprimée : {_quote(_calendar_label(row))}",
    "partner": lambda row: f"Partenaire retiré : {_quote(_partner_label(row))}",
    "condition": lambda row: f"Condition supprimée : {_quote(row.text)}",
    "note": lambda row: f"Note de suivi supprimée : {_quote(row.text)}",
    "action": lambda row: "Fiche supprimée",
}

# (kind, model, field holding the fiche's id, how to describe a change)
_SOURCES = [
    ("action", Action, "id", _action_lines),
    ("step", Step, "action_id", _step_lines),
    ("calendar", CalendarEntry, "action_id", _calendar_lines),
    ("partner", ActionPartner, "action_id", _partner_lines),
    ("condition", Condition, "action_id", _condition_lines),
    ("note", Note, "action_id", _note_lines),
]


def journal(action_ids, *, since: datetime.datetime | None = None) -> list[JournalEntry]:
    """Readable changes of the given fiches, newest first. One query per kind of record."""
    action_ids = list(action_ids)
    entries: list[JournalEntry] = []
    for kind, model, action_field, describe in _SOURCES:
        rows = (
            model.history.filter(**{f"{action_field}__in": action_ids})
            .select_related("history_user")
            .order_by("id", "history_id")
        )
        for _, versions in groupby(rows, key=lambda row: row.id):
            previous = None
            for row in versions:
                if row.history_change_reason == IMPORT_REASON:
                    lines = []  # a plan's first import is the baseline, not news
                elif row.history_type == "-":
                    lines = [_REMOVED[kind](row)]
                elif row.history_type == "+":
                    lines = describe(None, row)
                else:
                    # A change with no earlier record to compare with says nothing readable.
                    lines = describe(previous, row) if previous is not None else []
                previous = row
                if since is not None and row.history_date < since:
                    continue
                entries.extend(
                    JournalEntry(
                        row.history_date,
                        getattr(row, action_field),
                        row.history_user,
                        kind,
                        line,
                        row.history_change_reason or "",
                    )
                    for line in lines
                )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries
