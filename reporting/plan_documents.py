"""The plan's documents in the open format: an optional part of a ctg-plan/1 document,
"documents", listing each file's name, what it is joined to, its size, SHA-256, date and who
added it. The bytes are not in the JSON: `manage.py backup` writes them beside it, in
DIR/<slug>/documents/<sha256>, and `import_plan DIR/<slug>.json` reads them back from there,
checking each against its SHA-256 and the rules of an upload (reporting.documents.check).

A document is joined to a fiche (`action`: its number), to a note of that fiche (`note`: its
date, nature and text, as the import matches notes) or to a meeting (`meeting`: its instance
and date, as the import matches meetings). An import never deletes a document; one the plan
already has (same place, name and SHA-256) is left alone. A file alone (no backup folder, as
the import page receives it) restores no document and says so.
"""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File

from actions.models import Action, Note
from actions.plan_io.open_format import Extension
from axes.models import Plan
from reporting import documents
from reporting.models import Document, Instance

SCHEMA: dict[str, Any] = {
    "type": "array",
    "maxItems": 20000,
    "items": {
        "type": "object",
        "required": ["name", "size", "sha256", "uploaded_at"],
        "additionalProperties": False,
        "properties": {
            "action": {"type": "integer", "minimum": 1, "maximum": 32767},
            "note": {
                "type": "object",
                "required": ["date", "kind", "text"],
                "additionalProperties": False,
                "properties": {
                    "date": {"type": "string", "format": "date"},
                    "kind": {"type": "string", "maxLength": 20},
                    "text": {"type": "string", "maxLength": 10000},
                },
            },
            "meeting": {
                "type": "object",
                "required": ["instance", "date"],
                "additionalProperties": False,
                "properties": {
                    "instance": {"enum": list(Instance.values)},
                    "date": {"type": "string", "format": "date"},
                },
            },
            "name": {"type": "string", "minLength": 1, "maxLength": documents.MAX_NAME},
            "content_type": {"type": "string", "maxLength": 120},
            "size": {"type": "integer", "minimum": 1},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "uploaded_at": {"type": "string", "format": "date-time"},
            "uploaded_by": {"type": ["string", "null"], "maxLength": 200},
        },
    },
}


def _folder(plan_folder: Path) -> Path:
    return plan_folder / "documents"


def export(plan: Plan) -> list[dict[str, Any]]:
    """The plan's documents, oldest first. One query."""
    rows = (
        Document.objects.filter(plan=plan)
        .select_related("action", "note", "meeting")
        .order_by("uploaded_at", "pk")
    )
    items = []
    for document in rows:
        item: dict[str, Any] = {}
        if document.meeting_id:
            item["meeting"] = {
                "instance": document.meeting.instance,
                "date": document.meeting.date.isoformat(),
            }
        else:
            item["action"] = document.action.number
            if document.note_id:
                note = document.note
                item["note"] = {"date": note.date.isoformat(), "kind": note.kind, "text": note.text}
        item.update(
            name=document.name,
            content_type=document.content_type,
            size=document.size,
            sha256=document.sha256,
            uploaded_at=document.uploaded_at.isoformat(timespec="seconds"),
            uploaded_by=document.uploaded_by_name or None,
        )
        items.append(item)
    return items


def write_files(plan: Plan, plan_folder: Path) -> int:
    """The plan's documents' bytes, one file per content (named by its SHA-256)."""
    written = 0
    for document in Document.objects.filter(plan=plan).order_by("pk"):
        target = _folder(plan_folder) / document.sha256
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            with document.file.open("rb") as source, target.open("wb") as out:
                for chunk in source.chunks():
                    out.write(chunk)
        written += 1
    return written


def errors(data: dict[str, Any]) -> list[str]:
    """Each document joined to one thing the file has: a fiche (or its note) or a meeting."""
    numbers = {action["number"] for axis in data["axes"] for action in axis["actions"]}
    meetings = {(m["instance"], m["date"]) for m in data.get("meetings", [])}
    found = []
    for i, item in enumerate(data["documents"]):
        place = f"documents[{i}]"
        if ("action" in item) == ("meeting" in item):
            found.append(f"{place} : un document est joint à une fiche (action) ou à une réunion (meeting)")
        elif "note" in item and "action" not in item:
            found.append(f"{place}.note : une note appartient à une fiche (action)")
        elif "action" in item and item["action"] not in numbers:
            found.append(f"{place}.action : fiche n° {item['action']} absente du fichier")
        elif "meeting" in item and (item["meeting"]["instance"], item["meeting"]["date"]) not in meetings:
            found.append(f"{place}.meeting : réunion absente du fichier")
    return found


def changes(plan: Plan | None, items) -> list[str]:
    # The bytes travel only in a backup's folder, read by the command: the import page (a JSON
    # alone) restores none, and says so once applied.
    return []


def _owner(plan: Plan, item: dict[str, Any]) -> dict[str, Any] | None:
    if "meeting" in item:
        day = datetime.date.fromisoformat(item["meeting"]["date"])
        meeting = plan.meetings.filter(instance=item["meeting"]["instance"], date=day).order_by("pk").first()
        return {"meeting": meeting} if meeting else None
    action = Action.all_objects.filter(plan=plan, number=item["action"]).first()
    if action is None:
        return None
    if "note" not in item:
        return {"action": action, "note": None}
    spec = item["note"]
    note = (
        Note.objects.filter(
            action=action,
            date=datetime.date.fromisoformat(spec["date"]),
            kind=spec["kind"],
            text=spec["text"],
        )
        .order_by("pk")
        .first()
    )
    return {"action": action, "note": note} if note else None


def apply(plan: Plan, items, *, by, reason: str, folder: Path | None = None) -> list[str]:
    added, missing, damaged = 0, 0, []
    for item in items:
        owner = _owner(plan, item)
        if owner is None:
            missing += 1
            continue
        if Document.objects.filter(plan=plan, name=item["name"], sha256=item["sha256"], **owner).exists():
            continue
        source = _folder(folder / plan.slug) / item["sha256"] if folder else None
        if source is None or not source.is_file():
            missing += 1
            continue
        data = source.read_bytes()
        if hashlib.sha256(data).hexdigest() != item["sha256"]:
            damaged.append(item["name"])
            continue
        with source.open("rb") as handle:
            upload = File(handle, name=item["name"])
            try:
                documents.store(
                    upload,
                    plan=plan,
                    by=by,
                    limit=False,  # a backup restores what was accepted, whatever the limit now
                    uploaded_at=datetime.datetime.fromisoformat(item["uploaded_at"]),
                    uploaded_by_name=item.get("uploaded_by") or "",
                    **owner,
                )
            except ValidationError:
                damaged.append(item["name"])
                continue
        added += 1
    lines = [f"{added} document(s) restauré(s)."] if added else []
    if missing:
        lines.append(
            f"{missing} document(s) non restauré(s) : leurs fichiers ne sont pas à côté du fichier importé "
            "(restaurez une sauvegarde avec la commande import_plan)."
        )
    if damaged:
        lines.append("Document(s) refusé(s), fichier altéré : " + ", ".join(damaged) + ".")
    return lines


EXTENSION = Extension(
    key="documents",
    schema=SCHEMA,
    export=export,
    errors=errors,
    changes=changes,
    apply=apply,
    write_files=write_files,
)
