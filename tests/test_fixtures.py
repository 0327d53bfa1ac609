"""The suite's own fixtures hold what they promise (tests/conftest.py, tests/snapshot.py)."""

from django.contrib.auth.hashers import check_password
from django.db import transaction

from actions.plan_io import open_format
from axes.models import Plan
from tests.conftest import import_val_aigo
from tests.factories import UserFactory
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


def test_passwords_still_check(db):
    user = UserFactory(password="motdepasse-de-test")
    assert user.check_password("motdepasse-de-test") and not user.check_password("autre")
    assert not check_password("motdepasse-de-test", "")
