"""Helpers shared by the import tests: find a fiche in a document, upload it through the app."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from actions.models import PlanImport


def fiche_of(data: dict, number: int) -> dict:
    return next(a for axis in data["axes"] for a in axis["actions"] if a["number"] == number)


def drop_fiche(data: dict, number: int) -> None:
    for axis in data["axes"]:
        axis["actions"] = [a for a in axis["actions"] if a["number"] != number]


def upload(client, data: dict, name: str = "val-aigo.json"):
    content = json.dumps(data).encode()
    return client.post(reverse("plan_import"), {"fichier": SimpleUploadedFile(name, content)})


def upload_and_confirm(client, data: dict, name: str = "val-aigo.json"):
    response = upload(client, data, name)
    assert response.status_code == 302, getattr(response, "text", "")
    pending = PlanImport.objects.latest("pk")
    return client.post(reverse("plan_import_confirm", args=[pending.pk]), follow=True)
