"""What a plan calls its first level ("Axe", "Enjeu", "Orientation", "Priorité"…), in every form
French needs: plural, gender, the article and the demonstrative that go with it.

One place gives the words (`Plan.level`), so a page, a PDF, an export, a preview or a command
never writes "axe" for a plan whose first level is an "enjeu". The plural and the gender are
deduced from the word unless the plan states them (Plan.level_plural, Plan.level_gender).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

# Words a plan names its first level with, and their gender: the deduction by ending below
# covers the rest ("-tion", "-té"… are feminine).
_GENDER = {
    "axe": "m",
    "enjeu": "m",
    "objectif": "m",
    "thème": "m",
    "champ": "m",
    "domaine": "m",
    "volet": "m",
    "pilier": "m",
    "défi": "m",
    "chantier": "m",
    "engagement": "m",
    "levier": "m",
    "programme": "m",
    "principe": "m",
    "orientation": "f",
    "priorité": "f",
    "ambition": "f",
    "thématique": "f",
    "finalité": "f",
    "mission": "f",
    "problématique": "f",
    "cible": "f",
    "question": "f",
    "action": "f",
}
_FEMININE_ENDINGS = ("tion", "sion", "té", "ance", "ence", "ique", "ure", "ie", "ée", "ude", "ise")
# Words after which a compound stops agreeing: "Axe de travail" -> "Axes de travail".
_PREPOSITIONS = {"de", "du", "des", "pour", "en", "à", "au", "aux", "sur"}
_VOWELS = "aeiouyhàâäéèêëîïôöûùü"


def _plural_word(word: str) -> str:
    lower = word.lower()
    if lower.endswith(("s", "x", "z")):
        return word
    if lower.endswith(("eau", "au", "eu")) and lower not in {"pneu", "bleu"}:
        return word + "x"
    if lower.endswith("al") and lower not in {"festival", "bal", "carnaval", "récital"}:
        return word[:-2] + "aux"
    return word + "s"


def plural_of(label: str) -> str:
    """ "Enjeu" -> "Enjeux", "Axe stratégique" -> "Axes stratégiques", "Axe de travail" ->
    "Axes de travail"."""
    words = label.split(" ")
    for i, word in enumerate(words):
        if i and (word.lower() in _PREPOSITIONS or word.lower().startswith(("d'", "d’"))):
            break
        if word:
            words[i] = _plural_word(word)
    return " ".join(words)


def feminine(label: str) -> bool:
    first = (label.split(" ") or [""])[0].lower()
    if first in _GENDER:
        return _GENDER[first] == "f"
    return first.endswith(_FEMININE_ENDINGS)


def _lower_first(text: str) -> str:
    # Only the first letter: an acronym further on ("Axe CAF") keeps its capitals.
    return text[:1].lower() + text[1:]


@dataclass(frozen=True)
class LevelWords:
    """The words of a plan's first level. In a template: {{ plan.level.per }} -> "par enjeu"."""

    singular: str  # "Enjeu", as the plan writes it, starting with a capital
    plural: str  # "Enjeux"
    is_feminine: bool

    @classmethod
    def of(cls, label: str, plural: str = "", gender: str = "") -> LevelWords:
        label = (label or "").strip() or "Axe"
        return cls(
            singular=label,
            plural=(plural or "").strip() or plural_of(label),
            is_feminine=gender == "f" if gender else feminine(label),
        )

    def __str__(self) -> str:
        return self.singular

    @cached_property
    def lower(self) -> str:
        return _lower_first(self.singular)

    @cached_property
    def lower_plural(self) -> str:
        return _lower_first(self.plural)

    @property
    def elided(self) -> bool:
        return self.lower[:1].lower() in _VOWELS

    @property
    def the(self) -> str:
        """ "l'enjeu", "la priorité", "le volet"."""
        if self.elided:
            return f"l'{self.lower}"
        return f"{'la' if self.is_feminine else 'le'} {self.lower}"

    @property
    def of_the(self) -> str:
        """ "de l'enjeu", "de la priorité", "du volet"."""
        if self.elided:
            return f"de l'{self.lower}"
        return f"de la {self.lower}" if self.is_feminine else f"du {self.lower}"

    @property
    def this(self) -> str:
        """ "cet enjeu", "cette orientation", "ce volet"."""
        if self.is_feminine:
            return f"cette {self.lower}"
        return f"{'cet' if self.elided else 'ce'} {self.lower}"

    @property
    def per(self) -> str:
        """ "par enjeu"."""
        return f"par {self.lower}"

    @property
    def the_plural(self) -> str:
        """ "les enjeux"."""
        return f"les {self.lower_plural}"

    @property
    def of_plural(self) -> str:
        """ "d'enjeux", "de priorités"."""
        return f"d'{self.lower_plural}" if self.elided else f"de {self.lower_plural}"

    @property
    def none(self) -> str:
        """ "Aucun enjeu", "Aucune orientation"."""
        return f"{'Aucune' if self.is_feminine else 'Aucun'} {self.lower}"

    def agree(self, masculine: str, feminine: str) -> str:
        """An adjective agreeing with the level: level.agree("inconnu", "inconnue")."""
        return feminine if self.is_feminine else masculine

    def count(self, n: int) -> str:
        """ "1 enjeu", "5 enjeux", "0 enjeu"."""
        return f"{n} {self.lower if abs(n) < 2 else self.lower_plural}"

    def number(self, n) -> str:
        """ "Enjeu 3"."""
        return f"{self.singular} {n}"


def by_objective(fiches) -> list[tuple[object | None, list]]:
    """Fiches (models or reporting snapshots, each with `objective` None or having `pk`,
    `position`, `label` and `title`) grouped under their objective, in the objectives' order,
    fiches without one last, each group in the fiches' own order."""
    fiches = list(fiches)
    if not any(f.objective for f in fiches):
        return [(None, fiches)] if fiches else []
    groups: dict[object, tuple[object | None, list]] = {}
    for fiche in fiches:
        key = fiche.objective.pk if fiche.objective else None
        groups.setdefault(key, (fiche.objective, []))[1].append(fiche)
    return sorted(
        groups.values(),
        key=lambda g: (g[0] is None, g[0].position if g[0] else 0, g[0].pk if g[0] else 0),
    )
