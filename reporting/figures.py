"""Each plan's figures for the CAF overview, kept between requests and never shown stale.

The overview of a CAF's thousand plans shows, sorts, filters and totals each plan's fiches,
progress, late fiches and last COPIL held. Working them out on every request from the plans'
20,000 fiches made the page's cost grow with the plans (issue 10); reporting.PlanFigures keeps
them, one row per plan, and the page is read in SQL from those rows (reporting.overview).

A kept figure shown after a change would be a defect, so a row is used only while both hold:

- it was computed for today (`day`): lateness and "COPIL held" move with the day, without
  any write; the first request of a day computes every plan it shows again;
- nothing the figures read was written since (`changes`): database triggers, installed here,
  count every write to a plan's fiches, their calendar entries and its meetings in
  reporting.PlanChanges, whatever wrote it (a form, the admin, an import's bulk_create and
  bulk_update, a queryset's update(), a delete, a renewal, an archiving): Django's signals
  would miss the bulk writes. A write moving a row to another plan counts for both.

`refresh` computes the figures of the plans given and reads their counters in ONE statement
(INSERT … SELECT … ON CONFLICT DO UPDATE): both come from the same snapshot of the database,
so figures computed before a write are tagged with the counter before it, whenever that write
commits, and are computed again on the next request (tested with a write committing while the
statement waits, tests/reporting/test_overview_figures.py).

The triggers are installed after every `migrate` (post_migrate, reporting/apps.py), not by a
migration: SQLite drops a table's triggers when Django rebuilds the table (most of its
ALTERs), and refuses to rename the rebuilt table while another table's trigger names it (a
calendar entry's trigger reads its fiche's plan); so they are removed before migrating on
SQLite (pre_migrate), put back after it on both databases, and every kept figure is dropped
then, since a data migration may have written without them.
"""

# The SQL below is built from our models' table and column names, never from a user's text.
# ruff: noqa: S608

from __future__ import annotations

import datetime

from django.db import connection as default_connection
from django.db import transaction
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from actions.models import Action, CalendarEntry
from axes.models import Plan
from reporting.models import Meeting, PlanChanges, PlanFigures

COUNTER = PlanChanges._meta.db_table
FIGURES = PlanFigures._meta.db_table
ACTIONS = Action._meta.db_table

# The tables the figures read, and how a row of each names its plan: `{rows}` is a query
# of the written rows (their new and/or old values), giving the plan ids that changed.
SOURCES = {
    ACTIONS: ("plan_id", "SELECT key AS plan_id FROM ({rows}) r"),
    CalendarEntry._meta.db_table: (
        "action_id",
        f"SELECT a.plan_id FROM {ACTIONS} a WHERE a.id IN (SELECT key FROM ({{rows}}) r)",
    ),
    Meeting._meta.db_table: ("plan_id", "SELECT key AS plan_id FROM ({rows}) r"),
}
EVENTS = ("insert", "update", "delete")


def _name(table: str, event: str | None = None) -> str:
    return f"reporting_plan_changes_{table}" + (f"_{event}" if event else "")


def trigger_names() -> list[str]:
    return [_name(table, event) for table in SOURCES for event in EVENTS]


def _sqlite_statements() -> list[str]:
    """Row triggers (SQLite has no others): each written row bumps its plan's counter."""
    statements = []
    for table, (column, _) in SOURCES.items():
        if column == "plan_id":
            plan_of = "SELECT {row}.plan_id, 1 WHERE true"
        else:
            plan_of = f"SELECT plan_id, 1 FROM {ACTIONS} WHERE id = {{row}}.{column}"
        bump = f"INSERT INTO {COUNTER} (plan_id, n) {plan_of} ON CONFLICT (plan_id) DO UPDATE SET n = n + 1;"
        rows = {"insert": ["NEW"], "update": ["NEW", "OLD"], "delete": ["OLD"]}
        for event in EVENTS:
            body = " ".join(bump.format(row=row) for row in rows[event])
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {_name(table, event)} AFTER {event.upper()} ON {table} "
                f"FOR EACH ROW BEGIN {body} END"
            )
    return statements


