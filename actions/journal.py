"""The journal of a plan's fiches, read from django-simple-history's records.

Each historical row is compared with the previous row of the same object, and each change a
person would care about becomes one French line: "Statut : à venir → en cours". The same
function serves the fiche page and, later, "what changed since the last COPIL".
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from types import SimpleNamespace

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    F,
    Func,
    JSONField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import JSONObject
from django.utils import timezone

from actions.amounts import euros
from actions.models import (
    IMPORT_REASON,
    IMPORT_REASON_PREFIX,
    Action,
    ActionPartner,
    CalendarEntry,
    Condition,
    Financing,
    Note,
    Status,
    Step,
    TagChange,
)
from actions.prepared import MOMENT, OBJECT_ID, Prepared


@dataclass(frozen=True)
class Stamp:
    """A history row's moment as the fiche page prints it, made once per row (a row can make
    several lines): the time zone and strftime cost the page more than the rest of a line."""

    key: str  # entry_key(): the line's place in the journal
    iso: str  # `<time datetime>`: 2026-11-30T14:05:00+0100
    day: str  # 30/11/2026
    hour: str  # 14:05

    @classmethod
    def of(cls, at: datetime.datetime, row: int, zone=None) -> Stamp:
        """strftime's "%Y-%m-%dT%H:%M:%S%z", "%d/%m/%Y" and "%H:%M" of the local moment, written
        with format specifiers (half the time of strftime and its time zone lookups)."""
        local = at.astimezone(zone or timezone.get_current_timezone())
        offset = local.utcoffset()
        day, hour = (
            f"{local.day:02d}/{local.month:02d}/{local.year:04d}",
            f"{local.hour:02d}:{local.minute:02d}",
        )
        if offset.seconds % 60 or offset.microseconds:  # never in France: strftime's +HHMMSS
            iso = local.strftime("%Y-%m-%dT%H:%M:%S%z")
        else:
            minutes = offset.days * 1440 + offset.seconds // 60
            sign, minutes = ("-", -minutes) if minutes < 0 else ("+", minutes)
            date = f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
            iso = f"{date}T{hour}:{local.second:02d}{sign}{minutes // 60:02d}{minutes % 60:02d}"
        return cls(entry_key(at, row), iso, day, hour)


@dataclass(frozen=True)
class JournalEntry:
    at: datetime.datetime
    action_id: int
    user: object | None  # the user who made the change; None for imports and commands
    # "action", "step", "calendar", "partner", "condition", "note", "financing", "document", "tags"
    kind: str
    text: str
    reason: str = ""  # "import du 30/11/2026 de val-aigo.xlsx" for a change an import made
    row: int = 0  # the history row's id (in its kind's table), after `at` in the journal's order
    # Made once for the row's lines by journal(); worked out here for an entry built elsewhere.
    stamp: Stamp | None = dataclasses.field(default=None, compare=False, repr=False)

    @cached_property
    def moment(self) -> Stamp:
        return self.stamp or Stamp.of(self.at, self.row)

    @property
    def key(self) -> str:
        """The line's place in the journal, as text that sorts like it: the page marks each
        line with it and, after a write, asks for the lines newer than its newest."""
        return self.moment.key

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

    # What the fiche page prints of the moment (Stamp): the `date` filter costs the page more
    # than the rest of a line when the journal shows fifty of them.
    @property
    def iso(self) -> str:
        return self.moment.iso

    @property
    def day(self) -> str:
        return self.moment.day

    @property
    def hour(self) -> str:
        return self.moment.hour

    @property
    def author(self) -> str:
        """Who made the change: "Claire Dupont", "Claire Dupont (import du 30/11/2026 de
        val-aigo.xlsx)", or the import alone when a command made it."""
        imported = self.reason if self.reason.startswith(IMPORT_REASON_PREFIX) else ""
        if self.user is None:
            return imported or "import ou commande"
        name = self.user.get_full_name() or self.user.get_username()
        return f"{name} ({imported})" if imported else name


# "20261130215418123456-000000004242": the moment in UTC to the microsecond, then the row.
KEY = re.compile(r"[0-9]{20}-[0-9]{12,19}")  # ASCII digits only: the header comes from the browser


def entry_key(at: datetime.datetime, row: int) -> str:
    u = at.astimezone(datetime.UTC)  # format specifiers: strftime costs twice as much
    return (
        f"{u.year:04d}{u.month:02d}{u.day:02d}{u.hour:02d}{u.minute:02d}{u.second:02d}"
        f"{u.microsecond:06d}-{row:012d}"
    )


