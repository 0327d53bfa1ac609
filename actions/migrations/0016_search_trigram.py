"""Trigram indexes (pg_trgm) for the search, on PostgreSQL only.

The search compares folded text (actions/search.py `Folded`: accents and case aside) with
`LIKE '%word%'`, which no B-tree serves. A GIN index with `gin_trgm_ops` on that very expression
does; it is built from `Folded` itself, so that the index and the queries write it alike. SQLite
has no such index and keeps searching as before: this migration does nothing there.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations
from django.db.models import F
from django.db.models.sql import Query

from actions.search import Folded

# The columns the search reads (actions/personal_views.py search, the fiches list's free text).
SEARCHED = {
    "action": ["title", "fiche_title", "pilotage"],
    "step": ["text"],
    "actionpartner": ["name", "role"],
    "condition": ["text"],
    "note": ["text"],
}


def _name(model_name: str, field: str) -> str:
    return f"{model_name}_{field}_trgm"


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for model_name, fields in SEARCHED.items():
        model = apps.get_model("actions", model_name)
        query = Query(model, alias_cols=False)  # columns named alone, as an index writes them
        compiler = query.get_compiler(connection=connection)
        for field in fields:
            sql, params = compiler.compile(Folded(F(field)).resolve_expression(query))
            schema_editor.execute(
                f"CREATE INDEX {quote(_name(model_name, field))} ON {quote(model._meta.db_table)} "
                f"USING gin (({sql}) gin_trgm_ops)",
                params,
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, fields in SEARCHED.items():
        for field in fields:
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(_name(model_name, field))}")


class Migration(migrations.Migration):
    dependencies = [("actions", "0015_list_indexes")]

    operations = [
        TrigramExtension(),  # does nothing on SQLite
        migrations.RunPython(create, drop, elidable=False),
    ]
