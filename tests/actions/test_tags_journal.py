"""Changing a fiche's themes or publics is journaled like any other change: in place, in the
admin, by an import (in the importer's name) or a renewal; "Thématiques : ajouté « Parentalité »
; retiré « Jeunesse »", with who and when, on the fiche page. A same list again writes nothing,
and the fiche page reads the same queries with one such change as with thousands."""

import datetime
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions.journal import journal
from actions.models import Action, TagChange
from actions.plan_io import open_format
from axes.models import Role
from tests.actions.importing import fiche_of
from tests.factories import ActionFactory, UserFactory, audience, build_plan, grant, imported_plan, theme

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(action, suffix=""):
    return f"/plans/{action.plan.slug}/fiches/{action.number}/{suffix}"


def journal_html(html: str) -> str:
    section = html[html.index('<section id="journal"') :]
    return section[: section.index("</section>")]


def journal_of(html: str) -> str:
    """The journal's text, tags aside."""
    return re.sub(r"<[^>]+>", "", journal_html(html))


def lines(action):
    return [(entry.text, entry.author) for entry in journal([action.pk])]


@pytest.fixture
def claire(db):
    return UserFactory(first_name="Claire", last_name="Dupont")


def test_a_change_in_place_reads_in_the_journal_with_who_and_when(client, claire):
    action = ActionFactory(number=4)
    parentalite, jeunesse, familles = theme("Parentalité"), theme("Jeunesse"), audience("Familles")
    action.set_tags(by=None, themes=[jeunesse])
    client.force_login(grant(claire, action.plan, Role.COORDINATOR))
    data = {"version": action.version, "themes": [parentalite.pk], "audiences": [familles.pk]}
    response = client.post(url(action, "thematiques/"), data, **HTMX)
    assert response.status_code == 200
    # The journal follows the write out of band, with the new lines.
    assert re.search(r'<section id="journal"[^>]*hx-swap-oob="true"', response.text)
    today = timezone.localdate().strftime("%d/%m/%Y")
    expected = [
        "Thématiques : ajouté « Parentalité » ; retiré « Jeunesse », par Claire Dupont, le " + today,
        "Publics visés : ajouté « Familles », par Claire Dupont, le " + today,
    ]
    for words in expected:
        assert words in journal_of(response.text)
        assert words in journal_of(client.get(url(action)).text)
    # The same lists again: nothing new in the journal.
    action.refresh_from_db()
    data["version"] = action.version
    assert client.post(url(action, "thematiques/"), data).status_code == 302
    assert TagChange.objects.filter(action=action, user=claire).count() == 2
    assert set(action.themes.all()) == {parentalite} and list(action.audiences.all()) == [familles]


def test_several_names_and_a_reader_sees_the_line(client, claire):
    action = ActionFactory(number=5)
    a, b, c = theme("Petite enfance"), theme("Enfance"), theme("Logement")
    action.set_tags(by=claire, themes=[a, b, c])
    client.force_login(grant(UserFactory(), action.plan, Role.READER))
    page = client.get(url(action)).text
    # In the lists' order (by position, then name), whatever order they were given in.
    names = sorted([a, b, c], key=lambda t: (t.position, t.name))
    quoted = [f"« {t.name} »" for t in names]
    assert f"Thématiques : ajouté {quoted[0]}, {quoted[1]} et {quoted[2]}, par Claire Dupont" in page
    action.set_tags(by=claire, themes=[])
    assert (f"Thématiques : retiré {quoted[0]}, {quoted[1]} et {quoted[2]}", "Claire Dupont") in lines(action)


def test_a_change_in_the_admin_is_journaled_in_the_administrators_name(admin_client, admin_user):
    action = ActionFactory(number=6)
    parentalite, jeunesse = theme("Parentalité"), theme("Jeunesse")
    action.set_tags(by=None, themes=[jeunesse])
    change = reverse("admin:actions_action_change", args=[action.pk])
    assert admin_client.get(change).status_code == 200
    data = {
        "plan": action.plan_id,
        "axis": action.axis_id,
        "number": action.number,
        "title": action.title,
        "fiche_title": action.fiche_title,
        "pilotage": action.pilotage,
        "status": action.status,
        "progress": action.progress,
        "themes": [parentalite.pk],
    }
    for prefix in ["steps", "partners", "conditions", "calendar_entries", "indicators", "financing", "notes"]:
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    response = admin_client.post(change, data)
    assert response.status_code == 302, response.text
    assert list(action.themes.all()) == [parentalite]
    name = admin_user.get_full_name() or admin_user.get_username()
    assert ("Thématiques : ajouté « Parentalité » ; retiré « Jeunesse »", name) in lines(action)
    # Saved again unchanged: no new line.
    assert admin_client.post(change, data).status_code == 302
    assert TagChange.objects.filter(action=action, user=admin_user).count() == 1