def _quote(text: str, limit: int = 90) -> str:
    text = " ".join(str(text).split())
    return f"« {text[: limit - 1]}… »" if len(text) > limit else f"« {text} »"


_STATUS_LABELS = {status.value: status.label.lower() for status in Status}


def _status(value: str) -> str:
    return _STATUS_LABELS.get(value, value)


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


def _financing_label(line) -> str:
    amounts = [
        f"{label} {euros(getattr(line, name))}"
        for name, label in (("planned", "prévu"), ("granted", "accordé"), ("spent", "dépensé"))
        if getattr(line, name) is not None
    ]
    head = " — ".join(str(part) for part in (line.funder, line.scheme, line.year) if part)
    return f"{head} ({', '.join(amounts)})" if amounts else head


def _financing_lines(old, new) -> list[str]:
    if old is None:
        return [f"Ligne de financement ajoutée : {_quote(_financing_label(new))}"]
    before, after = _financing_label(old), _financing_label(new)
    return [f"Financement : {_quote(before)} → {_quote(after)}"] if before != after else []


def _names(names: list[str]) -> str:
    quoted = [_quote(name) for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} et {quoted[-1]}"


def _tag_lines(old, new) -> list[str]:
    """ "Thématiques : ajouté « Parentalité » ; retiré « Jeunesse »" (TagChange rows)."""
    added, removed = (json.loads(v) if isinstance(v, str) else v for v in (new.added, new.removed))
    parts = [f"{verb} {_names(names)}" for verb, names in (("ajouté", added), ("retiré", removed)) if names]
    return [f"{TagChange.Field(new.field).label} : {' ; '.join(parts)}"] if parts else []


def _note_lines(old, new) -> list[str]:
    return [f"Note de suivi ajoutée : {_quote(new.text)}"] if old is None else []


def _document_lines(old, new) -> list[str]:
    return [f"Document joint : {_quote(new.name)}"] if old is None else []


_REMOVED = {
    "document": lambda row: f"Document supprimé : {_quote(row.name)}",
    "step": lambda row: f"Étape supprimée : {_quote(row.text)}",
    "calendar": lambda row: f"Échéance supprimée : {_quote(_calendar_label(row))}",
    "partner": lambda row: f"Partenaire retiré : {_quote(_partner_label(row))}",
    "condition": lambda row: f"Condition supprimée : {_quote(row.text)}",
    "note": lambda row: f"Note de suivi supprimée : {_quote(row.text)}",
    "financing": lambda row: f"Ligne de financement supprimée : {_quote(_financing_label(row))}",
    "action": lambda row: "Fiche supprimée",
}


@dataclass(frozen=True)
class _Source:
    kind: str
    model: type
    action_field: str  # the field of the historical row holding the fiche's id
    describe: Callable
    fields: tuple[str, ...]  # what `describe` reads of a row
    dates: tuple[str, ...] = ()  # those of `fields` that are dates (JSON carries them as text)
    amounts: tuple[str, ...] = ()  # those that are decimals (JSON carries them as numbers)
    # Where the rows come from when they are not django-simple-history's: rows(action_ids,
    # since, limit) with the same columns as _rows() (TagChange: a change per row).
    rows: Callable | None = None


_SOURCES = [
    _Source(
        "action",
        Action,
        "id",
        _action_lines,
        ("status", "progress", "title", "fiche_title", "pilotage", "archived_at"),
    ),
    _Source("step", Step, "action_id", _step_lines, ("text", "done", "position")),
    _Source(
        "calendar",
        CalendarEntry,
        "action_id",
        _calendar_lines,
        ("label", "description", "start", "end"),
        dates=("start", "end"),
    ),
    _Source("partner", ActionPartner, "action_id", _partner_lines, ("name", "role", "organisation_id")),
    _Source("condition", Condition, "action_id", _condition_lines, ("text",)),
    _Source("note", Note, "action_id", _note_lines, ("text",)),
    _Source(
        "financing",
        Financing,
        "action_id",
        _financing_lines,
        ("funder", "scheme", "year", "planned", "granted", "spent"),
        amounts=("planned", "granted", "spent"),
    ),
]


def _sources() -> list[_Source]:
    """The kinds of history a fiche's journal reads; documents (reporting.Document, joined to
    the fiche or its notes) reached by their relation: actions does not import reporting.
    The changes of themes and publics come last (their NULL `previous` takes its type from
    the branches before it on PostgreSQL)."""
    document = Action._meta.get_field("documents").related_model
    return [
        *_SOURCES,
        _Source("document", document, "action_id", _document_lines, ("name",)),
        _Source("tags", TagChange, "action_id", _tag_lines, ("field", "added", "removed"), rows=_tag_rows),
    ]


