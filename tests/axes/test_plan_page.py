"""The plan page: axes, their fiches, status and progress, for a signed-in reader."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actions.models import Status
from tests.factories import ActionFactory, build_plan, grant
from tests.scale import copied_plan


def test_anonymous_visitor_is_sent_to_sign_in(client, val_aigo):
    response = client.get(val_aigo.get_absolute_url())
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_sign_in_page_is_in_french(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "Mot de passe" in response.text and 'lang="fr"' in response.text


def test_home_takes_a_reader_of_one_plan_to_its_dashboard(reader_client, val_aigo):
    response = reader_client.get(reverse("home"))
    assert response.status_code == 302 and response.url == reverse("dashboard", args=[val_aigo.slug])


def test_home_lists_plans_when_there_are_several(reader_client, reader, val_aigo):
    other = build_plan(2)
    grant(reader, other)
    response = reader_client.get(reverse("home"))
    assert "CC de Val&#x27;Aïgo" in response.text and other.territory in response.text


def test_plan_page_lists_the_20_fiches_by_axis(reader_client, val_aigo):
    response = reader_client.get(val_aigo.get_absolute_url())
    assert response.status_code == 200
    html = response.text
    assert len(re.findall(r'href="/plans/val-aigo/fiches/\d+/"', html)) == 20
    assert "Axe 4 : Favoriser l&#x27;épanouissement et accompagner la montée en autonomie des jeunes" in html
    for action in val_aigo.actions.all():
        assert action.get_absolute_url() in html
    assert html.count('badge-in_progress">En cours</span>') == 4
    assert "En retard" in html
    assert "Synthèse des enjeux : La petite enfance" in html
    assert "Points de vigilance" in html


def test_plan_page_shows_status_and_progress(reader_client, val_aigo):
    val_aigo.actions.filter(number=6).update(status=Status.DONE, progress=100)
    html = reader_client.get(val_aigo.get_absolute_url()).text
    assert 'badge-done">Réalisée</span>' in html
    assert '<progress max="100" value="100" aria-label="Avancement de l\'action 6">' in html


def test_unknown_plan_is_404(reader_client, db):
    assert reader_client.get("/plans/inconnu/").status_code == 404


def test_user_text_is_escaped(reader_client, reader):
    action = ActionFactory(title="<script>alert('x')</script>")
    grant(reader, action.plan)
    html = reader_client.get(action.plan.get_absolute_url()).text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


# Session and user, then the page's own queries: plan, axes, findings, fiches, pilots, may the user
# manage members; for a fiche,
# the fiche, pilots, steps, sub-steps, partners, conditions, calendar, indicators and their values,
# notes, three permission checks and the journal (one query per kind of record).
@pytest.mark.parametrize(("page", "bound"), [("plan", 8), ("fiche", 21)])
def test_queries_do_not_grow_with_the_plan(reader_client, reader, page, bound):
    small, large = copied_plan(build_plan, 20), copied_plan(build_plan, 200)  # in each case
    grant(reader, small)
    grant(reader, large)

    def url(plan):
        return plan.get_absolute_url() if page == "plan" else plan.actions.get(number=7).get_absolute_url()

    queries_20 = count_queries(reader_client, url(small))
    queries_200 = count_queries(reader_client, url(large))
    assert queries_200 == queries_20
    assert queries_20 <= bound
