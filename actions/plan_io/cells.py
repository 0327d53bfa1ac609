"""Form fields for the cells of the template, each cleaning what people actually type.

A cell arrives as openpyxl (or the .ods reader) gives it: text, a number, a date, a boolean,
or "50 %" for a cell formatted as a percentage. Each field turns it into the value of the open
format, or raises a French message naming what was found and, for a list, every allowed value.
Words are compared accents, case, punctuation and plural aside ("A venir", "à venir",
"Terminées").
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterable

from django import forms
from django.core.exceptions import ValidationError

from actions.periods import MAX_YEAR, MIN_YEAR, MONTHS

YES_WORDS = ("oui", "x", "vrai", "true", "1", "fait", "realise", "termine", "yes")
NO_WORDS = ("non", "faux", "false", "0", "no", "a faire")


def text_of(value) -> str:
    """A cell as text: numbers without a useless ".0", the template's formula guard removed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    # The template neutralises formula-like text with a leading quote: remove it on the way back.
    if text.startswith("'") and text[1:2] in ("=", "+", "-", "@"):
        text = text[1:]
    return text


def _stem(word: str) -> str:
    """Plural and feminine endings off: "terminées", "terminé", "termine" → "termin"."""
    if len(word) > 3 and word.endswith("s"):
        word = word[:-1]
    while len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def fold(text: str) -> str:
    """The comparison key of a typed word: "  À venir. " → "a venir", "Terminées" → "termin"."""
    text = unicodedata.normalize("NFKD", str(text).casefold().replace("’", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^\w']+", " ", text).replace("_", " ")
    return " ".join(_stem(word) for word in text.split())


class Vocabulary:
    """The values of a list, their labels (shown in messages and drop-downs) and synonyms."""

    def __init__(self, labels: dict[str, str], synonyms: dict[str, Iterable[str]] | None = None):
        self.labels = labels  # value → label, in the order offered
        self.lookup: dict[str, str] = {}
        for value, label in labels.items():
            self.lookup[fold(label)] = value
            self.lookup[fold(value)] = value
        for value, words in (synonyms or {}).items():
            for word in words:
                self.lookup.setdefault(fold(word), value)

    def get(self, text: str) -> str | None:
        return self.lookup.get(fold(text))

    def allowed(self) -> str:
        return ", ".join(self.labels.values())


class CellField(forms.Field):
    """A cell: empty is None (or `default`), required cells say so by their header."""

    default = None

    def __init__(self, label: str, *, required: bool = False, default=None, **kwargs):
        super().__init__(label=label, required=required, **kwargs)
        self.default = default
        self.error_messages["required"] = f"« {label} » est obligatoire."

    def __deepcopy__(self, memo):
        # A cell field keeps no state of its own: each row's form shares it instead of deep-copying
        # it (a third of the reading time of a 2,000-row workbook).
        return self

    def to_python(self, value):
        if value is None or (isinstance(value, str) and text_of(value) == ""):
            return None
        return self.convert(value)

    def clean(self, value):
        value = self.to_python(value)
        self.validate(value)
        return self.default if value is None else value

    def convert(self, value):
        return text_of(value)


class TextCell(CellField):
    pass


class ListCell(CellField):
    """Names separated by semicolons (line breaks too): "CAF 31; Commune de X"."""

    def convert(self, value):
        return [part.strip() for part in re.split(r"[;\n]", text_of(value)) if part.strip()]


class IntegerCell(CellField):
    def convert(self, value):
        text = text_of(value)
        if isinstance(value, bool) or not re.fullmatch(r"-?\d+", text):
            raise ValidationError(f"« {self.label} » doit être un nombre entier (trouvé : « {text} »).")
        return int(text)


class YearCell(CellField):
    def convert(self, value):
        text = text_of(value)
        if not re.fullmatch(r"\d{4}", text):
            raise ValidationError(
                f"« {self.label} » doit être une année sur 4 chiffres (trouvé : « {text} »)."
            )
        return int(text)


def _figure(text: str) -> float | None:
    text = text.replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


class NumberCell(CellField):
    """A figure: 12, "12,5", "1 200", "30 %" (a percentage is its number of percent)."""

    def convert(self, value):
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        else:
            number = _figure(text_of(value).rstrip("%").strip())
            if number is None:
                raise ValidationError(
                    f"« {self.label} » doit être un nombre (trouvé : « {text_of(value)} »)."
                )
        return int(number) if number.is_integer() else number


class PercentCell(CellField):
    """An advancement from 0 to 100: 50, "50 %", "50%", a cell formatted 50 % (read "50 %"),
    and 0.5 typed in a cell without format (no fiche is half a percent done)."""

    def convert(self, value):
        text = text_of(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
            if 0 < number < 1:
                number *= 100
        else:
            number = _figure(text.rstrip("%").strip())
        if number is None or not 0 <= number <= 100:
            raise ValidationError(
                f"« {self.label} » doit être un pourcentage de 0 à 100, par exemple 50 ou 50 % "
                f"(trouvé : « {text} »)."
            )
        return round(number)


class ChoiceCell(CellField):
    """One value of a list, recognised by its label, its value or a synonym."""

    def __init__(self, label: str, vocabulary: Vocabulary, **kwargs):
        super().__init__(label, **kwargs)
        self.vocabulary = vocabulary

    def convert(self, value):
        text = text_of(value)
        found = self.vocabulary.get(text)
        if found is None:
            raise ValidationError(
                f"« {text} » n'est pas possible pour « {self.label} » ; valeurs possibles : "
                f"{self.vocabulary.allowed()}."
            )
        return found


class YesNoCell(CellField):
    def convert(self, value):
        if isinstance(value, bool):
            return value
        text = fold(text_of(value))
        if text in {fold(w) for w in YES_WORDS}:
            return True
        if text in {fold(w) for w in NO_WORDS}:
            return False
        raise ValidationError(f"« {self.label} » attend oui ou non (trouvé : « {text_of(value)} »).")


def _plausible(day: datetime.date, shown: str) -> datetime.date:
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValidationError(f"date invraisemblable (« {shown} »).")
    return day


class DateCell(CellField):
    """A day: a date cell, 15/03/2025 or 2025-03-15."""

    def convert(self, value):
        if isinstance(value, datetime.datetime):
            return _plausible(value.date(), f"{value:%d/%m/%Y}").isoformat()
        if isinstance(value, datetime.date):
            return _plausible(value, f"{value:%d/%m/%Y}").isoformat()
        text = text_of(value)
        for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
            try:
                return _plausible(datetime.datetime.strptime(text, pattern).date(), text).isoformat()
            except ValueError:
                continue
        raise ValidationError(f"date « {text} » invalide (attendu JJ/MM/AAAA).")


_MONTH_YEAR = re.compile(r"(\d{1,2})[/.-](\d{4})")
_NAMED_MONTH_YEAR = re.compile(r"([a-z]+)\.? (\d{4})")


class DayMonthOrYearCell(DateCell):
    """A note's date: a day, a month ("03/2024", "mars 2024") or a year ("2024"). Returns
    (first day, precision): "day", "month" or "year"."""

    def convert(self, value):
        text = text_of(value)
        if isinstance(value, int) and not isinstance(value, bool) or re.fullmatch(r"\d{4}", text):
            return _plausible(datetime.date(int(text), 1, 1), text).isoformat(), "year"
        if not isinstance(value, datetime.date):
            words = unicodedata.normalize("NFKD", text.casefold())
            words = " ".join("".join(c for c in words if not unicodedata.combining(c)).split())
            if (m := _MONTH_YEAR.fullmatch(words)) and 1 <= int(m[1]) <= 12:
                return _plausible(datetime.date(int(m[2]), int(m[1]), 1), text).isoformat(), "month"
            if (m := _NAMED_MONTH_YEAR.fullmatch(words)) and m[1] in MONTHS:
                return _plausible(datetime.date(int(m[2]), MONTHS[m[1]], 1), text).isoformat(), "month"
        try:
            return super().convert(value), "day"
        except ValidationError:
            raise ValidationError(
                f"date « {text} » invalide : un jour (JJ/MM/AAAA), un mois (MM/AAAA, « mars 2024 ») "
                "ou une année (AAAA)."
            ) from None
