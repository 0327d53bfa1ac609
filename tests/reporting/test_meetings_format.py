"""Meetings and decisions travel in the open format ("meetings", an optional part of a ctg-plan/1
document), so a backup keeps them and an import restores them without deleting any."""

import copy
import datetime

import pytest
from django.urls import reverse

from actions.plan_io import open_format
from axes.models import Plan, Role
from reporting.models import Decision, DecisionStatus, Meeting
from tests.factories import (
    ActionFactory,
    AxisFactory,
    DecisionFactory,
    MeetingFactory,
    PlanFactory,
    UserFactory,
    grant,
)


def without_timestamp(data):
    data = copy.deepcopy(data)
    data.pop("exported_at", None)
    return data


@pytest.fixture
def plan(db):
    plan = PlanFactory(slug="coteaux")
    axis = AxisFactory(plan=plan, number=1)
    first = ActionFactory(plan=plan, axis=axis, number=1)
    second = ActionFactory(plan=plan, axis=axis, number=2)
    copil = MeetingFactory(
        plan=plan, date=datetime.date(2025, 6, 16), attendees="Maire de Villemur\nCAF 31", agenda="Bilan 2025"
    )
    DecisionFactory(
        meeting=copil, text="Étudier l'achat de berceaux", status="to_take", actions=[first, second]
    )
    taken = DecisionFactory(meeting=copil, text="Recruter un animateur", status="to_take", actions=[second])
    taken.set_status(DecisionStatus.TAKEN, by=None)
    MeetingFactory(plan=plan, instance="working_group", date=datetime.date(2025, 9, 1))
    return plan


def test_export_keeps_meetings_and_decisions(plan):
    data = open_format.export_plan(plan)
    assert open_format.validate(data) == []
    copil, group = data["meetings"]
    assert copil["instance"] == "copil" and copil["date"] == "2025-06-16"
    assert copil["attendees"] == ["Maire de Villemur", "CAF 31"] and copil["agenda"] == "Bilan 2025"
    assert [(d["text"], d["status"], d["actions"]) for d in copil["decisions"]] == [
        ("Étudier l'achat de berceaux", "to_take", [1, 2]),
        ("Recruter un animateur", "taken", [2]),
    ]
    assert copil["decisions"][1]["status_changed_at"] and group["decisions"] == []


def test_round_trip_through_an_empty_database(plan):
    first = open_format.export_plan(plan)
    Plan.objects.all().delete()
    assert not Meeting.objects.exists() and not Decision.objects.exists()
    open_format.import_plan(open_format.load(open_format.dumps(first)))
    second = open_format.export_plan(Plan.objects.get(slug="coteaux"))
    assert without_timestamp(second) == without_timestamp(first)


def test_a_plan_without_meetings_exports_as_before(db):
    plan = ActionFactory().plan
    assert "meetings" not in open_format.export_plan(plan)


def test_import_adds_and_updates_but_never_deletes(plan):
    data = open_format.export_plan(plan)
    user = UserFactory(first_name="Claire", last_name="Dupont")
    data["meetings"][0]["decisions"][0]["status"] = "postponed"
    data["meetings"][0]["decisions"].append({"text": "Voter le budget", "status": "to_take", "actions": [1]})
    data["meetings"].append({"instance": "copil", "date": "2026-06-18", "agenda": "Bilan 2026"})
    del data["meetings"][1]  # the working group is not in the file: it stays
    assert open_format.preview(data).extra == [
        "1 réunion(s) ajoutée(s).",
        "1 décision(s) ajoutée(s).",
        "1 décision(s) mise(s) à jour.",
    ]
    report = open_format.import_plan(data, by=user, filename="coteaux.json")
    assert "1 réunion(s) ajoutée(s)." in report.summary()
    assert plan.meetings.count() == 3  # two COPIL and the working group kept
    postponed = Decision.objects.get(text="Étudier l'achat de berceaux")
    assert postponed.status == DecisionStatus.POSTPONED
    last = postponed.history.first()
    assert last.history_user == user and last.history_change_reason.startswith("import du ")
    assert Decision.objects.get(text="Voter le budget").actions.get().number == 1
    # Importing the same file again changes nothing.
    assert open_format.preview(open_format.export_plan(plan)).nothing_to_do


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda m: m[0]["decisions"][0].update(actions=[9]),
            "meetings[0].decisions[0].actions : fiche n° 9 absente du fichier",
        ),
        (lambda m: m[0].update(instance="conseil"), "meetings[0].instance : valeur « conseil » non reconnue"),
        (lambda m: m[0].update(date="1850-01-01"), "meetings[0].date : date invraisemblable"),
        (lambda m: m[0]["decisions"][0].update(status="faite"), "meetings[0].decisions[0].status"),
    ],
)
def test_bad_meetings_are_refused_in_french_and_change_nothing(plan, change, message):
    data = open_format.export_plan(plan)
    change(data["meetings"])
    errors = open_format.validate(data)
    assert any(error.startswith(message) for error in errors), errors
    with pytest.raises(open_format.PlanFormatError):
        open_format.import_plan(data)
    assert Meeting.objects.count() == 2 and Decision.objects.count() == 2


def test_the_import_preview_says_what_happens_to_meetings(client, plan):
    coordinator = grant(UserFactory(), plan, Role.COORDINATOR)
    data = open_format.export_plan(plan)
    data["meetings"].append({"instance": "cotech", "date": "2026-02-03"})
    client.force_login(coordinator)
    upload = open_format.dumps(data).encode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("plan_import"), {"fichier": SimpleUploadedFile("coteaux.json", upload)}, follow=True
    )
    assert "1 réunion(s) ajoutée(s)." in response.text
