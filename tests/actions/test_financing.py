"""Financing lines on the fiche page: added, refused with a French message beside the field,
changed, deleted after confirmation, journaled; amounts the French way; the page's queries flat."""

from decimal import Decimal

import pytest
from django.utils.html import escape

from actions.models import Financing
from axes.models import Role
from partners.models import OrganisationKind
from tests.factories import ActionFactory, FinancingFactory, OrganisationFactory, UserFactory, grant

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def action(db):
    action = ActionFactory(number=3)
    caf = OrganisationFactory(name="CAF de la Haute-Garonne", short_name="CAF 31", kind=OrganisationKind.CAF)
    action.plan.signatories.add(caf)
    return action


@pytest.fixture
def coordinator(client, action):
    client.force_login(
        grant(UserFactory(first_name="Claire", last_name="Dupont"), action.plan, Role.COORDINATOR)
    )
    return client


def url(action, suffix=""):
    return f"/plans/{action.plan.slug}/fiches/{action.number}/{suffix}"


def line(**data):
    return {
        "funder": "",
        "organisation": "",
        "scheme": "",
        "year": "",
        "planned": "",
        "granted": "",
        "spent": "",
        **data,
    }


def test_a_coordinator_adds_a_line_shown_the_french_way(coordinator, action):
    caf = action.plan.signatories.get()
    form = coordinator.get(url(action), {"modifier": "financements-nouveau"})
    assert 'name="planned"' in form.text and "CAF de la Haute-Garonne" in form.text
    response = coordinator.post(
        url(action, "financements/"),
        line(
            organisation=caf.pk,
            scheme="Bonus territoire CTG",
            year="2025",
            planned="12 500",
            granted="10000,50",
        ),
    )
    assert response.status_code == 302
    saved = Financing.objects.get(action=action)
    assert saved.funder == "CAF 31" and saved.organisation == caf
    assert saved.planned == Decimal("12500") and saved.granted == Decimal("10000.50") and saved.spent is None
    page = coordinator.get(url(action)).text
    assert "12\u00a0500\u00a0€" in page and "10\u00a0000,50\u00a0€" in page
    assert "Bonus territoire CTG" in page
    assert "Ligne de financement ajoutée" in page  # the journal


@pytest.mark.parametrize(
    "data, field, message",
    [
        (line(funder="Commune", planned="-5"), "planned", "Un montant ne peut pas être négatif."),
        (line(funder="Commune", planned="douze"), "planned", "Saisissez un montant en euros"),
        (line(funder="Commune", planned="1" + "0" * 13), "planned", "Montant invraisemblable"),
        (
            line(funder="Commune", granted="1000", spent="1500"),
            "spent",
            "dépasse le montant accordé (1\u00a0000\u00a0€)",
        ),
        (line(funder="Commune"), "planned", "Indiquez au moins un montant"),
        (line(planned="100"), "funder", "Indiquez le financeur ou choisissez son organisation."),
        (
            line(funder="Commune", planned="100", year="2031"),
            "year",
            "L'année doit être comprise entre 2023 et 2027.",
        ),
    ],
)
def test_bad_lines_are_refused_beside_the_field(coordinator, action, data, field, message):
    response = coordinator.post(url(action, "financements/"), data, **HTMX)
    assert response.status_code == 422
    assert escape(message) in response.text
    assert 'aria-invalid="true"' in response.text
    assert not Financing.objects.exists()


def test_change_then_delete_after_confirmation(coordinator, action):
    item = FinancingFactory(action=action, planned=5000)
    response = coordinator.post(
        url(action, f"financements/{item.pk}/"),
        line(
            funder="Département",
            scheme="Fonds",
            year="2024",
            planned="6000",
            granted="6000",
            spent="2000",
            version=item.version,
        ),
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.funder, item.planned, item.spent) == ("Département", Decimal("6000"), Decimal("2000"))
    confirm = coordinator.get(url(action, f"financements/{item.pk}/supprimer/"))
    assert "Supprimer la ligne de financement" in confirm.text
    assert Financing.objects.filter(pk=item.pk).exists()
    response = coordinator.post(url(action, f"financements/{item.pk}/supprimer/"), {"version": item.version})
    assert response.status_code == 302
    assert not Financing.objects.filter(pk=item.pk).exists()
    page = coordinator.get(url(action)).text
    assert "Ligne de financement supprimée" in page and "Aucun financement renseigné." in page


