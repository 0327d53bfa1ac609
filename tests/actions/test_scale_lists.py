"""Lists of fiches paged (issue 10): the fiches list and the plan page draw 50 fiches a page,
count all of them in SQL, and issue the same queries for a plan of 20 fiches as for 1,000."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actions.listing import PER_PAGE
from actions.models import Action, Status
from axes.models import Role
from tests.factories import UserFactory, grant
from tests.scale import bulk_plan


def text(html: str) -> str:
    import html as html_module

    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def fiche_links(html: str, slug: str) -> list[int]:
    return [int(n) for n in re.findall(rf'href="/plans/{slug}/fiches/(\d+)/"', html)]


@pytest.mark.parametrize("page", ["list", "list_filtered", "list_htmx", "plan"])
def test_queries_do_not_grow_with_the_plan(client, db, page):
    user = UserFactory()
    client.force_login(user)
    counts = []
    for size in (20, 1000):
        plan = bulk_plan(size, copied=True)  # the same two plans in each case
        grant(user, plan, Role.READER)
        url, params, headers = {
            "list": (reverse("action_list", args=[plan.slug]), {}, {}),
            "list_filtered": (
                reverse("action_list", args=[plan.slug]),
                {"late": "on", "q": "action", "commune": plan.communes.first().pk},
                {},
            ),
            "list_htmx": (reverse("action_list", args=[plan.slug]), {"late": "on"}, {"HX-Request": "true"}),
            "plan": (reverse("plan_detail", args=[plan.slug]), {}, {}),
        }[page]
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, params, headers=headers)
        assert response.status_code == 200
        assert len(fiche_links(response.text, plan.slug)) <= PER_PAGE
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_the_list_counts_every_match_and_pages_them(client, db):
    plan = bulk_plan(300)
    client.force_login(grant(UserFactory(), plan, Role.READER))
    url = reverse("action_list", args=[plan.slug])
    # bulk_plan: statuses cycle over five, calendars over three (ended in 2024, open-ended,
    # ending in 2099); late = open status (not done, not abandoned) and ended in 2024.
    in_progress = Action.objects.filter(plan=plan, status=Status.IN_PROGRESS).count()
    late = sum(
        1
        for number, status in Action.objects.filter(plan=plan).values_list("number", "status")
        if number % 3 == 0 and status in (Status.PLANNED, Status.IN_PROGRESS, Status.ON_HOLD)
    )
    page = text(client.get(url).text)
    assert "300 fiches sur 300 (page 1 sur 6)" in page
    assert f"En cours : {in_progress}" in page and f"En retard : {late}" in page
    html = client.get(url, {"late": "on", "page": 2}).text
    assert f"{late} fiches sur 300" in text(html)
    numbers = fiche_links(html, plan.slug)
    assert numbers == sorted(numbers) and len(numbers) == late - PER_PAGE
    # The pager keeps the filters.
    assert 'href="?late=on&amp;page=1"' in html
    # A page out of range shows the last one; garbage the first.
    assert fiche_links(client.get(url, {"page": 99}).text, plan.slug)[0] == 251
    assert fiche_links(client.get(url, {"page": "x"}).text, plan.slug)[0] == 1


def test_the_plan_page_pages_fiches_by_axis(client, db):
    plan = bulk_plan(130, n_axes=2)
    client.force_login(grant(UserFactory(), plan, Role.READER))
    url = reverse("plan_detail", args=[plan.slug])
    first = client.get(url).text
    assert "Page 1 sur 3" in text(first)
    # bulk_plan puts fiche n on axis n % 2 + 1: axis 1 holds the 65 even numbers.
    assert fiche_links(first, plan.slug) == list(range(2, 101, 2))
    second = client.get(url, {"page": 2}).text
    assert fiche_links(second, plan.slug) == list(range(102, 131, 2)) + list(range(1, 70, 2))
    assert "Axe 1 : Orientation 1" in second and "Axe 2 : Orientation 2" in second
