"""Rows a fixture writes, copied once per test process and written again in each test that asks.

The Val'Aïgo plan goes through the importer (validation, organisations, fiches, history) in
2 to 4 seconds, and some 300 tests ask for it. The first test that does runs the importer for
real inside a savepoint, copies out every row it wrote (PostgreSQL COPY), rolls the savepoint
back and writes the copy; later tests write the copy only (a tenth of a second). The rows are
the same, primary keys included: the sequences already went past them, so nothing a test
creates afterwards can collide, and they keep the order the importer gave them.

Anything unusual falls back to the real thing: another database than PostgreSQL, a table
whose rows changed otherwise than by new rows with growing integer keys, or data already there
that the build would have met (`unless`: by default, any plan or organisation).
"""

from __future__ import annotations

from collections.abc import Callable

from django.apps import apps
from django.db import IntegrityError, connection, models, transaction

INTEGER_KEYS = (models.AutoField, models.BigAutoField, models.SmallAutoField, models.IntegerField)


def _tables() -> list[tuple[str, str | None]]:
    """Every table of the database, with its integer primary key column (None when it has none);
    but the plans' write counters, which the database's triggers write again as the copied
    rows go in (reporting/figures.py)."""
    from reporting.figures import COUNTER

    keys = {}
    for model in apps.get_models(include_auto_created=True):
        pk = model._meta.pk
        keys[model._meta.db_table] = pk.column if isinstance(pk, INTEGER_KEYS) else None
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
    return [(name, keys.get(name)) for name in sorted(names) if name != COUNTER]


def _state(tables) -> dict[str, tuple[int, int | None]]:
    """Row count and highest key of every table, in one query."""
    qn = connection.ops.quote_name
    # Table and column names come from the catalogue, quoted.
    parts = [
        f"SELECT %s::text, count(*), {f'max({qn(key)})::bigint' if key else 'NULL::bigint'} FROM {qn(table)}"  # noqa: S608
        for table, key in tables
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), [table for table, _ in tables])
        return {table: (count, top) for table, count, top in cursor.fetchall()}


def plans_or_organisations() -> bool:
    """Whether the database holds rows an importer or a factory-built plan could have met."""
    from axes.models import Plan
    from partners.models import Organisation

    return Plan.objects.exists() or Organisation.objects.exists()


class Snapshot:
    """What `build` writes, taken the first time and written again afterwards; the real build
    whenever `unless()` is true (data already there that the build would have met)."""

    def __init__(
        self,
        build: Callable[[], object],
        key: Callable[[object], object],
        find: Callable,
        unless: Callable[[], bool] = plans_or_organisations,
    ):
        self.build, self.key, self.find, self.unless = build, key, find, unless
        self.rows: list[tuple[str, bytes]] | None = None  # (table, COPY text), once taken
        self.found = None
        self.usable = True

    def __call__(self):
        if connection.vendor != "postgresql" or not self.usable or self.unless():
            return self.build()
        if self.rows is None:
            self._take()
            if not self.usable:
                return self.build()
        try:
            with transaction.atomic():
                self._write()
        except IntegrityError:
            return self.build()
        return self.find(self.found)

    def _take(self) -> None:
        tables = _tables()
        before = _state(tables)
        qn = connection.ops.quote_name
        rows = []
        with transaction.atomic():
            self.found = self.key(self.build())
            after = _state(tables)
            with connection.cursor() as cursor:
                for table, key in tables:
                    (count, top), (new_count, new_top) = before[table], after[table]
                    if count == new_count and top == new_top:
                        continue
                    if key is None or new_count < count:
                        self.usable = False
                        break
                    where = f"WHERE {qn(key)} > {int(top)}" if top is not None else ""
                    query = f"COPY (SELECT * FROM {qn(table)} {where} ORDER BY {qn(key)}) TO STDOUT"  # noqa: S608
                    with cursor.copy(query) as copy:
                        data = b"".join(bytes(chunk) for chunk in copy)
                    if data.count(b"\n") != new_count - count:  # rows changed, not only added
                        self.usable = False
                        break
                    rows.append((table, data))
            transaction.set_rollback(True)
        self.rows = rows

    def _write(self) -> None:
        qn = connection.ops.quote_name
        # Django's errors (IntegrityError for a clash) rather than psycopg's: COPY bypasses the
        # cursor's wrapping.
        with connection.wrap_database_errors, connection.cursor() as cursor:
            # Foreign keys are checked at commit (Django makes them deferrable): any order will do.
            for table, data in self.rows:
                with cursor.copy(f"COPY {qn(table)} FROM STDIN") as copy:
                    copy.write(data)
