"""The fiche page at the scale of France: a fixed number of queries whatever the installation
holds (fiches, territories, history), the plan's organisations only, edit forms on demand,
deletions confirmed, writes answered with the fragments they changed."""

import contextlib
import re
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actions.journal import _query, _sources
from actions.models import IMPORT_REASON, Action, Status, TagChange
from actions.views import JOURNAL_LIMIT
from axes.models import Axis, Plan, Role
from partners.models import Organisation, OrganisationKind
from tests.factories import (
    DecisionFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    MeetingFactory,
    OrganisationFactory,
    UserFactory,
    build_plan,
    grant,
)
from tests.snapshot import Snapshot

HTMX = {"HTTP_HX_REQUEST": "true"}
MAX_QUERIES = 12


def twenty_fiches() -> Plan:
    plan = build_plan(20)
    action = plan.actions.get(number=1)
    for indicator in IndicatorFactory.create_batch(2, action=action):
        IndicatorValueFactory(indicator=indicator, year=2024)
        IndicatorValueFactory(indicator=indicator, year=2025)
    DecisionFactory(meeting=MeetingFactory(plan=plan), actions=[action, plan.actions.get(number=2)])
    return plan


_twenty_fiches = Snapshot(twenty_fiches, key=lambda plan: plan.pk, find=lambda pk: Plan.objects.get(pk=pk))


@pytest.fixture
def plan(db):
    """Twenty full fiches; fiche 1 also has indicators with values and a decision. Built once
    per test process, then copied (tests/snapshot.py)."""
    return _twenty_fiches()


@pytest.fixture
def editor(client, plan):
    client.force_login(grant(UserFactory(first_name="Claire", last_name="Dupont"), plan, Role.COORDINATOR))
    return client


def fiche(plan, number=1):
    return reverse("action_detail", kwargs={"slug": plan.slug, "number": number})


def url(action, name, **kwargs):
    return reverse(name, kwargs={"slug": action.plan.slug, "number": action.number, **kwargs})


def queries(client, path, data=None, **extra):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, data or {}, **extra)
    assert response.status_code == 200
    return [re.sub(r"\b\d+\b", "N", q["sql"]) for q in captured.captured_queries], response


LINE = re.compile(r'<li data-key="([^"]+)">(.*?)</li>', re.S)


def journal_lines(html: str) -> list[tuple[str, str]]:
    """The journal's lines of a page, or of the lines an answer adds: (key, text)."""
    start = html.find('id="journal-lignes"')
    return LINE.findall(html[start : html.index("</ol>", start)]) if start >= 0 else []


def change_status(client, action, status, progress, page_html=None, *, captured=None):
    """An htmx status change as app.js sends it from a page showing `page_html` (its queries
    in `captured`, a CaptureQueriesContext, if given)."""
    action.refresh_from_db()
    shown = journal_lines(page_html or "")
    headers = {"HTTP_X_JOURNAL_NEWEST": shown[0][0]} if shown else {}
    path, data = (
        url(action, "action_status"),
        {"status": status, "progress": progress, "version": action.version},
    )
    with captured if captured is not None else contextlib.nullcontext():
        return client.post(path, data, **HTMX, **headers)


def status_change_queries(client, plan, number: int) -> list[str]:
    """The queries of an htmx status change made from the fiche's page (its literals aside),
    after one made to give the journal a line: a change answered with the new lines only."""
    action = plan.actions.get(number=number)
    change_status(client, action, "on_hold", 10, client.get(fiche(plan, number)).text)
    page = client.get(fiche(plan, number)).text
    captured = CaptureQueriesContext(connection)
    response = change_status(client, action, "in_progress", 20, page, captured=captured)
    assert response.status_code == 200 and 'hx-swap-oob="afterbegin"' in response.text
    sql = [re.sub(r"'[^']*'|\"s\d+_x\d+\"|\b\d+\b", "N", q["sql"]) for q in captured.captured_queries]
    assert len(sql) <= MAX_QUERIES, "\n".join(sql)
    return sql


