"""Each role lands where it works (issue 12): the élu and the CAF on the dashboard, a
contributeur on "Mes fiches", coordination on the plan page."""

import datetime

import pytest
from django.urls import reverse

from axes.models import Role
from partners.models import Organisation
from tests.factories import (
    ActionFactory,
    CalendarEntryFactory,
    OrganisationFactory,
    StepFactory,
    UserFactory,
    build_plan,
    grant,
)


def landing(client, user):
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    return response.url


@pytest.mark.parametrize(
    ("role", "page"),
    [
        (Role.READER, "dashboard"),
        (Role.CONTRIBUTOR, "my_actions"),
        (Role.COORDINATOR, "plan_detail"),
        (Role.ADMIN, "plan_detail"),
    ],
)
def test_each_role_of_one_plan_lands_on_its_page(client, val_aigo, role, page):
    assert landing(client, grant(UserFactory(), val_aigo, role)) == reverse(page, args=[val_aigo.slug])


def test_a_caf_agent_lands_on_the_dashboard_of_the_one_plan_their_caf_signed(client, val_aigo):
    agent = UserFactory()
    agent.memberships.create(organisation=Organisation.objects.get(short_name="CAF", kind="caf"))
    assert landing(client, agent) == reverse("dashboard", args=[val_aigo.slug])


def test_a_caf_agent_following_several_plans_lands_on_the_overview(client, val_aigo):
    caf = Organisation.objects.get(short_name="CAF", kind="caf")
    build_plan(2).signatories.add(caf)
    agent = UserFactory()
    agent.memberships.create(organisation=caf)
    assert landing(client, agent) == reverse("plans_dashboard")


def test_signing_in_goes_through_home(client, val_aigo):
    user = grant(UserFactory(username="elue"), val_aigo, Role.READER)
    response = client.post(
        reverse("login"), {"username": user.username, "password": "motdepasse-de-test"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("dashboard", args=[val_aigo.slug])


@pytest.fixture
def commune_plan(db):
    plan = build_plan(0)
    commune = OrganisationFactory(commune=True, name="Bessières")
    other = OrganisationFactory(commune=True, name="Layrac")
    plan.communes.add(commune, other)
    return plan, commune, other


def test_my_actions_lists_what_a_contributeur_may_update_next_echeance_first(client, commune_plan):
    plan, commune, other = commune_plan
    axis = plan.axes.first()
    later = ActionFactory(axis=axis, title="Fiche à échéance lointaine")
    later.pilots.add(commune)
    CalendarEntryFactory(
        action=later, label="2099", start=datetime.date(2099, 1, 1), end=datetime.date(2099, 12, 31)
    )
    sooner = ActionFactory(axis=axis, title="Fiche à échéance proche")
    sooner.pilots.add(commune)
    CalendarEntryFactory(
        action=sooner, label="2098", start=datetime.date(2098, 1, 1), end=datetime.date(2098, 12, 31)
    )
    late = ActionFactory(axis=axis, title="Fiche en retard")
    late.pilots.add(commune)
    CalendarEntryFactory(
        action=late, label="2001", start=datetime.date(2001, 1, 1), end=datetime.date(2001, 12, 31)
    )
    not_mine = ActionFactory(axis=axis, title="Fiche d'un autre pilote")
    StepFactory(action=not_mine, text="Ouvrir un accueil à Bessières", commune=commune)
    StepFactory(action=not_mine, text="Ouvrir un accueil à Layrac", commune=other)
    contributor = grant(UserFactory(), plan, Role.CONTRIBUTOR, commune)
    client.force_login(contributor)

    html = client.get(reverse("my_actions", args=[plan.slug])).text

    assert (
        html.index("Fiche en retard")
        < html.index("Fiche à échéance proche")
        < html.index("Fiche à échéance lointaine")
    )
    assert "Fiche d&#x27;un autre pilote" not in html.split("mes-etapes")[0]
    assert "3 fiches" in html and "1 étape" in html
    assert "Ouvrir un accueil à Bessières" in html and "Layrac" not in html
    assert '<span class="late-mark">En retard</span>' in html


def test_my_actions_for_a_reader_says_nothing_is_theirs(client, commune_plan):
    plan, _, _ = commune_plan
    client.force_login(grant(UserFactory(), plan, Role.READER))
    html = client.get(reverse("my_actions", args=[plan.slug])).text
    assert "0 fiche)" in html and "Aucune fiche ne vous est confiée" in html


def test_my_actions_of_a_plan_one_does_not_read_is_404(client, commune_plan):
    plan, _, _ = commune_plan
    client.force_login(UserFactory())
    assert client.get(reverse("my_actions", args=[plan.slug])).status_code == 404


def test_header_links_mes_fiches_and_search_on_a_plans_pages(client, commune_plan):
    plan, commune, _ = commune_plan
    client.force_login(grant(UserFactory(), plan, Role.CONTRIBUTOR, commune))
    html = client.get(plan.get_absolute_url()).text
    assert reverse("my_actions", args=[plan.slug]) in html
    assert f'action="{reverse("plan_search", args=[plan.slug])}"' in html
