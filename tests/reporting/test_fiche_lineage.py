"""A fiche carried into the next plan links to its previous life, and the previous fiche to its
continuation, each link only where the user may read the other plan; the fiche page keeps its
query bound."""

import pytest
from django.urls import reverse

from axes.models import Role
from reporting.renewal import renew_plan
from tests.factories import ActionFactory, PlanFactory, UserFactory, grant


@pytest.fixture
def renewed(db):
    old = PlanFactory(slug="val", title="CTG de Val'Aïgo", start_year=2023, end_year=2027)
    ActionFactory(plan=old, axis__plan=old, number=1, title="Lieu d'accueil enfants-parents")
    admin = grant(UserFactory(), old, Role.ADMIN)
    renewal = renew_plan(
        old,
        slug="val-2028",
        title="CTG de Val'Aïgo 2028-2032",
        start_year=2028,
        end_year=2032,
        numbers=[1],
        by=admin,
    )
    return old, renewal.plan, admin


def page(client, plan, number=1):
    return client.get(reverse("action_detail", args=[plan.slug, number])).text


def test_each_life_links_to_the_other_for_whoever_reads_both(client, renewed, django_assert_max_num_queries):
    old, new, admin = renewed
    client.force_login(admin)  # the renewal gave the old plan's roles on the new one
    with django_assert_max_num_queries(12):
        html = page(client, new)
    assert (
        '<a href="/plans/val/fiches/1/">Suite de l\'action 1 du plan « CTG de Val&#x27;Aïgo » (2023-2027)</a>'
        in html
    )
    with django_assert_max_num_queries(12):
        html = page(client, old)
    assert (
        '<a href="/plans/val-2028/fiches/1/">Poursuivie par l\'action 1 du plan « CTG de Val&#x27;Aïgo '
        "2028-2032 » (2028-2032)</a>" in html
    )


def test_no_link_into_a_plan_the_user_may_not_read(client, renewed):
    old, new, _ = renewed
    only_new = grant(UserFactory(), new, Role.READER)
    client.force_login(only_new)
    html = page(client, new)
    assert "Suite de l'action 1 du plan « CTG de Val&#x27;Aïgo » (2023-2027)</p>" in html
    assert 'href="/plans/val/fiches/1/"' not in html
    only_old = grant(UserFactory(), old, Role.READER)
    client.force_login(only_old)
    html = page(client, old)
    assert "Poursuivie par" not in html and "val-2028" not in html