# --- Queries -------------------------------------------------------------------------------


def test_the_fiche_page_reads_at_most_twelve_queries(editor, plan, client):
    sql, response = queries(editor, fiche(plan))
    assert len(sql) <= MAX_QUERIES, "\n".join(sql)
    assert "Décision" in response.text and "Indicateur" in response.text
    # A contributeur (their commune's steps) and a reader: no more.
    for role, organisations in [(Role.CONTRIBUTOR, plan.communes.all()[:1]), (Role.READER, [])]:
        client.force_login(grant(UserFactory(), plan, role, *organisations))
        assert len(queries(client, fiche(plan))[0]) <= MAX_QUERIES


def test_the_same_queries_with_2000_fiches_as_with_20(editor, plan):
    before, _ = queries(editor, fiche(plan))
    status_before = status_change_queries(editor, plan, 2)
    axis = plan.axes.first()
    Action.objects.bulk_create(
        Action(plan=plan, axis=axis, number=n, title=f"Fiche {n}", fiche_title=f"Fiche {n}")
        for n in range(21, 2001)
    )
    after, _ = queries(editor, fiche(plan))
    assert after == before
    assert status_change_queries(editor, plan, 2) == status_before


def other_territories(count: int, start: int = 0) -> None:
    """`count` plans of other territories, each with ten communes of its own and a fiche
    piloted by one of them: what an installation serving France holds besides our plan."""
    plans = Plan.objects.bulk_create(
        Plan(slug=f"autre-{n}", title="Plan", territory=f"CC n° {n}", start_year=2023, end_year=2027)
        for n in range(start, start + count)
    )
    communes = Organisation.objects.bulk_create(
        Organisation(name=f"Commune {n}-{k} d'ailleurs", kind=OrganisationKind.COMMUNE)
        for n in range(start, start + count)
        for k in range(10)
    )
    Plan.communes.through.objects.bulk_create(
        Plan.communes.through(plan=p, organisation=communes[10 * n + k])
        for n, p in enumerate(plans)
        for k in range(10)
    )
    axes = Axis.objects.bulk_create(Axis(plan=p, number=1, title="Axe", theme="Thème") for p in plans)
    actions = Action.objects.bulk_create(
        Action(plan=p, axis=a, number=1, title="Fiche", fiche_title="Fiche")
        for p, a in zip(plans, axes, strict=True)
    )
    Action.pilots.through.objects.bulk_create(
        Action.pilots.through(action=a, organisation=communes[10 * n]) for n, a in enumerate(actions)
    )


def test_the_same_queries_with_1000_other_territories_as_with_1(editor, plan):
    other_territories(1)
    before = [queries(editor, fiche(plan), {"modifier": m}) for m in ("", "pilotage", "partenaires-nouveau")]
    status_before = status_change_queries(editor, plan, 2)
    other_territories(999, start=1)
    after = [queries(editor, fiche(plan), {"modifier": m}) for m in ("", "pilotage", "partenaires-nouveau")]
    assert status_change_queries(editor, plan, 2) == status_before
    for (sql_before, page_before), (sql_after, page_after) in zip(before, after, strict=True):
        assert sql_after == sql_before
        assert page_after.text.count("<option") == page_before.text.count("<option")
    # The pilots offered are the plan's organisations, never the installation's.
    assert "d&#x27;ailleurs" not in after[1][1].text and "d&#x27;ailleurs" not in after[2][1].text


