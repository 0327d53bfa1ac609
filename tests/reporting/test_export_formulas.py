"""Formula injection: no exported cell is a formula a spreadsheet would run (OWASP, CSV injection)."""

import csv
import datetime
import io
import re

import openpyxl
import pytest
import tablib
from django.urls import reverse
from odf import opendocument, table
from odf import text as odf_text

from actions.models import CalendarEntry, Indicator, Note, Status
from axes.models import Objective, Role
from reporting.exports import EXPORTS, spreadsheet_safe
from tests.factories import (
    ActionFactory,
    AxisFactory,
    PartnerFactory,
    PlanFactory,
    StepFactory,
    UserFactory,
    grant,
)

PAYLOADS = ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Text files hold numbers as text: a negative number is still a number, not a formula.
NUMBER = re.compile(r"-?\d+([.,]\d+)?")


def formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith(TRIGGERS) and not NUMBER.fullmatch(value)


@pytest.fixture
def hostile(client, db):
    """A plan whose texts, typed by its users, are all spreadsheet formulas."""
    plan = PlanFactory(slug="piege", territory="=Territoire")
    axis = AxisFactory(plan=plan, number=1, title="=1+1")
    action = ActionFactory(
        axis=axis,
        objective=Objective.objects.create(axis=axis, title=PAYLOADS[3]),
        number=1,
        title=PAYLOADS[0],
        fiche_title=PAYLOADS[1],
        pilotage=PAYLOADS[2],
        status=Status.IN_PROGRESS,
        progress=40,
    )
    for i, payload in enumerate(PAYLOADS):
        parent = StepFactory(action=action, text=payload, position=i)
        StepFactory(action=action, parent=parent, text=f"{payload} (sous-étape)")
        Note.objects.create(
            action=action, text=payload, author_name=payload, date=datetime.date(2025, 1, i + 1)
        )
        PartnerFactory(action=action, name=payload, role=payload, organisation=None)
        CalendarEntry.objects.create(
            action=action, label=payload, description=payload, start=datetime.date(2025, 1, 1)
        )
    indicator = Indicator.objects.create(action=action, name=PAYLOADS[3], unit=PAYLOADS[2], baseline=-5)
    indicator.values.create(year=2025, value=-2, comment=PAYLOADS[0])
    client.force_login(grant(UserFactory(), plan, Role.READER))
    return client


def get(client, what, fmt):
    response = client.get(reverse("export", args=["piege", what, fmt]))
    assert response.status_code == 200
    return response.content


def xlsx_cells(content):
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [cell for row in sheet.iter_rows() for cell in row]


def csv_values(content):
    return [
        value
        for row in csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";")
        for value in row
    ]


def ods_values(content):
    """Read with odfpy itself, not only tablib: what LibreOffice would see, formulas included."""
    document = opendocument.load(io.BytesIO(content))
    values = []
    for cell in document.spreadsheet.getElementsByType(table.TableCell):
        assert not cell.getAttribute("formula")
        values.append("\n".join(str(p) for p in cell.getElementsByType(odf_text.P)))
    return values


@pytest.mark.parametrize("what", list(EXPORTS))
def test_no_cell_starts_like_a_formula(hostile, what):
    cells = xlsx_cells(get(hostile, what, "xlsx"))
    for cell in cells:
        assert cell.data_type != "f", cell.value
        if isinstance(cell.value, str):
            assert not cell.value.startswith(TRIGGERS), (what, cell.value)
    for value in csv_values(get(hostile, what, "csv")):
        assert not formula_like(value), (what, value)
    ods = get(hostile, what, "ods")
    for value in ods_values(ods):
        assert not formula_like(value), (what, value)
    data = tablib.Dataset().load(ods, format="ods")
    for row in data:
        for value in row:
            assert not formula_like(value), (what, value)


def test_the_text_is_kept_behind_a_quote(hostile):
    values = [cell.value for cell in xlsx_cells(get(hostile, "etapes", "xlsx"))]
    for payload in PAYLOADS:
        # XML reads a carriage return back as a line feed.
        assert "'" + payload.replace("\r", "\n") in values
    assert "'\rx" in csv_values(get(hostile, "etapes", "csv"))
    assert "'" + PAYLOADS[0] in csv_values(get(hostile, "notes", "csv"))
    assert "'@SUM(A1)" in ods_values(get(hostile, "partenaires", "ods"))
    assert "'@SUM(A1)" in csv_values(get(hostile, "fiches", "csv"))  # the fiche's objective


def test_numbers_stay_numbers(hostile):
    sheet = openpyxl.load_workbook(io.BytesIO(get(hostile, "fiches", "xlsx"))).active
    assert sheet["A2"].value == 1 and sheet["A2"].data_type == "n"
    assert sheet["J2"].value == 40 and sheet["J2"].data_type == "n"
    assert sheet["D2"].value == "'@SUM(A1)"  # the objective, typed as a formula
    assert sheet["C2"].value == "'=1+1"
    rows = list(openpyxl.load_workbook(io.BytesIO(get(hostile, "indicateurs", "xlsx"))).active.iter_rows())
    baseline, value = rows[1][4], rows[1][7]
    # A negative number is a number, not a formula: it stays as it is.
    assert (baseline.value, baseline.data_type) == (-5, "n")
    assert (value.value, value.data_type) == (-2, "n")
    assert "-5" in csv_values(get(hostile, "indicateurs", "csv"))
    data = tablib.Dataset().load(get(hostile, "indicateurs", "ods"), format="ods")
    assert data[0][4] == -5.0 and data[0][7] == -2.0


def test_control_characters_do_not_break_the_file(hostile):
    # A vertical tab pasted from a word processor: not allowed in XML, replaced by a space.
    Note.objects.update(text="Réunion\x0btenue\x1f.")
    for fmt in ("xlsx", "ods", "csv"):
        content = get(hostile, "notes", fmt)
        assert content
    values = [cell.value for cell in xlsx_cells(get(hostile, "notes", "xlsx"))]
    assert "Réunion tenue ." in values


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+33 5 61 00 00 00", "'+33 5 61 00 00 00"),
        ("-", "'-"),
        ("@moi", "'@moi"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Réunion = bilan", "Réunion = bilan"),
        ("", ""),
        (-3, -3),
        (None, None),
        (datetime.date(2025, 1, 1), datetime.date(2025, 1, 1)),
    ],
)
def test_spreadsheet_safe(value, expected):
    assert spreadsheet_safe(value) == expected