def test_an_import_journals_the_change_and_the_same_file_again_writes_nothing(db, claire):
    parentalite, jeunesse, familles = theme("Parentalité"), theme("Jeunesse"), audience("Familles")
    plan, data = imported_plan()
    fiche_of(data, 2)["themes"] = ["Jeunesse"]
    open_format.import_plan(data, by=claire, filename="val-aigo.xlsx")
    fiche_of(data, 2)["themes"] = ["parentalité"]  # case and accents as a file may write them
    fiche_of(data, 2)["audiences"] = ["Familles"]
    open_format.import_plan(data, by=claire, filename="val-aigo.xlsx")
    action = plan.actions.get(number=2)
    assert list(action.themes.all()) == [parentalite] and list(action.audiences.all()) == [familles]
    author = f"Claire Dupont (import du {timezone.localdate():%d/%m/%Y} de val-aigo.xlsx)"
    seen = lines(action)
    assert ("Thématiques : ajouté « Parentalité » ; retiré « Jeunesse »", author) in seen
    assert ("Publics visés : ajouté « Familles »", author) in seen
    assert ("Thématiques : ajouté « Jeunesse »", author) in seen  # the first change
    assert not [line for line in lines(plan.actions.get(number=1)) if "Thématiques" in line[0]]
    # The same file again: nothing written, nothing journaled.
    before = (TagChange.objects.count(), Action.history.count())
    report = open_format.import_plan(data, by=claire, filename="val-aigo.xlsx")
    assert report.unchanged == report.actions
    assert (TagChange.objects.count(), Action.history.count()) == before
    assert jeunesse.actions.count() == 0


def test_a_plans_first_import_is_silent_and_a_new_fiche_says_its_themes(db, claire):
    theme("Parentalité")
    plan, data = imported_plan()
    assert not [entry for entry in journal(plan.actions.values_list("pk", flat=True)) if entry.kind == "tags"]
    new = dict(fiche_of(data, 3), number=9, themes=["Parentalité"])
    data["axes"][0]["actions"].append(new)
    open_format.import_plan(data, by=claire, filename="plan.json")
    assert [text for text, _ in lines(plan.actions.get(number=9)) if "Thématiques" in text] == [
        "Thématiques : ajouté « Parentalité »"
    ]


def many_theme_changes(action, count: int, *, added: list, removed: list, by) -> None:
    """`count` changes of `action`'s themes, each at its own time (a microsecond apart, the last
    one just now), as people making them one by one would leave them. On PostgreSQL written by
    the database over a series rather than built in Python (1.5 s of a test's 2.6 s of CPU)."""
    if connection.vendor != "postgresql":
        TagChange.objects.bulk_create(
            TagChange(action=action, field="themes", added=added, removed=removed, user=by)
            for _ in range(count)
        )
        return
    first = timezone.now() - datetime.timedelta(microseconds=count)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TagChange._meta.db_table} (action_id, field, added, removed, at, user_id, reason)"  # noqa: S608 (model name)
            " SELECT %s, %s, %s::jsonb, %s::jsonb, %s + n * interval '1 microsecond', %s, ''"
            " FROM generate_series(1, %s) n ORDER BY n",
            [action.pk, TagChange.Field.THEMES, json.dumps(added), json.dumps(removed), first, by.pk, count],
        )


def test_the_fiche_page_reads_the_same_queries_with_one_change_as_with_twenty_thousand(client, claire):
    plan = build_plan(4)
    client.force_login(grant(claire, plan, Role.COORDINATOR))
    parentalite, jeunesse = theme("Parentalité"), theme("Jeunesse")
    short, long = plan.actions.get(number=1), plan.actions.get(number=2)
    short.set_tags(by=claire, themes=[parentalite])
    many_theme_changes(long, 20_000, added=["Parentalité"], removed=["Jeunesse"], by=claire)
    long.set_tags(by=claire, themes=[jeunesse])

    def read(action):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url(action))
        assert response.status_code == 200
        return [re.sub(r"\b\d+\b", "N", q["sql"]) for q in captured.captured_queries], response.text

    sql_short, _ = read(short)
    sql_long, page = read(long)
    assert sql_long == sql_short and len(sql_long) <= 12
    shown = journal_of(page)
    assert 0 < journal_html(page).count("<li ") <= 50
    assert "Thématiques : ajouté « Jeunesse », par Claire Dupont" in shown
