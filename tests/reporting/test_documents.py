"""Documents on fiches, notes and meetings: each accepted kind stored and given back as an
attachment to those who may read the plan; bad files refused in French with nothing stored
(no row, no file); adding and deleting for those who may write the fiche or the meeting."""

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.urls import reverse
from django.utils import timezone

from axes.models import Role
from reporting.models import Document
from tests import documents_files as files
from tests.factories import (
    ActionFactory,
    MeetingFactory,
    NoteFactory,
    OrganisationFactory,
    PartnerFactory,
    PlanFactory,
    UserFactory,
    grant,
)
from tests.pdf import pdf_text


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return settings.MEDIA_ROOT


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


@pytest.fixture
def action(db):
    return ActionFactory(title="Accueil du jeune enfant")


@pytest.fixture
def plan(action):
    return action.plan


@pytest.fixture
def coordinator(plan):
    return grant(UserFactory(first_name="Claire", last_name="Dupont"), plan, Role.COORDINATOR)


@pytest.fixture
def reader(plan):
    return grant(UserFactory(), plan, Role.READER)


def add_url(action):
    return reverse("fiche_document_add", args=[action.plan.slug, action.number])


def upload(client, url, name, data, **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(url, {"file": SimpleUploadedFile(name, data), **extra})


def read(response) -> bytes:
    """The downloaded bytes (reading them to the end closes the file)."""
    return b"".join(response.streaming_content)


def download_url(document):
    return reverse("document_download", args=[document.plan.slug, document.pk])


@pytest.mark.parametrize("name", list(files.ALLOWED))
def test_each_accepted_kind_is_stored_and_given_back_as_an_attachment(
    client, action, coordinator, reader, media, name
):
    data = files.content(name)
    client.force_login(coordinator)
    response = upload(client, add_url(action), name, data)
    assert response.status_code == 302 and response.url.endswith("#documents")
    document = Document.objects.get()
    assert (document.name, document.action, document.note, document.size) == (name, action, None, len(data))
    assert document.uploaded_by_name == "Claire Dupont"
    assert [p.read_bytes() for p in stored_files(media)] == [data]
    assert name not in document.file.name  # stored under a random key, never the sender's name

    client.force_login(reader)
    response = client.get(download_url(document))
    assert response.status_code == 200
    assert read(response) == data
    assert response["Content-Type"] == files.ALLOWED[name][0]
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response["X-Content-Type-Options"] == "nosniff"


REFUSALS = [
    ("vide.pdf", b"", "Le fichier est vide."),
    ("programme.exe", b"MZ\x90\x00" + b"\x00" * 100, "Ce type de fichier (« .exe ») n'est pas accepté."),
    ("sans-extension", files.PDF, "Ce type de fichier (sans extension) n'est pas accepté."),
    ("facture.pdf", b"MZ\x90\x00" + b"\x00" * 100, "ne correspond pas à son extension .pdf"),
    ("photo.png", files.PDF, "ne correspond pas à son extension .png"),
    ("photo.jpg", files.PNG, "ne correspond pas à son extension .jpg"),
    ("photo.webp", b"RIFF\x00\x00\x00\x00WAVEfmt ", "ne correspond pas à son extension .webp"),
    ("note.docx", files.xlsx(), "ne correspond pas à son extension .docx"),
    ("note.docx", files.PDF, "ne correspond pas à son extension .docx"),
    ("texte.odt", files.odf("spreadsheet"), "ne correspond pas à son extension .odt"),
    ("ancien.xls", files.ole("WordDocument"), "ne correspond pas à son extension .xls"),
    ("ancien.doc", files.docx(), "ne correspond pas à son extension .doc"),
    ("budget.xlsx", b"PK\x03\x04 truncated", "ne correspond pas à son extension .xlsx"),
    ("avec-macros.docx", files.docx(macros=True), "Les documents contenant des macros ne sont pas acceptés."),
]


@pytest.mark.parametrize(
    ("name", "data", "message"), REFUSALS, ids=[r[0] + str(i) for i, r in enumerate(REFUSALS)]
)
def test_bad_files_are_refused_in_french_and_nothing_is_stored(
    client, action, coordinator, media, name, data, message
):
    client.force_login(coordinator)
    response = upload(client, add_url(action), name, data)
    assert response.status_code == 422
    assert message.replace("'", "&#x27;") in response.text
    assert 'aria-describedby="id_file_helptext id_file_error"' in response.text
    assert not Document.objects.exists() and stored_files(media) == []


def test_a_file_over_the_size_limit_is_refused(client, action, coordinator, media, settings):
    settings.DOCUMENT_MAX_SIZE_MB = 1
    client.force_login(coordinator)
    response = upload(client, add_url(action), "scan.pdf", files.PDF + b"0" * (1024 * 1024))
    assert response.status_code == 422
    assert "Le fichier dépasse la taille maximale de 1 Mo (il fait 1,0 Mo)." in response.text
    assert not Document.objects.exists() and stored_files(media) == []
    assert "1 Mo au plus" in client.get(add_url(action)).text  # the hint says the limit


def test_the_name_is_cleaned_accents_kept(client, action, coordinator, reader):
    client.force_login(coordinator)
    upload(client, add_url(action), "../../etc/Compte\x07 rendu   été\u202e.pdf", files.PDF)
    document = Document.objects.get()
    assert document.name == "Compte rendu été.pdf"
    client.force_login(reader)
    response = client.get(download_url(document))
    assert (
        response["Content-Disposition"] == "attachment; filename*=utf-8''Compte%20rendu%20%C3%A9t%C3%A9.pdf"
    )
    read(response)
    long = "x" * 400 + ".pdf"
    client.force_login(coordinator)
    upload(client, add_url(action), long, files.PDF)
    assert Document.objects.filter(name="x" * 146 + ".pdf").exists()


def test_download_only_by_those_who_may_read_the_plan(client, action, plan, coordinator, reader):
    client.force_login(coordinator)
    upload(client, add_url(action), "preuve.pdf", files.PDF)
    document = Document.objects.get()
    caf = OrganisationFactory(kind="caf", name="CAF de la Haute-Garonne")
    plan.signatories.add(caf)
    caf_agent = UserFactory()
    caf_agent.memberships.create(organisation=caf)
    for allowed in [reader, caf_agent]:  # a reader of the plan, an agent of the CAF that signed it
        client.force_login(allowed)
        response = client.get(download_url(document))
        assert response.status_code == 200
        read(response)
    other_plan = PlanFactory()
    for outsider in [UserFactory(), grant(UserFactory(), other_plan, Role.COORDINATOR)]:
        client.force_login(outsider)
        assert client.get(download_url(document)).status_code == 404
        # Nor through another plan's address.
        assert (
            client.get(reverse("document_download", args=[other_plan.slug, document.pk])).status_code == 404
        )
    client.logout()
    assert client.get(download_url(document)).status_code == 302  # to the sign-in page


def test_adding_is_for_those_who_may_write(client, action, plan, reader, media):
    client.force_login(reader)
    assert client.get(add_url(action)).status_code == 403
    assert upload(client, add_url(action), "preuve.pdf", files.PDF).status_code == 403
    client.force_login(UserFactory())
    assert upload(client, add_url(action), "preuve.pdf", files.PDF).status_code == 404
    assert not Document.objects.exists() and stored_files(media) == []


def test_a_partner_attaches_to_their_own_note_only(client, action, plan, media):
    partner = OrganisationFactory()
    PartnerFactory(action=action, organisation=partner)
    contributor = grant(UserFactory(), plan, Role.CONTRIBUTOR, partner)
    own = NoteFactory(action=action, author=contributor)
    other = NoteFactory(action=action, author=UserFactory())
    client.force_login(contributor)
    page = client.get(add_url(action)).text
    assert f'value="{own.pk}"' in page and f'value="{other.pk}"' not in page
    assert upload(client, add_url(action), "a.pdf", files.PDF).status_code == 422  # the fiche itself: no
    assert upload(client, add_url(action), "a.pdf", files.PDF, note=other.pk).status_code == 422
    response = upload(client, add_url(action), "photo.png", files.PNG, note=own.pk)
    assert response.status_code == 302 and response.url.endswith(f"#note-{own.pk}")
    document = Document.objects.get()
    assert (document.note, document.action) == (own, action)
    fiche = client.get(action.get_absolute_url()).text
    note_html = fiche.split(f'id="note-{own.pk}"')[1].split("</li>\n")[0]
    assert "photo.png" in note_html and "Supprimer" in note_html


def test_a_closed_plan_is_read_only(client, action, plan, coordinator, reader):
    client.force_login(coordinator)
    upload(client, add_url(action), "preuve.pdf", files.PDF)
    document = Document.objects.get()
    plan.closed_at = timezone.now()
    plan.save(update_fields=["closed_at"])
    assert upload(client, add_url(action), "autre.pdf", files.PDF).status_code == 403
    delete = reverse("document_delete", args=[plan.slug, document.pk])
    assert client.post(delete).status_code == 403
    assert "Joindre un document" not in client.get(action.get_absolute_url()).text
    response = client.get(download_url(document))
    assert response.status_code == 200  # still readable
    read(response)
    assert Document.objects.count() == 1


def test_listed_on_the_fiche_page_within_its_query_bound(
    client, action, coordinator, reader, django_assert_max_num_queries
):
    note = NoteFactory(action=action, author=coordinator, text="Visite du site")
    client.force_login(coordinator)
    upload(client, add_url(action), "convention signée.pdf", files.PDF)
    upload(client, add_url(action), "photo.png", files.PNG, note=note.pk)
    client.force_login(reader)
    with django_assert_max_num_queries(12):
        html = client.get(action.get_absolute_url()).text
    documents = html.split('id="documents"')[1].split("</section>")[0]
    today = timezone.localdate().strftime("%d/%m/%Y")
    assert "convention signée.pdf" in documents and "ajouté le <time datetime=" in documents
    assert f">{today}</time> par Claire Dupont" in documents and "photo.png" not in documents
    assert "Supprimer" not in documents and "Joindre un document" not in documents
    assert "photo.png" in html.split(f'id="note-{note.pk}"')[1].split("</li>")[0]


def test_a_meeting_s_minutes(client, plan, coordinator, reader, media):
    meeting = MeetingFactory(plan=plan, date=datetime.date(2026, 6, 16))
    url = reverse("meeting_document_add", args=[plan.slug, meeting.pk])
    client.force_login(reader)
    assert upload(client, url, "cr.pdf", files.PDF).status_code == 403
    client.force_login(coordinator)
    response = upload(client, url, "Compte rendu COPIL.pdf", files.PDF)
    assert response.status_code == 302
    document = Document.objects.get()
    assert (document.meeting, document.action) == (meeting, None)
    client.force_login(reader)
    page = client.get(reverse("meeting_detail", args=[plan.slug, meeting.pk])).text
    assert "Compte rendu COPIL.pdf" in page.split('id="documents"')[1]
    assert read(client.get(download_url(document))) == files.PDF
    # Deleting the meeting deletes its documents and their files.
    client.force_login(coordinator)
    confirm = client.get(reverse("meeting_delete", args=[plan.slug, meeting.pk])).text
    assert "1 document(s) seront supprimés aussi" in confirm
    assert client.post(reverse("meeting_delete", args=[plan.slug, meeting.pk])).status_code == 302
    assert not Document.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_deleting_asks_first_then_removes_row_and_file(client, media):
    action = ActionFactory()
    plan = action.plan
    coordinator = grant(UserFactory(), plan, Role.COORDINATOR)
    reader = grant(UserFactory(), plan, Role.READER)
    client.force_login(coordinator)
    upload(client, add_url(action), "preuve.pdf", files.PDF)
    document = Document.objects.get()
    delete = reverse("document_delete", args=[plan.slug, document.pk])
    client.force_login(reader)
    assert client.get(delete).status_code == 403 and client.post(delete).status_code == 403
    client.force_login(UserFactory())
    assert client.post(delete).status_code == 404
    client.force_login(coordinator)
    page = client.get(delete)
    assert page.status_code == 200 and "Supprimer le document « preuve.pdf » ?" in page.text
    assert Document.objects.exists() and len(stored_files(media)) == 1
    response = client.post(delete)
    assert response.status_code == 302 and response.url == f"{action.get_absolute_url()}#documents"
    assert not Document.objects.exists() and stored_files(media) == []
    assert Document.history.filter(history_type="-").count() == 1  # journaled
    journal = client.get(action.get_absolute_url()).text.split('id="journal"')[1]
    assert "Document supprimé : « preuve.pdf »" in journal and "Document joint : « preuve.pdf »" in journal
    # A meeting's deletion takes its files along.
    meeting = MeetingFactory(plan=plan)
    upload(client, reverse("meeting_document_add", args=[plan.slug, meeting.pk]), "cr.pdf", files.PDF)
    assert len(stored_files(media)) == 1
    client.post(reverse("meeting_delete", args=[plan.slug, meeting.pk]))
    assert not Document.objects.exists() and stored_files(media) == []
    assert storages["default"].location == str(media)


def test_backup_empty_database_restore_then_download_the_same_bytes(db, client, media, tmp_path):
    import json

    from django.core.management import call_command

    from actions.models import Action
    from axes.models import Plan
    from partners.models import Organisation

    action = ActionFactory(number=3)
    plan = action.plan
    coordinator = grant(UserFactory(first_name="Claire", last_name="Dupont"), plan, Role.COORDINATOR)
    note = NoteFactory(action=action, author=coordinator, text="Visite de la crèche")
    meeting = MeetingFactory(plan=plan, date=datetime.date(2026, 6, 16))
    client.force_login(coordinator)
    upload(client, add_url(action), "convention signée.pdf", files.PDF)
    upload(client, add_url(action), "photo.jpg", files.jpeg(), note=note.pk)
    upload(client, reverse("meeting_document_add", args=[plan.slug, meeting.pk]), "cr.docx", files.docx())
    before = {
        d.name: (d.sha256, d.uploaded_at.replace(microsecond=0), d.uploaded_by_name)
        for d in Document.objects.all()
    }

    call_command("backup", output=str(tmp_path / "sauvegarde"))
    data = json.loads((tmp_path / "sauvegarde" / f"{plan.slug}.json").read_text(encoding="utf-8"))
    assert [d["name"] for d in data["documents"]] == ["convention signée.pdf", "photo.jpg", "cr.docx"]
    assert data["documents"][1]["note"]["text"] == "Visite de la crèche"
    assert data["documents"][2]["meeting"] == {"instance": "copil", "date": "2026-06-16"}
    assert len(list((tmp_path / "sauvegarde" / plan.slug / "documents").iterdir())) == 3

    # An empty installation: no plan, no document, no file.
    Plan.objects.all().delete()
    Organisation.objects.all().delete()
    for path in stored_files(media):
        path.unlink()
    assert not Document.objects.exists()

    call_command("import_plan", str(tmp_path / "sauvegarde" / f"{plan.slug}.json"))
    restored = Plan.objects.get(slug=plan.slug)
    assert {
        d.name: (d.sha256, d.uploaded_at.replace(microsecond=0), d.uploaded_by_name)
        for d in Document.objects.all()
    } == before
    photo = Document.objects.get(name="photo.jpg")
    assert photo.note.text == "Visite de la crèche" and photo.action.number == 3
    assert Document.objects.get(name="cr.docx").meeting.date == datetime.date(2026, 6, 16)
    reader = grant(UserFactory(), restored, Role.READER)
    client.force_login(reader)
    pdf = Document.objects.get(name="convention signée.pdf")
    assert read(client.get(download_url(pdf))) == files.PDF
    assert "convention signée.pdf" in client.get(Action.objects.get(plan=restored).get_absolute_url()).text

    # Importing the backup again adds nothing; the JSON alone (no folder beside it) says what it lacks.
    call_command("import_plan", str(tmp_path / "sauvegarde" / f"{plan.slug}.json"))
    assert Document.objects.count() == 3
    alone = tmp_path / "seul"
    alone.mkdir()
    (alone / "plan.json").write_text(
        json.dumps({**data, "plan": {**data["plan"], "slug": "autre"}}), encoding="utf-8"
    )
    from io import StringIO

    out = StringIO()
    call_command("import_plan", str(alone / "plan.json"), stdout=out)
    assert "3 document(s) non restauré(s)" in out.getvalue()
    assert Document.objects.count() == 3


def test_listed_in_the_fiche_pdf_and_the_dossier_copil_names_and_dates_only(db, client, media, tmp_path):
    from django.core.management import call_command

    action = ActionFactory(number=4, title="Lieu d'accueil enfants-parents")
    plan = action.plan
    coordinator = grant(UserFactory(), plan, Role.COORDINATOR)
    client.force_login(coordinator)
    upload(client, add_url(action), "Convention signée.pdf", files.PDF)
    upload(client, add_url(action), "budget.xlsx", files.xlsx())
    today = timezone.localdate().strftime("%d/%m/%Y")
    for kind, options in [("fiche", {"fiche": 4}), ("copil", {})]:
        out = tmp_path / f"{kind}.pdf"
        call_command("report", kind, plan.slug, output=str(out), **options)
        text = pdf_text(out, as_laid_out=True)
        assert (
            f"Documents joints • Convention signée.pdf (ajouté le {today}) • budget.xlsx (ajouté le {today})"
            in text
        )
        assert "Présents" not in text  # the spreadsheet's content is never printed


def test_the_storage_follows_the_environment():
    """MEDIA_ROOT on the file system by default; a private S3-compatible bucket when
    DOCUMENTS_S3_BUCKET is set (django-storages, the optional extra, need not be installed to
    read the settings)."""
    import json

    script = (
        "import json, ctg.settings as s; "
        "print(json.dumps({'media': str(s.MEDIA_ROOT), 'max': s.DOCUMENT_MAX_SIZE_MB, "
        "'default': s.STORAGES['default']}))"
    )

    def settings_with(**env):
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("DOCUMENTS_", "MEDIA_ROOT"))}
        result = subprocess.run(  # noqa: S603 - this interpreter reading our settings
            [sys.executable, "-c", script],
            env={**clean, **env},
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(result.stdout)

    default = settings_with()
    assert default["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert default["media"].endswith("/media") and default["max"] == 10
    s3 = settings_with(
        MEDIA_ROOT="/var/lib/suivi-ctg/documents",
        DOCUMENT_MAX_SIZE_MB="25",
        DOCUMENTS_S3_BUCKET="ctg-docs",
        DOCUMENTS_S3_ENDPOINT_URL="https://s3.fr-par.scw.cloud",
        DOCUMENTS_S3_REGION="fr-par",
    )
    assert (s3["media"], s3["max"]) == ("/var/lib/suivi-ctg/documents", 25)
    assert s3["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    options = s3["default"]["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"], options["region_name"]) == (
        "ctg-docs",
        "https://s3.fr-par.scw.cloud",
        "fr-par",
    )
    assert options["default_acl"] == "private" and options["file_overwrite"] is False


def test_the_fiche_page_lists_documents_on_sqlite_too(client, db):
    """The run command's database: SQLite refuses an ORDER BY inside a UNION's members, which
    PostgreSQL accepts; the fiche page's notes-and-documents query must read on both. Run by the
    SQLite pass of scripts/test, on its own SQLite database (on PostgreSQL the tests above read
    the same page)."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection

    from reporting import documents

    if connection.vendor != "sqlite":
        pytest.skip("lancé par la passe SQLite de scripts/test, sur sa propre base SQLite")
    action = ActionFactory()
    user = UserFactory(is_superuser=True)
    note = NoteFactory(action=action, author=user)
    plan = action.plan
    documents.store(SimpleUploadedFile("convention.pdf", files.PDF), plan=plan, by=user, action=action)
    documents.store(SimpleUploadedFile("photo.png", files.PNG), plan=plan, by=user, note=note)
    client.force_login(user)
    response = client.get(action.get_absolute_url())
    assert response.status_code == 200
    assert "convention.pdf" in response.text and "photo.png" in response.text


def test_files_left_by_a_deletion_in_the_admin_are_found_and_removed(client, action, coordinator, media):
    from io import StringIO

    import time_machine
    from django.core.management import call_command

    client.force_login(coordinator)
    upload(client, add_url(action), "garde.pdf", files.PDF)
    note = NoteFactory(action=action, author=coordinator)
    upload(client, add_url(action), "orpheline.png", files.PNG, note=note.pk)
    kept = Document.objects.get(name="garde.pdf").file.name
    note.delete()  # as the admin does: the document's row goes with the note, its file stays
    assert len(stored_files(media)) == 2
    out = StringIO()
    call_command("documents_orphans", stdout=out)
    assert "0 fichier(s) orphelin(s)" in out.getvalue()  # too recent: may be an upload under way
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        call_command("documents_orphans", "--delete", stdout=out)
    assert "1 fichier(s) effacé(s)." in out.getvalue()
    assert [p.relative_to(media).as_posix() for p in stored_files(media)] == [kept]


@pytest.mark.django_db(transaction=True)
def test_the_meetings_minutes_are_listed_in_the_dossier_and_the_bilan(db, client, media, tmp_path):
    """The COPIL's minutes, joined to its meeting, appear by name and date in the next dossier
    COPIL (the documents of meetings since the last COPIL, its own included) and in the bilan of
    its year; those of an older meeting do not weigh on the dossier."""
    from django.core.management import call_command

    action = ActionFactory(number=1)
    plan = action.plan
    coordinator = grant(UserFactory(), plan, Role.COORDINATOR)
    client.force_login(coordinator)
    year = timezone.localdate().year
    old = MeetingFactory(plan=plan, instance="copil", date=datetime.date(year - 1, 3, 1))
    last = MeetingFactory(plan=plan, instance="copil", date=timezone.localdate() - datetime.timedelta(days=1))
    for meeting, name in [(old, "CR ancien.pdf"), (last, "Compte rendu COPIL.pdf")]:
        url = reverse("meeting_document_add", args=[plan.slug, meeting.pk])
        assert upload(client, url, name, files.PDF).status_code == 302
    today = timezone.localdate().strftime("%d/%m/%Y")

    def text_of(kind, **options):
        out = tmp_path / f"{kind}.pdf"
        call_command("report", kind, plan.slug, output=str(out), **options)
        return pdf_text(out, as_laid_out=True)

    dossier = text_of("copil")
    assert f"Documents des réunions (1) • {last} : Compte rendu COPIL.pdf (ajouté le {today})" in dossier
    assert "CR ancien.pdf" not in dossier
    bilan = text_of("bilan", year=year - 1)
    assert f"{old} : CR ancien.pdf (ajouté le {today})" in bilan
    assert "Compte rendu COPIL.pdf" not in bilan