def twenty_thousand_rows(action) -> None:
    """20,000 more history rows for `action`, each a change of status (to en cours, back to à
    venir, and so on), as a very busy fiche would have."""
    (first,) = action.history.all()  # its creation alone: the changes come after it
    history = Action.history.model
    # 20,000 copies of that row, each with its change, written by the database in one statement
    # rather than built in Python (or doubled, then updated by two lists of 10,000 keys).
    qn = connection.ops.quote_name
    fields = [f for f in history._meta.fields if f.attname != "history_id"]
    changed = {
        "history_type": ("%s", ["~"]),
        "status": ("CASE WHEN n %% 2 = 1 THEN %s ELSE %s END", [Status.IN_PROGRESS, Status.PLANNED]),
    }
    values, params = [], []
    for field in fields:
        value, value_params = changed.get(field.attname, (qn(field.column), []))
        values.append(value)
        params += value_params
    table, key = qn(history._meta.db_table), qn(history._meta.pk.column)
    columns, values = ", ".join(qn(f.column) for f in fields), ", ".join(values)
    numbers = "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20000)"
    copies = f"SELECT {values} FROM {table}, g WHERE {key} = %s ORDER BY n"  # noqa: S608 (model names)
    insert = f"{numbers} INSERT INTO {table} ({columns}) {copies}"
    with connection.cursor() as cursor:
        cursor.execute(insert, [*params, first.history_id])


def test_the_same_queries_with_20000_history_rows_as_with_1(editor, plan):
    short, long = plan.actions.get(number=3), plan.actions.get(number=4)
    twenty_thousand_rows(long)
    assert long.history.count() > 20_000 and short.history.count() <= 2
    sql_short, _ = queries(editor, fiche(plan, 3))
    sql_long, page = queries(editor, fiche(plan, 4))
    assert sql_long == sql_short
    journal = page.text[page.text.index('id="journal"') :]
    journal = journal[: journal.index("</section>")]
    assert 0 < journal.count("<li ") <= 50
    assert "Statut : à venir → en cours" in journal
    # A status change too: the same queries, the two new lines only.
    assert status_change_queries(editor, plan, 4) == status_change_queries(editor, plan, 3)


