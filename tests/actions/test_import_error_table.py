"""The import page shows a refused workbook's errors as a table (Feuille, Ligne, Colonne,
Message) whose caption gives their count: every error of the file in one pass, readable at
320 px in its own scrollable, labelled region; a file's own problems (not a workbook, a JSON
document's) as sentences."""

import io
import json
import re
from html import unescape
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

from actions.models import PlanImport
from actions.plan_io import open_format, spreadsheet
from axes.models import Role
from tests.actions.importing import upload
from tests.factories import UserFactory, grant, imported_plan


class Tables(HTMLParser):
    """Each <table>: its caption, its header cells with their scope, its body rows' texts; and
    the attributes of the element around it."""

    def __init__(self):
        super().__init__()
        self.tables, self.open_tags, self.text = [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append(
                {
                    "around": self.open_tags[-1][1] if self.open_tags else {},
                    "caption": "",
                    "heads": [],
                    "rows": [],
                }
            )
        elif tag in {"caption", "th", "td"}:
            self.text = []
            self.scope = attrs.get("scope")
        elif tag == "tr" and self.tables and self._in("tbody"):
            self.tables[-1]["rows"].append([])
        if tag not in {"br", "input", "meta", "link", "img", "hr"}:
            self.open_tags.append((tag, attrs))

    def _in(self, tag):
        return any(name == tag for name, _ in self.open_tags)

    def handle_data(self, data):
        if self.text is not None:
            self.text.append(data)

    def handle_endtag(self, tag):
        if tag in {"caption", "th", "td"} and self.text is not None:
            text = " ".join("".join(self.text).split())
            table = self.tables[-1]
            if tag == "caption":
                table["caption"] = text
            elif tag == "th" and self._in("thead"):
                table["heads"].append((text, self.scope))
            else:
                table["rows"][-1].append(text)
            self.text = None
        while self.open_tags:
            name, _ = self.open_tags.pop()
            if name == tag:
                break


def tables_of(html: str) -> list[dict]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def text_of(html: str) -> str:
    """What the page reads, tags aside."""
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


def template(plan) -> bytes:
    return spreadsheet.workbook_from_data(open_format.export_plan(plan))


def row_of(sheet, number) -> int:
    return next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == number)


@pytest.fixture
def plan(db):
    return imported_plan()[0]


@pytest.fixture
def coordinator(client, plan):
    client.force_login(grant(UserFactory(), plan, Role.COORDINATOR))
    return client


def send(client, content: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    return client.post(reverse("plan_import"), {"fichier": SimpleUploadedFile(name, content)})


def test_every_error_of_a_workbook_is_a_row_of_one_table(coordinator, plan):
    workbook = load_workbook(io.BytesIO(template(plan)))
    fiches = workbook["Fiches"]
    second = row_of(fiches, 2)
    fiches.cell(second, 7).value = "Fini peut-être"  # Statut
    fiches.cell(second, 8).value = 150  # Avancement
    fiches.cell(row_of(fiches, 3), 2).value = 9  # an axis the Axes sheet does not have
    workbook["Axes"]["B2"] = "x" * 501  # a title too long
    workbook["Calendrier"].append([2, "2025", None, "31/02/2025", None])
    workbook["Organisations"].append(["Mutuelle X", None, "Mutuelle", None, None])
    calendar_row = workbook["Calendrier"].max_row
    organisation_row = workbook["Organisations"].max_row
    out = io.BytesIO()
    workbook.save(out)

    response = send(coordinator, out.getvalue(), "plan-corrige.xlsx")

    assert response.status_code == 422
    assert not PlanImport.objects.exists()
    (table,) = tables_of(response.text)
    assert table["heads"] == [("Feuille", "col"), ("Ligne", "col"), ("Colonne", "col"), ("Message", "col")]
    rows = table["rows"]
    assert len(rows) == 6
    assert table["caption"] == "6 erreurs à corriger dans le classeur, par feuille, ligne et colonne"
    assert "Import refusé, rien n'a été modifié. 6 erreurs, dans le tableau ci-dessous :" in text_of(
        response.text
    )
    # The table scrolls in its own region, named by the caption, reachable from the keyboard.
    assert table["around"] == {
        "class": "table-scroll",
        "role": "region",
        "aria-labelledby": "erreurs-legende",
        "tabindex": "0",
    }
    assert 'id="erreurs-legende"' in response.text
    expected = [
        ["Axes", "2", "B", "texte trop long : 501 caractères pour 500 au plus"],
        [
            "Fiches",
            str(second),
            "G",
            "« Fini peut-être » n'est pas possible pour « Statut » ; valeurs possibles : "
            "À venir, En cours, Réalisée, En pause, Abandonnée.",
        ],
        ["Fiches", str(row_of(fiches, 3)), "B", "axe 9 inconnu (absent de la feuille « Axes »)."],
        ["Calendrier", str(calendar_row), "D", "date « 31/02/2025 » invalide (attendu JJ/MM/AAAA)."],
    ]
    for row in expected:
        assert row in rows, rows
    progress = next(r for r in rows if r[:3] == ["Fiches", str(second), "H"])
    assert progress[3].startswith("« Avancement (%) » doit être un pourcentage de 0 à 100")
    kind = next(r for r in rows if r[0] == "Organisations")
    assert kind[1:3] == [str(organisation_row), "C"] and kind[3].startswith("« Mutuelle » n'est pas possible")
    # Every sheet's errors, and no error twice.
    assert {r[0] for r in rows} == {"Axes", "Fiches", "Calendrier", "Organisations"}
    assert len({tuple(r) for r in rows}) == len(rows)


def test_a_files_own_problems_are_sentences_without_a_table(coordinator, plan):
    data = open_format.export_plan(plan)
    data["axes"][0]["actions"][0]["status"] = "x"
    response = send(coordinator, json.dumps(data).encode(), "plan.json")
    assert response.status_code == 422
    assert tables_of(response.text) == []
    assert "Import refusé, rien n'a été modifié. 1 erreur :" in text_of(response.text)
    assert "axes[0].actions[0].status" in text_of(response.text)
    not_a_plan = send(coordinator, b"bonjour", "plan.txt")
    assert tables_of(not_a_plan.text) == []
    assert "Format non reconnu" in not_a_plan.text


def test_one_error_reads_in_the_singular(coordinator, plan):
    workbook = load_workbook(io.BytesIO(template(plan)))
    workbook["Fiches"].cell(row_of(workbook["Fiches"], 1), 2).value = 9
    out = io.BytesIO()
    workbook.save(out)
    response = upload(coordinator, {}, "vide.json")  # a JSON that is not a plan: a sentence
    assert response.status_code == 422 and tables_of(response.text) == []
    response = send(coordinator, out.getvalue(), "plan.xlsx")
    (table,) = tables_of(response.text)
    assert table["caption"] == "1 erreur à corriger dans le classeur, par feuille, ligne et colonne"
    assert len(table["rows"]) == 1
