"""Editing a fiche in place, as a coordinator would: with htmx and as plain forms."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from actions.models import Action, CalendarEntry, Note, Status, Step
from axes.models import Role
from partners.models import Organisation
from tests.factories import UserFactory, grant

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def coordinator(val_aigo):
    user = UserFactory(username="claire", first_name="Claire", last_name="Dupont")
    return grant(user, val_aigo, Role.COORDINATOR)


@pytest.fixture
def coord_client(client, coordinator):
    client.force_login(coordinator)
    return client


def text(html: str) -> str:
    """What a person reads: tags removed, entities decoded."""
    import html as html_module

    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", "", html)).split())


def url(action, name, **kwargs):
    return reverse(name, kwargs={"slug": action.plan.slug, "number": action.number, **kwargs})


def section(html: str, element_id: str) -> str:
    """The outer HTML of the <section> with this id, csrf tokens blanked (masked anew each time)."""
    start = html.index(f'<section id="{element_id}"')
    depth, i = 0, start
    for match in re.finditer(r"<(/?)section\b", html[start:]):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            i = start + match.end()
            break
    end = html.index(">", i) + 1
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken"', html[start:end])


def test_status_change_with_htmx_returns_the_fragment_the_full_page_shows(coord_client, val_aigo):
    action = val_aigo.actions.get(number=1)
    response = coord_client.post(
        url(action, "action_status"),
        {"status": "in_progress", "progress": 40, "version": action.version},
        **HTMX,
    )
    assert response.status_code == 200
    action.refresh_from_db()
    assert (action.status, action.progress) == (Status.IN_PROGRESS, 40)
    page = coord_client.get(action.get_absolute_url()).text
    # Applied to the page, the fragment is what a fresh page shows (less what the app says aloud).
    fragment = section(response.text, "statut")
    assert ' data-announce="Statut enregistré"' in fragment
    assert fragment.replace(' data-announce="Statut enregistré"', "") == section(page, "statut")
    assert 'badge-in_progress">En cours</span>' in fragment
    # Out of band: the journal follows.
    assert re.search(r'<section id="journal"[^>]*hx-swap-oob="true"', response.text)
    assert "Statut : à venir → en cours, par Claire Dupont, le " in text(response.text)


def test_status_change_without_javascript_redirects_to_the_fiche(coord_client, val_aigo):
    action = val_aigo.actions.get(number=1)
    response = coord_client.post(
        url(action, "action_status"), {"status": "done", "progress": 100, "version": 1}
    )
    assert response.status_code == 302 and response.url == f"{action.get_absolute_url()}#statut"
    page = text(coord_client.get(response.url).text)
    today = timezone.localdate().strftime("%d/%m/%Y")
    assert f"Statut : à venir → réalisée, par Claire Dupont, le {today}" in page
    assert f"Avancement : 0 % → 100 %, par Claire Dupont, le {today}" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": "en_retard", "progress": 10}, "Sélectionnez un choix valide"),
        ({"status": "done", "progress": 150}, "L&#x27;avancement est un pourcentage, de 0 à 100."),
        ({"status": "done", "progress": "beaucoup"}, "Saisissez un nombre entier."),
        ({"status": "done"}, "Ce champ est obligatoire."),
    ],
)
def test_invalid_status_shows_french_errors_beside_the_field_and_saves_nothing(
    coord_client, val_aigo, data, message
):
    action = val_aigo.actions.get(number=1)
    for extra in (HTMX, {}):
        response = coord_client.post(
            url(action, "action_status"), {**data, "version": action.version}, **extra
        )
        assert response.status_code == 422
        assert message in response.text
        assert "Le formulaire contient des erreurs : rien n'a été enregistré." in response.text
        assert 'aria-invalid="true"' in response.text
    action.refresh_from_db()
    assert (action.status, action.progress, action.version) == (Status.PLANNED, 0, 1)


def test_two_colleagues_saving_the_same_version(client, coord_client, val_aigo, coordinator):
    """The second save on a stale version is refused, showing the current value."""
    action = val_aigo.actions.get(number=3)
    seen = action.version
    colleague = grant(UserFactory(first_name="Paul", last_name="Roux"), val_aigo, Role.ADMIN)
    client.force_login(colleague)
    first = client.post(url(action, "action_status"), {"status": "on_hold", "progress": 20, "version": seen})
    assert first.status_code == 302
    second = coord_client.post(
        url(action, "action_status"), {"status": "done", "progress": 100, "version": seen}, **HTMX
    )
    assert second.status_code == 409
    message = text(second.text)
    assert "Paul Roux (le " in message
    assert "Valeur actuelle : statut « En pause », avancement 20 %" in message
    assert "Vos changements n'ont pas été enregistrés" in message
    action.refresh_from_db()
    assert (action.status, action.progress) == (Status.ON_HOLD, 20)
    # The form now carries the current version: saving again is a deliberate choice, and works.
    assert f'name="version" value="{action.version}"' in second.text
    third = coord_client.post(
        url(action, "action_status"), {"status": "done", "progress": 100, "version": action.version}
    )
    assert third.status_code == 302
    action.refresh_from_db()
    assert action.status == Status.DONE


def test_stale_step_edit_without_javascript(client, coord_client, val_aigo):
    step = Step.objects.get(action__plan=val_aigo, action__number=2, position=0)
    colleague = grant(UserFactory(first_name="Paul", last_name="Roux"), val_aigo, Role.ADMIN)
    client.force_login(colleague)
    assert (
        client.post(url(step.action, "step_toggle", pk=step.pk), {"done": "1", "version": 1}).status_code
        == 302
    )
    response = coord_client.post(
        url(step.action, "item_update", section="etapes", pk=step.pk), {"text": "Autre texte", "version": 1}
    )
    assert response.status_code == 409
    assert (
        "Valeur actuelle : « Faire un bilan et le partager auprès des élus et partenaires » (réalisée)"
        in (response.text.replace("&#x27;", "'"))
    )
    step.refresh_from_db()
    assert step.text == "Faire un bilan et le partager auprès des élus et partenaires" and step.done


def test_tick_reword_add_move_and_remove_steps(coord_client, val_aigo):
    action = val_aigo.actions.get(number=2)
    first, second = action.steps.order_by("position")[:2]
    assert (
        coord_client.post(url(action, "step_toggle", pk=first.pk), {"done": "1", "version": 1}).status_code
        == 302
    )
    assert (
        coord_client.post(
            url(action, "item_update", section="etapes", pk=second.pk),
            {"text": "Mieux communiquer", "version": 1},
        ).status_code
        == 302
    )
    assert (
        coord_client.post(url(action, "item_create", section="etapes"), {"text": "Évaluer"}).status_code
        == 302
    )
    assert coord_client.post(url(action, "step_move", pk=second.pk), {"direction": "up"}).status_code == 302
    texts = list(action.steps.filter(parent=None).order_by("position").values_list("text", "done"))
    assert texts[0] == ("Mieux communiquer", False)
    assert texts[1] == ("Faire un bilan et le partager auprès des élus et partenaires", True)
    assert texts[-1] == ("Évaluer", False)
    last = action.steps.get(text="Évaluer")
    response = coord_client.post(
        url(action, "item_delete", section="etapes", pk=last.pk), {"version": last.version}, **HTMX
    )
    assert response.status_code == 200 and "Évaluer" not in section(response.text, "etapes")
    assert not action.steps.filter(text="Évaluer").exists()
    journal = text(coord_client.get(action.get_absolute_url()).text)
    for line in [
        "Étape réalisée : « Faire un bilan et le partager auprès des élus et partenaires »",
        "Étape reformulée : « Valoriser le service en améliorant la communication » → « Mieux communiquer »",
        "Étape ajoutée : « Évaluer »",
        "Étape supprimée : « Évaluer »",
    ]:
        assert line in journal


def test_sub_step_tied_to_a_commune(coord_client, val_aigo):
    action = val_aigo.actions.get(number=12)
    villemur = action.steps.get(parent=None, text="Villemur-sur-Tarn")
    commune = Organisation.objects.get(name="Villemur-sur-Tarn")
    response = coord_client.post(
        url(action, "item_create", section="etapes"),
        {"text": "Ouvrir un point jeunes", "parent": villemur.pk, "commune": commune.pk},
        **HTMX,
    )
    assert response.status_code == 200
    step = action.steps.get(text="Ouvrir un point jeunes")
    assert (step.parent, step.commune, step.position) == (villemur, commune, 5)


def test_step_of_another_fiche_cannot_be_a_parent(coord_client, val_aigo):
    action = val_aigo.actions.get(number=12)
    foreign = Step.objects.get(action__plan=val_aigo, action__number=1, position=0)
    response = coord_client.post(
        url(action, "item_create", section="etapes"), {"text": "X", "parent": foreign.pk}
    )
    assert response.status_code == 422
    assert "Sélectionnez un choix valide" in response.text
    assert not action.steps.filter(text="X").exists()


def test_calendar_entry_dates_come_from_its_label(coord_client, val_aigo):
    action = val_aigo.actions.get(number=15)
    response = coord_client.post(
        url(action, "item_create", section="calendrier"),
        {"label": "Premier semestre 2027", "description": "bilan"},
    )
    assert response.status_code == 302
    entry = action.calendar_entries.get()
    assert (entry.start, entry.end) == (datetime.date(2027, 1, 1), datetime.date(2027, 6, 30))
    response = coord_client.post(
        url(action, "item_update", section="calendrier", pk=entry.pk),
        {"label": "Au fil de l'eau", "start": "2027-02-01", "end": "2027-01-01", "version": entry.version},
    )
    assert response.status_code == 422
    assert "La date de fin doit suivre la date de début." in response.text
    entry.refresh_from_db()
    assert entry.label == "Premier semestre 2027"


def test_unknown_calendar_label_is_kept_without_dates(coord_client, val_aigo):
    action = val_aigo.actions.get(number=15)
    coord_client.post(
        url(action, "item_create", section="calendrier"), {"label": "Quand les élus le décideront"}
    )
    entry = CalendarEntry.objects.get(action=action)
    assert (entry.label, entry.start, entry.end) == ("Quand les élus le décideront", None, None)


def test_partners_pilots_and_conditions(coord_client, val_aigo):
    action = val_aigo.actions.get(number=19)
    caf = Organisation.objects.get(short_name="CAF", kind="caf")
    bessieres = Organisation.objects.get(name="Bessières")
    assert (
        coord_client.post(
            url(action, "item_create", section="partenaires"),
            {"name": "", "role": "Service jeunesse", "organisation": caf.pk},
        ).status_code
        == 302
    )
    partner = action.partners.get(organisation=caf)
    assert (partner.name, partner.role) == ("CAF", "Service jeunesse")
    refused = coord_client.post(url(action, "item_create", section="partenaires"), {"name": "", "role": "x"})
    assert (
        refused.status_code == 422
        and "Indiquez le partenaire ou choisissez son organisation." in refused.text
    )
    assert (
        coord_client.post(
            url(action, "action_pilots"),
            {"pilotage": "Bessières", "pilots": [bessieres.pk], "version": action.version},
        ).status_code
        == 302
    )
    action.refresh_from_db()
    assert action.pilotage == "Bessières" and list(action.pilots.all()) == [bessieres]
    assert (
        coord_client.post(url(action, "item_create", section="conditions"), {"text": "Un budget"}).status_code
        == 302
    )
    condition = action.conditions.get(text="Un budget")
    assert (
        coord_client.post(
            url(action, "item_update", section="conditions", pk=condition.pk),
            {"text": "", "version": condition.version},
        ).status_code
        == 422
    )
    condition.refresh_from_db()
    assert condition.text == "Un budget"


def test_notes_are_dated_signed_newest_first(coord_client, val_aigo, coordinator):
    action = val_aigo.actions.get(number=4)
    coord_client.post(url(action, "note_create"), {"date": "2025-03-12", "text": "Première réunion."})
    coord_client.post(url(action, "note_create"), {"date": "2025-06-30", "text": "Deuxième réunion."})
    refused = coord_client.post(url(action, "note_create"), {"date": "30/02/2025", "text": ""}, **HTMX)
    assert refused.status_code == 422 and "Ce champ est obligatoire." in refused.text
    notes = list(Note.objects.filter(action=action).values_list("text", "author_name", "author"))
    assert notes == [
        ("Deuxième réunion.", "Claire Dupont", coordinator.pk),
        ("Première réunion.", "Claire Dupont", coordinator.pk),
    ]
    html = coord_client.get(action.get_absolute_url()).text
    assert html.index("Deuxième réunion.") < html.index("Première réunion.")
    assert "30/06/2025</time>, Claire Dupont" in html


def test_user_text_is_escaped_in_the_journal_and_notes(coord_client, val_aigo):
    action = val_aigo.actions.get(number=4)
    coord_client.post(url(action, "note_create"), {"date": "2025-03-12", "text": "<script>alert(1)</script>"})
    html = coord_client.get(action.get_absolute_url()).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_journal_ignores_the_import(coord_client, val_aigo):
    html = coord_client.get(val_aigo.actions.get(number=1).get_absolute_url()).text
    assert "Aucune modification depuis le chargement du plan." in html


def test_unknown_section_is_404(coord_client, val_aigo):
    action = val_aigo.actions.get(number=1)
    assert coord_client.post(url(action, "item_create", section="inconnue"), {"text": "x"}).status_code == 404


def test_edit_forms_do_not_add_queries_as_the_fiche_grows(
    coord_client, val_aigo, django_assert_max_num_queries
):
    small, large = val_aigo.actions.get(number=20), val_aigo.actions.get(number=12)
    for i in range(60):
        Step.objects.create(action=large, position=100 + i, text=f"Étape {i}")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for action in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert coord_client.get(action.get_absolute_url()).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_list_filters(coord_client, val_aigo):
    list_url = reverse("action_list", args=[val_aigo.slug])
    villemur = Organisation.objects.get(name="Villemur-sur-Tarn")

    def numbers(**params):
        response = coord_client.get(list_url, params)
        assert response.status_code == 200
        return [int(n) for n in re.findall(r'href="/plans/val-aigo/fiches/(\d+)/"', response.text)]

    assert numbers() == list(range(1, 21))
    assert numbers(commune=villemur.pk) == [12]
    assert numbers(axis=2) == [6, 7, 8, 9]
    assert numbers(status="in_progress") == [2, 3, 9, 11]
    assert numbers(q="médiathèque") == [5, 10, 12]
    assert numbers(q="Médiathèque Villemur") == [10, 12]
    ccva = Organisation.objects.get(short_name="CCVA")
    assert numbers(pilot=ccva.pk) == [1, 2, 3, 4, 6, 7, 8, 9, 15, 16, 17]
    assert numbers(partner=Organisation.objects.get(short_name="SDJES").pk) == [10]
    today = timezone.localdate()
    late = set(Action.objects.filter(plan=val_aigo).overdue(today).values_list("number", flat=True))
    assert set(numbers(late="on")) == late and late
    CalendarEntry.objects.create(
        action=val_aigo.actions.get(number=7), label="Bientôt", end=today + datetime.timedelta(days=30)
    )
    assert numbers(due_soon="on") == [7]
    assert numbers(status="in_progress", axis=2) == [9]


def test_list_counts_and_fragment(coord_client, val_aigo):
    list_url = reverse("action_list", args=[val_aigo.slug])
    full = coord_client.get(list_url, {"axis": 1}).text
    fragment = coord_client.get(list_url, {"axis": 1}, **HTMX).text
    assert fragment.lstrip().startswith('<section id="resultats"') and "<html" not in fragment
    assert section(fragment, "resultats") == section(full, "resultats")
    assert "5 fiches sur 20" in fragment
    assert "En cours : <strong>2</strong>" in fragment
    # A history restore (back button) gets the whole page.
    restore = coord_client.get(
        list_url, {"axis": 1}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in restore.text


def test_the_fragment_filters_as_the_page_does(coord_client, val_aigo):
    # The fragment does not draw the form, which reads the plan's organisations only to check
    # a pilot or a partner given: the same fiches either way, a bad pilot ignored alike.
    list_url = reverse("action_list", args=[val_aigo.slug])
    ccva = Organisation.objects.get(short_name="CCVA")
    villemur = Organisation.objects.get(name="Villemur-sur-Tarn")
    for params in (
        {"pilot": ccva.pk},
        {"partner": Organisation.objects.get(short_name="SDJES").pk},
        {"commune": villemur.pk, "axis": 4},
        {"pilot": "999999", "axis": 2},
    ):
        fragment = coord_client.get(list_url, params, **HTMX).text
        assert section(fragment, "resultats") == section(coord_client.get(list_url, params).text, "resultats")
    numbers = re.findall(
        r'href="/plans/val-aigo/fiches/(\d+)/"', coord_client.get(list_url, {"pilot": ccva.pk}, **HTMX).text
    )
    assert numbers == ["1", "2", "3", "4", "6", "7", "8", "9", "15", "16", "17"]


def test_bad_filter_values_are_shown_and_ignored(coord_client, val_aigo):
    list_url = reverse("action_list", args=[val_aigo.slug])
    response = coord_client.get(
        list_url, {"status": "nimporte", "axis": "abc", "commune": "999999", "q": "SIAM"}
    )
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.text
    assert re.findall(r'href="/plans/val-aigo/fiches/(\d+)/"', response.text) == ["11"]


@pytest.mark.parametrize("size", [20, 200])
def test_list_queries_do_not_grow(coord_client, coordinator, size, django_assert_max_num_queries):
    from tests.factories import build_plan
    from tests.scale import copied_plan

    plan = copied_plan(build_plan, size)  # the plans other modules make
    grant(coordinator, plan, Role.COORDINATOR)
    commune = plan.communes.first()
    # Session, user, the plan (with its total), the filters' lists, the counts, the page.
    with django_assert_max_num_queries(6):
        response = coord_client.get(
            reverse("action_list", args=[plan.slug]), {"commune": commune.pk, "late": "on"}
        )
    assert response.status_code == 200


def test_plain_posts_land_back_on_the_section_they_saved(coord_client, val_aigo):
    action = val_aigo.actions.get(number=2)
    page = coord_client.get(action.get_absolute_url()).text
    step = action.steps.get(position=0)
    for url_, data in [
        (url(action, "action_status"), {"status": "done", "progress": 100, "version": 1}),
        (url(action, "action_pilots"), {"pilotage": "CCVA", "version": 2}),
        (url(action, "step_toggle", pk=step.pk), {"done": "1", "version": 1}),
        (url(action, "item_create", section="calendrier"), {"label": "2027"}),
        (url(action, "item_create", section="partenaires"), {"name": "CAF"}),
        (url(action, "item_create", section="conditions"), {"text": "Budget"}),
        (url(action, "note_create"), {"date": "2026-01-05", "text": "Point."}),
    ]:
        response = coord_client.post(url_, data)
        assert response.status_code == 302, url_
        anchor = response.url.split("#")[1]
        assert f'<section id="{anchor}"' in page, anchor


def test_a_contributor_rewords_a_step_of_its_commune_but_cannot_move_it_to_another(client, val_aigo):
    villemur = Organisation.objects.get(name="Villemur-sur-Tarn")
    bessieres = Organisation.objects.get(name="Bessières")
    step = Step.objects.create(
        action=val_aigo.actions.get(number=1), position=9, text="Étape de Villemur", commune=villemur
    )
    client.force_login(grant(UserFactory(), val_aigo, Role.CONTRIBUTOR, villemur))
    target = url(step.action, "item_update", section="etapes", pk=step.pk)
    moved = client.post(target, {"text": "Étape de Villemur", "commune": bessieres.pk, "version": 1})
    assert moved.status_code == 422 and "Seuls ceux qui modifient la fiche changent la commune" in moved.text
    cleared = client.post(target, {"text": "Étape de Villemur", "commune": "", "version": 1})
    assert cleared.status_code == 422
    step.refresh_from_db()
    assert step.commune == villemur and step.version == 1
    assert (
        client.post(target, {"text": "Étape reformulée", "commune": villemur.pk, "version": 1}).status_code
        == 302
    )
    step.refresh_from_db()
    assert step.text == "Étape reformulée"


@pytest.mark.parametrize("direction", ["sideways", ""])
def test_a_step_moves_up_or_down_only(coord_client, val_aigo, direction):
    action = val_aigo.actions.get(number=2)
    order = list(action.steps.order_by("position").values_list("pk", flat=True))
    response = coord_client.post(url(action, "step_move", pk=order[0]), {"direction": direction})
    assert response.status_code == 302
    assert list(action.steps.order_by("position").values_list("pk", flat=True)) == order
    page = coord_client.get(action.get_absolute_url()).text
    assert "Requête invalide : rien n&#x27;a été enregistré." in page


def test_dates_outside_reason_are_refused(coord_client, val_aigo):
    action = val_aigo.actions.get(number=15)
    response = coord_client.post(
        url(action, "item_create", section="calendrier"),
        {"label": "Un jour", "start": "9999-12-01", "end": "9999-12-31"},
    )
    assert response.status_code == 422 and "Date invraisemblable" in response.text
    assert not action.calendar_entries.exists()


def test_garbage_value_id_is_404(coord_client, val_aigo):
    from actions.models import Indicator

    indicator = Indicator.objects.create(action=val_aigo.actions.get(number=2), name="Familles")
    target = url(indicator.action, "indicator_value_save", pk=indicator.pk)
    for value_id in ("abc", "1.5"):
        assert (
            coord_client.post(target, {"value_id": value_id, "year": 2025, "value": "3"}).status_code == 404
        )
