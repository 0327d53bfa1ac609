"""Unit tests for the calendar label parser (pure Python, no database)."""

import random
from datetime import date

import pytest

from actions.periods import Period, parse_period


def P(start: str | None, end: str | None) -> Period:
    return Period(start and date.fromisoformat(start), end and date.fromisoformat(end))


# (1) Every calendar label of the Val'Aïgo plan, so an import of that plan is
# known to date exactly the fiches it should and leave the others as text.
VAL_AIGO = [
    ("Début 2024", P("2024-01-01", "2024-03-31")),
    ("Rentrée 2024", P("2024-09-01", "2024-10-31")),
    ("2024", P("2024-01-01", "2024-12-31")),
    ("2025", P("2025-01-01", "2025-12-31")),
    ("Fin 2024 et après", P("2024-10-01", None)),
    ("En cours", None),
    ("Au fil de l'eau", None),
    ("Calendrier indéterminé", None),
    ("Selon les communes", None),
    ("Selon les modalités", None),
    ("Calendrier des instances", None),
    ("Outil existant", None),
]


@pytest.mark.parametrize(("label", "expected"), VAL_AIGO)
def test_val_aigo_labels(label, expected):
    assert parse_period(label) == expected


# (2) The other supported forms.
YEAR_PARTS = [
    ("Mi-2024", P("2024-05-01", "2024-08-31")),
    ("Mi 2024", P("2024-05-01", "2024-08-31")),
    ("Milieu 2024", P("2024-05-01", "2024-08-31")),
    ("Fin 2024", P("2024-10-01", "2024-12-31")),
    ("Été 2024", P("2024-07-01", "2024-08-31")),
    ("Eté 2024", P("2024-07-01", "2024-08-31")),
    ("Printemps 2024", P("2024-03-21", "2024-06-20")),
    ("Automne 2024", P("2024-09-22", "2024-12-20")),
    ("Hiver 2024", P("2024-01-01", "2024-03-20")),
    ("à l'automne 2024", P("2024-09-22", "2024-12-20")),
    ("fin d'année 2024", P("2024-10-01", "2024-12-31")),
]

SEMESTERS_AND_QUARTERS = [
    ("1er semestre 2024", P("2024-01-01", "2024-06-30")),
    ("premier semestre 2024", P("2024-01-01", "2024-06-30")),
    ("1ᵉʳ semestre 2024", P("2024-01-01", "2024-06-30")),
    ("S1 2024", P("2024-01-01", "2024-06-30")),
    ("S1-2024", P("2024-01-01", "2024-06-30")),
    ("second semestre 2024", P("2024-07-01", "2024-12-31")),
    ("2e semestre 2024", P("2024-07-01", "2024-12-31")),
    ("2ème semestre 2024", P("2024-07-01", "2024-12-31")),
    ("deuxième semestre 2024", P("2024-07-01", "2024-12-31")),
    ("2nd semestre 2024", P("2024-07-01", "2024-12-31")),
    ("S2 2024", P("2024-07-01", "2024-12-31")),
    ("T1 2024", P("2024-01-01", "2024-03-31")),
    ("T2 2024", P("2024-04-01", "2024-06-30")),
    ("T3 2024", P("2024-07-01", "2024-09-30")),
    ("T4 2024", P("2024-10-01", "2024-12-31")),
    ("1er trimestre 2024", P("2024-01-01", "2024-03-31")),
    ("2e trimestre 2024", P("2024-04-01", "2024-06-30")),
    ("troisième trimestre 2024", P("2024-07-01", "2024-09-30")),
    ("4e trimestre 2024", P("2024-10-01", "2024-12-31")),
]

MONTHS = [
    ("Janvier 2024", P("2024-01-01", "2024-01-31")),
    ("Février 2024", P("2024-02-01", "2024-02-29")),
    ("fevrier 2025", P("2025-02-01", "2025-02-28")),
    ("Août 2024", P("2024-08-01", "2024-08-31")),
    ("Décembre 2024", P("2024-12-01", "2024-12-31")),
    ("janv. 2024", P("2024-01-01", "2024-01-31")),
    ("sept. 2024", P("2024-09-01", "2024-09-30")),
    ("en mars 2025", P("2025-03-01", "2025-03-31")),
    ("03/2025", P("2025-03-01", "2025-03-31")),
    ("Mars – juin 2025", P("2025-03-01", "2025-06-30")),
    ("mars-juin 2025", P("2025-03-01", "2025-06-30")),
    ("de mars à juin 2025", P("2025-03-01", "2025-06-30")),
    ("d'avril à juin 2025", P("2025-04-01", "2025-06-30")),
    ("Septembre 2024 – juin 2025", P("2024-09-01", "2025-06-30")),
]

DAYS = [
    ("15/03/2025", P("2025-03-15", "2025-03-15")),
    ("15 mars 2025", P("2025-03-15", "2025-03-15")),
    ("1er mars 2025", P("2025-03-01", "2025-03-01")),
    ("29/02/2024", P("2024-02-29", "2024-02-29")),
    ("du 1er mars au 30 juin 2025", P("2025-03-01", "2025-06-30")),
    ("15/03/2025 - 30/06/2025", P("2025-03-15", "2025-06-30")),
]

YEAR_RANGES = [
    ("2024-2025", P("2024-01-01", "2025-12-31")),
    ("2024 – 2026", P("2024-01-01", "2026-12-31")),
    ("2024 — 2026", P("2024-01-01", "2026-12-31")),
    ("De 2024 à 2026", P("2024-01-01", "2026-12-31")),
    ("2024 à 2026", P("2024-01-01", "2026-12-31")),
    ("2024/2025", P("2024-01-01", "2025-12-31")),
    ("Fin 2024 / début 2025", P("2024-10-01", "2025-03-31")),
    ("Début – fin 2025", P("2025-01-01", "2025-12-31")),
]

