"""Confirming an import is refused when the plan changed after the upload."""

import pytest
from django.urls import reverse

from actions.models import Action, ActionPartner, IndicatorValue, PlanImport, Step
from actions.state import plan_state
from axes.models import Plan, Role
from tests.actions.importing import fiche_of, upload
from tests.factories import OrganisationFactory, PlanFactory, UserFactory, grant, imported_plan

STALE = "Le plan a été modifié depuis le dépôt du fichier"


def confirm(client):
    return client.post(reverse("plan_import_confirm", args=[PlanImport.objects.latest("pk").pk]))


def test_an_edit_in_the_app_after_the_upload_refuses_the_confirm(client, db):
    plan, data = imported_plan()
    claire = grant(UserFactory(), plan, Role.COORDINATOR)
    marc = grant(UserFactory(first_name="Marc", last_name="Lefèvre"), plan, Role.COORDINATOR)
    fiche_of(data, 1)["progress"] = 10
    client.force_login(claire)
    upload(client, data)

    action = plan.actions.get(number=1)
    client.force_login(marc)
    client.post(
        reverse("action_status", args=[plan.slug, 1]),
        {"status": "in_progress", "progress": 60, "version": action.version},
    )
    client.force_login(claire)
    refused = confirm(client)
    assert refused.status_code == 409
    html = refused.content.decode()
    assert STALE in html and "vérifiez l&#x27;aperçu à jour, puis confirmez à nouveau." in html
    assert "Statut : à venir → en cours, par Marc Lefèvre" in html
    assert "Aperçu de l'import" in html and "Confirmer l'import" in html
    action.refresh_from_db()
    assert (action.status, action.progress) == ("in_progress", 60)  # nothing written

    # The fresh preview was seen: confirming again applies the file.
    applied = confirm(client)
    assert applied.status_code == 302
    action.refresh_from_db()
    assert (action.status, action.progress) == ("planned", 10)


def test_a_plan_created_meanwhile_refuses_the_confirm(client, db):
    admin = UserFactory(is_superuser=True)
    _, data = imported_plan()
    data["plan"]["slug"] = "nouveau-territoire"
    client.force_login(admin)
    upload(client, data)
    PlanFactory(slug="nouveau-territoire", territory=data["plan"]["territory"])
    refused = confirm(client)
    assert refused.status_code == 409 and STALE in refused.content.decode()
    assert not Action.objects.filter(plan__slug="nouveau-territoire").exists()
    assert confirm(client).status_code == 302
    assert Action.objects.filter(plan__slug="nouveau-territoire").count() == 3


def _delete_step(plan):
    Step.objects.filter(action__plan=plan).first().delete()


def _change_value(plan):
    value = IndicatorValue.objects.filter(indicator__action__plan=plan).first()
    value.value = 99
    value.save()


def _drop_partner(plan):
    ActionPartner.objects.filter(action__plan=plan).first().delete()


def _change_pilots(plan):
    plan.actions.first().pilots.add(OrganisationFactory())


def _sign(plan):
    plan.signatories.add(OrganisationFactory())


def _swap_commune(plan):
    commune = plan.communes.first()
    plan.communes.remove(commune)
    plan.communes.add(OrganisationFactory(commune=True))


def _archive(plan):
    plan.actions.first().archive(by=None)


@pytest.mark.parametrize(
    "change", [_delete_step, _change_value, _drop_partner, _change_pilots, _sign, _swap_commune, _archive]
)
def test_the_plan_state_moves_with_every_change(db, change):
    plan, _ = imported_plan()
    other, _ = imported_plan()
    before, other_before = plan_state(plan), plan_state(other)
    assert plan_state(plan) == before
    change(plan)
    assert plan_state(plan) != before
    assert plan_state(other) == other_before


def test_the_plan_state_is_one_query(db, django_assert_num_queries):
    plan, _ = imported_plan()
    plan = Plan.objects.get(pk=plan.pk)
    with django_assert_num_queries(1):
        plan_state(plan)
