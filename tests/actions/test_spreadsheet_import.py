"""Bringing a whole plan in from the xlsx template: round trip, preview, and every bad file refused."""

import io
import json
import re
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from openpyxl import load_workbook

from actions.models import Action, PlanImport, Step
from actions.plan_io import open_format, spreadsheet
from axes.models import Plan, Role
from partners.models import Organisation
from tests.conftest import val_aigo_plan
from tests.factories import UserFactory, grant


def template_of(plan) -> bytes:
    return spreadsheet.workbook_from_data(open_format.export_plan(plan))


@pytest.fixture(scope="module")
def val_aigo_template(django_db_setup, django_db_blocker) -> bytes:
    """Val'Aïgo's template as `template_of(val_aigo)` gives it, made once for the tests that
    send it unchanged or edited (an export and a workbook, a quarter of a second each time)."""
    with django_db_blocker.unblock(), transaction.atomic():
        content = template_of(val_aigo_plan())
        transaction.set_rollback(True)
    return content


def edited(content: bytes, edit) -> bytes:
    workbook = load_workbook(io.BytesIO(content))
    edit(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def comparable(data):
    data = json.loads(json.dumps(data))
    data.pop("exported_at", None)
    return data


def snapshot():
    return (
        list(Plan.objects.values_list("slug", "title")),
        list(Action.objects.order_by("pk").values_list("pk", "title", "status", "version")),
        Step.objects.count(),
        Organisation.objects.count(),
    )


def test_round_trip_through_the_template_into_an_empty_installation(val_aigo, tmp_path):
    original = comparable(open_format.export_plan(val_aigo))
    path = tmp_path / "val-aigo.xlsx"
    call_command("export_plan", "val-aigo", format="xlsx", output=str(path))
    Plan.objects.all().delete()
    Organisation.objects.exclude(parent=None).delete()
    Organisation.objects.all().delete()
    call_command("import_plan", str(path))
    assert comparable(open_format.export_plan(Plan.objects.get(slug="val-aigo"))) == original


def test_the_template_is_documented_and_neutralises_formulas(val_aigo):
    Step.objects.filter(action__plan=val_aigo, action__number=1, position=0).update(
        text='=HYPERLINK("http://x")'
    )
    workbook = load_workbook(io.BytesIO(template_of(val_aigo)))
    assert workbook.sheetnames[:3] == ["Lisez-moi", "Plan", "Communes"]
    assert "Modèle de plan d'action CTG" in workbook["Lisez-moi"]["A1"].value
    cell = workbook["Étapes"]["C2"]
    assert cell.data_type != "f" and cell.value == '\'=HYPERLINK("http://x")'
    # …and the quote comes off on the way back in.
    data = spreadsheet.read_document("plan.xlsx", template_of(val_aigo))
    assert data["axes"][0]["actions"][0]["steps"][0]["text"] == '=HYPERLINK("http://x")'


def test_reimporting_the_same_file_changes_nothing(val_aigo, tmp_path, capsys, val_aigo_template):
    path = tmp_path / "plan.xlsx"
    path.write_bytes(val_aigo_template)
    before = snapshot()
    history = Action.history.count()
    call_command("import_plan", str(path))
    assert "(20 inchangées)" in capsys.readouterr().out
    assert snapshot() == before and Action.history.count() == history


def test_corrected_file_updates_fiches_in_place(val_aigo, tmp_path, capsys, val_aigo_template):
    pks = dict(val_aigo.actions.values_list("number", "pk"))

    def correct(workbook):
        fiches = workbook["Fiches"]
        fiches["G3"] = "En cours"  # fiche 2's status
        fiches["H3"] = 50
        workbook["Étapes"].append([2, 1, "Ouvrir un second lieu d'écoute", None, "non"])

    path = tmp_path / "corrige.xlsx"
    path.write_bytes(edited(val_aigo_template, correct))
    call_command("import_plan", str(path), dry_run=True)
    out = capsys.readouterr().out
    assert "Fiches modifiées : 1 — 2" in out and "rien n'a été écrit" in out
    assert val_aigo.actions.get(number=2).progress == 0
    call_command("import_plan", str(path))
    second = val_aigo.actions.get(number=2)
    assert (second.pk, second.status, second.progress) == (pks[2], "in_progress", 50)
    assert second.steps.filter(text="Ouvrir un second lieu d'écoute").exists()
    assert dict(val_aigo.actions.values_list("number", "pk")) == pks


def _remove_sheet(name):
    return lambda wb: wb.remove(wb[name])


def _remove_column(sheet, column):
    return lambda wb: wb[sheet].delete_cols(column)


def _set(sheet, cell, value):
    def edit(wb):
        wb[sheet][cell] = value

    return edit


def _duplicate_fiche(wb):
    wb["Fiches"]["A3"] = 1


def _many_rows(wb):
    sheet = wb["Conditions"]
    for i in range(10_001):
        sheet.append([1, f"Condition {i}"])


def _macro_file(content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("xl/vbaProject.bin", b"\x00macro")
    return out.getvalue()


BAD_FILES = [
    (
        "not an xlsx",
        lambda c: b"Numero;Titre\n1;Relancer\n",
        "Ce fichier n'est pas un classeur Excel (.xlsx) ni LibreOffice (.ods).",
    ),
    ("encrypted", lambda c: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "Ce fichier est chiffré"),
    ("macro-enabled", _macro_file, "Ce classeur contient des macros (.xlsm)"),
    ("missing sheet", lambda c: edited(c, _remove_sheet("Fiches")), "Feuille « Fiches » manquante."),
    ("missing plan sheet", lambda c: edited(c, _remove_sheet("Plan")), "Feuille « Plan » manquante."),
    (
        "missing column",
        lambda c: edited(c, _remove_column("Fiches", 4)),
        "Feuille « Fiches » : colonne(s) manquante(s) : Nom de l'action (fiche).",
    ),
    (
        "empty required cell",
        lambda c: edited(c, _set("Fiches", "C5", None)),
        "feuille « Fiches », ligne 5, colonne C : « Intitulé (synoptique) » est obligatoire.",
    ),
    (
        "unknown axis",
        lambda c: edited(c, _set("Fiches", "B4", 9)),
        "feuille « Fiches », ligne 4, colonne B : axe 9 inconnu (absent de la feuille « Axes »).",
    ),
    (
        "duplicate fiche number",
        lambda c: edited(c, _duplicate_fiche),
        "ligne 3, colonne A : la fiche n° 1 apparaît deux fois dans la feuille « Fiches ».",
    ),
    (
        "text too long",
        lambda c: edited(c, _set("Fiches", "C2", "x" * 501)),
        "feuille « Fiches », ligne 2, colonne C : texte trop long : 501 caractères pour 500 au plus",
    ),
    (
        "bad date",
        lambda c: edited(c, _set("Calendrier", "D2", "31/02/2025")),
        "feuille « Calendrier », ligne 2, colonne D : date « 31/02/2025 » invalide (attendu JJ/MM/AAAA).",
    ),
    ("over 5 MB", lambda c: c + b"\x00" * (5 * 1024 * 1024), "Fichier trop volumineux"),
    ("over 10,000 rows", lambda c: edited(c, _many_rows), "Trop de lignes :"),
]


@pytest.mark.parametrize(("make", "message"), [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES])
def test_bad_file_is_refused_and_writes_nothing(val_aigo, tmp_path, make, message, val_aigo_template):
    path = tmp_path / "plan.xlsx"
    path.write_bytes(make(val_aigo_template))
    before = snapshot()
    with pytest.raises(CommandError) as refused:
        call_command("import_plan", str(path))
    assert "Import refusé, rien n'a été modifié." in str(refused.value)
    assert message in str(refused.value)
    assert snapshot() == before


def test_all_errors_are_listed_at_once(val_aigo, val_aigo_template):
    def two_errors(wb):
        wb["Fiches"]["B4"] = 9
        wb["Calendrier"]["E3"] = "hier"

    with pytest.raises(open_format.PlanFormatError) as refused:
        spreadsheet.read_document("plan.xlsx", edited(val_aigo_template, two_errors))
    assert len(refused.value.errors) == 2


# --- In the app: upload, preview, confirm --------------------------------------------------


@pytest.fixture
def coordinator(val_aigo):
    return grant(UserFactory(), val_aigo, Role.COORDINATOR)


def upload(client, content, name="plan.xlsx"):
    return client.post(reverse("plan_import"), {"fichier": _file(content, name)})


def _file(content, name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_upload_preview_confirm(client, coordinator, val_aigo, val_aigo_template):
    client.force_login(coordinator)
    content = edited(val_aigo_template, _set("Fiches", "H3", 75))
    response = upload(client, content)
    pending = PlanImport.objects.get()
    assert response.status_code == 302 and response.url == reverse("plan_import_preview", args=[pending.pk])
    page = client.get(response.url).text
    assert "mise à jour" in page and "<td>1</td><td>2</td>" in page.replace("\n", "")
    assert val_aigo.actions.get(number=2).progress == 0  # nothing written before confirming
    done = client.post(reverse("plan_import_confirm", args=[pending.pk]), follow=True)
    assert "Plan « val-aigo » mis à jour : 6 axes, 20 fiches-actions (19 inchangées)." in done.text
    assert val_aigo.actions.get(number=2).progress == 75
    # Sent again at once (a double click), the form is answered like the first and applied once;
    # sent again later, the view itself refuses it.
    from partners.models import FormSubmission

    FormSubmission.objects.all().delete()
    assert client.post(reverse("plan_import_confirm", args=[pending.pk])).status_code == 404  # once only


def test_upload_errors_are_listed_in_french(client, coordinator, val_aigo, val_aigo_template):
    client.force_login(coordinator)
    response = upload(client, edited(val_aigo_template, _set("Fiches", "B4", 9)))
    assert response.status_code == 422
    # A row of the errors' table: Feuille, Ligne, Colonne, Message.
    assert "<td>Fiches</td><td>4</td><td>B</td><td>axe 9 inconnu" in response.text
    assert not PlanImport.objects.exists()


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.READER])
def test_only_managers_import(client, val_aigo, role, val_aigo_template):
    client.force_login(grant(UserFactory(), val_aigo, role))
    assert client.get(reverse("plan_import")).status_code == 403
    assert upload(client, val_aigo_template).status_code == 403
    assert not PlanImport.objects.exists()


def test_a_coordinator_cannot_import_another_plan_nor_create_one(
    client, val_aigo, coordinator, val_aigo_template
):
    client.force_login(coordinator)

    def other(wb):
        wb["Plan"]["B2"] = "autre-territoire"

    response = upload(client, edited(val_aigo_template, other))
    assert response.status_code == 422
    assert "seul un administrateur de l&#x27;installation crée un nouveau plan." in response.text
    assert not Plan.objects.filter(slug="autre-territoire").exists()


def test_the_refusal_does_not_tell_whether_someone_elses_plan_exists(
    client, val_aigo, coordinator, val_aigo_template
):
    """The same words for a plan of another territory and for an identifier nobody uses."""
    from tests.factories import PlanFactory

    PlanFactory(slug="plan-d-un-autre-territoire")
    client.force_login(coordinator)
    answers = []
    for slug in ["plan-d-un-autre-territoire", "aucun-plan-de-ce-nom"]:

        def other(wb, slug=slug):
            wb["Plan"]["B2"] = slug

        response = upload(client, edited(val_aigo_template, other))
        assert response.status_code == 422
        page = re.sub(r'(X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+', "", response.text)
        answers.append(page.replace(slug, "SLUG"))
    assert answers[0] == answers[1]
    assert "Vous ne pouvez pas importer le plan « SLUG »" in answers[0]


def test_blank_template_download(client, coordinator):
    client.force_login(coordinator)
    response = client.get(reverse("import_template"))
    workbook = load_workbook(io.BytesIO(response.content))
    assert "Fiches" in workbook.sheetnames and workbook["Fiches"]["A1"].value == "Numéro *"


def test_a_plan_written_by_hand_imports_and_reimports_unchanged(db, capsys):
    """tests/assets/plan-coteaux.xlsx: another territory, filled in the blank template by hand."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "assets" / "plan-coteaux.xlsx"
    call_command("import_plan", str(path))
    assert "Plan « coteaux-girou » créé : 4 enjeux, 12 fiches-actions." in capsys.readouterr().out
    plan = Plan.objects.get(slug="coteaux-girou")
    assert plan.level_label == "Enjeu" and plan.communes.count() == 4
    assert Step.objects.filter(action__plan=plan, commune__isnull=False, parent__isnull=False).exists()
    versions = list(plan.actions.order_by("number").values_list("version", flat=True))
    call_command("import_plan", str(path))
    assert "(12 inchangées)" in capsys.readouterr().out
    assert list(plan.actions.order_by("number").values_list("version", flat=True)) == versions


def _zip_bomb(content: bytes) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("xl/media/padding.xml", b"0" * (60 * 1024 * 1024))
    return out.getvalue()


def _broken_xml(content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = b"<garbage" if item.filename == "xl/workbook.xml" else source.read(item.filename)
            target.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("make", "name", "message"),
    [
        (_zip_bomb, "plan.xlsx", "décompressé, il ferait"),
        (_broken_xml, "plan.xlsx", "endommagé ou incomplet"),
        (lambda c: b"[" * 100_000, "plan.json", "imbriqué trop profondément"),
    ],
    ids=["zip bomb", "broken xml", "deep json"],
)
def test_hostile_files_are_refused_without_a_500(
    client, val_aigo, coordinator, make, name, message, val_aigo_template
):
    client.force_login(coordinator)
    response = upload(client, make(val_aigo_template), name=name)
    assert response.status_code == 422 and message in response.text
    assert not PlanImport.objects.exists()
