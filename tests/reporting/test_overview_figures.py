"""The CAF overview's figures kept between requests (reporting/figures.py) are never shown
stale: after each kind of write, on a new day, and when a write commits while they are being
computed, the next request shows what a computation from scratch gives. The page is filtered,
sorted, totalled and paged in SQL as the computation over every plan in Python did, and its
queries are the same for 1 plan as for 1,000, the figures kept or not."""

import datetime
import re
import threading
import time
from calendar import monthrange

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions.models import Action, CalendarEntry, Status
from actions.plan_io import open_format
from axes.models import Plan, Role
from partners.models import Organisation, OrganisationKind
from reporting import figures
from reporting.models import Instance, Meeting, PlanChanges, PlanFigures
from reporting.overview import plans_overview
from tests.actions.importing import fiche_of, upload_and_confirm
from tests.factories import PlanFactory, UserFactory, grant, imported_plan
from tests.scale import bulk_plans, caf


def a_caf(name: str) -> Organisation:
    return Organisation.objects.create(name=name, short_name="CAF", kind=OrganisationKind.CAF)


HTMX = {"HTTP_HX_REQUEST": "true"}
SORTS = ["territory", "-territory", "progress", "-progress", "late", "-late", "last_copil", "-last_copil"]


# ---------------------------------------------------------------------------
# The computation from scratch the kept figures must agree with: the overview's code before
# them (every plan's figures aggregated on each request, filtered and sorted in Python).


def _months_before(day, months):
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return datetime.date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def from_scratch(plans, *, territory="", late_only=False, no_copil_months=None, sort="territory", today=None):
    """(rows, totals): each row (pk, fiches, progress, late, last COPIL) in the page's order."""
    from django.db.models import BooleanField, ExpressionWrapper, OuterRef, Q, Subquery, Value

    today = today or timezone.localdate()
    last_copil = Meeting.objects.filter(plan=OuterRef("pk")).copils_held(today).values("date")[:1]
    matches = (
        ExpressionWrapper(Q(territory__icontains=territory), output_field=BooleanField())
        if territory
        else Value(True)
    )
    rows = list(
        plans.annotate(last_copil=Subquery(last_copil), matches=matches)
        .order_by("territory", "pk")
        .values_list("pk", "territory", "last_copil", "matches")
    )
    grouped = {
        plan: (n, total or 0, counted, late)
        for plan, n, total, counted, late in Action.objects.filter(plan__in=[r[0] for r in rows])
        .figures(today, by="plan")
        .values_list("plan", "fiches", "progress_sum", "progress_n", "late")
    }
    lines, group, previous = [], 0, None
    for rank, (pk, name, copil, match) in enumerate(rows):
        n, total, counted, late = grouped.get(pk, (0, 0, 0, 0))
        group += name != previous
        previous = name
        mean = total / counted if counted else None
        lines.append(
            {"pk": pk, "rank": rank, "group": group, "copil": copil, "match": match, "n": n, "late": late}
            | {"sum": total, "counted": counted, "mean": mean}
        )
    kept = sum(line["counted"] for line in lines)
    totals = (
        len(lines),
        sum(line["n"] for line in lines),
        round(sum(line["sum"] for line in lines) / kept) if kept else 0,
        sum(line["late"] for line in lines),
    )
    cutoff = _months_before(today, no_copil_months) if no_copil_months else None
    shown = [
        line
        for line in lines
        if line["match"]
        and (not late_only or line["late"] > 0)
        and (cutoff is None or line["copil"] is None or line["copil"] < cutoff)
    ]
    keys = {
        "territory": lambda line: line["rank"],
        "-territory": lambda line: (-line["group"], line["pk"]),
        "progress": lambda line: (line["mean"] is not None, line["mean"] or 0, line["rank"]),
        "-progress": lambda line: (line["mean"] is None, -(line["mean"] or 0), line["rank"]),
        "late": lambda line: (line["late"], line["rank"]),
        "-late": lambda line: (-line["late"], line["rank"]),
        "last_copil": lambda line: (
            line["copil"] is not None,
            line["copil"] or datetime.date.min,
            line["rank"],
        ),
        "-last_copil": lambda line: (
            line["copil"] is None,
            -(line["copil"] or datetime.date.min).toordinal(),
            line["rank"],
        ),
    }
    shown.sort(key=keys[sort])
    progress = [round(line["sum"] / line["counted"]) if line["counted"] else 0 for line in shown]
    return [
        (line["pk"], line["n"], p, line["late"], line["copil"])
        for line, p in zip(shown, progress, strict=True)
    ], totals


