"""Every text a person types has a length cap, said in French; nothing is written beyond it."""

import pytest
from django.urls import reverse

from actions.models import Note, Step
from actions.plan_io import open_format
from axes.models import Role
from reporting.models import Decision, Meeting
from tests.factories import ActionFactory, MeetingFactory, UserFactory, grant


@pytest.fixture
def fiche(db):
    return ActionFactory(number=4)


@pytest.fixture
def coordinator_client(client, fiche):
    client.force_login(grant(UserFactory(), fiche.plan, Role.COORDINATOR))
    return client


def test_a_note_of_200000_characters_is_refused(coordinator_client, fiche):
    url = reverse("note_create", args=[fiche.plan.slug, 4])
    response = coordinator_client.post(
        url, {"date": "2026-11-30", "kind": "follow_up", "text": "x" * 200_000}
    )
    assert response.status_code == 422
    assert "au plus 10000 caractères (actuellement 200000)" in response.text.replace("\u202f", "")
    assert not Note.objects.exists()


def test_a_step_too_long_is_refused(coordinator_client, fiche):
    url = reverse("item_create", args=[fiche.plan.slug, 4, "etapes"])
    response = coordinator_client.post(url, {"text": "x" * 2001})
    assert response.status_code == 422 and not Step.objects.exists()


def test_meeting_and_decision_caps(coordinator_client, fiche):
    response = coordinator_client.post(
        reverse("meetings", args=[fiche.plan.slug]),
        {"instance": "copil", "date": "2026-12-01", "agenda": "x" * 10_001},
    )
    assert response.status_code == 422 and not Meeting.objects.exists()
    meeting = MeetingFactory(plan=fiche.plan)
    response = coordinator_client.post(
        reverse("meeting_detail", args=[fiche.plan.slug, meeting.pk]),
        {"text": "x" * 5001, "status": "to_take"},
    )
    assert response.status_code == 422 and not Decision.objects.exists()


def test_the_open_format_has_the_same_caps(fiche):
    data = open_format.export_plan(fiche.plan)
    data["axes"][0]["actions"][0]["notes"] = [
        {"date": "2026-01-01", "kind": "follow_up", "text": "x" * 10_001}
    ]
    assert any(
        "texte trop long : 10001 caractères pour 10000 au plus" in e for e in open_format.validate(data)
    )
