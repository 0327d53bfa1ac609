"""Documents attached to fiches, notes and meetings: what is accepted, how it is stored, who
reads and who changes it. One place for each rule; the views only call these.

A file is accepted when its extension is one of KINDS and its bytes are what that extension
says (magic bytes; the inner parts of an OOXML or ODF container; the streams of a legacy OLE
document), with no macros. It is refused in French before anything is written: no row, no
file in storage. Storage goes through Django's storage API (STORAGES["default"]: the file
system under MEDIA_ROOT, or S3-compatible storage through django-storages), under a random
name; the file is read back only through `download()`, as an attachment.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

import olefile
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import FileResponse
from django.utils import timezone

from actions.models import Action, Note
from axes.models import Plan
from reporting.models import Document, Meeting

MAX_NAME = 150  # characters kept of a file's name, extension included


@dataclass(frozen=True)
class Kind:
    label: str
    content_type: str


_OOXML = "application/vnd.openxmlformats-officedocument"
_ODF = "application/vnd.oasis.opendocument"
KINDS: dict[str, Kind] = {
    "pdf": Kind("PDF", "application/pdf"),
    "docx": Kind("Word", f"{_OOXML}.wordprocessingml.document"),
    "xlsx": Kind("Excel", f"{_OOXML}.spreadsheetml.sheet"),
    "pptx": Kind("PowerPoint", f"{_OOXML}.presentationml.presentation"),
    "odt": Kind("texte OpenDocument", f"{_ODF}.text"),
    "ods": Kind("tableur OpenDocument", f"{_ODF}.spreadsheet"),
    "odp": Kind("présentation OpenDocument", f"{_ODF}.presentation"),
    "doc": Kind("Word 97-2003", "application/msword"),
    "xls": Kind("Excel 97-2003", "application/vnd.ms-excel"),
    "png": Kind("image PNG", "image/png"),
    "jpg": Kind("image JPEG", "image/jpeg"),
    "jpeg": Kind("image JPEG", "image/jpeg"),
    "webp": Kind("image WebP", "image/webp"),
}
ACCEPTED = ", ".join(f".{ext}" for ext in KINDS)
# What the file chooser proposes (the server checks anyway).
ACCEPT_ATTRIBUTE = ",".join(f".{ext}" for ext in KINDS)

# The part an OOXML package of each kind must hold.
_OOXML_MAIN = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml"}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def max_size() -> int:
    return settings.DOCUMENT_MAX_SIZE_MB * 1024 * 1024


def size_limit_label() -> str:
    return f"{settings.DOCUMENT_MAX_SIZE_MB} Mo"


def human_size(size: int) -> str:
    """A size as French offices write it: "850 ko", "1,4 Mo" (Django's filter says "Mio")."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} ko"
    return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")


def hint() -> str:
    """What the upload form says under its field."""
    return (
        f"PDF, documents bureautiques (.docx, .xlsx, .pptx, .odt, .ods, .odp, .doc, .xls) ou images "
        f"(.png, .jpg, .webp), {size_limit_label()} au plus."
    )


def clean_name(raw: str) -> str:
    """The name shown and given back on download: no folder, no control or invisible
    character, accents kept (NFC), at most MAX_NAME characters with its extension."""
    name = unicodedata.normalize("NFC", str(raw))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(
        ch for ch in _CONTROL.sub("", name) if unicodedata.category(ch) not in {"Cf", "Co", "Cs", "Cn"}
    )
    name = re.sub(r"\s+", " ", name).strip(" .")
    name = re.sub(r'[<>:"|?*]', "_", name)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = ext[:10]
    room = MAX_NAME - (len(ext) + 1 if ext else 0)
    stem = stem[:room].rstrip(" .") or "document"
    return f"{stem}.{ext}" if ext else stem


def extension(name: str) -> str:
    return PurePosixPath(name).suffix.lower().lstrip(".")


def _refuse(message: str):
    raise ValidationError(message, code="invalid")


def _mismatch(ext: str):
    _refuse(
        f"Le contenu du fichier ne correspond pas à son extension .{ext} : ce n'est pas un fichier "
        f"{KINDS[ext].label} valide. Rien n'a été enregistré."
    )


def _check_zip(upload, ext: str) -> None:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
            if ext in _OOXML_MAIN:
                if "[Content_Types].xml" not in names or _OOXML_MAIN[ext] not in names:
                    _mismatch(ext)
                types = archive.getinfo("[Content_Types].xml")
                if types.file_size > 1_000_000:
                    _mismatch(ext)
                content_types = archive.read(types).decode("utf-8", "replace")
                if "macroEnabled" in content_types or any(
                    n.lower().endswith("vbaproject.bin") for n in names
                ):
                    _refuse(
                        "Les documents contenant des macros ne sont pas acceptés. Rien n'a été enregistré."
                    )
            else:
                # ODF: the first entry is "mimetype", stored, holding the document's type.
                first = infos[0] if infos else None
                if first is None or first.filename != "mimetype" or first.file_size > 200:
                    _mismatch(ext)
                if archive.read(first).decode("ascii", "replace").strip() != KINDS[ext].content_type:
                    _mismatch(ext)
                if any(n.startswith(("Basic/", "Scripts/")) for n in names):
                    _refuse(
                        "Les documents contenant des macros ne sont pas acceptés. Rien n'a été enregistré."
                    )
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, RuntimeError, NotImplementedError):
        _mismatch(ext)


