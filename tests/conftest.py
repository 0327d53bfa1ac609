from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import TransactionTestCase, override_settings

from actions.plan_io import open_format
from axes.models import Plan, Role
from tests import database
from tests.factories import UserFactory, grant
from tests.snapshot import Snapshot

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VAL_AIGO = FIXTURES / "val-aigo.json"


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Passwords hashed with MD5 in tests: PBKDF2's million rounds cost half a second a user
    (more on a busy machine), and the suite makes hundreds. Signing in, the throttle and the
    password forms work the same; tests/test_production.py puts the real hasher back for the
    server it starts in another process."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database without autovacuum, and statistics of tables it emptied forgotten.

    Every test writes inside a transaction it rolls back; autovacuum then finds the tables full
    of dead rows, vacuums them, and records them as empty (reltuples 0). From then on the
    planner takes a table holding a test's 2,000 fiches for an empty one and joins it in
    nested loops: the same queries, but a dashboard test went from 11 s to over 6 minutes.
    Tables never vacuumed (reltuples -1) are estimated from their size, as they should be."""
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock():
        database.remember_migrated()
    qn = connection.ops.quote_name
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = current_schema()"
        )
        for (table,) in cursor.fetchall():
            cursor.execute(f"ALTER TABLE {qn(table)} SET (autovacuum_enabled = false)")
        # A database reused from an earlier run may already hold such statistics: an empty
        # table emptied again by TRUNCATE is "never vacuumed" again (reltuples -1).
        cursor.execute(
            "SELECT c.relname, c.reltuples >= 0 FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = current_schema()"
        )
        empty, measured = [], False
        for table, counted in cursor.fetchall():
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {qn(table)})")  # noqa: S608 (catalogue names)
            if not cursor.fetchone()[0]:
                empty.append(table)
                measured = measured or counted
        # Every empty table in one statement: PostgreSQL truncates a table others refer to (the
        # fiches) only together with them.
        try:
            if measured:
                with transaction.atomic():
                    cursor.execute(f"TRUNCATE {', '.join(qn(table) for table in empty)}")
        except DatabaseError:  # referenced by a table that holds rows: one by one, what can be
            for table in empty:
                try:
                    with transaction.atomic():
                        cursor.execute(f"TRUNCATE {qn(table)}")
                except DatabaseError:
                    pass


@pytest.fixture(scope="session", autouse=True)
def cheaper_emptying():
    """After a test that ran outside a rolled-back transaction (live server, transactional_db,
    django_db(transaction=True)), every table emptied as a fresh test database has it, the
    starting themes and publics included, in 15-40 ms instead of Django's flush and post_migrate
    (0.3-0.9 s): tests/database.py, checked by tests/test_fixtures.py."""
    flush = TransactionTestCase._fixture_teardown

    def _fixture_teardown(self):
        if self.available_apps is not None or self.serialized_rollback:
            return flush(self)
        for name in self._databases_names(include_mirrors=False):
            database.empty(name)

    TransactionTestCase._fixture_teardown = _fixture_teardown
    yield
    TransactionTestCase._fixture_teardown = flush


# The longest tests run first. pytest-xdist's work stealing hands each process a contiguous half
# of the collection and, when one runs out, moves the tail of the other's queue over: with the
# half-minute walks first, the run ends on short tests on both processes instead of one process
# alone in a walk that began late (the walks are over half of the suite's time). Measured on
# 01/12/2026: these modules hold every test over 15 s but three. The order within a module is kept.
LONGEST_FIRST = [
    ("tests/test_production.py", "tests/browser/test_reflow.py", "tests/browser/test_admin_a11y.py"),
    ("tests/browser/", "tests/test_vnu.py"),
]


def _length_rank(item) -> int:
    path = item.nodeid.split("::", 1)[0]
    return next(
        (rank for rank, prefixes in enumerate(LONGEST_FIRST) if path.startswith(prefixes)),
        len(LONGEST_FIRST),
    )


def pytest_collection_modifyitems(config, items):
    items.sort(key=_length_rank)  # stable: the rest keeps its order


def import_val_aigo() -> Plan:
    return open_format.import_plan(open_format.load(VAL_AIGO.read_bytes())).plan


_val_aigo_rows = Snapshot(import_val_aigo, key=lambda plan: plan.pk, find=lambda pk: Plan.objects.get(pk=pk))


def val_aigo_plan() -> Plan:
    """The Val'Aïgo plan, loaded the way the run command loads it.

    The importer runs once per test process; later tests get a copy of the rows it wrote
    (tests/snapshot.py), unless the test already holds plans or organisations, which the
    importer would have matched."""
    return _val_aigo_rows()


@pytest.fixture
def val_aigo(db):
    return val_aigo_plan()


@pytest.fixture
def reader(val_aigo):
    """An élu of the COPIL: reads the Val'Aïgo plan."""
    return grant(UserFactory(username="lecteur"), val_aigo, Role.READER)


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client
