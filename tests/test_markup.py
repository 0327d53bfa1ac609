"""What the HTML validator (vnu) would say of our pages, checked without Java (issue 12): no
duplicate ids, `<time datetime>` without microseconds, no table directly inside a figure."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from axes.models import Role
from tests.factories import DecisionFactory, MeetingFactory, UserFactory, grant, theme

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)?)?$")


class Markup(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.problems, self.stack = set(), [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            if attrs["id"] in self.ids:
                self.problems.append(f"id en double : {attrs['id']}")
            self.ids.add(attrs["id"])
        if tag == "time" and "datetime" in attrs and not DATETIME.match(attrs["datetime"]):
            self.problems.append(f"datetime invalide : {attrs['datetime']}")
        if tag == "table" and self.stack and self.stack[-1] == "figure":
            self.problems.append("<table> directement dans <figure>")
        if tag not in {"br", "img", "input", "meta", "link", "hr", "source", "rect", "line", "path"}:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass


def problems_of(html):
    parser = Markup()
    parser.feed(html)
    return parser.problems


@pytest.mark.parametrize(
    "path",
    [
        "/plans/val-aigo/",
        "/plans/val-aigo/fiches/",
        "/plans/val-aigo/mes-fiches/",
        "/plans/val-aigo/recherche/?q=jeunesse",
        "/plans/val-aigo/tableau-de-bord/",
        "/plans/val-aigo/reunions/",
        "/plans/val-aigo/membres/",
        "/plans/val-aigo/rapports/",
        "/tableau-de-bord/",
        "/thematiques/",
        "/thematiques/parentalite/",
        "/accessibilite/",
        "/mentions-legales/",
        "/donnees-personnelles/",
    ],
)
def test_pages_hold_no_markup_error(client, val_aigo, path):
    coordinator = grant(UserFactory(), val_aigo, Role.COORDINATOR)
    DecisionFactory(meeting=MeetingFactory(plan=val_aigo), actions=[val_aigo.actions.get(number=12)])
    fiche = val_aigo.actions.get(number=1)
    fiche.themes.add(theme("Parentalité", "parentalite"))
    fiche.financing.create(funder="CAF", planned=1000)
    fiche.financing.create(funder="Commune", planned=500, granted=400, spent=100)
    client.force_login(coordinator)
    response = client.get(path)
    assert response.status_code == 200
    assert problems_of(response.text) == []


def test_the_checker_finds_what_it_looks_for():
    html = (
        '<p id="a"></p><p id="a"></p>'
        '<time datetime="2025-01-01T10:00:00.123456+00:00">x</time><figure><table></table></figure>'
    )
    assert len(problems_of(html)) == 3


def test_sign_in_page_holds_no_markup_error(client, db):
    assert problems_of(client.get(reverse("login")).text) == []


def test_no_template_comment_spans_lines():
    """Django reads {# … #} on one line only: spread over several, it is printed as text (it was,
    on every page, under the header). Longer comments are {% comment %} blocks."""
    from pathlib import Path

    from django.conf import settings

    spread = [
        f"{path.relative_to(settings.BASE_DIR)}:{text[: match.start()].count(chr(10)) + 1}"
        for path in Path(settings.BASE_DIR, "templates").rglob("*.*")
        for text in [path.read_text()]
        for match in re.finditer(r"\{#(.*?)#\}", text, re.S)
        if "\n" in match.group(1)
    ]
    assert not spread, spread


def test_pages_show_no_template_syntax(client, val_aigo):
    client.force_login(grant(UserFactory(), val_aigo, Role.READER))
    for url in ("/connexion/", reverse("dashboard", args=[val_aigo.slug])):
        html = client.get(url).text
        assert "{#" not in html and "#}" not in html, url
