"""The suite's own fixtures hold what they promise (tests/conftest.py, tests/snapshot.py,
tests/database.py)."""

import copy
import itertools

import pytest
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder

from actions.plan_io import open_format
from axes.models import Plan
from tests import database, factories
from tests.conftest import import_val_aigo
from tests.factories import IndicatorFactory, IndicatorValueFactory, UserFactory, seeded_tags
from tests.snapshot import Snapshot, _state, _tables


def reading():
    """Everything a test could see of the plan: its document and the rows of every table."""
    plan = Plan.objects.get(slug="val-aigo")
    counts = {table: count for table, (count, _) in _state(_tables()).items()}
    document = open_format.export_plan(plan, archived=True)
    del document["exported_at"]
    return document, counts


def test_val_aigo_copied_is_val_aigo_imported(db):
    with transaction.atomic():
        import_val_aigo()
        imported = reading()
        transaction.set_rollback(True)
    copy = Snapshot(import_val_aigo, key=lambda plan: plan.pk, find=lambda pk: Plan.objects.get(pk=pk))
    for _ in range(2):  # taken (the importer runs, then the copy is written), then written again
        with transaction.atomic():
            plan = copy()
            assert copy.usable and copy.rows, "the copy fell back to the importer"
            assert plan.slug == "val-aigo" and plan.actions.count() == 20
            assert reading() == imported
            transaction.set_rollback(True)


def test_the_small_imported_plan_copied_is_the_one_imported(db):
    """tests/factories.py's imported_plan: the copy holds the rows the real build wrote (the
    plan, its history, the deleted first build's, the organisations), and each test gets its own
    document to edit."""

    def rows_of(plan):
        counts = {table: count for table, (count, _) in _state(_tables()).items()}
        document = open_format.export_plan(plan, archived=True)
        del document["exported_at"]
        return document, counts

    seen = {}

    def build():
        plan, data = factories._imported_plan(3)
        seen["rows"], seen["data"] = rows_of(plan), copy.deepcopy(data)
        return plan, data

    snapshot = Snapshot(build, key=lambda built: (built[0].pk, built[1]), find=lambda found: found)
    for _ in range(2):  # taken (the real build runs, then the copy is written), then written again
        with transaction.atomic():
            plan, data = snapshot()
            assert snapshot.usable and snapshot.rows, "the copy fell back to the build"
            assert (rows_of(Plan.objects.get(pk=plan)), data) == (seen["rows"], seen["data"])
            transaction.set_rollback(True)

    for _ in range(2):
        with transaction.atomic():
            plan, data = factories.imported_plan()
            assert data["axes"][0]["actions"][0]["title"].startswith("Action du synoptique")
            data["axes"][0]["actions"][0]["title"] = "Changée par un test"
            transaction.set_rollback(True)


def test_a_copy_clashing_with_the_test_s_rows_gives_the_real_build(db):
    """A copied row that a unique constraint refuses (the test already holds that slug): the
    real build runs instead of the error reaching the test (tests/scale.py copies even where
    the test holds plans)."""
    snapshot = Snapshot(
        lambda: factories.PlanFactory(), key=lambda plan: plan.pk, find=lambda pk: Plan.objects.get(pk=pk)
    )
    with transaction.atomic():
        taken = snapshot()
        transaction.set_rollback(True)
    factories.PlanFactory(slug=taken.slug)
    snapshot.unless = lambda: False
    built = snapshot()
    assert snapshot.usable and snapshot.rows, "the copy was never taken"
    assert built.slug != taken.slug and Plan.objects.count() == 2


def test_a_new_commune_never_takes_the_code_of_a_copied_one(db, monkeypatch):
    """The factories' commune codes wrap after 1,000; a copied plan keeps the codes of the
    communes the process built first: a commune made after the count wrapped skips them."""
    plan, _ = factories.imported_plan()
    copied = sorted(plan.communes.values_list("insee", flat=True))
    monkeypatch.setattr(factories, "_insee_numbers", itertools.count(int(copied[0])))  # wrapped
    made = {
        organisation.insee for organisation in factories.OrganisationFactory.create_batch(3, commune=True)
    }
    assert len(made) == 3 and not made & set(copied), (made, copied)


def test_passwords_still_check(db):
    user = UserFactory(password="motdepasse-de-test")
    assert user.check_password("motdepasse-de-test") and not user.check_password("autre")
    assert not check_password("motdepasse-de-test", "")


def write_everywhere(client):
    """Rows in most tables: a plan of full fiches with its history, indicators, financing, tags,
    members, a meeting and its decision, a signed-in session, a renamed starting theme and a
    new one."""
    from actions.models import Theme
    from axes.models import Role
    from tests.factories import DecisionFactory, FinancingFactory, MeetingFactory, build_plan, grant, theme

    plan = build_plan(2, n_axes=1)
    action = plan.actions.first()
    action.themes.add(Theme.objects.first())
    FinancingFactory(action=action)
    IndicatorValueFactory(indicator=IndicatorFactory(action=action))
    DecisionFactory(meeting=MeetingFactory(plan=plan), actions=[action])
    Theme.objects.filter(pk=Theme.objects.first().pk).update(name="Renommée")
    action.themes.add(theme("Nouvelle thématique"))
    user = grant(UserFactory(), plan, Role.COORDINATOR)
    client.force_login(user)
    assert client.get(f"/plans/{plan.slug}/").status_code == 200


def every_row():
    """The content of every table, ids aside (a fresh database numbers nothing the same way):
    the number of rows of each, and what migrations write, word for word."""
    from actions.models import Audience, Theme

    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)  # the plans' counters too
    counts = {table: count for table, (count, _) in _state([(table, None) for table in tables]).items()}
    return counts, {
        "content types": sorted(ContentType.objects.values_list("app_label", "model")),
        "permissions": sorted(Permission.objects.values_list("content_type__app_label", "codename", "name")),
        "migrations": sorted(MigrationRecorder.Migration.objects.values_list("app", "name", "applied")),
        "themes": list(Theme.objects.values_list("slug", "name", "position").order_by("position")),
        "publics": list(Audience.objects.values_list("slug", "name", "position").order_by("position")),
    }


@pytest.mark.django_db(transaction=True)
def test_the_database_is_emptied_as_django_flush_empties_it(client):
    """After a transactional test, tests/database.py deletes the rows instead of Django's flush
    (TRUNCATE, then content types and permissions written again): the next test must find the
    same database, row for row."""
    write_everywhere(client)
    call_command("flush", verbosity=0, interactive=False, reset_sequences=False)
    database.remember_migrated()  # the content types and permissions the flush wrote again
    seeded_tags()
    flushed = every_row()

    write_everywhere(client)
    written = {table for table, count in every_row()[0].items() if count > flushed[0][table]}
    assert len(written) >= 30, sorted(written)
    assert database.empty(), "fell back to Django's flush"
    assert every_row() == flushed


@pytest.mark.django_db(transaction=True)
def test_a_permission_a_test_added_is_not_kept(client):
    write_everywhere(client)
    flushed_permissions = every_row()[1]["permissions"]
    Permission.objects.create(
        codename="extra", name="Extra", content_type=ContentType.objects.get_for_model(Plan)
    )
    assert not database.empty(), "the extra permission was kept"
    assert every_row()[1]["permissions"] == flushed_permissions
    assert not Permission.objects.filter(codename="extra").exists()
    assert database.empty()  # and the fast way again afterwards