def kept(plans, **filters):
    """The same (rows, totals) from plans_overview, every row of it."""
    overview = plans_overview(plans, **filters)
    lines = overview.lines[0 : len(overview.lines)]
    t = overview.totals
    rows = [(line.pk, line.fiches, line.progress, line.late, line.last_copil) for line in lines]
    return rows, (t.plans, t.fiches, t.progress, t.late)


# ---------------------------------------------------------------------------
# Fixtures: a CAF's member who reads the overview, a coordinator who writes on its plans.


@pytest.fixture
def organisation(db):
    return caf()


@pytest.fixture
def reader(client, organisation):
    user = UserFactory()
    user.memberships.create(organisation=organisation)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def plans(organisation):
    """Three plans of three fiches: fiche 1 in progress at 10 %, fiche 2 done, fiche 3 on hold
    at 30 %, each with a calendar ended in 2024 (1 and 3 late)."""
    return bulk_plans(3, signatory=organisation, fiches_per_plan=3)


@pytest.fixture
def writer(plans):
    from django.test import Client

    client = Client()
    user = UserFactory(first_name="Claire", last_name="Dupont")
    for plan in plans:
        grant(user, plan, Role.COORDINATOR)
    client.force_login(user)
    client.user = user
    return client


ROW = re.compile(
    r'<th scope="row"><a href="/plans/([^/]+)/tableau-de-bord/">[^<]*</a></th>\s*'
    r"<td>[^<]*</td>\s*<td>(\d+)</td>\s*<td>(\d+) %</td>\s*<td>(\d+)</td>\s*<td>([^<]*)</td>"
)


def page(client, **params):
    """The overview as its reader sees it: {slug: (fiches, progress, late, last COPIL)}, and
    the totals line."""
    html = client.get(reverse("plans_dashboard"), params).text
    rows = {slug: (int(n), int(p), int(late), copil) for slug, n, p, late, copil in ROW.findall(html)}
    totals = re.search(r'<dl class="key-figures".*?</dl>', html, re.S).group(0)
    return rows, " ".join(re.sub(r"<[^>]+>", " ", totals).split())


def assert_fresh(client):
    """The page shows what the computation from scratch gives, row by row, and the totals, for
    every plan the reader follows (every sort and filter: see the tests further down)."""
    rows, totals = page(client)
    expected, (n_plans, n_fiches, progress, late) = from_scratch(Plan.objects.visible_to(client.user))
    slugs = dict(Plan.objects.values_list("pk", "slug"))
    assert rows == {
        slugs[pk]: (n, p, lt, f"{copil:%d/%m/%Y}" if copil else "aucun") for pk, n, p, lt, copil in expected
    }
    assert totals == (
        f"Plans {n_plans} Fiches-actions {n_fiches} Avancement global {progress} % Fiches en retard {late}"
    )
    return rows


def row(client, plan):
    return page(client)[0][plan.slug]


# ---------------------------------------------------------------------------
# Each kind of write, seen on the next request


def test_status_changed_in_place_with_htmx(reader, writer, plans):
    action = plans[0].actions.get(number=1)
    assert row(reader, plans[0]) == (3, 47, 2, "aucun")
    url = reverse("action_status", kwargs={"slug": plans[0].slug, "number": 1})
    response = writer.post(url, {"status": "done", "progress": 100, "version": action.version}, **HTMX)
    assert response.status_code == 200
    # (100 + 100 + 30) / 3 = 76.7 → 77 %; fiche 1 done is no longer late.
    assert row(reader, plans[0]) == (3, 77, 1, "aucun")
    assert_fresh(reader)


def test_status_changed_by_a_plain_form(reader, writer, plans):
    action = plans[1].actions.get(number=2)
    assert row(reader, plans[1]) == (3, 47, 2, "aucun")
    url = reverse("action_status", kwargs={"slug": plans[1].slug, "number": 2})
    response = writer.post(url, {"status": "abandoned", "progress": 100, "version": action.version})
    assert response.status_code == 302
    # The abandoned fiche leaves the mean: (10 + 30) / 2 = 20 %.
    assert row(reader, plans[1]) == (3, 20, 2, "aucun")
    assert_fresh(reader)


