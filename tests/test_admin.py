"""The Django admin: every model is there, in French, and its pages open."""

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils.html import escape

from actions.models import Action, Step

MODELS = [
    model
    for model in admin.site._registry
    if model._meta.app_label in {"partners", "axes", "actions", "reporting"}
]


@pytest.fixture
def admin_client_with_plan(admin_client, val_aigo):
    return admin_client


def test_every_model_of_the_plan_is_registered():
    names = {model.__name__ for model in MODELS}
    assert names >= {
        "Organisation",
        "Plan",
        "Axis",
        "Finding",
        "Action",
        "Step",
        "ActionPartner",
        "Condition",
        "CalendarEntry",
        "Indicator",
        "Note",
        "Meeting",
        "Decision",
    }


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_and_change_page_open(admin_client_with_plan, model):
    opts = model._meta
    response = admin_client_with_plan.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert response.status_code == 200
    assert f"Sélectionnez l’objet {escape(opts.verbose_name)} à changer" in response.text
    obj = model.objects.first()
    if obj is not None:
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        assert admin_client_with_plan.get(change).status_code == 200


def test_admin_speaks_french(admin_client_with_plan):
    html = admin_client_with_plan.get(reverse("admin:index")).text
    assert "Fiches-actions" in html and "Plans et axes" in html and "Partenaires" in html


def test_a_step_can_be_corrected_in_the_admin(admin_client_with_plan, val_aigo):
    step = Step.objects.get(action__plan=val_aigo, action__number=2, position=0)
    url = reverse("admin:actions_step_change", args=[step.pk])
    response = admin_client_with_plan.post(
        url,
        {"action": step.action_id, "position": 0, "text": "Faire un bilan partagé", "done": "on"},
    )
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.text == "Faire un bilan partagé" and step.done


def test_fiche_progress_over_100_is_refused(admin_client_with_plan, val_aigo):
    action = Action.objects.get(plan=val_aigo, number=1)
    url = reverse("admin:actions_action_change", args=[action.pk])
    page = admin_client_with_plan.get(url)
    assert page.status_code == 200
    data = {
        "plan": action.plan_id,
        "axis": action.axis_id,
        "number": 1,
        "title": action.title,
        "fiche_title": action.fiche_title,
        "pilotage": action.pilotage,
        "status": "planned",
        "progress": 150,
    }
    for prefix in ["steps", "partners", "conditions", "calendar_entries", "indicators", "notes"]:
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    response = admin_client_with_plan.post(url, data)
    assert response.status_code == 200
    assert "L&#x27;avancement est un pourcentage, de 0 à 100." in response.text
    action.refresh_from_db()
    assert action.progress == 0


def test_background_tasks_read_in_french(admin_client_with_plan, val_aigo):
    """The report queue's pages speak French too: its section, model, columns and states."""
    from reporting.tasks import request_report

    request_report(val_aigo, "copil")
    index = admin_client_with_plan.get(reverse("admin:index")).text
    assert "Tâches en arrière-plan (rapports PDF)" in index and "Task Results" not in index
    html = admin_client_with_plan.get(reverse("admin:django_tasks_database_dbtaskresult_changelist")).text
    for words in ("Sélectionnez l’objet tâche", "État", "Mise en file", "en attente"):
        assert words in html
    for english in ("Task Result", "Enqueued at", "Ready", "Queue name"):
        assert english not in html
