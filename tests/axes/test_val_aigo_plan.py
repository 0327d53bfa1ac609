"""The Val'Aïgo plan as loaded by the run command, walked against the seed (October 2023)."""

import datetime
import json

import pytest

from actions.models import Action, ActionPartner, CalendarEntry, Condition, Status, Step
from axes.models import FindingKind
from tests.conftest import VAL_AIGO

# Counted in the seed, fiche by fiche: (top-level steps, partners, conditions, calendar entries).
SEED_COUNTS = {
    1: (4, 3, 2, 2),
    2: (4, 3, 0, 1),
    3: (4, 4, 1, 1),
    4: (5, 3, 1, 1),
    5: (4, 4, 1, 2),
    6: (4, 4, 1, 1),
    7: (6, 5, 1, 1),
    8: (5, 3, 2, 2),
    9: (5, 3, 2, 1),
    10: (6, 5, 2, 1),
    11: (6, 4, 2, 1),
    12: (4, 6, 0, 1),
    13: (4, 6, 2, 2),
    14: (7, 6, 1, 1),
    15: (3, 4, 3, 0),
    16: (3, 6, 2, 1),
    17: (2, 6, 2, 1),
    18: (5, 3, 1, 1),
    19: (3, 4, 0, 1),
    20: (3, 1, 1, 1),
}
COMMUNES_INSEE = {
    "Bessières": "31066",
    "Bondigoux": "31073",
    "Buzet-sur-Tarn": "31094",
    "La Magdelaine-sur-Tarn": "31311",
    "Layrac-sur-Tarn": "31288",
    "Le Born": "31077",
    "Mirepoix-sur-Tarn": "31346",
    "Villematier": "31583",
    "Villemur-sur-Tarn": "31584",
}
ARTEFACTS = ["Etapas", "Envoyé en préfecture", "Reçu en préfecture", "Publié le", "KPMG", "**", "<i>", "✓"]


def test_plan_identity(val_aigo):
    assert val_aigo.slug == "val-aigo"
    assert val_aigo.territory == "CC de Val'Aïgo"
    assert (val_aigo.start_year, val_aigo.end_year) == (2023, 2027)
    assert val_aigo.level_label == "Axe"
    assert dict(val_aigo.communes.values_list("name", "insee")) == COMMUNES_INSEE
    signatories = set(val_aigo.signatories.values_list("short_name", flat=True))
    assert {"CAF", "CCVA"} <= signatories


def test_axes_and_fiches_per_axis(val_aigo):
    axes = list(val_aigo.axes.order_by("number"))
    assert [axis.number for axis in axes] == [1, 2, 3, 4, 5, 6]
    assert [axis.actions.count() for axis in axes] == [5, 4, 2, 3, 3, 3]
    assert axes[1].title == "Poursuivre la réponse aux besoins d'accueil et d'éveil du jeune enfant"
    assert sorted(val_aigo.actions.values_list("number", flat=True)) == list(range(1, 21))


def test_diagnosis_behind_each_axis(val_aigo):
    themes = list(val_aigo.axes.order_by("number").values_list("theme", flat=True))
    assert themes == [
        "L'accompagnement des familles",
        "La petite enfance",
        "L'enfance",
        "Les jeunes",
        "L'accès aux droits",
        "L'animation de la vie sociale locale",
    ]
    families = val_aigo.axes.get(number=1)
    assert families.findings.filter(kind=FindingKind.STRENGTH).count() == 3
    watch = list(families.findings.filter(kind=FindingKind.WATCH_POINT).values_list("text", flat=True))
    assert len(watch) == 5
    assert watch[3] == 'Deux dispositifs du "panier de services CNAF" absents du territoire : LAEP et CLAS'


def test_step_counts(val_aigo):
    outside_12 = Step.objects.filter(action__plan=val_aigo, parent=None).exclude(action__number=12)
    assert outside_12.count() == 83
    assert not Step.objects.filter(action__plan=val_aigo, parent__isnull=False).exclude(action__number=12)


def test_action_12_steps_grouped_by_commune(val_aigo):
    action = val_aigo.actions.get(number=12)
    groups = {
        group.commune.name: list(group.children.all())
        for group in action.steps.filter(parent=None).select_related("commune")
    }
    assert {name: len(children) for name, children in groups.items()} == {
        "Villemur-sur-Tarn": 5,
        "Bessières": 2,
        "La Magdelaine-sur-Tarn": 1,
        "Buzet-sur-Tarn": 1,
    }
    for name, children in groups.items():
        assert {child.commune.name for child in children} == {name}
    assert groups["Buzet-sur-Tarn"][0].text == "déploiement du service jeunesse"
    assert (
        groups["Bessières"][0].text == "Faire évoluer les horaires (fermeture le samedi, ouverture le soir)"
    )


