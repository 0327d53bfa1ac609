"""Without JavaScript a double click sends the same form twice: it is applied once."""

import pytest
from django.urls import reverse

from actions.models import Note
from axes.models import Role
from reporting.models import Meeting
from tests.factories import ActionFactory, UserFactory, grant


@pytest.fixture
def fiche(db):
    return ActionFactory(number=4)


@pytest.fixture
def coordinator(client, fiche):
    user = grant(UserFactory(), fiche.plan, Role.COORDINATOR)
    client.force_login(user)
    return user


def test_a_note_sent_twice_is_written_once(client, fiche, coordinator):
    url = reverse("note_create", args=[fiche.plan.slug, 4])
    data = {"date": "2026-11-30", "kind": "follow_up", "text": "Réunion des parents tenue."}
    first = client.post(url, data)
    second = client.post(url, data, follow=True)
    assert first.status_code == 302 and second.status_code == 200
    assert Note.objects.filter(action=fiche).count() == 1
    assert "Ce formulaire avait déjà été envoyé : il n&#x27;a été enregistré qu&#x27;une fois." in second.text
    assert second.redirect_chain[0][0] == first.url  # where the first one led
    client.post(url, {**data, "text": "Une autre note."})
    assert Note.objects.filter(action=fiche).count() == 2


def test_a_meeting_sent_twice_is_recorded_once(client, fiche, coordinator):
    url = reverse("meetings", args=[fiche.plan.slug])
    data = {"instance": "copil", "date": "2026-12-01", "agenda": "Bilan"}
    client.post(url, data)
    client.post(url, data)
    assert Meeting.objects.filter(plan=fiche.plan).count() == 1


def test_a_refused_form_may_be_sent_again(client, fiche, coordinator):
    url = reverse("note_create", args=[fiche.plan.slug, 4])
    bad = {"date": "31/02/2026", "kind": "follow_up", "text": "x"}
    assert client.post(url, bad).status_code == 422
    assert client.post(url, bad).status_code == 422  # answered again, not taken for a duplicate


def test_htmx_requests_are_left_alone(client, fiche, coordinator):
    """With JavaScript the button is disabled while the request runs; htmx answers fragments."""
    url = reverse("note_create", args=[fiche.plan.slug, 4])
    data = {"date": "2026-11-30", "kind": "follow_up", "text": "Deux fois exprès."}
    client.post(url, data, headers={"HX-Request": "true"})
    client.post(url, data, headers={"HX-Request": "true"})
    assert Note.objects.filter(action=fiche).count() == 2


def test_two_people_sending_the_same_form_are_two_submissions(client, fiche, coordinator):
    url = reverse("note_create", args=[fiche.plan.slug, 4])
    data = {"date": "2026-11-30", "kind": "follow_up", "text": "Même texte."}
    client.post(url, data)
    client.force_login(grant(UserFactory(), fiche.plan, Role.COORDINATOR))
    client.post(url, data)
    assert Note.objects.filter(action=fiche).count() == 2
