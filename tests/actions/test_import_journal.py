"""An import that updates a plan is a change like any other: journaled, in the importer's name."""

import importlib

from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from actions.journal import journal
from actions.models import (
    IMPORT_REASON,
    ActionPartner,
    CalendarEntry,
    Condition,
    Indicator,
    IndicatorValue,
    Note,
    Step,
)
from actions.plan_io import open_format
from axes.models import Role
from tests.actions.importing import fiche_of, upload_and_confirm
from tests.factories import UserFactory, grant, imported_plan


def reason(filename):
    return f"import du {timezone.localdate():%d/%m/%Y} de {filename}"


def lines(action):
    return [(entry.text, entry.author) for entry in journal([action.pk])]


def test_the_first_import_of_a_plan_is_the_silent_baseline(db):
    plan, _ = imported_plan()
    assert journal(plan.actions.values_list("pk", flat=True)) == []
    # …and every object it created has its "+" history row, indicators and values too.
    assert Indicator.history.filter(history_type="+", history_change_reason=IMPORT_REASON).count() == 3
    assert IndicatorValue.history.filter(history_type="+", history_change_reason=IMPORT_REASON).count() == 3


def test_each_change_of_an_import_is_journaled_in_the_importers_name(db):
    plan, data = imported_plan()
    claire = UserFactory(first_name="Claire", last_name="Dupont")
    action = plan.actions.get(number=1)
    steps = list(Step.objects.filter(action=action).order_by("pk").values_list("pk", "version"))
    spec = fiche_of(data, 1)
    spec["status"], spec["progress"] = "in_progress", 40
    old_text = spec["steps"][1]["text"]
    spec["steps"][1]["text"] = "Étape reformulée dans le fichier"
    spec["partners"] = []
    spec["calendar"][0]["label"] = "Rentrée 2025"
    spec["calendar"][0].pop("start"), spec["calendar"][0].pop("end")
    spec["indicators"][0]["values"][0]["value"] = 15
    spec["indicators"][0]["values"].append({"year": 2025, "value": 20, "comment": None})

    open_format.import_plan(data, by=claire, filename="val-aigo.xlsx")

    author = f"Claire Dupont ({reason('val-aigo.xlsx')})"
    seen = lines(action)
    assert ("Statut : à venir → en cours", author) in seen
    assert ("Avancement : 0 % → 40 %", author) in seen
    assert (f"Étape reformulée : « {old_text} » → « Étape reformulée dans le fichier »", author) in seen
    assert ("Partenaire retiré : « CAF : Service communication »", author) in seen
    assert ("Dates de « Rentrée 2025 » : 01/01/2024 – 31/03/2024 → 01/09/2025 – 31/10/2025", author) in seen
    # Matched by position: the steps keep their rows; only the reworded one has a new version.
    after = list(Step.objects.filter(action=action).order_by("pk").values_list("pk", "version"))
    assert [pk for pk, _ in after] == [pk for pk, _ in steps]
    assert sum(v_after != v for (_, v), (_, v_after) in zip(steps, after, strict=True)) == 1
    # Deletions leave "-" rows; indicator values have history too.
    assert ActionPartner.history.filter(history_type="-", history_user=claire).count() == 1
    changed = IndicatorValue.history.filter(
        history_user=claire, history_change_reason=reason("val-aigo.xlsx")
    )
    assert sorted(changed.values_list("history_type", "year")) == [("+", 2025), ("~", 2024)]
    # Other fiches, untouched, have no new line.
    assert journal([plan.actions.get(number=2).pk]) == []


def test_the_fiche_page_shows_who_imported_what(client, db):
    plan, data = imported_plan()
    claire = grant(UserFactory(first_name="Claire", last_name="Dupont"), plan, Role.COORDINATOR)
    client.force_login(claire)
    fiche_of(data, 2)["conditions"].append("Un local disponible")
    response = upload_and_confirm(client, data, name="val-aigo.json")
    assert response.status_code == 200
    page = client.get(f"/plans/{plan.slug}/fiches/2/").text
    assert (
        f"Condition ajoutée : « Un local disponible », par Claire Dupont ({reason('val-aigo.json')})" in page
    )


def test_the_command_journals_its_changes_under_the_files_name(db, tmp_path):
    import json

    plan, data = imported_plan()
    fiche_of(data, 3)["pilotage"] = "Commune"
    path = tmp_path / "plan-corrige.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    call_command("import_plan", str(path))
    action = plan.actions.get(number=3)
    assert ("Pilotage : « CCVA » → « Commune »", reason("plan-corrige.json")) in lines(action)


def test_removed_items_are_deleted_one_by_one_with_their_history(db):
    plan, data = imported_plan()
    claire = UserFactory()
    action = plan.actions.get(number=1)
    spec = fiche_of(data, 1)
    spec["steps"] = spec["steps"][1:]  # the step with a sub-step goes, and its sub-step with it
    spec["conditions"], spec["calendar"], spec["indicators"] = [], [], []
    open_format.import_plan(data, by=claire, filename="f.json")
    gone = {"history_type": "-", "history_user": claire, "history_change_reason": reason("f.json")}
    assert Step.history.filter(action_id=action.pk, **gone).count() == 2
    assert Condition.history.filter(action_id=action.pk, **gone).count() == 1
    assert CalendarEntry.history.filter(action_id=action.pk, **gone).count() == 1
    assert Indicator.history.filter(action_id=action.pk, **gone).count() == 1
    assert IndicatorValue.history.filter(**gone).count() == 1
    assert Step.objects.filter(action=action).count() == 1
    texts = [text for text, _ in lines(action)]
    assert sum(text.startswith("Étape supprimée") for text in texts) == 2


def test_rows_loaded_without_history_get_their_baseline(db):
    plan, _ = imported_plan()
    Indicator.history.all().delete()
    IndicatorValue.history.all().delete()
    Note.history.all().delete()
    migration = importlib.import_module("actions.migrations.0008_history_baseline")
    migration.baseline(apps, None)
    for model in (Indicator, IndicatorValue, Note):
        assert model.history.filter(history_type="+", history_change_reason=IMPORT_REASON).count() == 3
    migration.baseline(apps, None)  # rows that have history are left alone
    assert Note.history.count() == 3
    assert journal(plan.actions.values_list("pk", flat=True)) == []