def test_a_quiet_fiches_journal_reads_its_own_rows_not_those_of_a_busy_one(editor, plan):
    """A fiche changed after 20,000 rows of another: the row before each of its lines is read
    from the (id, history_id) index. Asked for the row before as `history_id < …`, PostgreSQL's
    planner could walk the primary key backwards through the busy fiche's 20,000 rows."""
    quiet, busy = plan.actions.get(number=3), plan.actions.get(number=4)
    twenty_thousand_rows(busy)
    quiet.refresh_from_db()
    quiet.save_edit(by=None, status=Status.IN_PROGRESS)
    journal = _query([quiet.pk], None, JOURNAL_LIMIT)
    if connection.vendor == "postgresql":
        # The statistics autovacuum would gather, of the busy table only: ANALYZE writes a
        # table's row count in place, kept after the test's rollback, and every table empty
        # here would be taken for empty by later tests of this process (a later journal of
        # 20,000 theme changes ran 5 minutes instead of 5 s: tests/conftest.py's django_db_setup).
        history = Action.history.model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(history)}")
        explained = journal.explain(analyze=True)
        before = re.search(
            r"actions_historicalaction_id_hist on actions_historicalaction u0\S* [^\n]*\n"
            r"\s*Index Cond: ([^\n]+)",
            explained,
        )
        assert before and "ROW(id, history_id) < ROW(" in before.group(1), explained
        read = [int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", explained)]
        assert max(read, default=0) < 1_000, explained
    else:  # SQLite: its index on id ends with the rowid (history_id)
        explained = journal.explain()
        assert re.search(
            r"CORRELATED SCALAR SUBQUERY \d+\n[\d ]*SEARCH U0 USING INDEX \w+ \(id=\? AND rowid<\?\)",
            explained,
        ), explained
    lines = [text for _, text in journal_lines(editor.get(fiche(plan, 3)).text)]
    assert lines[0].startswith("Statut : à venir → en cours, par import ou commande")


def test_the_journal_escapes_what_people_typed_and_their_names(client, plan):
    """Markup typed in a title or a name reads as text in the journal, on the page and in the
    lines a write sends it."""
    client.force_login(
        grant(UserFactory(first_name="<b>Zoé</b>", last_name='O\'Neil & "Fils"'), plan, Role.COORDINATOR)
    )
    action = plan.actions.get(number=6)
    action.refresh_from_db()
    action.save_edit(by=None, title="<script>alert(1)</script>")
    page = client.get(fiche(plan, 6)).text
    answer = change_status(client, action, "in_progress", 20, page).text
    for html in (page, answer):
        assert "<script>alert" not in html and "<b>Zoé" not in html
    assert "« &lt;script&gt;alert(1)&lt;/script&gt; »" in page
    assert journal_lines(answer)[0][1].startswith(
        "Statut : à venir → en cours, par &lt;b&gt;Zoé&lt;/b&gt; O&#x27;Neil &amp; &quot;Fils&quot;, le <time"
    )


def applied(page_lines: list, answer: str) -> list:
    """The journal's lines once the answer is applied as app.js applies it: each line not
    shown yet where its key sorts (newest first), the lines older than data-keep-from removed."""
    keep = re.search(r'<ol id="journal-lignes" hx-swap-oob="afterbegin" data-keep-from="([^"]+)"', answer)
    assert keep, answer
    shown = {key for key, _ in page_lines}
    new = [line for line in journal_lines(answer) if line[0] not in shown]
    merged = sorted(
        page_lines + new, key=lambda line: line[0], reverse=True
    )  # stable: a key's lines keep their order
    return [line for line in merged if line[0] >= keep.group(1)]


def test_after_a_write_the_journal_gets_its_new_lines_only_and_agrees_with_a_fresh_page(editor, plan):
    """A fiche with more history than the journal shows (60 rows, the page draws 50): after
    each status change the page's lines with the answer's applied are a fresh page's, and
    the answer carries two lines, not fifty."""
    action = plan.actions.get(number=5)
    for n in range(60):
        action.refresh_from_db()
        action.save_edit(by=None, progress=n % 100)
    page = editor.get(fiche(plan, 5)).text
    lines = journal_lines(page)
    assert len(lines) == 50 and lines[0][1].startswith("Avancement : 58 % → 59 %")
    for status, progress in [("in_progress", 30), ("planned", 0), ("on_hold", 10)]:
        response = change_status(editor, action, status, progress, page)
        assert response.status_code == 200
        assert 'id="journal"' not in response.text  # not the whole journal again
        assert len(journal_lines(response.text)) == 2
        lines = applied(lines, response.text)
        page = editor.get(fiche(plan, 5)).text
        assert lines == journal_lines(page)
    assert [text.split(",")[0] for _, text in lines[:2]] == [
        "Statut : à venir → en pause",
        "Avancement : 0 % → 10 %",
    ]


def test_the_journal_is_drawn_again_when_the_page_shows_none_of_it_or_says_nothing(editor, plan):
    action = plan.actions.get(number=6)
    # As loaded by an import, which is no news.
    TagChange.objects.filter(action=action).update(reason=IMPORT_REASON)
    for source in _sources():
        if not source.rows:
            source.model.history.model.objects.filter(**{source.action_field: action.pk}).update(
                history_change_reason=IMPORT_REASON
            )
    # No line yet on the page: the whole journal, out of band.
    page = editor.get(fiche(plan, 6)).text
    assert "Aucune modification depuis le chargement du plan." in page and journal_lines(page) == []
    response = change_status(editor, action, "in_progress", 20, page)
    assert re.search(r'<section id="journal"[^>]*hx-swap-oob="true"', response.text)
    # A key that is not one, or none at all: the same.
    for headers in (
        {"HTTP_X_JOURNAL_NEWEST": "<script>"},
        {"HTTP_X_JOURNAL_NEWEST": "99999999999999999999-000000000001"},
        {},
    ):
        action.refresh_from_db()
        response = editor.post(
            url(action, "action_status"),
            {"status": "planned", "progress": 0, "version": action.version},
            **HTMX,
            **headers,
        )
        assert response.status_code == 200
        assert re.search(r'<section id="journal"[^>]*hx-swap-oob="true"', response.text), headers


def test_a_status_change_answers_with_its_fragments_in_few_queries(editor, plan):
    action = plan.actions.get(number=1)
    with CaptureQueriesContext(connection) as captured:
        response = editor.post(
            url(action, "action_status"),
            {"status": "in_progress", "progress": 30, "version": action.version},
            **HTMX,
        )
    assert response.status_code == 200
    # session, user, fiche and rights; lock, update, history (and savepoints); the fiche as
    # saved, its steps (the tally) and the journal: never the page's other sections.
    assert len(captured) <= 12, "\n".join(q["sql"][:120] for q in captured.captured_queries)
    ids = re.findall(r'<section id="([^"]+)"', response.text)
    assert ids == ["statut", "journal"]
    assert 'data-announce="Statut enregistré"' in response.text
    assert re.search(r'<section id="journal"[^>]*hx-swap-oob="true"', response.text)


# --- Organisations offered and found ------------------------------------------------------------


def test_pilots_are_checkboxes_of_the_plans_organisations(editor, plan):
    stranger = OrganisationFactory(name="Association très lointaine")
    page = editor.get(fiche(plan), {"modifier": "pilotage"}).text
    assert 'type="checkbox" name="pilots"' in page and '<select name="pilots"' not in page
    assert stranger.name not in page
    for commune in plan.communes.all():
        assert commune.name in page
    # Found through the search, with JavaScript (the few matches) and without (the page again).
    found = editor.get(
        url(plan.actions.get(number=1), "organisation_search"), {"recherche": "lointaine"}, **HTMX
    )
    assert found.status_code == 200 and f'value="{stranger.pk}"' in found.text
    assert found.text.count('type="checkbox"') == 1
    plain = editor.get(fiche(plan), {"modifier": "pilotage", "recherche": "lointaine"}).text
    assert f'value="{stranger.pk}"' in plain


def test_the_search_offers_at_most_twenty(editor, plan):
    OrganisationFactory.create_batch(30, name=factory_names("Club sportif"))
    found = editor.get(url(plan.actions.get(number=1), "organisation_search"), {"recherche": "club"}, **HTMX)
    assert found.text.count('type="checkbox"') == 20


def factory_names(prefix):
    import factory

    return factory.Sequence(lambda n: f"{prefix} {n}")


def test_a_pilot_found_elsewhere_is_accepted_an_unknown_id_refused(editor, plan):
    action = plan.actions.get(number=1)
    stranger = OrganisationFactory(name="Association très lointaine")
    ok = editor.post(url(action, "action_pilots"), {"pilotage": "X", "pilots": [stranger.pk], "version": 1})
    assert ok.status_code == 302
    action.refresh_from_db()
    assert list(action.pilots.all()) == [stranger]
    missing = Organisation.objects.order_by("-pk").first().pk + 1000
    refused = editor.post(
        url(action, "action_pilots"), {"pilotage": "Y", "pilots": [missing], "version": action.version}
    )
    assert refused.status_code == 422 and "Organisation inconnue" in refused.text
    refused = editor.post(
        url(action, "item_create", section="partenaires"), {"name": "Z", "organisation": missing}
    )
    assert refused.status_code == 422 and "Organisation inconnue" in refused.text
    action.refresh_from_db()
    assert action.pilotage == "X"


# --- Forms on demand -----------------------------------------------------------------------


def test_items_are_read_only_until_modifier(editor, plan):
    action = plan.actions.get(number=1)
    partner = action.partners.get()
    page = editor.get(fiche(plan)).text
    assert url(action, "item_update", section="partenaires", pk=partner.pk) not in page
    assert f"?modifier=partenaires-{partner.pk}" in page
    assert 'class="item-form"' not in page
    opened = editor.get(fiche(plan), {"modifier": f"partenaires-{partner.pk}"}).text
    assert opened.count(f'action="{url(action, "item_update", section="partenaires", pk=partner.pk)}"') == 1
    fragment = editor.get(fiche(plan), {"modifier": f"partenaires-{partner.pk}"}, **HTMX).text
    assert fragment.lstrip().startswith('<section id="partenaires"') and "<html" not in fragment
    assert "data-focus" in fragment


def test_a_reader_opens_no_form(client, plan):
    client.force_login(grant(UserFactory(), plan, Role.READER))
    partner = plan.actions.get(number=1).partners.get()
    page = client.get(fiche(plan), {"modifier": f"partenaires-{partner.pk}"}).text
    assert 'class="item-form"' not in page and "?modifier=" not in page


def test_group_headings_are_headings_not_steps(editor, plan):
    action = plan.actions.get(number=1)
    group = action.steps.get(parent=None, children__isnull=False)
    page = editor.get(fiche(plan)).text
    assert f'<h3 id="etape-{group.pk}" class="step-group-title">{group.text}</h3>' in page
    assert url(action, "step_toggle", pk=group.pk) not in page


# --- Deletion ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "section", ["etapes", "partenaires", "conditions", "calendrier", "indicateurs", "valeurs"]
)
def test_every_deletion_is_confirmed_first(editor, plan, section):
    action = plan.actions.get(number=1)
    items = {
        "etapes": action.steps.filter(children__isnull=True).first(),
        "partenaires": action.partners.first(),
        "conditions": action.conditions.first(),
        "calendrier": action.calendar_entries.first(),
        "indicateurs": action.indicators.first(),
        "valeurs": action.indicators.first().values.first(),
    }
    item = items[section]
    target = url(action, "item_delete", section=section, pk=item.pk)
    # Without JavaScript: a page that asks, whose form deletes.
    page = editor.get(target)
    assert page.status_code == 200 and "Supprimer " in page.text and "?</h1>" in page.text
    assert f'action="{target}"' in page.text
    assert type(item).objects.filter(pk=item.pk).exists()
    # With htmx: the question in place, the confirm button focused.
    inline = editor.get(target, **HTMX)
    assert inline.status_code == 200 and "<html" not in inline.text
    assert re.search(
        r'<button type="submit" class="button danger" data-focus>Supprimer</button>', inline.text
    )
    assert editor.post(target, {"version": item.version}).status_code == 302
    assert not type(item).objects.filter(pk=item.pk).exists()


