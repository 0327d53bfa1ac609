"""Editing a calendar label recomputes its dates, unless the user typed dates of their own."""

import datetime

import pytest
from django.urls import reverse

from actions.journal import journal
from axes.models import Role
from tests.factories import CalendarEntryFactory, UserFactory, grant


@pytest.fixture
def entry(db):
    return CalendarEntryFactory(
        label="2024", start=datetime.date(2024, 1, 1), end=datetime.date(2024, 12, 31)
    )


@pytest.fixture
def editor(client, entry):
    user = grant(UserFactory(first_name="Claire", last_name="Dupont"), entry.action.plan, Role.COORDINATOR)
    client.force_login(user)
    return client


def edit(client, entry, **fields):
    action = entry.action
    url = reverse("item_update", args=[action.plan.slug, action.number, "calendrier", entry.pk])
    # What the form sends: every field as it shows it, with the user's changes.
    data = {"label": entry.label, "description": "", "start": "2024-01-01", "end": "2024-12-31"}
    data.update(fields, version=entry.version)
    return client.post(url, data)


def test_a_new_label_brings_its_own_dates(editor, entry):
    response = edit(editor, entry, label="Rentrée 2027")
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.label, entry.start, entry.end) == (
        "Rentrée 2027",
        datetime.date(2027, 9, 1),
        datetime.date(2027, 10, 31),
    )
    texts = [e.text for e in journal([entry.action_id])]
    assert "Échéance : « 2024 » → « Rentrée 2027 »" in texts
    assert "Dates de « Rentrée 2027 » : 01/01/2024 – 31/12/2024 → 01/09/2027 – 31/10/2027" in texts
    page = editor.get(entry.action.get_absolute_url()).text
    assert '<time datetime="2027-09-01">01/09/2027</time>' in page


def test_dates_typed_with_the_new_label_are_kept(editor, entry):
    edit(editor, entry, label="Rentrée 2027", start="2027-08-20", end="2027-11-15")
    entry.refresh_from_db()
    assert (entry.start, entry.end) == (datetime.date(2027, 8, 20), datetime.date(2027, 11, 15))


def test_a_label_that_is_no_period_clears_the_old_dates(editor, entry):
    edit(editor, entry, label="Au fil de l'eau")
    entry.refresh_from_db()
    assert (entry.label, entry.start, entry.end) == ("Au fil de l'eau", None, None)


def test_the_same_label_with_new_dates_keeps_the_dates(editor, entry):
    edit(editor, entry, start="2024-03-01")
    entry.refresh_from_db()
    assert (entry.label, entry.start, entry.end) == (
        "2024",
        datetime.date(2024, 3, 1),
        datetime.date(2024, 12, 31),
    )


def test_a_reader_cannot_edit(client, entry):
    client.force_login(grant(UserFactory(), entry.action.plan, Role.READER))
    assert edit(client, entry, label="Rentrée 2027").status_code == 403
    entry.refresh_from_db()
    assert entry.label == "2024"