@dataclass(frozen=True)
class _Author:
    """Who made a change, read with the history row (a join, not a query per row)."""

    pk: int
    username: str
    first_name: str
    last_name: str

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_username(self) -> str:
        return self.username


class _Before(Func):
    """The rows of the same object before this one (with `id = outer id`), as one range of the
    (id, history_id) index (migration actions 0011).

    PostgreSQL: `(id, history_id) < (outer id, outer history_id)`. Asked `history_id < outer
    history_id`, its planner costs the primary key walked backwards the same as that index
    and took it on some statistics: a quiet fiche's line after 20,000 rows of a busy fiche
    then read all of them. A row comparison only the (id, history_id) index serves.
    SQLite: `history_id < outer history_id`, which its index on id (ending with the rowid,
    history_id) serves as a range; it would scan the object's rows for the row comparison."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        parts = [compiler.compile(expression) for expression in self.get_source_expressions()]
        sql = "({}, {}) < ({}, {})".format(*(part for part, _ in parts))
        return sql, tuple(param for _, params in parts for param in params)

    def as_sqlite(self, compiler, connection, **extra_context):
        _, row, _, outer_row = self.get_source_expressions()
        (left, left_params), (right, right_params) = compiler.compile(row), compiler.compile(outer_row)
        return f"{left} < {right}", (*left_params, *right_params)


def _rows(source: _Source, action_ids, since, limit, fresh=None):
    """The history rows of one kind, as plain values, each carrying the fields of the row
    before it (same object) in `previous`: one correlated subquery per row, served by the
    index on the object's id, so the cost follows the rows shown, not the rows kept. With
    `fresh`, only the rows from that moment on carry their fields; the others their place."""
    history = source.model.history.model
    data = JSONObject(**{name: name for name in source.fields})
    rows = history.objects.filter(**{f"{source.action_field}__in": action_ids}).exclude(
        history_change_reason=IMPORT_REASON  # a plan's first import is the baseline, not news
    )
    if since is not None:
        rows = rows.filter(history_date__gte=since)
    if limit is not None:
        # LIMIT inside IN (…): SQLite refuses a LIMIT on a member of a UNION, not in a subquery.
        latest = rows.order_by("-history_id").values("history_id")[:limit]
        rows = history.objects.filter(history_id__in=Subquery(latest))
    previous = (
        history.objects.filter(
            _Before("id", "history_id", OuterRef("id"), OuterRef("history_id")), id=OuterRef("id")
        )
        .order_by("-history_id")
        .values(row=JSONObject(**{name: name for name in source.fields}))[:1]
    )
    previous = Subquery(previous, output_field=JSONField())
    if fresh is not None:
        data = Case(When(Q(history_date__gte=fresh), then=data), output_field=JSONField())
        previous = Case(When(Q(history_date__gte=fresh), then=previous), output_field=JSONField())
    return rows.order_by().values(
        j_kind=Value(source.kind, output_field=CharField()),
        j_fiche=F(source.action_field),
        j_hid=F("history_id"),
        j_at=F("history_date"),
        j_change=F("history_type"),
        j_reason=F("history_change_reason"),
        j_uid=F("history_user_id"),
        j_username=F("history_user__username"),
        j_first_name=F("history_user__first_name"),
        j_last_name=F("history_user__last_name"),
        j_data=data,
        j_previous=previous,
    )


def _tag_rows(action_ids, since, limit):
    """TagChange rows in the columns of _rows(): each one a change ("+"), complete in itself."""
    rows = TagChange.objects.filter(action_id__in=action_ids).exclude(reason=IMPORT_REASON)
    if since is not None:
        rows = rows.filter(at__gte=since)
    if limit is not None:
        rows = TagChange.objects.filter(id__in=Subquery(rows.order_by("-id").values("id")[:limit]))
    return rows.order_by().values(
        j_kind=Value("tags", output_field=CharField()),
        j_fiche=F("action_id"),
        j_hid=F("id"),
        j_at=F("at"),
        j_change=Value("+", output_field=CharField()),
        j_reason=F("reason"),
        j_uid=F("user_id"),
        j_username=F("user__username"),
        j_first_name=F("user__first_name"),
        j_last_name=F("user__last_name"),
        j_data=JSONObject(field="field", added="added", removed="removed"),
        j_previous=Value(None, output_field=JSONField()),
    )


def _row(source: _Source, values: dict | None, raw: dict):
    if values is None:
        return None
    values = dict(values)
    for name in source.dates:
        if values.get(name):
            values[name] = datetime.date.fromisoformat(values[name][:10])
    for name in source.amounts:
        if values.get(name) is not None:
            values[name] = Decimal(str(values[name]))
    return SimpleNamespace(**values, history_change_reason=raw["j_reason"])


def _query(action_ids, since, limit, fresh=None):
    parts = [
        source.rows(action_ids, since, limit)
        if source.rows
        else _rows(source, action_ids, since, limit, fresh)
        for source in _sources()
    ]
    query = parts[0].union(*parts[1:], all=True).order_by("-j_at", "-j_hid")
    return query if limit is None else query[:limit]


_ONE_FICHE: dict[int | None, Prepared] = {}


def _one_fiche(limit: int | None) -> Prepared:
    """The journal of one fiche, as the fiche page reads it after every write: building this
    UNION of the histories costs the ORM ten times what the database takes to answer it."""
    query = _ONE_FICHE.get(limit)
    if query is None:
        query = Prepared(lambda fiche: _query([fiche], None, limit), fiche=OBJECT_ID)
        query = _ONE_FICHE.setdefault(limit, query)
    return query


_NEWS: dict[int, Prepared] = {}


def _news(limit: int) -> Prepared:
    """The journal of one fiche as `_one_fiche`, the rows before a moment without their fields:
    after a write, the page lacks only the lines since its newest."""
    query = _NEWS.get(limit)
    if query is None:
        query = Prepared(
            lambda fiche, fresh: _query([fiche], None, limit, fresh), fiche=OBJECT_ID, fresh=MOMENT
        )
        query = _NEWS.setdefault(limit, query)
    return query


def journal(
    action_ids, *, since: datetime.datetime | None = None, limit: int | None = None
) -> list[JournalEntry]:
    """Readable changes of the given fiches, newest first: one query (a UNION of the eight
    kinds of history and the changes of themes and publics), whatever the history's length
    when `limit` bounds it. `limit` counts history rows (a row makes one line or a few, a row
    with nothing readable none)."""
    action_ids = list(action_ids)
    if not action_ids:
        return []
    if len(action_ids) == 1 and since is None:
        rows = _one_fiche(limit).run(fiche=action_ids[0])  # the fiche page's: its SQL built once
    else:
        rows = _query(action_ids, since, limit)
    return _entries(rows)


@dataclass(frozen=True)
class JournalUpdate:
    """What a page showing a fiche's journal lacks after a write."""

    entries: list[JournalEntry]  # the lines newer than the page's newest, newest first
    keep_from: str  # the key of the oldest row the journal shows now: older lines leave