# --- Markup --------------------------------------------------------------------------------


def test_no_duplicate_ids_and_no_microseconds(editor, plan):
    action = plan.actions.get(number=1)
    editor.post(url(action, "action_status"), {"status": "in_progress", "progress": 10, "version": 1})
    for modifier in ("", "pilotage", "etapes", f"partenaires-{action.partners.get().pk}"):
        page = editor.get(fiche(plan), {"modifier": modifier}).text
        duplicates = [i for i, n in Counter(re.findall(r'\bid="([^"]+)"', page)).items() if n > 1]
        assert duplicates == [], modifier
        for value in re.findall(r'<time datetime="([^"]+)"', page):
            assert "." not in value, value


@pytest.mark.parametrize("answers_arrive", ["in order", "out of order"])
def test_two_writes_sent_before_either_answer_make_the_journal_a_fresh_page_shows(
    editor, plan, answers_arrive
):
    """A status change and a note sent from the same page before the first answer came back
    (both with the page's newest key): the second answer brings the first one's lines again;
    applied in either order, each line shows once, in a fresh page's order."""
    action = plan.actions.get(number=5)
    page = editor.get(fiche(plan, 5)).text
    lines = journal_lines(page)
    newest = {"HTTP_X_JOURNAL_NEWEST": lines[0][0]}
    action.refresh_from_db()
    answers = [
        editor.post(
            url(action, "action_status"),
            {"status": "in_progress", "progress": 30, "version": action.version},
            **HTMX,
            **newest,
        ),
        editor.post(
            url(action, "note_create"),
            {"date": "2026-11-01", "text": "Réunion avec la commune", "kind": ""},
            **HTMX,
            **newest,
        ),
    ]
    assert [answer.status_code for answer in answers] == [200, 200]
    if answers_arrive == "out of order":
        answers.reverse()
    for answer in answers:
        lines = applied(lines, answer.text)
    assert lines == journal_lines(editor.get(fiche(plan, 5)).text)
    assert sum("Statut : à venir → en cours" in text for _, text in lines) == 1
