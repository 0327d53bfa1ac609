"""A fiche the file drops is archived, not deleted; a file or a manager brings it back."""

from django.urls import reverse
from django.utils import timezone

from actions.journal import journal
from actions.models import Action, Note, PlanImport, Step
from actions.plan_io import open_format
from axes.models import Role
from tests.actions.importing import drop_fiche, fiche_of, upload, upload_and_confirm
from tests.factories import PlanFactory, UserFactory, grant, imported_plan


def archived_url(plan):
    return reverse("archived_actions", kwargs={"slug": plan.slug})


def restore_url(plan, number):
    return reverse("action_restore", kwargs={"slug": plan.slug, "number": number})


def test_a_fiche_the_file_drops_is_archived_with_everything_it_holds(client, db):
    plan, data = imported_plan()
    claire = grant(UserFactory(first_name="Claire", last_name="Dupont"), plan, Role.COORDINATOR)
    action = plan.actions.get(number=2)
    Note.objects.create(action=action, text="Note saisie dans l'application.", author=claire)
    steps = action.steps.count()
    drop_fiche(data, 2)
    client.force_login(claire)

    upload(client, data, name="val-aigo.xlsx.json")
    preview = client.get(reverse("plan_import_preview", args=[PlanImport.objects.get().pk])).text
    assert "Fiches archivées (absentes du fichier)" in preview
    assert "leurs étapes, notes de suivi, décisions et journal sont conservés" in preview
    assert "restaurées depuis la page « Fiches archivées » du plan" in preview

    done = client.post(reverse("plan_import_confirm", args=[PlanImport.objects.get().pk]), follow=True)
    assert (
        "Fiches archivées (absentes du fichier ; leurs notes et leur journal sont conservés) : 2."
        in done.text
    )
    archived = Action.all_objects.get(pk=action.pk)
    assert archived.archived_at is not None and archived.archived_by == claire
    assert archived.notes.count() == 2 and Step.objects.filter(action=archived).count() == steps
    assert not plan.actions.filter(number=2).exists()
    assert 2 not in [a.number for a in Action.objects.filter(plan=plan)]
    assert client.get(f"/plans/{plan.slug}/fiches/2/").status_code == 404
    when = f"{timezone.localdate():%d/%m/%Y}"
    assert [e.text for e in journal([action.pk])][0] == (
        f"Fiche archivée (absente de l'import du {when} de val-aigo.xlsx.json)"
    )


def test_a_file_that_brings_the_fiche_back_restores_it_with_its_journal(db):
    plan, data = imported_plan()
    claire = UserFactory()
    action = plan.actions.get(number=2)
    Note.objects.create(action=action, text="Avant l'archivage.", author=claire)
    dropped = {**data, "axes": [{**axis, "actions": list(axis["actions"])} for axis in data["axes"]]}
    drop_fiche(dropped, 2)
    open_format.import_plan(dropped, by=claire, filename="sans-2.json")
    fiche_of(data, 2)["title"] = "De retour, corrigée"
    report = open_format.import_plan(data, by=claire, filename="avec-2.json")
    assert report.restored_actions == [2]
    action.refresh_from_db()
    assert (action.pk, action.archived_at, action.title) == (action.pk, None, "De retour, corrigée")
    texts = [e.text for e in journal([action.pk])]
    assert texts[:2] == [
        "Fiche restaurée",
        "Intitulé : « Action du synoptique " + texts[1].split("synoptique ")[1],
    ]
    assert "Note de suivi ajoutée : « Avant l'archivage. »" in texts
    assert any(t.startswith("Fiche archivée (absente de l'import du") for t in texts)


def test_preview_of_a_file_that_brings_an_archived_fiche_back(db):
    plan, data = imported_plan()
    Action.objects.get(plan=plan, number=3).archive(by=None)
    preview = open_format.preview(data)
    assert (preview.restored, preview.archived, 3 in preview.unchanged) == ([3], [], False)


def test_managers_list_and_restore_archived_fiches(client, db):
    plan, _ = imported_plan()
    coordinator = grant(UserFactory(first_name="Claire", last_name="Dupont"), plan, Role.COORDINATOR)
    action = plan.actions.get(number=1)
    action.archive(by=coordinator)
    client.force_login(coordinator)

    assert "Fiches archivées" in client.get(plan.get_absolute_url()).text
    page = client.get(archived_url(plan))
    assert page.status_code == 200
    assert f"Action 1 : {action.title}" in page.text and "Restaurer" in page.text
    assert "Claire Dupont" in page.text

    response = client.post(restore_url(plan, 1))
    assert response.status_code == 302 and response.url == action.get_absolute_url()
    action.refresh_from_db()
    assert action.archived_at is None
    fiche = client.get(action.get_absolute_url()).text
    assert "Fiche restaurée, par Claire Dupont" in fiche
    assert "Aucune fiche archivée." in client.get(archived_url(plan)).text
    # Sent again at once (a double click), the form is answered like the first and applied once;
    # sent again later, the view itself refuses it.
    from partners.models import FormSubmission

    FormSubmission.objects.all().delete()
    assert client.post(restore_url(plan, 1)).status_code == 404  # not archived any more


def test_readers_and_strangers_cannot_see_nor_restore(client, db):
    plan, _ = imported_plan()
    action = plan.actions.get(number=1)
    action.archive(by=None)
    reader = grant(UserFactory(), plan, Role.READER)
    contributor = grant(UserFactory(), plan, Role.CONTRIBUTOR)
    stranger = grant(UserFactory(), PlanFactory(), Role.ADMIN)
    for user, status in [(reader, 403), (contributor, 403), (stranger, 404)]:
        client.force_login(user)
        assert client.get(archived_url(plan)).status_code == status
        assert client.post(restore_url(plan, 1)).status_code == status
        assert "Fiches archivées" not in client.get(plan.get_absolute_url()).text
    action.refresh_from_db()
    assert action.archived_at is not None


def test_the_archived_fiche_stays_out_of_lists_and_the_export(client, db):
    plan, data = imported_plan()
    coordinator = grant(UserFactory(), plan, Role.COORDINATOR)
    Action.objects.get(plan=plan, number=1).archive(by=coordinator)
    exported = open_format.export_plan(plan)
    assert sorted(a["number"] for axis in exported["axes"] for a in axis["actions"]) == [2, 3]
    client.force_login(coordinator)
    listing = client.get(reverse("action_list", kwargs={"slug": plan.slug})).text
    assert f'href="/plans/{plan.slug}/fiches/1/"' not in listing
    # The same file again restores it, and the confirm goes through the app too.
    response = upload_and_confirm(client, data)
    assert "Fiches restaurées : 1." in response.text


def test_an_archived_fiches_steps_leave_the_commune_page(client, db):
    from axes.models import Role
    from tests.factories import ActionFactory, OrganisationFactory, StepFactory, UserFactory, grant

    commune = OrganisationFactory(commune=True)
    fiche = ActionFactory(number=1)
    fiche.plan.communes.add(commune)
    StepFactory(action=fiche, commune=commune, text="Étape de la commune")
    client.force_login(grant(UserFactory(), fiche.plan, Role.READER))
    url = f"/plans/{fiche.plan.slug}/communes/{commune.insee}/"
    assert "Étape de la commune" in client.get(url).text
    fiche.archive(by=None)
    assert "Étape de la commune" not in client.get(url).text
