"""Documents in real Chromium: a coordinator attaches the COPIL's minutes (a PDF) to the meeting,
a contributeur of the plan downloads them and gets the same bytes; with JavaScript on and off
(the upload is a plain form, the download a plain link)."""

import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from axes.models import Role
from reporting import documents
from tests import documents_files as files
from tests.browser.pages import audit_every_page, axe_violations, describe, open_as, signed_in_as
from tests.factories import (
    ActionFactory,
    AxisFactory,
    MeetingFactory,
    OrganisationFactory,
    PlanFactory,
    UserFactory,
    grant,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def meeting(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    plan = PlanFactory(slug="coteaux", territory="CC des Coteaux")
    villemur = OrganisationFactory(commune=True, name="Villemur-sur-Tarn")
    plan.communes.set([villemur])
    ActionFactory(plan=plan, axis=AxisFactory(plan=plan, number=1), number=1)
    grant(UserFactory(username="claire", first_name="Claire", last_name="Dupont"), plan, Role.COORDINATOR)
    grant(UserFactory(username="paul"), plan, Role.CONTRIBUTOR, villemur)
    return MeetingFactory(plan=plan, date=datetime.date(2026, 6, 16))


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "sans-js"])
def test_the_copil_minutes_attached_then_downloaded_by_a_contributeur(
    new_context, live_server, meeting, tmp_path, javascript
):
    path = f"/plans/coteaux/reunions/{meeting.pk}/"
    minutes = tmp_path / "Compte rendu du COPIL – juin.pdf"
    minutes.write_bytes(files.PDF)
    wrong = tmp_path / "programme.pdf"
    wrong.write_bytes(b"MZ\x90\x00" + b"\x00" * 200)

    page = open_as(new_context(java_script_enabled=javascript).new_page(), live_server, path, "claire")
    page.get_by_role("link", name="Joindre un document").click()
    field = page.get_by_label("Fichier")
    expect(field).to_have_accessible_description(
        "PDF, documents bureautiques (.docx, .xlsx, .pptx, .odt, .ods, .odp, .doc, .xls) ou images "
        "(.png, .jpg, .webp), 10 Mo au plus."
    )
    # A bad file first: refused beside the field, in French, the error part of its description.
    field.set_input_files(wrong)
    page.get_by_role("button", name="Joindre le document").click()
    field = page.get_by_label("Fichier")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(
        "PDF, documents bureautiques (.docx, .xlsx, .pptx, .odt, .ods, .odp, .doc, .xls) ou images "
        "(.png, .jpg, .webp), 10 Mo au plus. Le contenu du fichier ne correspond pas à son extension .pdf : "
        "ce n'est pas un fichier PDF valide. Rien n'a été enregistré."
    )
    field.set_input_files(minutes)
    page.get_by_role("button", name="Joindre le document").click()
    page.wait_for_url(f"{live_server.url}{path}#documents")
    documents = page.locator("#documents")
    expect(documents.get_by_role("link", name="Compte rendu du COPIL – juin.pdf", exact=True)).to_be_visible()
    expect(documents).to_contain_text("par Claire Dupont")

    contributor = new_context(java_script_enabled=javascript, accept_downloads=True)
    page = open_as(contributor.new_page(), live_server, path, "paul")
    expect(page.locator("#documents").get_by_role("link", name="Supprimer")).to_have_count(0)
    with page.expect_download() as info:
        page.get_by_role("link", name="Compte rendu du COPIL – juin.pdf", exact=True).click()
    download = info.value
    assert download.suggested_filename == "Compte rendu du COPIL – juin.pdf"
    assert Path(download.path()).read_bytes() == files.PDF