def _postgresql_statements() -> list[str]:
    """Statement triggers with their transition tables: an import's bulk write of a thousand
    fiches bumps each plan's counter once, the counters taken in plan order."""
    statements = []
    for table, (column, plan_ids) in SOURCES.items():
        branches = []
        for event, rows in (
            ("INSERT", f"SELECT {column} AS key FROM new_rows"),
            ("UPDATE", f"SELECT {column} AS key FROM new_rows UNION ALL SELECT {column} FROM old_rows"),
            ("DELETE", f"SELECT {column} AS key FROM old_rows"),
        ):
            ids = plan_ids.format(rows=rows)
            branches.append(
                f"IF TG_OP = '{event}' THEN "
                f"INSERT INTO {COUNTER} AS c (plan_id, n) SELECT DISTINCT p.plan_id, 1 FROM ({ids}) p "
                "WHERE p.plan_id IS NOT NULL ORDER BY 1 "
                "ON CONFLICT (plan_id) DO UPDATE SET n = c.n + 1; END IF;"
            )
        statements.append(
            f"CREATE OR REPLACE FUNCTION {_name(table)}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {' '.join(branches)} RETURN NULL; END $$"
        )
        for event in EVENTS:
            referencing = {
                "insert": "NEW TABLE AS new_rows",
                "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                "delete": "OLD TABLE AS old_rows",
            }[event]
            statements += [
                f"DROP TRIGGER IF EXISTS {_name(table, event)} ON {table}",
                f"CREATE TRIGGER {_name(table, event)} AFTER {event.upper()} ON {table} "
                f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {_name(table)}()",
            ]
    return statements


def installed(connection) -> set[str]:
    """The names of our triggers the database holds."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        return {name for (name,) in cursor.fetchall()} & set(trigger_names())


def install(connection) -> None:
    """Put the triggers in place (again: the latest definitions), then drop every kept
    figure, in one transaction. Skipped while the tables are not there (a database migrated
    back before them)."""
    tables = set(connection.introspection.table_names())
    if not {COUNTER, FIGURES, *SOURCES} <= tables:
        return
    statements = _sqlite_statements() if connection.vendor == "sqlite" else _postgresql_statements()
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "sqlite":  # IF NOT EXISTS would keep an outdated definition
            for name in trigger_names():
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in statements:
            cursor.execute(statement)
        cursor.execute(f"DELETE FROM {FIGURES}")


def uninstall(connection) -> None:
    """Remove the triggers (and their functions on PostgreSQL)."""
    with connection.cursor() as cursor:
        for table in SOURCES:
            for event in EVENTS:
                if connection.vendor == "sqlite":
                    cursor.execute(f"DROP TRIGGER IF EXISTS {_name(table, event)}")
                elif table in connection.introspection.table_names(cursor):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {_name(table, event)} ON {table}")
            if connection.vendor != "sqlite":
                cursor.execute(f"DROP FUNCTION IF EXISTS {_name(table)}()")


def counter(plan_ref: str = "pk") -> Coalesce:
    """The plan's write counter (0 before its first write), for a Plan queryset's rows."""
    n = PlanChanges.objects.filter(plan=OuterRef(plan_ref)).values("n")[:1]
    return Coalesce(Subquery(n), Value(0))


def refresh(plan_ids: list[int], today: datetime.date) -> None:
    """Compute the figures of the plans of `plan_ids` for `today` and keep them, tagged with
    each plan's write counter read in the same statement (see the module's docstring): the
    plans' fiches in force, their progress added up and counted over those not abandoned,
    the late ones (ActionQuerySet.figures: with_deadline's rule, worked out once per fiche),
    and the last COPIL held (MeetingQuerySet.copils_held). A plan without fiches gets its
    row of zeros. One statement (none without plans), in plan order."""
    if not plan_ids:
        return
    connection = default_connection
    last_copil = Meeting.objects.filter(plan=OuterRef("pk")).copils_held(today).values("date")[:1]
    plans = (
        Plan.objects.filter(pk__in=plan_ids)
        .annotate(last_copil=Subquery(last_copil), changes=counter())
        .order_by()
        .values("pk", "last_copil", "changes")
    )
    grouped = (
        Action.objects.filter(plan__in=plan_ids)
        .figures(today, by="plan")
        .values("plan", "fiches", "progress_sum", "progress_n", "late")
    )
    plans_sql, plans_params = plans.query.get_compiler(connection=connection).as_sql()
    grouped_sql, grouped_params = grouped.query.get_compiler(connection=connection).as_sql()
    figures = ("fiches", "progress_sum", "progress_n", "late")
    kept = (*figures, "last_copil", "day", "changes")
    # The two queries as named tables with their columns named, whatever names Django gave them.
    sql = (
        f"WITH p (id, last_copil, changes) AS ({plans_sql}), "
        f"g (plan_id, {', '.join(figures)}) AS ({grouped_sql}) "
        f"INSERT INTO {FIGURES} (plan_id, {', '.join(kept)}) "
        f"SELECT p.id, {', '.join(f'COALESCE(g.{name}, 0)' for name in figures)}, "
        "p.last_copil, %s, p.changes FROM p LEFT JOIN g ON g.plan_id = p.id "
        # WHERE: SQLite would read "ON CONFLICT" after a join as the join's ON without it.
        "WHERE true ORDER BY p.id "
        f"ON CONFLICT (plan_id) DO UPDATE SET {', '.join(f'{name} = EXCLUDED.{name}' for name in kept)}"
    )
    day = connection.ops.adapt_datefield_value(today)
    with connection.cursor() as cursor:
        cursor.execute(sql, (*plans_params, *grouped_params, day))