OPEN_ENDED = [
    ("2025 et après", P("2025-01-01", None)),
    ("2025 et suivantes", P("2025-01-01", None)),
    ("2024-2025 et après", P("2024-01-01", None)),
    ("À partir de 2025", P("2025-01-01", None)),
    ("a partir d'avril 2025", P("2025-04-01", None)),
    ("À partir de la rentrée 2024", P("2024-09-01", None)),
    ("Dès 2025", P("2025-01-01", None)),
    ("Dès le 1er semestre 2025", P("2025-01-01", None)),
    ("Depuis 2023", P("2023-01-01", None)),
    ("Jusqu'à 2026", P(None, "2026-12-31")),
    ("Jusqu’à fin 2025", P(None, "2025-12-31")),
    ("jusqu'en juin 2025", P(None, "2025-06-30")),
    ("Avant 2026", P(None, "2026-12-31")),
    ("Avant l'été 2025", P(None, "2025-08-31")),
    ("D'ici 2026", P(None, "2026-12-31")),
    ("d'ici la fin 2025", P(None, "2025-12-31")),
]

SPELLING = [
    ("debut 2024", P("2024-01-01", "2024-03-31")),
    ("DÉBUT 2024", P("2024-01-01", "2024-03-31")),
    ("  Début    2024  ", P("2024-01-01", "2024-03-31")),
    ("rentree 2024", P("2024-09-01", "2024-10-31")),
    ("Fin 2024 et apres", P("2024-10-01", None)),
    ("2025.", P("2025-01-01", "2025-12-31")),
    ("Mi – 2024", P("2024-05-01", "2024-08-31")),
]

# The school year, as plans of enfance and jeunesse count: September to August. "Rentrée
# scolaire" is the "Rentrée" above (September-October).
SCHOOL_YEARS = [
    ("Année scolaire 2025-2026", P("2025-09-01", "2026-08-31")),
    ("année scolaire 2025/26", P("2025-09-01", "2026-08-31")),
    ("Année scolaire 2025", P("2025-09-01", "2026-08-31")),
    ("Courant année scolaire 2024-2025", P("2024-09-01", "2025-08-31")),
    ("À partir de l'année scolaire 2025-2026", P("2025-09-01", None)),
    ("Rentrée scolaire 2025", P("2025-09-01", "2025-10-31")),
    ("Jusqu'à la rentrée scolaire 2026", P(None, "2026-10-31")),
    ("Fin d'année 2024", P("2024-10-01", "2024-12-31")),
]


@pytest.mark.parametrize(
    ("label", "expected"),
    YEAR_PARTS + SEMESTERS_AND_QUARTERS + MONTHS + DAYS + YEAR_RANGES + OPEN_ENDED + SPELLING + SCHOOL_YEARS,
)
def test_other_forms(label, expected):
    assert parse_period(label) == expected


# (3) Unknown or malformed labels stay undated, and nothing ever raises.
NOT_PERIODS = [
    "",
    "   ",
    "Tous les ans",
    "Chaque année",
    "Selon les besoins",
    "À définir",
    "asdfgh",
    "2024 (à confirmer)",
    "31/02/2025",
    "Année scolaire 2025-2024",
    "32/01/2025",
    "15/13/2025",
    "13/2025",
    "30 février 2025",
    "15 brumaire 2025",
    "1899",
    "2101",
    "12345",
    "24",
    "Début",
    "Fin 2024 et",
    "semestre 2024",
    "S3 2024",
    "T5 2024",
    "3e semestre 2024",
    "2026-2024",
    "Juin – mars 2025",
    "Fin 2025 – début 2025",
    "À partir de",
    "Jusqu'à demain",
    "Depuis toujours",
    "et après",
    "2024 - ",
    "- 2024",
    "2024 à",
    None,
    2024,
]


@pytest.mark.parametrize("label", NOT_PERIODS)
def test_unknown_labels_are_not_periods(label):
    assert parse_period(label) is None


def _assert_sane(label):
    period = parse_period(label)
    if period is not None:
        assert period.start is not None or period.end is not None, label
        if period.start and period.end:
            assert period.start <= period.end, label


def test_random_characters_never_raise():
    rng = random.Random(0)
    alphabet = "abcdeéèêfghijklmnopqrstuvwxyzÉ0123456789 -–—/.'’àç\t\n()_"
    for _ in range(3000):
        _assert_sane("".join(rng.choices(alphabet, k=rng.randint(0, 30))))


def test_random_word_salads_never_raise():
    # Plausible tokens reach the deeper branches that random characters miss.
    rng = random.Random(0)
    tokens = (
        ("début", "fin", "mi-", "milieu", "rentrée", "été", "hiver", "automne")
        + ("s1", "t4", "1er", "2e", "semestre", "trimestre")
        + ("janvier", "févr.", "sept.", "juin", "15", "31", "29/02")
        + ("2024", "2025", "1899", "2100", "2024-2025", "-", "–", "/")
        + ("à", "de", "du", "d'", "au", "et", "après", "suivantes", "en", "la", "l'")
        + ("à_partir_de", "dès", "depuis", "jusqu'à", "avant", "d'ici")
    )
    for _ in range(3000):
        words = rng.choices(tokens, k=rng.randint(1, 7))
        _assert_sane(" ".join(words).replace("_", " "))
