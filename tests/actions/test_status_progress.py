"""A fiche "réalisée" is at 100 %; the progress the steps suggest is shown beside the typed one."""

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from openpyxl import load_workbook

from actions.models import Action, Status
from actions.plan_io import open_format, spreadsheet
from axes.models import Role
from tests.actions.importing import fiche_of
from tests.factories import ActionFactory, StepFactory, UserFactory, grant, imported_plan


def test_setting_a_fiche_done_sets_it_to_100(client, db):
    action = ActionFactory(in_progress=True)
    client.force_login(grant(UserFactory(), action.plan, Role.COORDINATOR))
    page = client.get(action.get_absolute_url()).text
    assert "Une fiche « Réalisée » passe à 100 % d'elle-même." in page
    url = reverse("action_status", args=[action.plan.slug, action.number])
    response = client.post(url, {"status": "done", "progress": 40, "version": action.version})
    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.status, action.progress) == (Status.DONE, 100)


def test_the_database_refuses_a_done_fiche_below_100(db):
    action = ActionFactory()
    action.status, action.progress = Status.DONE, 60
    with pytest.raises(ValidationError) as refused:
        action.full_clean()
    assert "Une fiche réalisée est à 100 % d'avancement." in str(refused.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        action.save()


def test_an_import_with_a_done_fiche_below_100_is_refused_where_it_is(db):
    plan, data = imported_plan()
    before = list(Action.objects.values_list("pk", "status", "progress", "version"))
    spec = fiche_of(data, 2)
    spec["status"], spec["progress"] = "done", 80
    with pytest.raises(open_format.PlanFormatError) as refused:
        open_format.load(json.dumps(data))
    assert any(
        e.endswith(
            ".progress : une fiche « Réalisée » est à 100 % d'avancement (trouvé : 80 %) ; "
            "corrigez le statut ou l'avancement"
        )
        for e in refused.value.errors
    )
    with pytest.raises(open_format.PlanFormatError):
        open_format.import_plan(data)
    assert list(Action.objects.values_list("pk", "status", "progress", "version")) == before

    # In the workbook, the error names its cell.
    workbook = load_workbook(io.BytesIO(spreadsheet.workbook_from_data(open_format.export_plan(plan))))
    sheet = workbook["Fiches"]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == 2)
    sheet.cell(row, 7).value, sheet.cell(row, 8).value = "Réalisée", 80
    out = io.BytesIO()
    workbook.save(out)
    with pytest.raises(open_format.PlanFormatError) as refused:
        spreadsheet.read_document("plan.xlsx", out.getvalue())
    assert refused.value.errors == [
        f"feuille « Fiches », ligne {row}, colonne H : une fiche « Réalisée » est à 100 % d'avancement "
        "(trouvé : 80 %) ; corrigez le statut ou l'avancement"
    ]


def test_the_fiche_shows_the_progress_its_steps_suggest(client, db):
    action = ActionFactory(in_progress=True)
    heading = StepFactory(action=action, text="Villemur-sur-Tarn")  # a commune's heading: not counted
    StepFactory(action=action, parent=heading, done=True)
    StepFactory(action=action, parent=heading)
    StepFactory(action=action, parent=heading)
    StepFactory(action=action, done=True)
    StepFactory(action=action)
    client.force_login(grant(UserFactory(), action.plan, Role.READER))
    page = client.get(action.get_absolute_url()).text
    assert "Étapes : 2 / 5 réalisées (40 %)" in page
    assert "40 %" in page  # the typed progress beside it


def test_a_fiche_without_steps_shows_no_step_progress(client, db):
    action = ActionFactory()
    client.force_login(grant(UserFactory(), action.plan, Role.READER))
    assert "Étapes :" not in client.get(action.get_absolute_url()).text