def _check_ole(upload, ext: str) -> None:
    upload.seek(0)
    try:
        with olefile.OleFileIO(upload) as ole:
            streams = {"/".join(entry).lower() for entry in ole.listdir(streams=True, storages=True)}
    except (OSError, ValueError, IndexError, TypeError):  # olefile's errors on a damaged file
        _mismatch(ext)
    wanted = {"doc": {"worddocument"}, "xls": {"workbook", "book"}}[ext]
    if not streams & wanted:
        _mismatch(ext)
    if any(s == "macros" or s.startswith("macros/") or "_vba_project" in s for s in streams):
        _refuse("Les documents contenant des macros ne sont pas acceptés. Rien n'a été enregistré.")


def check(upload, *, limit: bool = True) -> tuple[str, Kind]:
    """The cleaned name and kind of an uploaded file, or a ValidationError in French."""
    name = clean_name(upload.name or "")
    ext = extension(name)
    if upload.size == 0:
        _refuse("Le fichier est vide. Rien n'a été enregistré.")
    if limit and upload.size > max_size():
        _refuse(
            f"Le fichier dépasse la taille maximale de {size_limit_label()} "
            f"(il fait {human_size(upload.size)}). Rien n'a été enregistré."
        )
    if ext not in KINDS:
        shown = f"« .{ext} »" if ext else "sans extension"
        _refuse(f"Ce type de fichier ({shown}) n'est pas accepté. Types acceptés : {ACCEPTED}.")
    upload.seek(0)
    head = upload.read(16)
    if ext == "pdf":
        ok = head.startswith(b"%PDF-")
    elif ext == "png":
        ok = head.startswith(b"\x89PNG\r\n\x1a\n")
    elif ext in {"jpg", "jpeg"}:
        ok = head.startswith(b"\xff\xd8\xff")
    elif ext == "webp":
        ok = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    elif ext in {"doc", "xls"}:
        ok = head.startswith(_OLE)
        if ok:
            _check_ole(upload, ext)
    else:
        ok = head.startswith(b"PK\x03\x04")
        if ok:
            _check_zip(upload, ext)
    if not ok:
        _mismatch(ext)
    upload.seek(0)
    return name, KINDS[ext]


def _digest(upload) -> str:
    sha = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        sha.update(chunk)
    upload.seek(0)
    return sha.hexdigest()


def store(
    upload,
    *,
    plan: Plan,
    by,
    action=None,
    note=None,
    meeting=None,
    limit: bool = True,
    uploaded_at=None,
    uploaded_by_name: str | None = None,
) -> Document:
    """Check then store a file and its row. Refused (ValidationError): nothing written. The
    file is written before the row; if the row cannot be, the file goes too. A restore gives
    the date and signature the backup kept."""
    checked, kind = check(upload, limit=limit)
    signed = getattr(by, "pk", None) is not None
    if uploaded_by_name is None:
        uploaded_by_name = (by.get_full_name() or by.get_username()) if signed else ""
    document = Document(
        plan=plan,
        action=note.action if note is not None else action,
        note=note,
        meeting=meeting,
        name=checked,
        content_type=kind.content_type,
        size=upload.size,
        sha256=_digest(upload),
        uploaded_at=uploaded_at or timezone.now(),
        uploaded_by=by if signed else None,
        uploaded_by_name=uploaded_by_name,
    )
    document.file.save(document.name, upload, save=False)
    try:
        with transaction.atomic():
            document._history_user = by if signed else None
            document.save()
    except Exception:
        document.file.storage.delete(document.file.name)
        raise
    return document


def delete(document: Document, *, by) -> None:
    """Delete the row (journaled) and, once the transaction commits, the file."""
    storage, stored = document.file.storage, document.file.name
    document._history_user = by
    document.delete()
    transaction.on_commit(lambda: storage.delete(stored))


def delete_files_of(documents) -> None:
    """For a deletion that cascades (a meeting): the files go once the rows have gone."""
    stored = [(d.file.storage, d.file.name) for d in documents]
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in stored])


def download(document: Document) -> FileResponse:
    """The file as an attachment (never shown inline), with its checked type."""
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------------------
# Who may read and who may change a document: the plans' and fiches' own rules.


def readable_by(user):
    """Documents of the plans the user may read (correlated to each document's plan)."""
    return Document.objects.filter(Exists(Plan.objects.visible_to(user).filter(pk=OuterRef("plan_id"))))


def may_change(user, document: Document) -> bool:
    """Adding or deleting: the meeting's managers; the fiche's editors; for a note's document,
    also the note's author while they may still write notes on the fiche. Closed plans: no one."""
    if document.meeting_id:
        return Plan.objects.managed_by(user).filter(pk=document.plan_id).exists()
    if Action.objects.editable_by(user).filter(pk=document.action_id).exists():
        return True
    if document.note_id and document.note.author_id == user.pk:
        return Action.objects.notable_by(user).filter(pk=document.action_id).exists()
    return False


def notes_open_to(user, action: Action, *, can_edit: bool):
    """The notes of a fiche the user may attach documents to."""
    notes = Note.objects.filter(action=action).order_by("-date", "-pk")
    return notes if can_edit else notes.filter(author=user)


def meeting_documents(meeting: Meeting):
    return list(meeting.documents.order_by("uploaded_at", "pk"))