def test_a_partner_joins_a_photo_to_their_note_from_the_fiche_page(page, live_server, meeting, tmp_path):
    """From the fiche page, whose sections are boosted by htmx: the link opens the upload page
    (not a fragment), and the photo then shows under the note and downloads."""
    from actions.models import Note
    from tests.factories import PartnerFactory

    plan = meeting.plan
    action = plan.actions.get(number=1)
    partner = OrganisationFactory(name="Centre social")
    PartnerFactory(action=action, organisation=partner)
    author = grant(
        UserFactory(username="lea", first_name="Léa", last_name="Roux"), plan, Role.CONTRIBUTOR, partner
    )
    note = Note.objects.create(
        action=action, text="Atelier parents du 3 mars", author=author, author_name="Léa Roux"
    )
    photo = tmp_path / "atelier.png"
    photo.write_bytes(files.PNG)
    path = "/plans/coteaux/fiches/1/"
    open_as(page, live_server, path, "lea")
    page.locator(f"#note-{note.pk}").get_by_role("link", name="Joindre un document").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Joindre un document")
    expect(page.get_by_label("Joindre à")).to_have_value(str(note.pk))
    page.get_by_label("Fichier").set_input_files(photo)
    page.get_by_role("button", name="Joindre le document").click()
    page.wait_for_url(f"{live_server.url}{path}#note-{note.pk}")
    with page.expect_download() as info:
        page.locator(f"#note-{note.pk}").get_by_role("link", name="atelier.png", exact=True).click()
    assert Path(info.value.path()).read_bytes() == files.PNG


def test_the_document_pages_reflow_and_meet_wcag(page, live_server, meeting, tmp_path, django_user_model):
    """The upload form (fresh and with its error), the fiche and meeting pages listing documents
    with a very long name, and the deletion's confirmation: at 320 px no sideways scroll and no
    axe violation, at 1366 px no axe violation."""
    long_name = "Compte-rendu-du-comite-de-pilotage-de-la-convention-territoriale-globale" * 2 + ".pdf"
    plan = meeting.plan
    claire = django_user_model.objects.get(username="claire")
    # Stored as the upload views store them (uploading through the form is the subject of the
    # tests above): the pages audited are the same, without loading the forms and the pages
    # they lead back to only to make the documents.
    document = documents.store(
        SimpleUploadedFile(long_name, files.PDF, "application/pdf"), plan=plan, by=claire, meeting=meeting
    )
    documents.store(
        SimpleUploadedFile(long_name, files.PDF, "application/pdf"),
        plan=plan,
        by=claire,
        action=plan.actions.get(number=1),
    )
    signed_in_as(page, live_server, "claire")
    form = f"/plans/coteaux/reunions/{meeting.pk}/documents/ajouter/"
    paths = [
        f"/plans/coteaux/reunions/{meeting.pk}/",
        form,
        "/plans/coteaux/fiches/1/",
        f"/plans/coteaux/documents/{document.pk}/supprimer/",
    ]
    problems = []

    def audit(what):
        """At the width the page was loaded at, then the same document laid out again at the
        other (320 or 1366 px): media queries follow the viewport and no script of ours reads
        the width, so a reload would show nothing more; the next page is loaded at the width
        this one was left at (the page left is not laid out once more for nothing)."""
        first = page.viewport_size["width"]
        for width in (first, 1366 if first == 320 else 320):
            if page.viewport_size["width"] != width:
                page.set_viewport_size({"width": width, "height": 800})
            if width == 320 and (scroll := page.evaluate("document.documentElement.scrollWidth")) > 320:
                problems.append(f"{what} à 320 px : {scroll} px de large")
            if violations := axe_violations(page):
                problems.append(f"{what} à {width} px : {describe(violations)}")

    audit_every_page(page.context)
    page.set_viewport_size({"width": 320, "height": 800})
    wrong = tmp_path / "programme.pdf"
    wrong.write_bytes(b"MZ" + b"\x00" * 100)
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        audit(path)
        if path == form:
            # The form with its error, as sent back (a renamed executable), from the fresh form
            # just audited.
            page.get_by_label("Fichier").set_input_files(wrong)
            page.get_by_role("button", name="Joindre le document").click()
            expect(page.get_by_role("alert").first).to_be_visible()
            audit("formulaire en erreur")
    assert not problems, "\n".join(problems)