def test_status_changed_in_the_admin(reader, admin_client, plans):
    action = plans[2].actions.get(number=3)
    assert row(reader, plans[2]) == (3, 47, 2, "aucun")
    data = {
        "plan": action.plan_id,
        "axis": action.axis_id,
        "number": 3,
        "title": action.title,
        "fiche_title": action.fiche_title,
        "pilotage": action.pilotage,
        "status": "in_progress",
        "progress": 60,
    }
    url = reverse("admin:actions_action_change", args=[action.pk])
    for prefix in re.findall(r'name="([\w-]+)-TOTAL_FORMS"', admin_client.get(url).text):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    # (10 + 100 + 60) / 3 = 56.7 → 57 %, still late.
    assert row(reader, plans[2]) == (3, 57, 2, "aucun")
    assert_fresh(reader)


def test_raw_queryset_updates_and_a_fiche_moved_to_another_plan(reader, plans):
    assert_fresh(reader)
    Action.objects.filter(plan=plans[0]).exclude(status=Status.DONE).update(progress=0)
    assert row(reader, plans[0]) == (3, 33, 2, "aucun")  # (0 + 100 + 0) / 3
    # A fiche moved from plan 1 to plan 2 counts on both.
    Action.objects.filter(plan=plans[1], number=1).update(plan=plans[2], number=4)
    assert row(reader, plans[1])[:1] == (2,) and row(reader, plans[2])[:1] == (4,)
    assert_fresh(reader)


def test_a_fiche_archived_restored_and_deleted(reader, writer, plans):
    action = plans[0].actions.get(number=1)
    assert row(reader, plans[0]) == (3, 47, 2, "aucun")
    action.archive(by=writer.user)
    assert row(reader, plans[0]) == (2, 65, 1, "aucun")  # (100 + 30) / 2
    response = writer.post(reverse("action_restore", kwargs={"slug": plans[0].slug, "number": 1}))
    assert response.status_code == 302
    assert row(reader, plans[0]) == (3, 47, 2, "aucun")
    Action.objects.get(pk=action.pk).delete()
    assert row(reader, plans[0]) == (2, 65, 1, "aucun")
    assert_fresh(reader)


def test_a_calendar_end_moved_into_the_past_and_out_of_it(reader, writer, plans):
    action = plans[0].actions.get(number=2)
    action.status, action.progress = Status.IN_PROGRESS, 50
    action.save()
    entry = action.calendar_entries.get()
    next_year = timezone.localdate().year + 1
    url = reverse("item_update", args=[plans[0].slug, 2, "calendrier", entry.pk])

    def move(end: str):
        entry.refresh_from_db()
        data = {"label": entry.label, "description": "", "start": "2024-01-01", "end": end}
        assert writer.post(url, {**data, "version": entry.version}).status_code == 302

    move(f"{next_year}-12-31")
    assert row(reader, plans[0]) == (3, 30, 2, "aucun")  # fiche 2 on time: 1 and 3 late
    move("2024-06-30")
    assert row(reader, plans[0]) == (3, 30, 3, "aucun")
    move(f"{next_year}-06-30")
    assert row(reader, plans[0]) == (3, 30, 2, "aucun")
    # A calendar entry added, then deleted, by the ORM.
    extra = CalendarEntry.objects.create(action=action, label="Et après", start=datetime.date(2030, 1, 1))
    entry.end = datetime.date(2024, 6, 30)
    entry.save()
    assert row(reader, plans[0]) == (3, 30, 2, "aucun")  # the open-ended entry keeps it on time
    extra.delete()
    assert row(reader, plans[0]) == (3, 30, 3, "aucun")
    assert_fresh(reader)


def test_a_copil_added_moved_and_deleted(reader, writer, plans):
    slug = plans[1].slug
    assert row(reader, plans[1])[3] == "aucun"
    response = writer.post(reverse("meetings", args=[slug]), {"instance": "copil", "date": "2025-03-14"})
    assert response.status_code == 302
    meeting = Meeting.objects.get(plan=plans[1])
    assert row(reader, plans[1])[3] == "14/03/2025"
    assert page(reader, no_copil=6)[0].keys() == {plans[0].slug, plans[1].slug, plans[2].slug}
    moved = {"instance": "copil", "date": f"{timezone.localdate():%Y-%m-%d}", "attendees": "", "agenda": ""}
    response = writer.post(reverse("meeting_edit", args=[slug, meeting.pk]), moved)
    assert response.status_code == 302
    assert row(reader, plans[1])[3] == f"{timezone.localdate():%d/%m/%Y}"
    assert page(reader, no_copil=6)[0].keys() == {plans[0].slug, plans[2].slug}
    # A COPIL moved into the future is not held yet.
    Meeting.objects.filter(pk=meeting.pk).update(date=timezone.localdate() + datetime.timedelta(days=1))
    assert row(reader, plans[1])[3] == "aucun"
    Meeting.objects.filter(pk=meeting.pk).update(date=datetime.date(2025, 3, 14))
    assert row(reader, plans[1])[3] == "14/03/2025"
    response = writer.post(reverse("meeting_delete", args=[slug, meeting.pk]))
    assert response.status_code == 302 and not Meeting.objects.exists()
    assert row(reader, plans[1])[3] == "aucun"
    assert_fresh(reader)