def journal_update(action_id: int, *, after: str, limit: int) -> JournalUpdate | None:
    """The lines of `journal([action_id], limit=limit)` newer than the line keyed `after`
    (the newest a page shows), and where that journal now ends: the same query, but only
    the new rows become lines. None when none of the page's lines stays (the journal is
    drawn again)."""
    try:
        fresh = datetime.datetime.strptime(after[:20], "%Y%m%d%H%M%S%f").replace(tzinfo=datetime.UTC)
    except ValueError:
        return None
    rows = _news(limit).run(fiche=action_id, fresh=fresh)
    if not rows:
        return None
    keep_from = entry_key(rows[-1]["j_at"], rows[-1]["j_hid"])
    if keep_from > after:
        return None
    new = [raw for raw in rows if entry_key(raw["j_at"], raw["j_hid"]) > after]
    return JournalUpdate(_entries(new), keep_from)


def _entries(rows) -> list[JournalEntry]:
    sources = {source.kind: source for source in _sources()}
    zone = timezone.get_current_timezone()
    entries: list[JournalEntry] = []
    for raw in rows:
        source = sources[raw["j_kind"]]
        row = _row(source, raw["j_data"], raw)
        if raw["j_change"] == "-":
            lines = [_REMOVED[source.kind](row)]
        elif raw["j_change"] == "+":
            lines = source.describe(None, row)
        else:
            # A change with no earlier record to compare with says nothing readable.
            old = _row(source, raw["j_previous"], raw)
            lines = source.describe(old, row) if old is not None else []
        user = (
            _Author(raw["j_uid"], raw["j_username"], raw["j_first_name"], raw["j_last_name"])
            if raw["j_uid"] is not None and raw["j_username"] is not None
            else None
        )
        if not lines:
            continue
        stamp = Stamp.of(raw["j_at"], raw["j_hid"], zone)
        entries.extend(
            JournalEntry(
                raw["j_at"],
                raw["j_fiche"],
                user,
                source.kind,
                line,
                raw["j_reason"] or "",
                raw["j_hid"],
                stamp,
            )
            for line in lines
        )
    return entries
