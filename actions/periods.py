"""Read the free-text calendar labels of fiches-action as date ranges.

Labels are typed by people ("Début 2024", "Rentrée 2024", "Fin 2024 et après").
The app only needs year/semester precision for its timeline and a trustworthy
last end date for the "en retard" flag, so each recognised form maps to a fixed
span. Anything not read with confidence gives None and stays plain text: a
guessed date could flag a fiche as late for no reason.

Standard library only, so that imports, scripts and tests can use it without
Django.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Period:
    start: date | None
    end: date | None  # None = open-ended


# Outside this window a four-digit number is more likely a code or a typo.
MIN_YEAR, MAX_YEAR = 1900, 2100

# Full names plus the abbreviations seen in plans ("janv.", "sept."); keys are
# accent-free because labels are normalised before lookup.
MONTHS = {
    **dict.fromkeys(("janvier", "janv", "jan"), 1),
    **dict.fromkeys(("fevrier", "fevr", "fev"), 2),
    **dict.fromkeys(("mars", "mar"), 3),
    **dict.fromkeys(("avril", "avr"), 4),
    "mai": 5,
    "juin": 6,
    **dict.fromkeys(("juillet", "juil", "juill"), 7),
    "aout": 8,
    **dict.fromkeys(("septembre", "sept", "sep"), 9),
    **dict.fromkeys(("octobre", "oct"), 10),
    **dict.fromkeys(("novembre", "nov"), 11),
    **dict.fromkeys(("decembre", "dec"), 12),
}

# Word(s) written before a year -> (start month, start day, end month, end day).
# End days are clamped to the month length, so 31 reads "end of the month" and
# the same entry works for February in leap and common years.
SPANS: dict[str, tuple[int, int, int, int]] = {
    "": (1, 1, 12, 31),
    "annee": (1, 1, 12, 31),
    "debut": (1, 1, 3, 31),
    "mi": (5, 1, 8, 31),
    "milieu": (5, 1, 8, 31),
    "fin": (10, 1, 12, 31),
    # Schools restart in September; October absorbs the usual slippage of
    # actions announced "à la rentrée".
    "rentree": (9, 1, 10, 31),
    # Summer in a work plan means the July-August holidays, not the solstice.
    "ete": (7, 1, 8, 31),
    "printemps": (3, 21, 6, 20),
    "automne": (9, 22, 12, 20),
    # Astronomical winter straddles two years. "Hiver 2024" is the winter lived
    # in early 2024; its December 2023 part is dropped so that the label stays
    # inside its own year on the year-level timeline.
    "hiver": (1, 1, 3, 20),
    **{name: (month, 1, month, 31) for name, month in MONTHS.items()},
}

# Ordinals as written in "1er semestre", "2nd semestre", "3e trimestre"...
_ORDINALS = {
    1: "1 1er 1re 1ere premier premiere",
    2: "2 2e 2eme 2nd 2nde second seconde deuxieme",
    3: "3 3e 3eme troisieme",
    4: "4 4e 4eme quatrieme",
}
_SEMESTERS = {1: (1, 1, 6, 30), 2: (7, 1, 12, 31)}
_QUARTERS = {n: (3 * n - 2, 1, 3 * n, 31) for n in range(1, 5)}
for _letter, _words, _table in (
    ("s", ("semestre", "sem"), _SEMESTERS),
    ("t", ("trimestre", "trim"), _QUARTERS),
):
    for _n, _span in _table.items():
        SPANS[f"{_letter}{_n}"] = _span
        SPANS.update({f"{o} {w}": _span for o in _ORDINALS[_n].split() for w in _words})

_PUNCTUATION = str.maketrans(dict.fromkeys("‐‑‒–—―−", "-") | dict.fromkeys("’‘ʼ`´", "'"))
_FLAGS = re.ASCII
_YEAR_SUFFIX = re.compile(r"(\d{4})$", _FLAGS)
_ANY_YEAR = re.compile(r"\d{4}", _FLAGS)
# Articles and prepositions that add nothing: "en mars 2025", "à l'automne 2024".
_FILLER = re.compile(r"(?:(?:en|courant|au|a|la|le)\s+|l')*", _FLAGS)
_DAY_NUMERIC = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", _FLAGS)
_DAY_NAMED = re.compile(r"(\d{1,2}|1er|premier) ([a-z]+) (\d{4})", _FLAGS)
_MONTH_NUMERIC = re.compile(r"(\d{1,2})[/.-](\d{4})", _FLAGS)
_NAMED_YEAR = re.compile(r"(?:(.+?) )?(\d{4})", _FLAGS)
_RANGE_LEAD = re.compile(r"(?:de|du)\s+|d'", _FLAGS)
_RANGE_SEPARATOR = re.compile(r"\s*[-/]\s*|\s+(?:a|au|jusqu'(?:a|au|en))\s+", _FLAGS)

# "Année scolaire 2025-2026" (or "2025/26", or the first year alone): from the first of
# September to the end of August, the year a school plans its actions in.
_SCHOOL_YEAR = re.compile(
    r"(?:annee|saison) (?:scolaire|universitaire) (\d{4})(?:\s*[-/]\s*(\d{2}|\d{4}))?", _FLAGS
)

# Wordings that leave one side open: (pattern, keep start, keep end). Suffixes
# are anchored at the end and prefixes at the start, so removing the match
# always leaves the inner period.
_OPEN_ENDED = (
    (re.compile(r"\s+et\s+(?:apres|suivant(?:e?s)?|au-dela)$"), True, False),
    (
        re.compile(r"^(?:(?:a partir|a compter)\s+(?:de|du|d')|des\b|depuis\b)\s*"),
        True,
        False,
    ),
    # "Avant juin 2025" keeps the end of June: labels are soft deadlines, and
    # flagging a fiche late a few weeks early would be worse than late.
    (re.compile(r"^(?:jusqu(?:'|e\b)?|avant\b|d'ici\b)\s*"), False, True),
)


def parse_period(label: str) -> Period | None:
    """None when the label is not a period (kept as text, no dates)."""
    if not isinstance(label, str):
        return None
    text = _normalize(label)
    for pattern, keep_start, keep_end in _OPEN_ENDED:
        if match := pattern.search(text):
            inner = _parse_span(text[: match.start()] + text[match.end() :])
            if inner is None:
                return None
            return Period(inner.start if keep_start else None, inner.end if keep_end else None)
    return _parse_span(text)


def _normalize(label: str) -> str:
    text = unicodedata.normalize("NFKD", label.translate(_PUNCTUATION).casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"(?<=[a-z])\.", " ", text)  # "janv. 2024", "sept.2024"
    text = re.sub(r"\s*'\s*", "'", text)
    # "Mi-2024" and "S1-2024" name one period; the dash must not read as a range.
    text = re.sub(r"\b(mi|[st][1-4])\s*-\s*", r"\1 ", text)
    text = re.sub(r"\s+(?:de l'|d')annee\b(?! (?:scolaire|universitaire))", "", text)  # "fin d'année 2024"
    # "Rentrée scolaire 2025" is the "Rentrée 2025" of the spans below.
    text = re.sub(r"\brentree (?:scolaire|des classes)\b", "rentree", text)
    return " ".join(text.strip(" .,;:!?").split())


def _parse_span(text: str) -> Period | None:
    """A single period, or a range "A - B" / "de A à B" from start of A to end of B."""
    if (single := _parse_single(text)) is not None:
        return single
    text = _RANGE_LEAD.sub("", text, count=1)
    # Several separators may appear ("15/03/2025 - 30/06/2025"): try each split.
    for sep in _RANGE_SEPARATOR.finditer(text):
        left, right = text[: sep.start()], text[sep.end() :]
        if (last := _parse_single(right)) is None:
            continue
        first = _parse_single(left)
        # "Mars - juin 2025": the first bound borrows the year of the second.
        year = _YEAR_SUFFIX.search(right)
        if first is None and year and not _ANY_YEAR.search(left):
            first = _parse_single(f"{left} {year[1]}")
        if first is not None and first.start <= last.end:
            return Period(first.start, last.end)
    return None


def _parse_single(text: str) -> Period | None:
    text = text[_FILLER.match(text).end() :]
    if m := _SCHOOL_YEAR.fullmatch(text):
        return _school_year(int(m[1]), m[2])
    if m := _DAY_NUMERIC.fullmatch(text):
        day, month, year = int(m[1]), int(m[2]), int(m[3])
        return _period(year, (month, day, month, day))
    # Ordinals share this shape ("1er semestre 2024"): only a month name is a day.
    if (m := _DAY_NAMED.fullmatch(text)) and (month := MONTHS.get(m[2])):
        day = 1 if m[1] in ("1er", "premier") else int(m[1])
        return _period(int(m[3]), (month, day, month, day))
    if m := _MONTH_NUMERIC.fullmatch(text):
        month = int(m[1])
        return _period(int(m[2]), (month, 1, month, 31))
    if m := _NAMED_YEAR.fullmatch(text):
        span = SPANS.get(m[1] or "")
        return _period(int(m[2]), span) if span else None
    return None


def _school_year(first: int, second: str | None) -> Period | None:
    if second is not None and int(second) not in (first + 1, (first + 1) % 100):
        return None  # "2025-2027" is not one school year
    if not MIN_YEAR <= first < MAX_YEAR:
        return None
    return Period(date(first, 9, 1), date(first + 1, 8, 31))


def _period(year: int, span: tuple[int, int, int, int]) -> Period | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    start_month, start_day, end_month, end_day = span
    try:
        start = date(year, start_month, start_day)
        end_day = min(end_day, calendar.monthrange(year, end_month)[1])
        return Period(start, date(year, end_month, end_day))
    except ValueError:  # "31/02/2025", month 13 (IllegalMonthError is a ValueError)
        return None
