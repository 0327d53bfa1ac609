"""Dashboards at the scale of France (issue 10): a plan's dashboard in at most 12 queries from
20 to 2,000 fiches; the CAF's overview of its plans summed up in SQL, paged, sorted and filtered,
in the same queries for 1 plan as for 1,000."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions.models import Action, CalendarEntry, Status
from axes.models import Objective, Role
from reporting.models import Decision, Instance, Meeting
from reporting.overview import months_before, plan_overview
from tests.factories import UserFactory, grant
from tests.scale import bulk_plan, bulk_plans, caf


def text(html: str) -> str:
    import html as html_module

    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def queries_of(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.text


def with_governance(plan, user):
    """A COPIL held, one to come, and decisions naming fiches (one changed since the COPIL)."""
    held = Meeting.objects.create(plan=plan, instance=Instance.COPIL, date=datetime.date(2025, 1, 1))
    Meeting.objects.create(
        plan=plan, instance=Instance.COPIL, date=timezone.localdate() + datetime.timedelta(days=30)
    )
    for n in range(3):
        decision = Decision.objects.create(
            meeting=held,
            text=f"Décision {n}",
            status_changed_at=timezone.now(),
            status_changed_by=user,
        )
        decision.actions.set(Action.objects.filter(plan=plan).order_by("number")[n : n + 2])


def with_objectives(plan):
    """Two objectives under each of the first two axes, shared by their fiches in turn (the
    fiches of the other axes have none)."""
    for axis in plan.axes.filter(number__lte=2):
        objectives = [
            Objective.objects.create(
                axis=axis, position=k, code=f"{axis.number}.{k}", title=f"Objectif n°{k}"
            )
            for k in (1, 2)
        ]
        pks = list(axis.actions.order_by("number").values_list("pk", flat=True))
        for k, objective in enumerate(objectives):
            Action.objects.filter(pk__in=pks[k::2]).update(objective=objective)


def test_dashboard_in_twelve_queries_from_20_to_2000_fiches(client, db):
    user = UserFactory()
    client.force_login(user)
    counts = []
    for size in (20, 2000):
        plan = bulk_plan(size)
        grant(user, plan, Role.COORDINATOR)
        with_governance(plan, user)
        with_objectives(plan)
        count, html = queries_of(client, reverse("dashboard", args=[plan.slug]))
        counts.append(count)
        page = text(html)
        assert f"Fiches-actions {size}" in page
        assert "Décision 2" in page
        assert "Avancement par axe et par objectif" in page and "Objectif 2.2 : Objectif n°2" in page
    assert counts[0] == counts[1], counts
    assert counts[1] <= 12, counts


def test_dashboard_figures_read_in_one_query_agree_with_the_full_reading(db):
    """The dashboard's lean reading of the fiches and the reports' full one give the same figures."""
    plan = bulk_plan(40)
    with_objectives(plan)
    Action.objects.filter(plan=plan, number=3).update(archived_at=timezone.now())
    lean, full = plan_overview(plan), plan_overview(plan, full=True)
    assert [f.number for f in lean.actions] == [f.number for f in full.actions]
    for a, b in zip(lean.actions, full.actions, strict=True):
        assert (a.pilots, a.calendar, a.deadline, a.is_late, a.status, a.progress, a.axis_number) == (
            b.pilots,
            b.calendar,
            b.deadline,
            b.is_late,
            b.status,
            b.progress,
            b.axis_number,
        )
    assert (lean.progress, lean.statuses, len(lean.late), lean.by_pilot) == (
        full.progress,
        full.statuses,
        len(full.late),
        full.by_pilot,
    )
    assert [(s.axis.number, s.progress, s.late) for s in lean.axes] == [
        (s.axis.number, s.progress, s.late) for s in full.axes
    ]

    def objectives(overview):
        return [[(o.label, o.progress, o.statuses, o.late) for o in s.objectives] for s in overview.axes]

    assert objectives(lean) == objectives(full) and len(objectives(lean)[1]) == 2
    assert lean.charts["progress_by_axis"]["rows"] == full.charts["progress_by_axis"]["rows"]


# ---------------------------------------------------------------------------
# The CAF's overview


@pytest.fixture
def caf_member(client, db):
    organisation = caf()
    user = UserFactory()
    user.memberships.create(organisation=organisation)
    client.force_login(user)
    return organisation


def test_caf_overview_same_queries_for_1_and_1000_plans(client, caf_member):
    url = reverse("plans_dashboard")
    bulk_plans(1, signatory=caf_member)
    one, _ = queries_of(client, url)
    bulk_plans(999, signatory=caf_member, fiches_per_plan=3, first=1)
    many, html = queries_of(client, url)
    assert one == many, (one, many)
    page = text(html)
    # 50 rows a page, the totals over all 1,000 plans.
    assert len(re.findall(r'<th scope="row">', html)) == 50
    assert "Page 1 sur 20" in page
    assert "Plans 1000" in page and "Fiches-actions 3000" in page


def test_caf_overview_figures_sort_and_filters(client, caf_member):
    plans = bulk_plans(3, signatory=caf_member, fiches_per_plan=3)
    # Each plan: fiche 1 in progress at 10 % (late: its calendar ended in 2024), fiche 2 done,
    # fiche 3 on hold at 30 % (late). Plan 0 also has an abandoned fiche and an archived one.
    first, second, third = plans
    axis = first.axes.get()
    Action.objects.create(
        plan=first, axis=axis, number=4, title="x", fiche_title="x", status=Status.ABANDONED
    )
    archived = Action.objects.create(
        plan=first, axis=axis, number=5, title="y", fiche_title="y", progress=90, archived_at=timezone.now()
    )
    CalendarEntry.objects.create(action=archived, label="2020", end=datetime.date(2020, 12, 31))
    # Plan 1: fiche 3 has an open-ended entry, so it is on time.
    CalendarEntry.objects.create(
        action=second.actions.get(number=3), label="2025 et après", start=datetime.date(2025, 1, 1)
    )
    Meeting.objects.create(plan=first, instance=Instance.COPIL, date=timezone.localdate())
    Meeting.objects.create(plan=second, instance=Instance.COPIL, date=datetime.date(2024, 3, 1))
    url = reverse("plans_dashboard")

    page = text(client.get(url).text)
    # (10 + 100 + 30) / 3 = 46.7 → 47 %: the abandoned and the archived fiches are left out.
    assert f"{first.territory} 2023-2027 4 47 % 2 {timezone.localdate():%d/%m/%Y}" in page
    assert f"{second.territory} 2023-2027 3 47 % 1 01/03/2024" in page
    assert f"{third.territory} 2023-2027 3 47 % 2 aucun" in page
    # Totals over every fiche not abandoned: 9 fiches, (10 + 100 + 30) × 3 / 9 = 47 %, 5 late.
    assert "Plans 3 Fiches-actions 10 Avancement global 47 % Fiches en retard 5" in page

    def rows(**params):
        html = client.get(url, params).text
        return re.findall(r"CC du Territoire (\d{4})</a>", html)

    assert rows(sort="-territory") == ["0002", "0001", "0000"]
    assert rows(sort="late") == ["0001", "0000", "0002"]
    assert rows(sort="last_copil") == ["0002", "0001", "0000"]
    assert rows(late="on", sort="-late", q="territoire") == ["0000", "0002", "0001"]
    assert rows(q="0001") == ["0001"]
    # "Sans COPIL depuis 6 mois": plan 1 (March 2024) and plan 2 (never).
    assert rows(no_copil=6) == ["0001", "0002"]
    filtered = text(client.get(url, {"no_copil": 6}).text)
    assert "2 plans sur 3" in filtered
    # An invalid filter is shown and ignored, never a 500.
    response = client.get(url, {"no_copil": "beaucoup", "sort": "n'importe"})
    assert response.status_code == 200 and len(re.findall(r"CC du Territoire \d{4}</a>", response.text)) == 3


def test_caf_overview_sorts_break_ties_by_territory_then_creation(client, caf_member):
    """Every sort the form offers, with a plan whose fiches all are abandoned (no progress: first
    from the least advanced, last from the most), two plans of the same territory (the older
    first, whichever way the territories go) and plans without a COPIL held (last from the
    most recent)."""
    plans = bulk_plans(4, signatory=caf_member, fiches_per_plan=1)  # fiche 1: in progress, late
    slug = {plan.slug: k for k, plan in enumerate(plans)}
    for k, progress in ((0, 80), (3, 50)):
        Action.objects.filter(plan=plans[k]).update(progress=progress)
    Action.objects.filter(plan=plans[2]).update(status=Status.ABANDONED)
    plans[3].territory = plans[1].territory
    plans[3].save()
    Meeting.objects.create(plan=plans[0], instance=Instance.COPIL, date=datetime.date(2025, 1, 1))
    Meeting.objects.create(plan=plans[1], instance=Instance.COPIL, date=datetime.date(2024, 3, 1))
    Meeting.objects.create(
        plan=plans[3], instance=Instance.COPIL, date=timezone.localdate() + datetime.timedelta(days=30)
    )
    url = reverse("plans_dashboard")

    def rows(**params):
        html = client.get(url, params).text
        return [slug[s] for s in re.findall(r'href="/plans/(territoire-\d{4})/tableau-de-bord/"', html)]

    assert rows() == rows(sort="territory") == [0, 1, 3, 2]
    assert rows(sort="-territory") == [2, 1, 3, 0]
    assert rows(sort="progress") == [2, 1, 3, 0]
    assert rows(sort="-progress") == [0, 3, 1, 2]
    assert rows(sort="late") == [2, 0, 1, 3]
    assert rows(sort="-late") == [0, 1, 3, 2]
    assert rows(sort="last_copil") == [3, 2, 1, 0]
    assert rows(sort="-last_copil") == [0, 1, 3, 2]
    assert rows(late="on", sort="-progress") == [0, 3, 1]
    page = text(client.get(url).text)
    # The abandoned fiche's plan shows 0 %; the totals: (80 + 10 + 50) / 3 = 46.7 → 47 %, 3 late.
    assert f"{plans[2].territory} 2023-2027 1 0 % 0 aucun" in page
    assert "Plans 4 Fiches-actions 4 Avancement global 47 % Fiches en retard 3" in page
    filtered = text(client.get(url, {"q": plans[1].territory[-4:]}).text)
    assert "2 plans sur 4" in filtered and "Plans 4 Fiches-actions 4" in filtered


def test_caf_overview_pages_keep_the_filters(client, caf_member):
    bulk_plans(120, signatory=caf_member, fiches_per_plan=1)
    html = client.get(reverse("plans_dashboard"), {"q": "territoire", "sort": "-territory", "page": 2}).text
    assert "Page 2 sur 3" in text(html)
    assert 'href="?q=territoire&amp;sort=-territory&amp;page=3"' in html
    assert "CC du Territoire 0069" in html and "CC du Territoire 0070" not in html


def test_months_before():
    assert months_before(datetime.date(2026, 3, 31), 1) == datetime.date(2026, 2, 28)
    assert months_before(datetime.date(2026, 1, 15), 6) == datetime.date(2025, 7, 15)
    assert months_before(datetime.date(2026, 12, 1), 12) == datetime.date(2025, 12, 1)
