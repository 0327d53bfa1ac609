"""On PostgreSQL the search is served by trigram indexes on the folded columns (migration actions
0016): `LIKE '%word%'` on the very expression the search compares, so a change to the folding
that the indexes do not follow shows here. SQLite has no such index and searches as before."""

import importlib

import pytest
from django.apps import apps
from django.db import connection

from actions.search import matching

# The columns migration 0016 indexed.
SEARCHED = importlib.import_module("actions.migrations.0016_search_trigram").SEARCHED


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="index trigramme : PostgreSQL seulement")
@pytest.mark.parametrize(("model_name", "field"), [(m, f) for m, fields in SEARCHED.items() for f in fields])
def test_the_search_reads_its_trigram_index(model_name, field):
    model = apps.get_model("actions", model_name)
    manager = getattr(model, "all_objects", model.objects)
    # Unordered: the fiches' ordering (plan, number) could otherwise be served by walking their
    # unique index, which the planner may prefer once the tables have statistics.
    sql, params = matching(manager.order_by(), "Médiathèque", field).query.sql_with_params()
    with connection.cursor() as cursor:
        # The tables are (nearly) empty: a full read would win; leave the planner the bitmap scans.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"{model_name}_{field}_trgm" in plan, plan
