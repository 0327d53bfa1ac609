"""The import batched across fiches (issue 10): importing a plan makes the same number of
queries for 20 fiches as for 200, and so does re-importing it, changed or not."""

import copy
import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from actions.models import Action, CalendarEntry, Step
from actions.plan_io import open_format
from tests.conftest import VAL_AIGO


def document(copies: int, slug: str) -> dict:
    """Val'Aïgo's 20 fiches `copies` times over (copy k of fiche n is n + 20 k)."""
    data = json.loads(VAL_AIGO.read_bytes())
    data["plan"]["slug"] = slug
    for axis in data["axes"]:
        axis["actions"] = [
            {**copy.deepcopy(action), "number": action["number"] + 20 * k}
            for k in range(copies)
            for action in axis["actions"]
        ]
    return data


def queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def test_a_new_plan_imports_in_the_same_queries_for_20_and_200_fiches(db):
    open_format.import_plan(document(1, "amorce"))  # the organisations exist from now on
    small, large = document(1, "petit"), document(10, "grand")
    counts = [queries(lambda data=data: open_format.import_plan(data)) for data in (small, large)]
    assert counts[0] == counts[1], counts
    # Everything is there, each row with its history row.
    assert Action.objects.filter(plan__slug="grand").count() == 200
    steps = Step.objects.filter(action__plan__slug="grand")
    assert steps.count() == 10 * Step.objects.filter(action__plan__slug="petit").count()
    assert Step.history.filter(action__plan__slug="grand").count() == steps.count()
    assert steps.exclude(parent=None).count() > 0
    # Every fiche stored is the file's: the preview finds nothing to do.
    assert open_format.preview(large).nothing_to_do


def test_reimport_reads_in_the_same_queries_and_writes_only_what_changed(db):
    counts = []
    for copies, slug in ((1, "petit"), (10, "grand")):
        data = document(copies, slug)
        open_format.import_plan(data)
        counts.append(queries(lambda data=data: open_format.import_plan(data)))
    assert counts[0] == counts[1], counts
    # One fiche changed: its calendar entry is rewritten, nothing else.
    data = document(10, "grand")
    fiche = next(a for axis in data["axes"] for a in axis["actions"] if a["number"] == 57)
    fiche["calendar"][0]["label"] = "2026"
    before = CalendarEntry.history.count()
    report = open_format.import_plan(data, filename="grand.xlsx")
    assert report.unchanged == 199
    assert CalendarEntry.history.count() == before + 1
    assert CalendarEntry.objects.filter(action__plan__slug="grand", action__number=57).first().label == "2026"
