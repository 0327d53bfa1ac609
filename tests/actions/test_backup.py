"""`manage.py backup` writes every plan in the open format, keeping what the app adds to the plan
(meetings, decisions, archived fiches, signed notes); restoring into an empty installation gives
identical exports."""

import datetime
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from actions.models import Action
from actions.plan_io import open_format
from axes.models import Plan, Role
from partners.models import Organisation
from reporting.models import Meeting
from tests.factories import (
    ActionFactory,
    AxisFactory,
    DecisionFactory,
    MeetingFactory,
    NoteFactory,
    PlanFactory,
    StepFactory,
    UserFactory,
    grant,
)


def backup(tmp_path, name):
    folder = tmp_path / name
    call_command("backup", output=str(folder))
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))}


def without_timestamps(files):
    return {name: {k: v for k, v in data.items() if k != "exported_at"} for name, data in files.items()}


def test_backup_and_restore_into_an_empty_installation(tmp_path, db):
    for slug in ("coteaux", "val"):
        plan = PlanFactory(slug=slug)
        axis = AxisFactory(plan=plan, number=1)
        kept = ActionFactory(plan=plan, axis=axis, number=1)
        StepFactory(action=kept, text="Réunir les parents", done=True)
        NoteFactory(action=kept, text="Réunion tenue.", author_name="Claire Dupont")
        gone = ActionFactory(plan=plan, axis=axis, number=2, title="Fiche abandonnée par le fichier")
        NoteFactory(action=gone, text="Une note à garder.", author_name="M. Roux")
        gone.archive(by=UserFactory())
        meeting = MeetingFactory(plan=plan, date=datetime.date(2026, 6, 16))
        DecisionFactory(meeting=meeting, text="Voter le budget", actions=[kept, gone])
    first = backup(tmp_path, "premiere")
    assert list(first) == ["coteaux.json", "val.json"]
    data = first["val.json"]
    fiches = {f["number"]: f for f in data["axes"][0]["actions"]}
    assert fiches[2]["archived_at"] and "archived_at" not in fiches[1]
    assert fiches[2]["notes"][0]["author"] == "M. Roux" and data["meetings"][0]["decisions"][0][
        "actions"
    ] == [1, 2]

    Plan.objects.all().delete()
    Organisation.objects.all().delete()
    for name in first:
        call_command("import_plan", str(tmp_path / "premiere" / name))
    assert Action.all_objects.filter(archived_at__isnull=False).count() == 2
    assert Action.objects.count() == 2 and Meeting.objects.count() == 2
    assert without_timestamps(backup(tmp_path, "seconde")) == without_timestamps(first)


def test_an_unwritable_folder_is_said_in_french(tmp_path, db):
    blocker = tmp_path / "fichier"
    blocker.write_text("")
    from django.core.management import CommandError

    try:
        call_command("backup", output=str(blocker / "dossier"))
    except CommandError as exc:
        assert "Impossible de créer le dossier" in str(exc)
    else:
        raise AssertionError("the command should refuse")


def test_reimporting_a_backup_changes_nothing(tmp_path, db):
    plan = ActionFactory(number=1).plan
    gone = ActionFactory(plan=plan, axis=plan.axes.get(), number=2)
    gone.archive(by=None)
    files = backup(tmp_path, "b")
    data = next(iter(files.values()))
    assert open_format.preview(data).nothing_to_do


def test_a_renewed_plan_comes_back_closed_and_linked_whichever_is_restored_first(tmp_path, db):
    """The old plan read-only, each carried fiche's "Suite de l'action N" (Action.previous):
    both were lost by a backup and its restore, which gave an open old plan and no lineage."""
    from reporting.renewal import renew_plan

    old = PlanFactory(slug="ctg-2023", start_year=2023, end_year=2027)
    axis = AxisFactory(plan=old, number=1)
    ActionFactory(plan=old, axis=axis, number=1)
    ActionFactory(plan=old, axis=axis, number=7, title="Accueil du mercredi")
    renew_plan(
        old, slug="ctg-2028", title="CTG 2028-2032", start_year=2028, end_year=2032, numbers=[7], by=None
    )
    first = backup(tmp_path, "premiere")
    carried = first["ctg-2028.json"]["axes"][0]["actions"][0]
    assert carried["previous"] == {"plan": "ctg-2023", "number": 7}
    assert first["ctg-2023.json"]["axes"][0]["actions"][1]["continued_by"] == [
        {"plan": "ctg-2028", "number": 1}
    ]
    assert first["ctg-2023.json"]["plan"]["closed_at"] and "closed_at" not in first["ctg-2028.json"]["plan"]

    for order in (["ctg-2028.json", "ctg-2023.json"], ["ctg-2023.json", "ctg-2028.json"]):
        Plan.objects.all().delete()
        Organisation.objects.all().delete()
        for name in order:
            call_command("import_plan", str(tmp_path / "premiere" / name))
        fiche = Action.objects.select_related("previous__plan").get(plan__slug="ctg-2028")
        assert (fiche.previous.plan.slug, fiche.previous.number) == ("ctg-2023", 7), order
        assert Plan.objects.get(slug="ctg-2023").closed_at is not None
        assert Plan.objects.get(slug="ctg-2028").closed_at is None
        assert without_timestamps(backup(tmp_path, "seconde")) == without_timestamps(first)
        # The same files again write nothing.
        assert all(open_format.preview(data).nothing_to_do for data in first.values())


def _import_through_the_page(client, user, data) -> None:
    """A signed-in person uploads a JSON plan and confirms it, as on /import/."""
    client.force_login(user)
    answer = client.post("/import/", {"fichier": SimpleUploadedFile("plan.json", json.dumps(data).encode())})
    pending = int(re.search(r"/import/(\d+)/", answer["Location"]).group(1))
    client.post(f"/import/{pending}/confirmer/", {})


@pytest.mark.django_db
@pytest.mark.parametrize("coordinates_b", [False, True])
def test_a_file_links_fiches_of_plans_its_importer_coordinates_only(client, coordinates_b):
    """A coordinator's JSON naming another territory's fiches (previous, continued_by) neither
    re-links that plan's fiche nor shows its title, unless they coordinate that plan too."""
    a = PlanFactory(slug="plan-a", territory="A")
    b = PlanFactory(slug="plan-b", territory="B", title="Plan confidentiel de B")
    ActionFactory(plan=a, axis=AxisFactory(plan=a, number=1), number=1)
    ActionFactory(plan=a, axis=a.axes.get(), number=2)
    b_axis = AxisFactory(plan=b, number=1)
    b3, b4 = ActionFactory(plan=b, axis=b_axis, number=3), ActionFactory(plan=b, axis=b_axis, number=4)
    coordinator = grant(UserFactory(), a, Role.COORDINATOR)
    if coordinates_b:
        grant(coordinator, b, Role.COORDINATOR)
    data = open_format.export_plan(a)
    data["axes"][0]["actions"][0]["previous"] = {"plan": "plan-b", "number": 3}
    data["axes"][0]["actions"][1]["continued_by"] = [{"plan": "plan-b", "number": 4}]
    _import_through_the_page(client, coordinator, data)

    a1 = Action.objects.get(plan=a, number=1)
    b4.refresh_from_db()
    renewal_page = client.get("/plans/plan-a/reconduction/").content.decode()
    if coordinates_b:
        assert (a1.previous_id, b4.previous.number) == (b3.pk, 2)
        assert "Plan confidentiel de B" in renewal_page
    else:
        assert (a1.previous_id, b4.previous_id) == (None, None)
        assert "Plan confidentiel de B" not in renewal_page
