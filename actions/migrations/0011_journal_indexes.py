"""Indexes for the journal (actions/journal.py), read in SQL with a LIMIT.

For each history row shown, the journal reads the row before it of the same object
(`WHERE id = … AND history_id < … ORDER BY history_id DESC LIMIT 1`), and the latest rows of a
fiche (`WHERE action_id = … ORDER BY history_id DESC LIMIT n`). Without (id, history_id) and
(action_id, history_id), PostgreSQL reads every row of a busy object for each row shown: a
fiche with 20,000 history rows took seconds. SQLite's index on `id` already ends with the rowid
(history_id), but the same indexes serve it too. Raw SQL: django-simple-history offers no Meta
for its historical models, and these indexes change no model state.
"""

from django.db import migrations

TABLES = {
    "actions_historicalaction": False,
    "actions_historicalstep": True,
    "actions_historicalcalendarentry": True,
    "actions_historicalactionpartner": True,
    "actions_historicalcondition": True,
    "actions_historicalnote": True,
}


def operations():
    for table, has_action in TABLES.items():
        yield migrations.RunSQL(
            f"CREATE INDEX {table}_id_hist ON {table} (id, history_id)",
            f"DROP INDEX {table}_id_hist",
        )
        if has_action:
            yield migrations.RunSQL(
                f"CREATE INDEX {table}_action_hist ON {table} (action_id, history_id)",
                f"DROP INDEX {table}_action_hist",
            )


class Migration(migrations.Migration):
    dependencies = [("actions", "0010_text_caps")]

    operations = list(operations())