def test_a_reader_sees_the_lines_and_may_not_write(client, action):
    FinancingFactory(action=action, planned=1234)
    client.force_login(grant(UserFactory(), action.plan, Role.READER))
    page = client.get(url(action)).text
    assert "1\u00a0234\u00a0€" in page and "Ajouter une ligne de financement" not in page
    assert client.post(url(action, "financements/"), line(funder="X", planned="1")).status_code == 403
    assert Financing.objects.count() == 1
    outsider = UserFactory()
    client.force_login(outsider)
    assert client.post(url(action, "financements/"), line(funder="X", planned="1")).status_code == 404


def test_a_stale_edit_is_refused(coordinator, action):
    item = FinancingFactory(action=action, planned=5000)
    version = item.version
    item.save_edit(by=None, planned=Decimal(7000))
    response = coordinator.post(
        url(action, f"financements/{item.pk}/"), line(funder="X", planned="1", version=version), **HTMX
    )
    assert response.status_code == 409
    item.refresh_from_db()
    assert item.planned == Decimal(7000)


def test_the_fiche_page_reads_its_lines_and_tags_with_the_fiche(
    coordinator, action, django_assert_max_num_queries
):
    from tests.actions.test_fiche_queries import MAX_QUERIES
    from tests.factories import audience, theme

    FinancingFactory.create_batch(5, action=action)
    action.themes.add(theme("Parentalité"), theme("Jeunesse"))
    action.audiences.add(audience("Familles"))
    with django_assert_max_num_queries(MAX_QUERIES):
        page = coordinator.get(url(action)).text
    assert page.count("<td>Bonus territoire CTG</td>") == 5 and "50\u00a0000\u00a0€" in page  # the total
    assert "Parentalité" in page and "Familles" in page


def test_an_htmx_add_answers_with_its_section_and_the_journal(coordinator, action):
    import re

    form = coordinator.get(url(action), {"modifier": "financements-nouveau"}, **HTMX)
    assert re.findall(r'<section id="([^"]+)"', form.text) == ["financements"]
    assert "data-focus" in form.text  # the first field of the form just opened
    response = coordinator.post(url(action, "financements/"), line(funder="Région", planned="3000"), **HTMX)
    assert response.status_code == 200
    assert re.findall(r'<section id="([^"]+)"', response.text) == ["financements", "journal"]
    assert 'data-announce="Financement enregistré"' in response.text
    assert "3\u00a0000\u00a0€" in response.text and "Ligne de financement ajoutée" in response.text
    # The section as swapped in is the section of a fresh page.
    page = coordinator.get(url(action)).text
    fresh = page[page.index('<section id="financements"') :]
    fresh = fresh[: fresh.index("</section>") + len("</section>")]
    swapped = response.text[response.text.index('<section id="financements"') :]
    swapped = swapped[: swapped.index("</section>") + len("</section>")]
    assert swapped.replace(' data-announce="Financement enregistré"', "") == fresh


def test_a_contributeur_edits_the_financing_of_the_fiche_its_organisation_pilots(client, action):
    commune = OrganisationFactory(name="Commune pilote", kind=OrganisationKind.COMMUNE)
    action.pilots.add(commune)
    other = ActionFactory(plan=action.plan, axis=action.axis, number=9)
    client.force_login(grant(UserFactory(), action.plan, Role.CONTRIBUTOR, commune))
    assert client.post(url(action, "financements/"), line(funder="Commune", planned="10")).status_code == 302
    assert client.post(url(other, "financements/"), line(funder="Commune", planned="10")).status_code == 403
    assert Financing.objects.filter(action=action).count() == 1 and not Financing.objects.filter(action=other)
