"""Every page and htmx fragment of the Val'Aïgo plan, as each kind of person gets it: walked by
the HTML checker (tests/test_vnu.py) and, on SQLite, by tests/test_sqlite.py; and the pages
documents add or change (tests/test_vnu.py)."""

import re

from django.test import Client

from actions.models import Theme
from axes.models import Role
from partners.models import Organisation
from tests.factories import DecisionFactory, MeetingFactory, UserFactory, grant

FRAGMENT = (
    '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Fragment</title></head>'
    "<body>{}</body></html>"
)
FICHE = "/plans/val-aigo/fiches/12/"
FORMS_ON_DEMAND = [
    "pilotage",
    "etapes",
    "etapes-nouveau",
    "partenaires-nouveau",
    "conditions-nouveau",
    "calendrier-nouveau",
    "indicateurs-nouveau",
    "financements-nouveau",
    "thematiques",
]


def get(client: Client, path: str, htmx: bool = False) -> str:
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.get(path, headers=headers)
    assert response.status_code == 200, f"{path} : {response.status_code}"
    html = response.content.decode()
    return html if html.lstrip().lower().startswith("<!doctype") else FRAGMENT.format(html)


def every_page(client: Client, val_aigo) -> dict[str, str]:
    """{who and what: the HTML}: every page and fragment, as the people who see different markup
    get them; each must answer 200."""
    villemur = Organisation.objects.get(name="Villemur-sur-Tarn")
    coordinator = grant(UserFactory(username="coordination"), val_aigo, Role.COORDINATOR)
    contributor = grant(UserFactory(username="contribution"), val_aigo, Role.CONTRIBUTOR, villemur)
    reader = grant(UserFactory(username="lecture"), val_aigo, Role.READER)
    administrator = UserFactory(username="admin", is_superuser=True, is_staff=True)
    meeting = MeetingFactory(plan=val_aigo)
    DecisionFactory(meeting=meeting, actions=[val_aigo.actions.get(number=12)])
    member = val_aigo.roles.get(user=reader).pk
    fiche = val_aigo.actions.get(number=12)
    # Seeded by a data migration, which a flush of a browser test before may have emptied.
    theme, _ = Theme.objects.get_or_create(slug="parentalite", defaults={"name": "Parentalité"})
    fiche.themes.add(theme)
    step, partner = fiche.steps.first(), fiche.partners.first()

    found = {}
    for path in ["/connexion/", "/compte/mot-de-passe-oublie/", "/accessibilite/", "/mentions-legales/"]:
        found[f"anonyme {path}"] = get(client, path)

    client.force_login(coordinator)
    pages = [
        "/plans/val-aigo/",
        "/plans/val-aigo/fiches/",
        "/plans/val-aigo/fiches/?late=on&q=jeunesse",
        "/plans/val-aigo/mes-fiches/",
        "/plans/val-aigo/recherche/?q=mediatheque",
        "/plans/val-aigo/tableau-de-bord/",
        "/plans/val-aigo/communes/31584/",
        "/plans/val-aigo/reunions/",
        f"/plans/val-aigo/reunions/{meeting.pk}/",
        f"/plans/val-aigo/reunions/{meeting.pk}/modifier/",
        f"/plans/val-aigo/reunions/{meeting.pk}/supprimer/",
        "/plans/val-aigo/rapports/",
        "/plans/val-aigo/membres/",
        f"/plans/val-aigo/membres/{member}/retirer/",
        "/tableau-de-bord/",
        "/thematiques/",
        "/thematiques/parentalite/",
        "/compte/mot-de-passe/",
        "/compte/notifications/",
        "/donnees-personnelles/",
        FICHE,
        f"{FICHE}etapes/{step.pk}/supprimer/",
    ]
    for path in pages:
        found[f"coordination {path}"] = get(client, path)
    for editing in [*FORMS_ON_DEMAND, f"etapes-{step.pk}", f"partenaires-{partner.pk}"]:
        found[f"coordination {FICHE}?modifier={editing}"] = get(client, f"{FICHE}?modifier={editing}")
        found[f"coordination htmx {FICHE}?modifier={editing}"] = get(
            client, f"{FICHE}?modifier={editing}", True
        )
    found["coordination htmx liste filtrée"] = get(client, "/plans/val-aigo/fiches/?late=on", True)
    answer = client.post(
        f"{FICHE}statut/",
        {"status": "in_progress", "progress": 40, "version": fiche.version},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    found["coordination htmx réponse au changement de statut"] = FRAGMENT.format(answer.content.decode())
    # Again, from a page that shows the journal: only its new lines come (static/js/app.js).
    newest = re.search(r'<li data-key="([^"]+)"', get(client, FICHE)).group(1)
    fiche.refresh_from_db()
    answer = client.post(
        f"{FICHE}statut/",
        {"status": "planned", "progress": 0, "version": fiche.version},
        headers={"HX-Request": "true", "X-Journal-Newest": newest},
    )
    assert answer.status_code == 200 and 'hx-swap-oob="afterbegin"' in answer.text
    found["coordination htmx réponse au changement de statut, lignes nouvelles du journal"] = FRAGMENT.format(
        answer.content.decode()
    )

    for who, user in (("contribution", contributor), ("lecture", reader)):
        client.force_login(user)
        for path in (
            "/plans/val-aigo/",
            "/plans/val-aigo/mes-fiches/",
            "/plans/val-aigo/tableau-de-bord/",
            FICHE,
        ):
            found[f"{who} {path}"] = get(client, path)

    client.force_login(administrator)
    found["administration /import/"] = get(client, "/import/")
    found["administration /import/ refusé (tableau des erreurs)"] = refused_import(client, val_aigo)
    return found


def refused_import(client: Client, plan) -> str:
    """The import page refusing a workbook with errors in two sheets: their table."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import load_workbook

    from actions.plan_io import open_format, spreadsheet

    workbook = load_workbook(io.BytesIO(spreadsheet.workbook_from_data(open_format.export_plan(plan))))
    workbook["Fiches"]["B2"] = 99
    workbook["Calendrier"].append([2, "2025", None, "31/02/2025", None])
    out = io.BytesIO()
    workbook.save(out)
    response = client.post("/import/", {"fichier": SimpleUploadedFile("plan.xlsx", out.getvalue())})
    assert response.status_code == 422 and "<caption" in response.content.decode()
    return response.content.decode()


def document_pages(client: Client, plan) -> dict[str, str]:
    """{what: the HTML}: the pages documents add or change, as a coordinator gets them once a PDF
    is joined to fiche 12, an image to one of its notes and a PDF to a meeting (the uploads write
    under MEDIA_ROOT): the fiche and the meeting listing them, the forms to add one, the
    confirmation before deleting, and the answer refusing a file that is not what it says."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from reporting.models import Document
    from tests import documents_files as files
    from tests.factories import NoteFactory

    coordinator = grant(UserFactory(username="documents"), plan, Role.COORDINATOR)
    fiche = plan.actions.get(number=12)
    note = NoteFactory(action=fiche, author=coordinator)
    meeting = MeetingFactory(plan=plan)
    client.force_login(coordinator)
    add = reverse("fiche_document_add", args=[plan.slug, fiche.number])
    add_to_meeting = reverse("meeting_document_add", args=[plan.slug, meeting.pk])

    def upload(url, name, data, **extra):
        return client.post(url, {"file": SimpleUploadedFile(name, data), **extra})

    for url, name, data, extra in [
        (add, "convention.pdf", files.PDF, {}),
        (add, "photo.png", files.PNG, {"note": note.pk}),
        (add_to_meeting, "cr.pdf", files.PDF, {}),
    ]:
        assert upload(url, name, data, **extra).status_code == 302, name
    document = Document.objects.get(meeting=meeting, name="cr.pdf")
    found = {
        f"documents {path}": get(client, path)
        for path in [
            fiche.get_absolute_url(),
            add,
            reverse("meeting_detail", args=[plan.slug, meeting.pk]),
            add_to_meeting,
            reverse("document_delete", args=[plan.slug, document.pk]),
        ]
    }
    refused = upload(add, "x.pdf", b"MZ" + b"\x00" * 40)
    found["documents refus d'un fichier"] = refused.content.decode()
    return found
