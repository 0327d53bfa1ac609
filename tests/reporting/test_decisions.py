"""Decisions that close: taken, postponed or dropped in place, by administrateurs and coordinateurs;
meetings edited and deleted in the app; only open decisions on the dashboard and in the dossier."""

import datetime

import pytest
from django.urls import reverse

from axes.models import Role
from reporting.models import Decision, DecisionStatus, Meeting
from tests.factories import ActionFactory, DecisionFactory, MeetingFactory, UserFactory, grant


@pytest.fixture
def action(db):
    return ActionFactory(number=9, title="Créer une micro-crèche")


@pytest.fixture
def plan(action):
    return action.plan


@pytest.fixture
def decision(plan, action):
    meeting = MeetingFactory(plan=plan, instance="working_group", date=datetime.date(2026, 6, 16))
    return DecisionFactory(meeting=meeting, text="Étudier l'achat de berceaux", actions=[action])


@pytest.fixture
def coordinator(plan):
    return grant(UserFactory(first_name="Claire", last_name="Dupont"), plan, Role.COORDINATOR)


def status_url(decision):
    return reverse("decision_status", args=[decision.meeting.plan.slug, decision.pk])


def test_a_coordinator_marks_a_decision_taken_in_place(client, decision, coordinator):
    client.force_login(coordinator)
    response = client.post(status_url(decision), {"status": "taken"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.TAKEN and decision.status_changed_by == coordinator
    html = response.text
    assert html.strip().startswith(f'<li id="decision-{decision.pk}"')  # the fragment htmx swaps
    assert "Prise le" in html and "par Claire Dupont" in html
    assert decision.history.first().history_user == coordinator  # journaled


def test_without_javascript_the_form_returns_to_the_page(client, decision, coordinator):
    client.force_login(coordinator)
    back = reverse("dashboard", args=[decision.meeting.plan.slug])
    response = client.post(status_url(decision), {"status": "postponed", "next": back})
    assert response.status_code == 302 and response.url == back
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.POSTPONED
    response = client.post(status_url(decision), {"status": "postponed", "next": "https://ailleurs.example/"})
    assert response.url == reverse("meeting_detail", args=[decision.meeting.plan.slug, decision.meeting_id])


def test_an_unknown_state_changes_nothing(client, decision, coordinator):
    client.force_login(coordinator)
    response = client.post(status_url(decision), {"status": "done"}, headers={"HX-Request": "true"})
    assert response.status_code == 422 and "rien n'a été enregistré" in response.text
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.TO_TAKE


@pytest.mark.parametrize(("role", "expected"), [(Role.READER, 403), (Role.CONTRIBUTOR, 403), (None, 404)])
def test_only_managers_change_decisions_and_meetings(client, decision, plan, role, expected):
    user = UserFactory()
    if role:
        grant(user, plan, role)
    client.force_login(user)
    meeting = decision.meeting
    assert client.post(status_url(decision), {"status": "taken"}).status_code == expected
    assert client.post(reverse("decision_delete", args=[plan.slug, decision.pk])).status_code == expected
    assert (
        client.post(reverse("decision_edit", args=[plan.slug, decision.pk]), {"text": "X"}).status_code
        == expected
    )
    edit = reverse("meeting_edit", args=[plan.slug, meeting.pk])
    assert client.post(edit, {"instance": "copil", "date": "2026-01-01"}).status_code == expected
    assert client.post(reverse("meeting_delete", args=[plan.slug, meeting.pk])).status_code == expected
    decision.refresh_from_db()
    meeting.refresh_from_db()
    assert decision.status == DecisionStatus.TO_TAKE and decision.text == "Étudier l'achat de berceaux"
    assert meeting.date == datetime.date(2026, 6, 16)


def test_a_decision_of_another_plan_is_not_found(client, decision, coordinator):
    other = DecisionFactory()
    client.force_login(coordinator)
    url = reverse("decision_status", args=[decision.meeting.plan.slug, other.pk])
    assert client.post(url, {"status": "taken"}).status_code == 404
    other.refresh_from_db()
    assert other.status == DecisionStatus.TO_TAKE


def test_edit_and_delete_a_meeting(client, decision, coordinator, plan):
    client.force_login(coordinator)
    meeting = decision.meeting
    edit = reverse("meeting_edit", args=[plan.slug, meeting.pk])
    assert "Modifier la réunion" in client.get(edit).text
    response = client.post(edit, {"instance": "copil", "date": "2026-06-18", "agenda": "Bilan"})
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.instance, meeting.date, meeting.agenda) == ("copil", datetime.date(2026, 6, 18), "Bilan")
    bad = client.post(edit, {"instance": "copil", "date": "31/02/2026"})
    assert bad.status_code == 422 and "Saisissez une date valide." in bad.text

    delete = reverse("meeting_delete", args=[plan.slug, meeting.pk])
    confirm = client.get(delete)
    assert confirm.status_code == 200 and "Supprimer la réunion « COPIL du 18/06/2026 » ?" in confirm.text
    assert Meeting.objects.filter(pk=meeting.pk).exists()  # asking is not deleting
    assert client.post(delete).status_code == 302
    assert not Meeting.objects.filter(pk=meeting.pk).exists() and not Decision.objects.exists()
    assert meeting.history.filter(history_type="-").get().history_user == coordinator


def test_edit_and_delete_a_decision(client, decision, coordinator, plan, action):
    client.force_login(coordinator)
    edit = reverse("decision_edit", args=[plan.slug, decision.pk])
    response = client.post(edit, {"text": "Acheter six berceaux", "status": "abandoned", "actions": []})
    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.text == "Acheter six berceaux" and decision.status == DecisionStatus.ABANDONED
    assert decision.status_changed_by == coordinator and not decision.actions.exists()
    delete = reverse("decision_delete", args=[plan.slug, decision.pk])
    assert "Supprimer la décision « Acheter six berceaux » ?" in client.get(delete).text
    client.post(delete)
    assert not Decision.objects.exists()


def test_the_dashboard_lists_only_open_decisions_by_their_meeting_name(client, decision, coordinator, plan):
    taken = DecisionFactory(meeting=decision.meeting, text="Décision déjà prise", status="taken")
    postponed = DecisionFactory(meeting=decision.meeting, text="Décision reportée", status="postponed")
    client.force_login(coordinator)
    html = client.get(reverse("dashboard", args=[plan.slug])).text
    assert "Étudier l&#x27;achat de berceaux" in html and postponed.text in html
    assert taken.text not in html
    assert "Groupe de travail du 16/06/2026" in html and "WORKING_GROUP" not in html
    client.post(status_url(decision), {"status": "taken"})
    html = client.get(reverse("dashboard", args=[plan.slug])).text
    assert f'id="decision-{decision.pk}"' not in html and f'id="decision-{postponed.pk}"' in html


def test_decisions_show_on_their_fiche(client, decision, plan, action):
    reader = grant(UserFactory(), plan, Role.READER)
    client.force_login(reader)
    html = client.get(action.get_absolute_url()).text
    assert "Étudier l&#x27;achat de berceaux" in html and "À prendre" in html
    assert "Changer l&#x27;état" not in html  # a reader sees, does not change