def test_a_plan_added_to_the_caf(reader, organisation, plans):
    assert len(assert_fresh(reader)) == 3
    empty = PlanFactory(territory="CC Sans Fiche")
    empty.signatories.add(organisation)
    (new,) = bulk_plans(1, signatory=organisation, fiches_per_plan=2, first=7)
    rows = assert_fresh(reader)
    assert rows[empty.slug] == (0, 0, 0, "aucun") and rows[new.slug] == (2, 55, 1, "aucun")


def test_a_plan_renewed_and_a_plan_deleted_or_no_longer_signed(reader, writer, organisation, plans):
    from reporting.renewal import renew_plan

    assert_fresh(reader)
    renewal = renew_plan(
        plans[0], slug="suite", title="Suite", start_year=2028, end_year=2032, numbers=[1, 3], by=writer.user
    )
    renewal.plan.signatories.add(organisation)
    rows = assert_fresh(reader)
    assert rows["suite"][0] == 2
    plans[1].delete()
    plans[2].signatories.remove(organisation)
    assert assert_fresh(reader).keys() == {plans[0].slug, "suite"}


def test_imports_of_a_changed_plan(reader, db):
    from django.test import Client

    plan, data = imported_plan()
    grant(reader.user, plan, Role.READER)
    before = row(reader, plan)
    fiche_of(data, 1)["status"], fiche_of(data, 1)["progress"] = "abandoned", 0
    open_format.import_plan(data)
    after = row(reader, plan)
    assert after != before and after == page(reader)[0][plan.slug]
    assert_fresh(reader)
    # The same through the app: upload, preview, confirm.
    coordinator = grant(UserFactory(), plan, Role.COORDINATOR)
    client = Client()
    client.force_login(coordinator)
    fiche_of(data, 2)["status"], fiche_of(data, 2)["progress"] = "done", 100
    assert upload_and_confirm(client, data).status_code == 200
    assert plan.actions.get(number=2).status == Status.DONE
    assert row(reader, plan) != after
    assert_fresh(reader)


def test_the_next_day_makes_a_fiche_late_without_any_write(organisation, plans):
    today = timezone.localdate()
    CalendarEntry.objects.filter(action__plan=plans[0]).update(end=today)
    everything = Plan.objects.filter(pk__in=[p.pk for p in plans])
    rows, totals = kept(everything, today=today)
    assert rows[0][:4] == (plans[0].pk, 3, 47, 0)
    tomorrow = today + datetime.timedelta(days=1)
    changes = PlanChanges.objects.get(plan=plans[0]).n
    rows, totals = kept(everything, today=tomorrow)
    assert rows[0][:4] == (plans[0].pk, 3, 47, 2)
    assert PlanChanges.objects.get(plan=plans[0]).n == changes  # no write did it
    assert (rows, totals) == from_scratch(everything, today=tomorrow)
    # A COPIL dated tomorrow is held tomorrow.
    Meeting.objects.create(plan=plans[1], instance=Instance.COPIL, date=tomorrow)
    assert kept(everything, today=today)[0][1][4] is None
    assert kept(everything, today=tomorrow)[0][1][4] == tomorrow


