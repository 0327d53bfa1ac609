"""Search across a plan (issue 12): fiches, steps, partners, conditions and notes, accents and
case aside, on PostgreSQL (this suite's database) and on SQLite (the run command's)."""

import pytest
from django.urls import reverse

from actions.models import Action, Step
from actions.search import fold, matching
from axes.models import Role
from tests.factories import (
    ActionFactory,
    ConditionFactory,
    NoteFactory,
    PartnerFactory,
    StepFactory,
    UserFactory,
    build_plan,
    grant,
)


def test_fold_drops_accents_case_ligatures_and_curly_apostrophes():
    assert fold("  Médiathèque de l’ŒUVRE  ") == "mediatheque de l'oeuvre"


@pytest.mark.parametrize("typed", ["mediatheque", "MÉDIATHÈQUE", "médiathèque", "Mediathèque"])
def test_typed_any_way_a_word_finds_it_written_with_accents(db, typed):
    action = ActionFactory(title="Créer une MÉDIATHÈQUE intercommunale")
    StepFactory(action=action, text="Étudier la médiathèque de Bessières")
    assert list(matching(Action.objects.all(), typed, "title")) == [action]
    assert matching(Step.objects.all(), typed, "text").count() == 1


def test_search_page_groups_results_by_kind_with_links_to_the_fiche(client, db):
    plan = build_plan(2)
    first, second = plan.actions.order_by("number")
    first.title = "Ouvrir la Médiathèque"
    first.save()
    StepFactory(action=second, text="Animer la médiathèque le mercredi")
    PartnerFactory(action=second, name="Réseau des médiathèques")
    ConditionFactory(action=first, text="Une médiathécaire à mi-temps")
    NoteFactory(action=second, text="La médiathèque a ouvert le samedi.")
    StepFactory(action=ActionFactory(), text="Médiathèque d'un autre plan")
    client.force_login(grant(UserFactory(), plan, Role.READER))

    response = client.get(reverse("plan_search", args=[plan.slug]), {"q": "mediathe"})

    html = response.text
    assert response.status_code == 200
    assert "5 résultats pour « mediathe »" in html
    for heading in [
        "Fiches-actions (1)",
        "Étapes (1)",
        "Partenaires (1)",
        "Conditions de réussite et moyens (1)",
        "Notes de suivi (1)",
    ]:
        assert heading in html
    assert f'href="{second.get_absolute_url()}#etapes"' in html
    assert f'href="{first.get_absolute_url()}"' in html
    assert "autre plan" not in html


def test_search_says_when_nothing_matches_in_french(client, db):
    plan = build_plan(1)
    client.force_login(grant(UserFactory(), plan, Role.READER))
    html = client.get(reverse("plan_search", args=[plan.slug]), {"q": "zzz"}).text
    assert "0 résultat pour « zzz »" in html and "Rien ne correspond" in html


def test_search_of_a_plan_one_does_not_read_is_404(client, db):
    plan = build_plan(1)
    client.force_login(UserFactory())
    assert client.get(reverse("plan_search", args=[plan.slug]), {"q": "a"}).status_code == 404


def test_search_ignores_accents_and_case_on_sqlite_too(db):
    """The run command's database folds accents and case too. Run by the SQLite pass of
    scripts/test, on its own SQLite database (the tests above run on PostgreSQL)."""
    from django.db import connection

    from actions.models import Note

    if connection.vendor != "sqlite":
        pytest.skip("lancé par la passe SQLite de scripts/test, sur sa propre base SQLite")
    action = ActionFactory(title="Créer une MÉDIATHÈQUE intercommunale")
    NoteFactory(action=action, text="Ouverture de l’Œuvre à Bessières")
    assert {
        "title": matching(Action.objects.all(), "mediatheque", "title").count(),
        "upper": matching(Action.objects.all(), "MEDIATHEQUE", "title").count(),
        "note": matching(Note.objects.all(), "l'oeuvre a bessieres", "text").count(),
        "none": matching(Action.objects.all(), "ludotheque", "title").count(),
    } == {
        "title": 1,
        "upper": 1,
        "note": 1,
        "none": 0,
    }
