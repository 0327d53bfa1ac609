"""Notes are never lost nor rewritten by an import."""

import datetime

from django.urls import reverse

from actions.journal import journal
from actions.models import Note, PlanImport
from actions.plan_io import open_format
from axes.models import Role
from tests.actions.importing import fiche_of, upload
from tests.factories import UserFactory, grant, imported_plan


def test_a_note_written_in_the_app_survives_a_file_that_lacks_it(db):
    plan, data = imported_plan()
    marc = UserFactory(first_name="Marc", last_name="Lefèvre")
    action = plan.actions.get(number=1)
    note = Note.objects.create(
        action=action, text="Réunion avec la mairie.", author=marc, author_name="Marc L."
    )
    fiche_of(data, 1)["title"] = "Un titre corrigé"  # the fiche changes, its notes stay
    open_format.import_plan(data, by=UserFactory(), filename="f.json")
    note.refresh_from_db()
    assert (note.text, note.author, note.author_name) == ("Réunion avec la mairie.", marc, "Marc L.")
    assert action.notes.count() == 2


def test_a_note_already_there_keeps_its_author_account(db):
    plan, _ = imported_plan()
    marc = UserFactory()
    action = plan.actions.get(number=2)
    note = Note.objects.create(action=action, text="Bilan partagé.", author=marc, author_name="Marc L.")
    data = open_format.export_plan(plan)  # the file now holds the note, signed "Marc L."
    fiche_of(data, 2)["progress"] = 30
    open_format.import_plan(data, by=UserFactory(), filename="f.json")
    note.refresh_from_db()
    assert note.author == marc and action.notes.count() == 2
    assert Note.history.filter(id=note.pk).count() == 1  # not even saved again


def test_a_new_note_of_the_file_is_added_and_journaled(db):
    plan, data = imported_plan()
    claire = UserFactory(first_name="Claire", last_name="Dupont")
    fiche_of(data, 3)["notes"].append(
        {"date": "2025-03-12", "kind": "achievement", "text": "Premier atelier tenu.", "author": "M. Martin"}
    )
    open_format.import_plan(data, by=claire, filename="f.json")
    action = plan.actions.get(number=3)
    note = action.notes.get(text="Premier atelier tenu.")
    assert (note.date, note.kind, note.author_name, note.author) == (
        datetime.date(2025, 3, 12),
        "achievement",
        "M. Martin",
        None,
    )
    assert [e.text for e in journal([action.pk])] == ["Note de suivi ajoutée : « Premier atelier tenu. »"]


def test_the_preview_says_notes_are_kept(client, db):
    plan, data = imported_plan()
    coordinator = grant(UserFactory(), plan, Role.COORDINATOR)
    Note.objects.create(action=plan.actions.get(number=1), text="Saisie dans l'application.")
    client.force_login(coordinator)
    upload(client, data)
    page = client.get(reverse("plan_import_preview", args=[PlanImport.objects.get().pk])).text
    assert "Les notes de suivi ne sont jamais supprimées ni réécrites par un import" in page
    assert "1 note saisie dans l'application et absente du fichier est conservée" in page
    # …and the file changes nothing else: the fiche with the extra note counts as unchanged.
    assert "Ce fichier ne change rien au plan." in page


def test_export_then_import_into_an_empty_installation_is_identical(db):
    plan, _ = imported_plan()
    Note.objects.create(action=plan.actions.get(number=1), text="Une note", author_name="Claire")
    first = open_format.export_plan(plan)
    plan.delete()
    again = open_format.import_plan(first).plan
    second = open_format.export_plan(again)
    first.pop("exported_at"), second.pop("exported_at")
    assert second == first
