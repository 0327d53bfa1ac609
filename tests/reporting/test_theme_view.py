"""One theme across the plans: a CAF's staff see every fiche of that theme in every plan their
CAF signed (and nothing of another CAF's), a coordinator those of their own plans; paged,
with financing totals, in the same number of queries for one plan as for fifty."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from actions.models import Action, Financing
from axes.models import Axis, Plan, Role
from partners.models import Membership, Organisation, OrganisationKind
from tests.factories import ActionFactory, FinancingFactory, PlanFactory, UserFactory, audience, grant, theme


@pytest.fixture
def caf(db):
    return Organisation.objects.create(name="CAF de la Haute-Garonne", kind=OrganisationKind.CAF)


@pytest.fixture
def officer(caf):
    user = UserFactory(first_name="Inès", last_name="Caf")
    Membership.objects.create(user=user, organisation=caf)
    return user


def signed_plan(caf, territory, *titles, tag="Parentalité"):
    plan = PlanFactory(territory=territory)
    plan.signatories.add(caf)
    for number, title in enumerate(titles, start=1):
        action = ActionFactory(plan=plan, axis__plan=plan, number=number, title=title)
        action.themes.add(theme(tag))
    return plan


def test_a_caf_officer_sees_the_theme_in_every_plan_of_its_caf_only(client, caf, officer):
    nord = signed_plan(caf, "CC du Nord", "Ateliers parents-enfants", "Café des parents")
    sud = signed_plan(caf, "CC du Sud", "Lieu d'accueil enfants-parents")
    other_caf = Organisation.objects.create(name="CAF du Gers", kind=OrganisationKind.CAF)
    signed_plan(other_caf, "CC du Gers", "Soutien à la parentalité gersoise")
    signed_plan(caf, "CC de l'Est", "Relais petite enfance", tag="Petite enfance")
    FinancingFactory(action=nord.actions.get(number=1), planned=12500, granted=10000, spent=2500)
    FinancingFactory(action=sud.actions.get(), planned=Decimal("1000.50"), funder="Commune")
    client.force_login(officer)
    page = client.get("/thematiques/parentalite/").text
    assert "Ateliers parents-enfants" in page and "Café des parents" in page
    assert "Lieu d&#x27;accueil enfants-parents" in page
    assert "gersoise" not in page and "Relais petite enfance" not in page
    assert "CC du Nord" in page and "CC du Sud" in page
    assert "12\u00a0500\u00a0€" in page and "13\u00a0500,50\u00a0€" in page  # a fiche's line, the total
    index = client.get("/thematiques/").text
    assert "Parentalité</a> : 3 fiches" in index
    assert (
        client.get("/thematiques/", {"thematique": "parentalite"})["Location"] == "/thematiques/parentalite/"
    )


def test_a_coordinator_sees_only_their_own_plans(client, caf):
    mine = signed_plan(caf, "CC du Nord", "Ateliers parents-enfants")
    signed_plan(caf, "CC du Sud", "Lieu d'accueil enfants-parents")
    client.force_login(grant(UserFactory(), mine, Role.COORDINATOR))
    page = client.get("/thematiques/parentalite/").text
    assert "Ateliers parents-enfants" in page and "enfants-parents" not in page.replace(
        "Ateliers parents-enfants", ""
    )


def test_the_public_filter_and_an_unknown_theme(client, caf, officer):
    plan = signed_plan(caf, "CC du Nord", "Ateliers parents-enfants", "Café des parents")
    plan.actions.get(number=2).audiences.add(audience("Parents"))
    client.force_login(officer)
    page = client.get("/thematiques/parentalite/", {"public": "parents"}).text
    assert "Café des parents" in page and "Ateliers parents-enfants" not in page
    assert client.get("/thematiques/inconnue/").status_code == 404


def bulk_plans(caf, n: int, parentalite) -> None:
    """`n` plans signed by the CAF, each with 3 fiches tagged, one financing line each."""
    plans = Plan.objects.bulk_create(
        PlanFactory.build(slug=f"bulk-{n}-{i}", territory=f"Territoire {n}-{i:03d}") for i in range(n)
    )
    Plan.signatories.through.objects.bulk_create(
        Plan.signatories.through(plan=p, organisation=caf) for p in plans
    )
    axes = Axis.objects.bulk_create(Axis(plan=p, number=1, title="Axe") for p in plans)
    actions = Action.objects.bulk_create(
        Action(plan=axis.plan, axis=axis, number=k, title=f"Fiche {k}", fiche_title="F")
        for axis in axes
        for k in (1, 2, 3)
    )
    Action.themes.through.objects.bulk_create(
        Action.themes.through(action=a, theme=parentalite) for a in actions
    )
    Financing.objects.bulk_create(Financing(action=a, funder="CAF", planned=100) for a in actions)


def test_the_same_queries_for_one_plan_as_for_fifty(client, caf, officer):
    parentalite = theme("Parentalité")
    client.force_login(officer)
    counts = []
    for n in (1, 50):
        bulk_plans(caf, n, parentalite)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/thematiques/parentalite/")
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    text = response.text
    assert "153" in text  # 1 + 50 plans of 3 fiches
    assert "15\u00a0300\u00a0€" in text
    assert "Page 1 sur 4" in text


def test_the_same_queries_for_ten_fiches_as_for_ten_thousand(client, caf, officer):
    """Paged and added up in SQL: ten thousand fiches of a theme cost the page the same queries
    as ten, each page shows its own fiches in order, and the totals cover them all."""
    parentalite = theme("Parentalité")
    client.force_login(officer)

    def tagged(territory: str, fiches: int) -> None:
        plan = PlanFactory(territory=territory)
        plan.signatories.add(caf)
        axis = Axis.objects.create(plan=plan, number=1, title="Familles")
        actions = Action.objects.bulk_create(
            Action(
                plan=plan,
                axis=axis,
                number=k,
                title=f"Fiche {territory} n°{k}",
                fiche_title="F",
                progress=k % 2 * 50,
            )
            for k in range(1, fiches + 1)
        )
        Action.themes.through.objects.bulk_create(
            Action.themes.through(action=a, theme=parentalite) for a in actions
        )
        Financing.objects.bulk_create(Financing(action=a, funder="CAF", planned=100) for a in actions)

    def queries(page=1) -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/thematiques/parentalite/", {"page": page})
        assert response.status_code == 200
        return len(captured), " ".join(response.text.replace("\u00a0", " ").split())

    tagged("CC A", 10)
    few, text = queries()
    assert "10 fiches" in text and "Page 1 sur" not in text
    for i in range(1, 50):
        tagged(f"CC B{i:02d}", 200)
    tagged("CC Z", 200 - 10)
    many, text = queries()
    assert few == many, (few, many)
    assert "10000 fiches" in text and "Page 1 sur 200" in text
    assert "1 000 000 €" in text  # the financing of all of them, not the page's
    assert "Avancement moyen</dt><dd>25 %" in text  # odd fiches at 50 %, even ones at 0 %
    rows = re.findall(r"Fiche (CC [A-Z0-9]+) n°(\d+)", text)
    assert rows == [("CC A", str(k)) for k in range(1, 11)] + [("CC B01", str(k)) for k in range(1, 41)]
    # The last page: the last territory's last fiches, in number order.
    deep, text = queries(200)
    assert deep == many
    rows = re.findall(r"Fiche (CC [A-Z0-9]+) n°(\d+)", text)
    assert rows == [("CC Z", str(k)) for k in range(141, 191)]


def test_someone_who_reads_no_plan_sees_no_fiche(client, caf):
    signed_plan(caf, "CC du Nord", "Ateliers parents-enfants")
    client.force_login(UserFactory())
    page = client.get("/thematiques/parentalite/").text
    assert "Aucune fiche de cette thématique dans les plans que vous suivez." in page
    assert "Ateliers parents-enfants" not in page and "CC du Nord" not in page