def test_kept_figures_are_reused_until_a_write(reader, plans):
    assert_fresh(reader)
    stored = dict(PlanFigures.objects.values_list("plan", "changes"))
    with CaptureQueriesContext(connection) as captured:
        page(reader)
    assert not [q for q in captured if "INSERT" in q["sql"]]
    Action.objects.filter(plan=plans[2], number=1).update(title="Nouveau titre")
    page(reader)
    after = dict(PlanFigures.objects.values_list("plan", "changes"))
    assert after[plans[0].pk] == stored[plans[0].pk] and after[plans[2].pk] > stored[plans[2].pk]
    with pytest.raises(TypeError):
        PlanFigures.objects.first().save()


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="a write racing on PostgreSQL's snapshots")
@pytest.mark.django_db(transaction=True)
def test_a_write_committed_while_the_figures_are_computed_is_not_hidden():
    """The figures and the counter are read in one snapshot: a write committing after it, while
    the statement that keeps them waits (here on a row lock another transaction holds), leaves
    them tagged with the counter before it, and the next request computes them again."""
    organisation = caf()
    (plan,) = bulk_plans(1, signatory=organisation, fiches_per_plan=3)
    everything = Plan.objects.filter(pk=plan.pk)
    today = timezone.localdate()
    assert kept(everything, today=today)[0][0][1:4] == (3, 47, 2)
    Action.objects.filter(plan=plan, number=1).update(status=Status.DONE, progress=100)  # stale now

    locker = connections.create_connection("default")
    locker.set_autocommit(False)
    with locker.cursor() as cursor:
        cursor.execute("SELECT 1 FROM reporting_planfigures WHERE plan_id = %s FOR UPDATE", [plan.pk])
    errors = []

    def refresh():
        try:
            figures.refresh([plan.pk], today)
        except Exception as error:  # noqa: BLE001 (reported by the test below)
            errors.append(error)
        finally:
            connections["default"].close()

    thread = threading.Thread(target=refresh)
    thread.start()
    for _ in range(3000):  # until the refresh waits on the lock, its snapshot taken (30 s at most)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE 'WITH p %%'"
            )
            if cursor.fetchone()[0]:
                break
        time.sleep(0.01)
    else:
        pytest.fail("the refresh never waited")
    # The write that commits meanwhile: fiche 3 abandoned.
    Action.objects.filter(plan=plan, number=3).update(status=Status.ABANDONED)
    locker.commit()
    locker.close()
    thread.join(60)
    assert not thread.is_alive()
    assert not errors
    stored = PlanFigures.objects.get(plan=plan)
    assert (stored.progress_sum, stored.late) == (230, 1)  # 10 → 100 seen, not the abandon
    assert stored.changes < PlanChanges.objects.get(plan=plan).n
    # The next reading computes them again: (100 + 100) / 2 = 100 %, none late.
    assert kept(everything, today=today)[0][0][1:4] == (3, 100, 0)


# ---------------------------------------------------------------------------
# The same page as the computation over every plan in Python


@pytest.fixture
def varied(organisation):
    """Plans with ties on every figure: two of one territory, one without fiches, one whose
    fiches all are abandoned, COPILs held long ago, recently, never, and one to come."""
    plans = bulk_plans(8, signatory=organisation, fiches_per_plan=3)
    plans[5].territory = plans[2].territory
    plans[5].save()
    plans[6].territory = "cc du territoire 0003"  # the collation decides where it goes
    plans[6].save()
    Action.objects.filter(plan=plans[3]).delete()
    Action.objects.filter(plan=plans[4]).update(status=Status.ABANDONED)
    Action.objects.filter(plan=plans[7], number=1).update(progress=70)
    Action.objects.filter(plan=plans[1], number__in=[1, 3]).update(status=Status.DONE, progress=100)
    for k, day in ((0, datetime.date(2024, 3, 1)), (2, datetime.date(2024, 3, 1)), (5, timezone.localdate())):
        Meeting.objects.create(plan=plans[k], instance=Instance.COPIL, date=day)
    # Plan 7: a COPIL to come and a COTECH held, so no COPIL held.
    Meeting.objects.create(plan=plans[7], instance=Instance.COPIL, date=datetime.date(2099, 1, 1))
    Meeting.objects.create(plan=plans[7], instance=Instance.COTECH, date=datetime.date(2025, 1, 1))
    other = a_caf("CAF de l'Ariège")
    bulk_plans(2, signatory=other, first=50)  # another CAF's: never shown, never counted
    return Plan.objects.filter(signatories=organisation)


@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_and_filter_as_computed_from_scratch(varied, sort):
    for filters in (
        {},
        {"territory": "territoire 000"},
        {"territory": "0002"},
        {"late_only": True},
        {"no_copil_months": 6},
        {"no_copil_months": 120, "late_only": True, "territory": "Territoire"},
        {"territory": "nulle part"},
    ):
        expected = from_scratch(varied, sort=sort, **filters)
        assert kept(varied, sort=sort, **filters) == expected, filters
        assert kept(varied, sort=sort, **filters) == expected, filters  # the kept figures


