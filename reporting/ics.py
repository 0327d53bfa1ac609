"""Calendar feeds (iCalendar, RFC 5545) of a plan or of one commune, for the élus' agendas.

One all-day event per dated calendar entry of the fiches, one per governance meeting. Dates
only, no times: an agenda shows them on the right day in every time zone, with no VTIMEZONE.
Written by hand (escaping, line folding): it is a few lines of text and needs no dependency.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from actions.models import Action, CalendarEntry
from axes.models import Plan
from reporting.models import Meeting

PRODID = "-//Suivi CTG//Calendrier du plan d'action//FR"
DOMAIN = "suivi-ctg"
# How often a subscribed agenda should come back for changes.
REFRESH = "PT6H"
# Control characters have no place in an iCalendar TEXT value (RFC 5545, 3.3.11).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Event:
    uid: str
    start: datetime.date
    end: datetime.date  # exclusive, as DTEND is for dates
    summary: str
    description: str = ""
    url: str = ""
    transparent: bool = False


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma and line breaks escaped (RFC 5545, 3.3.11)."""
    value = CONTROL_CHARACTERS.sub(" ", value)
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Content lines longer than 75 octets are folded, never inside a UTF-8 character."""
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        # Continuation lines start with a space, which counts in their 75 octets.
        if size + width > 75:
            parts.append(current)
            current, size = " ", 1
        current += char
        size += width
    parts.append(current)
    return "\r\n".join(parts)


def _date(value: datetime.date) -> str:
    return value.strftime("%Y%m%d")


def calendar(name: str, events: Iterable[Event], *, stamp: datetime.datetime | None = None) -> str:
    """The VCALENDAR text, CRLF line endings, events in date order."""
    stamp = (stamp or timezone.now()).astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        f"NAME:{escape_text(name)}",
        f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH}",
        f"X-PUBLISHED-TTL:{REFRESH}",
    ]
    for event in sorted(events, key=lambda e: (e.start, e.end, e.uid)):
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{_date(event.start)}",
            f"DTEND;VALUE=DATE:{_date(event.end)}",
            f"SUMMARY:{escape_text(event.summary)}",
        ]
        if event.description:
            lines.append(f"DESCRIPTION:{escape_text(event.description)}")
        if event.url:
            lines.append(f"URL:{event.url}")
        if event.transparent:
            lines.append("TRANSP:TRANSPARENT")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def entry_event(entry: CalendarEntry, url: str) -> Event:
    """A dated calendar entry, all day from its start to its end. An entry with one date only
    ("2025 et après", "jusqu'à juin 2025") is shown on that day."""
    action = entry.action
    start = entry.start or entry.end
    end = entry.end or entry.start
    description = f"Action {action.number} : {action.fiche_title}"
    if entry.description:
        description += f"\n{entry.description}"
    return Event(
        uid=f"calendar-{entry.pk}@{DOMAIN}",
        start=start,
        end=end + datetime.timedelta(days=1) if end < datetime.date.max else end,
        summary=f"Action {action.number} : {entry.label}",
        description=description,
        url=url,
        # A period of work: it does not make anyone busy.
        transparent=True,
    )


def meeting_event(meeting: Meeting, plan: Plan, url: str) -> Event:
    description = f"{meeting} — {plan.title}, {plan.territory}"
    if meeting.agenda:
        description += f"\nOrdre du jour :\n{meeting.agenda}"
    return Event(
        uid=f"meeting-{meeting.pk}@{DOMAIN}",
        start=meeting.date,
        end=meeting.date + datetime.timedelta(days=1) if meeting.date < datetime.date.max else meeting.date,
        summary=f"{meeting.get_instance_display()} — {plan.territory}",
        description=description,
        url=url,
    )


def plan_events(plan: Plan, actions, absolute: Callable[[str], str]) -> list[Event]:
    """The events of `actions` (fiches of `plan`) and of the plan's meetings. Two queries.

    `absolute` turns a path into the full URL an agenda links to.
    """
    entries = (
        CalendarEntry.objects.filter(action__in=actions.values("pk"))
        .exclude(start=None, end=None)
        .select_related("action")
    )
    events = [entry_event(entry, absolute(_fiche_path(plan, entry.action))) for entry in entries]
    events += [
        meeting_event(meeting, plan, absolute(_meeting_path(plan, meeting)))
        for meeting in plan.meetings.all()
    ]
    return events


def _fiche_path(plan: Plan, action: Action) -> str:
    action.plan = plan  # already at hand: saves a query per fiche
    return action.get_absolute_url()


def _meeting_path(plan: Plan, meeting: Meeting) -> str:
    return reverse("meeting_detail", kwargs={"slug": plan.slug, "pk": meeting.pk})
