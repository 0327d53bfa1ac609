"""The database emptied after a test that ran outside a rolled-back transaction (live server,
transactional_db, django_db(transaction=True)), as a fresh test database would be.

Django's TransactionTestCase empties it with the `flush` command: a TRUNCATE of every table,
then the post_migrate signal, which writes every content type and permission again (~100
queries). After some 90 such tests that was 0.3 to 0.9 s each on PostgreSQL, for rows no test
changes. Here, in one transaction: a DELETE of every table that holds rows, but the three that
only migrations write (django_migrations, django_content_type, auth_permission); then a check
that every table is empty and those three are byte for byte as migrate left them; then the
starting themes and publics (migration 0014) written again. 15-40 ms.

Anything unusual falls back to Django's flush (followed by the same lists): another database
than PostgreSQL, a row left behind (a trigger that wrote where we had already emptied), or a
content type or permission a test added, changed or removed.
"""

from __future__ import annotations

from django.core.management import call_command
from django.db import connections, transaction

from tests.factories import seeded_tags

KEPT = ("django_migrations", "django_content_type", "auth_permission")

_migrated: dict[str, str] = {}  # database alias: the kept tables' fingerprint, as migrate left them


def _tables(connection) -> list[str]:
    with connection.cursor() as cursor:
        return sorted(set(connection.introspection.table_names(cursor)) - set(KEPT))


def _holding_rows(connection, tables: list[str]) -> list[str]:
    """The tables that hold a row, in one query."""
    qn = connection.ops.quote_name
    # Table names come from the catalogue, quoted.
    query = " UNION ALL ".join(f"SELECT %s WHERE EXISTS (SELECT 1 FROM {qn(t)})" for t in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(query, tables)
        return [table for (table,) in cursor.fetchall()]


def _fingerprint(connection) -> str:
    """The kept tables' content, every column of every row, as one digest."""
    qn = connection.ops.quote_name
    query = " || ".join(
        f"(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {qn(t)} t)"  # noqa: S608
        for t in KEPT
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {query}")
        return cursor.fetchone()[0]


def remember_migrated(using: str = "default") -> None:
    """Called once the test database is migrated, before any test writes."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        _migrated[using] = _fingerprint(connection)


def empty(using: str = "default") -> bool:
    """Every table as a freshly migrated test database has it. Whether the rows could be
    deleted (False: Django's flush ran)."""
    connection = connections[using]
    deleted = connection.vendor == "postgresql" and using in _migrated and _delete_rows(connection)
    if not deleted:
        call_command("flush", verbosity=0, interactive=False, database=using, reset_sequences=False)
        remember_migrated(using)
    seeded_tags()
    return deleted


def _delete_rows(connection) -> bool:
    """Whether every table but the kept ones could be emptied, with the kept ones unchanged."""
    qn = connection.ops.quote_name
    tables = _tables(connection)
    with transaction.atomic(using=connection.alias):
        # The CAF overview's triggers count deleted fiches in their plans' counters (reporting/
        # figures.py): the counters' table is emptied after the others, and whatever a trigger
        # wrote elsewhere is caught below. Foreign keys are checked at commit (deferred).
        from reporting.figures import COUNTER

        holding = [table for table in _holding_rows(connection, tables) if table != COUNTER]
        with connection.cursor() as cursor:
            for table in [*holding, COUNTER]:
                cursor.execute(f"DELETE FROM {qn(table)}")  # noqa: S608 (catalogue names)
        if _holding_rows(connection, tables) or _fingerprint(connection) != _migrated[connection.alias]:
            transaction.set_rollback(True, using=connection.alias)
            return False
    return True
