"""A file whose identifier is already the plan of another territory: the preview names both
territories and the import waits for an explicit choice; a coordinator is refused."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from actions.models import PlanImport
from actions.plan_io import open_format, spreadsheet
from axes.models import Plan, Role
from tests.factories import UserFactory, grant, imported_plan


def other_territory(plan) -> bytes:
    workbook = load_workbook(io.BytesIO(spreadsheet.workbook_from_data(open_format.export_plan(plan))))
    sheet = workbook["Plan"]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value.startswith("Territoire"))
    sheet.cell(row, 2).value = "CC du Pays de Nulle Part"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(client, content):
    return client.post(reverse("plan_import"), {"fichier": SimpleUploadedFile("plan.xlsx", content)})


def test_the_preview_names_both_territories_and_waits_for_a_choice(client, db):
    plan, _ = imported_plan()
    territory = plan.territory
    client.force_login(UserFactory(is_superuser=True))
    response = upload(client, other_territory(plan))
    pending = PlanImport.objects.get()
    page = client.get(response.url).content.decode().replace("&#x27;", "'")
    assert "Le territoire du plan changerait." in page
    assert (
        f"Le plan « {plan.slug} » est celui de « {territory} » ; "
        "ce fichier décrit « CC du Pays de Nulle Part »" in page
    )
    assert "Ce fichier ne change rien" not in page

    refused = client.post(reverse("plan_import_confirm", args=[pending.pk]))
    assert refused.status_code == 422
    assert "Cochez cette case pour confirmer le changement de territoire" in refused.content.decode()
    assert Plan.objects.get(pk=plan.pk).territory == territory

    client.post(reverse("plan_import_confirm", args=[pending.pk]), {"territoire": "changer"})
    assert Plan.objects.get(pk=plan.pk).territory == "CC du Pays de Nulle Part"


def test_a_coordinator_cannot_change_the_territory_of_a_plan(client, db):
    plan, _ = imported_plan()
    client.force_login(grant(UserFactory(), plan, Role.COORDINATOR))
    response = upload(client, other_territory(plan))
    assert response.status_code == 422
    text = response.content.decode().replace("&#x27;", "'")
    assert (
        "Ce fichier décrit le territoire « CC du Pays de Nulle Part », "
        f"mais le plan « {plan.slug} » est celui de "
        f"« {plan.territory} » : seul un administrateur de l'installation change le territoire d'un plan."
    ) in text
    assert not PlanImport.objects.exists()