def test_pages_and_totals_as_computed_from_scratch(reader, organisation):
    bulk_plans(120, signatory=organisation, fiches_per_plan=1)
    Action.objects.filter(plan__territory__endswith="7").update(status=Status.DONE, progress=100)
    everything = Plan.objects.visible_to(reader.user)
    for sort in ("-progress", "late"):
        expected, totals = from_scratch(everything, sort=sort, territory="territoire")
        slugs = dict(Plan.objects.values_list("pk", "slug"))
        seen = []
        for number in (1, 2, 3):
            html = reader.get(
                reverse("plans_dashboard"), {"sort": sort, "q": "territoire", "page": number}
            ).text
            seen += [m[0] for m in ROW.findall(html)]
        assert seen == [slugs[r[0]] for r in expected]
        assert (
            f"Plans {totals[0]} Fiches-actions {totals[1]} Avancement global {totals[2]} %" in page(reader)[1]
        )


# ---------------------------------------------------------------------------
# Queries: the same for 1 plan and for 1,000, the figures kept or not


def queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("plans_dashboard")).status_code == 200
    return len(captured)


def test_same_queries_for_1_and_1000_plans_kept_or_not(client, db):
    counts = {}
    for n in (1, 1000):
        organisation = a_caf(f"CAF {n}")
        user = UserFactory()
        user.memberships.create(organisation=organisation)
        client.force_login(user)
        bulk_plans(n, signatory=organisation, fiches_per_plan=2, first=n)
        counts[n] = (queries(client), queries(client))  # computed, then kept
    assert counts[1] == counts[1000], counts
    computed, reused = counts[1]
    assert reused == 4 and computed == reused + 2, counts  # session, user, totals, page (+ refresh, totals)


# ---------------------------------------------------------------------------
# The triggers across migrations


@pytest.mark.django_db(transaction=True)
def test_the_triggers_outlive_a_migration_that_rebuilds_their_tables():
    """What `migrate` does around its migrations (reporting/apps.py). On SQLite, Django rebuilds
    a table for most changes, which drops its triggers, and fails to rename the rebuilt table
    while another table's trigger names it (a calendar entry's reads its fiche's plan): the
    triggers are removed before migrating and put back after, on both databases."""
    import copy

    from django.apps import apps
    from django.db.models.signals import post_migrate, pre_migrate

    try:
        (plan,) = bulk_plans(1, signatory=caf(), fiches_per_plan=1)
        config = apps.get_app_config("reporting")
        sent = {"app_config": config, "verbosity": 0, "interactive": False, "using": "default", "apps": apps}
        pre_migrate.send(sender=config, plan=[], **sent)
        with connection.schema_editor() as editor:
            for model, name in ((Action, "title"), (CalendarEntry, "label"), (Meeting, "attendees")):
                field = model._meta.get_field(name)
                wider = copy.deepcopy(field)
                wider.max_length += 1
                editor.alter_field(model, field, wider)  # SQLite: a new table, the rows copied over
                editor.alter_field(model, wider, field)
        post_migrate.send(sender=config, plan=[], **sent)
        assert figures.installed(connection) == set(figures.trigger_names())
        for write in (
            lambda: Action.objects.filter(plan=plan).update(progress=5),
            lambda: CalendarEntry.objects.filter(action__plan=plan).update(end=datetime.date(2030, 1, 1)),
            lambda: Meeting.objects.create(
                plan=plan, instance=Instance.COPIL, date=datetime.date(2025, 1, 1)
            ),
        ):
            before = PlanChanges.objects.get(plan=plan).n
            write()
            assert PlanChanges.objects.get(plan=plan).n > before
    finally:
        forget_the_rebuilt_tables_sizes()


def forget_the_rebuilt_tables_sizes() -> None:
    """PostgreSQL rewrites a table whose column it narrows, and records the rows it held then (one
    or two) as the table's size (pg_class.reltuples). Tests that later fill the fiches with
    thousands of rows were then planned as for a handful, in nested loops: the 2,000-fiche
    dashboard of test_scale_dashboards went from 5 s to 47-129 s in the same process, and in any
    later run on a reused database (the session's reset cannot TRUNCATE a table others refer
    to). One TRUNCATE of every table (but those only migrations write, tests/database.py) makes
    them "never vacuumed" again, estimated from their size as on a fresh database; they are
    empty after this test anyway."""
    if connection.vendor != "postgresql":
        return
    from tests.database import KEPT

    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        tables = [t for t in connection.introspection.table_names(cursor) if t not in KEPT]
        cursor.execute(f"TRUNCATE {', '.join(qn(t) for t in tables)}")