@pytest.mark.parametrize("number", sorted(SEED_COUNTS))
def test_every_fiche_matches_the_seed(val_aigo, number):
    action = val_aigo.actions.get(number=number)
    counted = (
        action.steps.filter(parent=None).count(),
        action.partners.count(),
        action.conditions.count(),
        action.calendar_entries.count(),
    )
    assert counted == SEED_COUNTS[number]
    assert action.title and action.fiche_title


def test_fiche_wording_is_verbatim(val_aigo):
    first = val_aigo.actions.get(number=1)
    assert first.title == (
        "Envisager la relance des actions suspendues qui étaient menées par la CCVA "
        "dans l'accompagnement de la parentalité"
    )
    assert first.fiche_title == "Relancer les actions menées par la CCVA dont les ateliers parents enfants"
    assert first.pilotage == "CCVA"
    assert list(first.pilots.values_list("short_name", flat=True)) == ["CCVA"]
    assert list(first.steps.values_list("text", flat=True))[1] == (
        "Établir un questionnaire à l'attention de toutes les familles du territoire et l'analyser"
    )
    assert val_aigo.actions.get(number=3).pilotage == "CCVA / Coordination petite enfance"
    assert val_aigo.actions.get(number=5).pilotage == "À définir"
    assert val_aigo.actions.get(number=15).title == (
        "Clarifier les perspectives communautaires partagées "
        "en matière d'action sociale et d'accès aux droits"
    )


def test_partners_keep_wording_and_link_organisations(val_aigo):
    communication = ActionPartner.objects.get(action__plan=val_aigo, action__number=6, position=0)
    assert (communication.name, communication.role) == ("CCVA", "Service communication")
    assert communication.organisation.short_name == "CCVA"
    pmi = ActionPartner.objects.get(action__plan=val_aigo, action__number=1, name="CD31-PMI")
    assert pmi.organisation.short_name == "PMI"
    assert pmi.organisation.parent.short_name == "CD31"
    generic = ActionPartner.objects.get(action__plan=val_aigo, action__number=3, name="Tissu associatif")
    assert generic.organisation is None


def test_calendar_labels_and_computed_dates(val_aigo):
    entries = list(CalendarEntry.objects.filter(action__plan=val_aigo, action__number=1))
    assert [(e.label, e.description) for e in entries] == [
        ("Début 2024", "relance de la concertation services-élus"),
        ("Rentrée 2024", "relance des actions"),
    ]
    assert (entries[0].start, entries[0].end) == (datetime.date(2024, 1, 1), datetime.date(2024, 3, 31))
    after = CalendarEntry.objects.get(action__plan=val_aigo, action__number=8, label="Fin 2024 et après")
    assert (after.start, after.end) == (datetime.date(2024, 10, 1), None)
    undated = CalendarEntry.objects.get(action__plan=val_aigo, action__number=7)
    assert (undated.label, undated.start, undated.end) == ("Calendrier indéterminé", None, None)


def test_status_and_lateness(val_aigo):
    in_progress = set(val_aigo.actions.filter(status=Status.IN_PROGRESS).values_list("number", flat=True))
    assert in_progress == {2, 3, 9, 11}
    # Action 1 was due by the end of the 2024 rentrée; action 8 runs on ("Fin 2024 et après").
    fiches = Action.objects.filter(plan=val_aigo)
    late = set(fiches.overdue(datetime.date(2026, 11, 29)).values_list("number", flat=True))
    assert 1 in late and 8 not in late and 2 not in late
    assert not fiches.overdue(datetime.date(2023, 12, 1)).exists()


def test_no_extraction_artefacts(val_aigo):
    texts = [
        *Step.objects.filter(action__plan=val_aigo).values_list("text", flat=True),
        *Condition.objects.filter(action__plan=val_aigo).values_list("text", flat=True),
        *Action.objects.filter(plan=val_aigo).values_list("title", flat=True),
        *Action.objects.filter(plan=val_aigo).values_list("fiche_title", flat=True),
        *ActionPartner.objects.filter(action__plan=val_aigo).values_list("name", flat=True),
    ]
    for text in texts:
        assert text == text.strip()
        for artefact in ARTEFACTS:
            assert artefact not in text, text


def test_fixture_calendar_labels_are_all_known_to_the_parser_tests():
    """Every label of the shipped plan is pinned in the parser's own unit tests."""
    from tests.actions.test_periods import VAL_AIGO as PINNED

    data = json.loads(VAL_AIGO.read_text(encoding="utf-8"))
    labels = {e["label"] for axis in data["axes"] for a in axis["actions"] for e in a["calendar"]}
    assert labels <= {label for label, _ in PINNED}
