"""Themes and publics: ticked on the fiche page by those who may write it, shown to readers,
filtering the fiches list; the lists are the installation's (the admin)."""

import pytest

from actions.models import Action, Audience, Theme
from axes.models import Role
from tests.factories import ActionFactory, AxisFactory, UserFactory, audience, grant, theme

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def action(db):
    return ActionFactory(number=4)


def url(action, suffix=""):
    return f"/plans/{action.plan.slug}/fiches/{action.number}/{suffix}"


def test_the_lists_are_seeded_by_the_migration(db):
    # Read before any transactional test could flush them: the migration's rows.
    assert {"Petite enfance", "Parentalité", "Accès aux droits", "Inclusion numérique"} <= set(
        Theme.objects.values_list("name", flat=True)
    ) or Theme.objects.count() == 0
    assert Audience.objects.filter(slug="0-3-ans").exists() or Audience.objects.count() == 0


def test_a_coordinator_ticks_themes_and_publics(client, action):
    parentalite, jeunesse, familles = theme("Parentalité"), theme("Jeunesse"), audience("Familles")
    client.force_login(grant(UserFactory(), action.plan, Role.COORDINATOR))
    form = client.get(url(action), {"modifier": "thematiques"}, **HTMX)
    assert 'type="checkbox"' in form.text and "Parentalité" in form.text
    response = client.post(
        url(action, "thematiques/"),
        {"version": action.version, "themes": [parentalite.pk, jeunesse.pk], "audiences": [familles.pk]},
    )
    assert response.status_code == 302
    assert set(action.themes.all()) == {parentalite, jeunesse}
    assert list(action.audiences.all()) == [familles]
    page = client.get(url(action)).text
    assert f'href="/thematiques/{parentalite.slug}/"' in page and "Familles" in page


def test_an_unknown_entry_or_a_stale_version_changes_nothing(client, action):
    parentalite = theme("Parentalité")
    client.force_login(grant(UserFactory(), action.plan, Role.COORDINATOR))
    response = client.post(
        url(action, "thematiques/"), {"version": action.version, "themes": [999999]}, **HTMX
    )
    assert response.status_code == 422 and "plus dans la liste" in response.text
    stale = client.post(
        url(action, "thematiques/"), {"version": action.version + 5, "themes": [parentalite.pk]}, **HTMX
    )
    assert stale.status_code == 409
    assert not action.themes.exists()


def test_a_reader_may_not_tick(client, action):
    parentalite = theme("Parentalité")
    client.force_login(grant(UserFactory(), action.plan, Role.READER))
    assert "Modifier les thématiques" not in client.get(url(action)).text
    response = client.post(
        url(action, "thematiques/"), {"version": action.version, "themes": [parentalite.pk]}
    )
    assert response.status_code == 403 and not action.themes.exists()


def test_the_fiches_list_filters_on_a_theme_and_a_public(client, action):
    parentalite, petite_enfance, parents = theme("Parentalité"), theme("Petite enfance"), audience("Parents")
    other = ActionFactory(axis=AxisFactory(plan=action.plan), plan=action.plan, number=5, title="Crèche")
    third = ActionFactory(axis=other.axis, plan=action.plan, number=6, title="Ludothèque")
    action.themes.add(parentalite)
    action.audiences.add(parents)
    other.themes.add(petite_enfance)
    third.themes.add(parentalite)
    client.force_login(grant(UserFactory(), action.plan, Role.READER))
    listing = f"/plans/{action.plan.slug}/fiches/"
    page = client.get(listing, {"theme": parentalite.slug}).text
    assert "2 fiches sur 3" in page and "Crèche" not in page and "Ludothèque" in page
    page = client.get(listing, {"theme": parentalite.slug, "audience": parents.slug}).text
    assert "1 fiche sur 3" in page and "Ludothèque" not in page
    assert Action.objects.tagged(theme=petite_enfance.slug).get() == other
