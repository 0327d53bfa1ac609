"""Governance meetings: recorded by administrateurs and coordinateurs, read by everyone on the plan."""

import datetime

import pytest
from django.urls import reverse

from axes.models import Role
from reporting.models import Decision, DecisionStatus, Instance, Meeting
from tests.factories import UserFactory, grant


@pytest.fixture
def coordinator(val_aigo):
    return grant(UserFactory(), val_aigo, Role.COORDINATOR)


def test_record_a_copil_and_its_decisions(client, val_aigo, coordinator, reader):
    client.force_login(coordinator)
    response = client.post(
        reverse("meetings", args=["val-aigo"]),
        {
            "instance": "copil",
            "date": "2026-10-15",
            "attendees": "Maire de Villemur\nCAF 31",
            "agenda": "Bilan 2026",
        },
    )
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "meeting_detail", args=["val-aigo", meeting.pk]
    )
    assert (meeting.instance, meeting.date) == (Instance.COPIL, datetime.date(2026, 10, 15))
    action = val_aigo.actions.get(number=9)
    client.post(
        reverse("meeting_detail", args=["val-aigo", meeting.pk]),
        {"text": "Étudier l'achat de berceaux", "status": "to_take", "actions": [action.pk]},
    )
    decision = Decision.objects.get()
    assert decision.status == DecisionStatus.TO_TAKE and list(decision.actions.all()) == [action]
    client.force_login(reader)
    html = client.get(reverse("meeting_detail", args=["val-aigo", meeting.pk])).text
    assert (
        "COPIL du 15/10/2026" in html
        and "Étudier l&#x27;achat de berceaux" in html
        and "Maire de Villemur" in html
    )
    dashboard = client.get(reverse("dashboard", args=["val-aigo"])).text
    assert "Depuis le dernier COPIL (15/10/2026)" in dashboard


def test_bad_meeting_is_refused_in_french(client, val_aigo, coordinator):
    client.force_login(coordinator)
    response = client.post(
        reverse("meetings", args=["val-aigo"]), {"instance": "copil", "date": "31/02/2026"}
    )
    assert response.status_code == 422 and "Saisissez une date valide." in response.text
    assert not Meeting.objects.exists()


def test_a_decision_cannot_name_a_fiche_of_another_plan(client, val_aigo, coordinator):
    from tests.factories import ActionFactory

    foreign = ActionFactory()
    meeting = Meeting.objects.create(plan=val_aigo, instance=Instance.COTECH, date=datetime.date(2026, 3, 1))
    client.force_login(coordinator)
    response = client.post(
        reverse("meeting_detail", args=["val-aigo", meeting.pk]),
        {"text": "X", "status": "taken", "actions": [foreign.pk]},
    )
    assert response.status_code == 422 and not Decision.objects.exists()


@pytest.mark.parametrize("role", ["reader", "contributor", None])
def test_only_managers_record_meetings(client, val_aigo, role):
    meeting = Meeting.objects.create(plan=val_aigo, instance=Instance.COPIL, date=datetime.date(2026, 3, 1))
    user = UserFactory()
    if role:
        grant(user, val_aigo, role)
    client.force_login(user)
    status = 403 if role else 404
    assert (
        client.post(
            reverse("meetings", args=["val-aigo"]), {"instance": "copil", "date": "2026-05-01"}
        ).status_code
        == status
    )
    url = reverse("meeting_detail", args=["val-aigo", meeting.pk])
    assert client.post(url, {"text": "X", "status": "taken"}).status_code == status
    assert Meeting.objects.count() == 1 and not Decision.objects.exists()
    assert client.get(url).status_code == (200 if role else 404)
