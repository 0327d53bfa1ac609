"""The plan as a spreadsheet: the xlsx template territories fill in, read and written.

The workbook is another spelling of the open format: `workbook_from_data` writes a ctg-plan/1
document as sheets, `data_from_workbook` reads sheets back into one, remembering which cell
each value came from. Validation and writing then go through actions.plan_io.open_format, so a plan
imported from Excel obeys exactly the rules of a JSON one, and its errors name the sheet, the
row and the column.
"""

from __future__ import annotations

import datetime
import io
import re
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from actions.models import NoteKind, Status

# The limits are the workbook's (book.py); named here too, where the views and tests look.
from actions.plan_io.book import MAX_BYTES, MAX_ROWS, MAX_UNPACKED_BYTES, open_book  # noqa: F401
from actions.plan_io.errors import CellError, PlanFormatError, SpreadsheetError
from actions.plan_io.sheets import (
    FINDINGS,
    GENDERS,
    KINDS,
    NOTE_KINDS,
    READERS,
    STATUSES,
    Reading,
    read_book,
    strip_private,
)
from axes.levels import LevelWords
from partners.models import OrganisationKind

YES, NO = "oui", "non"

# Sheet → columns (header, key, required), in the template's order: the readers' forms.
PLAN_FIELDS = READERS[0].columns()
SHEETS: dict[str, list[tuple[str, str, bool]]] = {reader.title: reader.columns() for reader in READERS[1:]}
README = [
    "Modèle de plan d'action CTG — Suivi CTG",
    "",
    "Remplissez une feuille par partie du plan ; la première ligne de chaque feuille porte les noms",
    "des colonnes : ne les modifiez pas. Les colonnes marquées * sont obligatoires.",
    "",
    "Plan : identifiant (minuscules, chiffres, tirets, ex. val-aigo), titre, territoire, années,",
    "  nom du premier niveau (Axe, Enjeu, Orientation…), son pluriel et son genre (masculin ou",
    "  féminin) s'ils ne se déduisent pas du nom, signataires séparés par des points-virgules.",
    "Communes : les communes du territoire et leur code INSEE.",
    "Organisations : toutes les organisations du plan, citées ou non dans une fiche (Type : EPCI,",
    "  Commune, CAF, Département, Région, État, Éducation nationale, MSA, CPAM, Association, Autre) ;",
    "  « Rattachée à » nomme une autre organisation de la liste.",
    "Axes : numéro, intitulé, thème du diagnostic. Diagnostic : Axe, Nature (Force ou Point de",
    "  vigilance), Constat. La feuille et la colonne portent le nom du premier niveau du plan",
    "  (feuille « Enjeux », colonne « Enjeu ») ; « Axes » et « Axe » sont compris aussi.",
    "Objectifs (facultatif) : le niveau entre l'axe et la fiche, s'il y en a un : numéro de l'axe,",
    "  numéro de l'objectif (« 1.2 »), intitulé, dans l'ordre du plan.",
    "Fiches : numéro dans tout le plan (1, 2, 3…), numéro de l'axe, intitulé du synoptique, nom",
    "  de l'action dans la fiche, pilotage tel qu'écrit, pilotes (organisations, séparées par ;),",
    "  statut (À venir, En cours, Réalisée, En pause, Abandonnée ; « Terminé », « Annulée »… sont",
    "  compris), avancement de 0 à 100 (50, « 50 % » ou une cellule au format pourcentage),",
    "  objectif si le plan a ce niveau entre l'axe et la fiche (« 1.2 : Accompagner les parents »,",
    "  l'intitulé seul ou le numéro d'un objectif de la feuille « Objectifs » ; colonne facultative).",
    "Étapes : dans l'ordre de la fiche. Niveau 2 = sous-étape de l'étape de niveau 1 qui précède",
    "  (par exemple les étapes d'une commune). Commune : si l'étape concerne une commune.",
    "  Réalisée : oui ou non.",
    "Partenaires : nom tel qu'écrit, rôle, et l'organisation correspondante si elle est connue.",
    "Calendrier : la période telle qu'écrite (« Début 2024 », « Rentrée 2025 », « 2026 »,",
    "  « Année scolaire 2025-2026 » (septembre à août),",
    "  « En cours »…). Laissez Début et Fin vides : elles sont déduites de la période quand",
    "  c'est possible (dates au format JJ/MM/AAAA sinon).",
    "Indicateurs : une ligne par valeur annuelle (Année, Valeur, Commentaire).",
    "Notes : date (un jour JJ/MM/AAAA, un mois « 03/2024 » ou « mars 2024 », ou une année « 2024 »),",
    "  nature (Suivi, Réalisation, Difficulté, Perspective), auteur, texte.",
    "Fiches, Thématiques et Publics visés : les champs d'intervention de la CAF (Petite enfance,",
    "  Parentalité, Jeunesse…) et les publics (0–3 ans, Familles…) de la liste de l'installation,",
    "  séparés par des points-virgules.",
    "Financements : une ligne par financeur, dispositif et année (« Bonus territoire CTG »,",
    "  « Prestation de service »…), montants prévu, accordé et dépensé en euros (12 500 ou",
    "  12 500,50) ; le dépensé ne dépasse pas l'accordé.",
    "",
    "Les listes déroulantes proposent les valeurs possibles ; le fichier peut aussi être enregistré",
    "au format LibreOffice (.ods). Majuscules et accents sont indifférents.",
    "",
    "L'import affiche d'abord un aperçu de ce qui sera créé ou modifié, et toutes les erreurs",
    "par feuille, ligne et colonne ; rien n'est écrit avant votre confirmation, et un fichier",
    "comportant une erreur n'écrit rien. Limites : 5 Mo et 10 000 lignes.",
]

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="000091")


# ---------------------------------------------------------------------------
# Writing


# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Control characters XML (hence xlsx and ods) cannot hold; tab, line feed and CR are allowed.
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def cell_safe(value):
    """A cell value no spreadsheet will run, and that XML can hold: control characters (a pasted
    Word line break) become spaces, text starting like a formula gets a leading quote."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS.sub(" ", value)
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def _sheet(workbook, title, columns, rows):
    sheet = workbook.create_sheet(title)
    headers = [header + (" *" if required else "") for header, _, required in columns]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for row in rows:
        sheet.append([cell_safe(value) for value in row])
    for index, (header, _, _) in enumerate(columns, start=1):
        width = max([len(header) + 4] + [len(str(r[index - 1] or "")) for r in rows[:200]])
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, 80)
    sheet.freeze_panes = "A2"
    return sheet


def _status_label(value):
    return Status(value).label if value in Status.values else value


def _date(value: str | None):
    return datetime.date.fromisoformat(value) if value else None


def _note_date(note: dict):
    """A note's date as the file gave it: a day as a date cell, a month as "03/2024", a year as
    "2024" (the reader takes them back the same)."""
    day = _date(note["date"])
    precision = note.get("date_precision", "day")
    if precision == "year":
        return str(day.year)
    if precision == "month":
        return f"{day:%m/%Y}"
    return day


def _labels(vocabulary) -> list[str]:
    return list(vocabulary.labels.values())


# (sheet, column key) → the drop-down's values: a list of labels, or (sheet, key) whose column
# holds them (the plan's own axes, fiches, communes, organisations). The readers accept more
# than the list offers (synonyms, accents, case): a value off the list warns, never blocks.
DROP_DOWNS: dict[tuple[str, str], list[str] | tuple[str, str]] = {
    ("Organisations", "kind"): _labels(KINDS),
    ("Organisations", "parent"): ("Organisations", "name"),
    ("Diagnostic", "axis"): ("Axes", "number"),
    ("Diagnostic", "kind"): _labels(FINDINGS),
    ("Objectifs", "axis"): ("Axes", "number"),
    ("Fiches", "axis"): ("Axes", "number"),
    ("Fiches", "status"): _labels(STATUSES),
    ("Étapes", "fiche"): ("Fiches", "number"),
    ("Étapes", "level"): ["1", "2"],
    ("Étapes", "commune"): ("Communes", "name"),
    ("Étapes", "done"): [YES, NO],
    ("Partenaires", "fiche"): ("Fiches", "number"),
    ("Partenaires", "organisation"): ("Organisations", "name"),
    ("Conditions", "fiche"): ("Fiches", "number"),
    ("Calendrier", "fiche"): ("Fiches", "number"),
    ("Indicateurs", "fiche"): ("Fiches", "number"),
    ("Notes", "fiche"): ("Fiches", "number"),
    ("Notes", "kind"): _labels(NOTE_KINDS),
    ("Financements", "fiche"): ("Fiches", "number"),
    ("Financements", "organisation"): ("Organisations", "name"),
}
DROP_DOWN_ROWS = 1000  # rows offered beyond the filled ones


def _add_drop_downs(sheet, title: str, columns, filled: int, names: dict[str, str]) -> None:
    keys = [key for _, key, _ in columns]
    last = filled + 1 + DROP_DOWN_ROWS
    for key in keys:
        source = DROP_DOWNS.get((title, key))
        if source is None:
            continue
        if isinstance(source, tuple):
            other, other_key = source
            letter = get_column_letter([k for _, k, _ in SHEETS[other]].index(other_key) + 1)
            other = names.get(other, other)
            quoted = other.replace("'", "''")  # "Champs d'action" → 'Champs d''action'!A2
            formula = f"'{quoted}'!${letter}$2:${letter}${MAX_ROWS + 1}"
            shown = f"les valeurs de la feuille « {other} »"
        else:
            formula = '"' + ",".join(source) + '"'
            shown = ", ".join(source)
        validation = DataValidation(
            type="list",
            formula1=formula,
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle="Valeur hors de la liste",
            error=f"Valeurs possibles : {shown}."[:255],
        )
        letter = get_column_letter(keys.index(key) + 1)
        validation.add(f"{letter}2:{letter}{last}")
        sheet.add_data_validation(validation)


def _sheet_title_ok(title: str) -> bool:
    """Whether Excel takes this as a sheet's name: 31 characters, none of []:*?/\\, no quote at
    either end (a longer plural keeps "Axes", which the reader accepts too)."""
    return 0 < len(title) <= 31 and not re.search(r"[\[\]:*?/\\]", title) and title.strip("'") == title


def _objective_cell(axis: dict[str, Any], title: str | None) -> str | None:
    """ "1.2 : Accompagner les parents", as the Fiches sheet's Objectif column reads it back."""
    code = next((o.get("code") for o in axis.get("objectives", []) if o["title"] == title), None)
    return f"{code} : {title}" if title and code else title


def workbook_from_data(data: dict[str, Any] | None = None) -> bytes:
    """The xlsx template, filled with a ctg-plan/1 document (or empty, to fill in)."""
    plan = (data or {}).get("plan", {})
    axes = (data or {}).get("axes", [])
    workbook = Workbook()
    readme = workbook.active
    readme.title = "Lisez-moi"
    for line in README:
        readme.append([line])
    readme.column_dimensions["A"].width = 100
    readme["A1"].font = Font(bold=True, size=14)

    sheet = workbook.create_sheet("Plan")
    sheet.append(["Champ", "Valeur"])
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for header, key, required in PLAN_FIELDS:
        value = plan.get(key)
        if key == "signatories":
            value = "; ".join(value or [])
        elif key == "level_gender":
            value = GENDERS.labels.get(value or "")
        sheet.append([header + (" *" if required else ""), cell_safe(value)])
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 28, 80

    kinds = {k.value: k.label for k in OrganisationKind}
    notes_labels = {k.value: k.label for k in NoteKind}
    rows: dict[str, list] = {name: [] for name in SHEETS}
    rows["Communes"] = [[c["name"], c.get("insee")] for c in plan.get("communes", [])]
    rows["Organisations"] = [
        [
            o["name"],
            o.get("short_name"),
            kinds.get(o.get("kind"), o.get("kind")),
            o.get("insee"),
            o.get("parent"),
        ]
        for o in plan.get("organisations", [])
    ]
    for axis in axes:
        diagnostic = axis.get("diagnostic", {})
        rows["Axes"].append([axis["number"], axis["title"], diagnostic.get("theme")])
        rows["Objectifs"] += [[axis["number"], o.get("code"), o["title"]] for o in axis.get("objectives", [])]
        rows["Diagnostic"] += [[axis["number"], "Force", t] for t in diagnostic.get("strengths", [])]
        rows["Diagnostic"] += [
            [axis["number"], "Point de vigilance", t] for t in diagnostic.get("watch_points", [])
        ]
        for a in axis["actions"]:
            n = a["number"]
            rows["Fiches"].append(
                [
                    n,
                    axis["number"],
                    a["title"],
                    a["fiche_title"],
                    a["pilotage"],
                    "; ".join(a.get("pilots", [])),
                    _status_label(a["status"]),
                    a["progress"],
                    "; ".join(a.get("themes", [])),
                    "; ".join(a.get("audiences", [])),
                    _objective_cell(axis, a.get("objective")),
                ]
            )
            for step in a["steps"]:
                rows["Étapes"].append(
                    [n, 1, step["text"], step.get("commune"), YES if step.get("done") else NO]
                )
                for child in step.get("children", []):
                    rows["Étapes"].append(
                        [n, 2, child["text"], child.get("commune"), YES if child.get("done") else NO]
                    )
            rows["Partenaires"] += [
                [n, p["name"], p.get("role"), p.get("organisation")] for p in a["partners"]
            ]
            rows["Conditions"] += [[n, text] for text in a["conditions"]]
            rows["Calendrier"] += [
                [n, e["label"], e.get("description"), _date(e.get("start")), _date(e.get("end"))]
                for e in a["calendar"]
            ]
            for indicator in a.get("indicators", []):
                base = [
                    n,
                    indicator["name"],
                    indicator.get("unit"),
                    indicator.get("baseline"),
                    indicator.get("target"),
                ]
                values = indicator.get("values") or [None]
                for v in values:
                    rows["Indicateurs"].append(
                        base + ([v["year"], v["value"], v.get("comment")] if v else [None] * 3)
                    )
            rows["Notes"] += [
                [
                    n,
                    _note_date(note),
                    notes_labels.get(note.get("kind"), "Suivi"),
                    note.get("author"),
                    note["text"],
                ]
                for note in a.get("notes", [])
            ]
            rows["Financements"] += [
                [
                    n,
                    line["funder"],
                    line.get("organisation"),
                    line.get("scheme"),
                    line.get("year"),
                    line.get("planned"),
                    line.get("granted"),
                    line.get("spent"),
                ]
                for line in a.get("financing", [])
            ]
    # The first level's sheet and column in the plan's words ("Enjeux", "Enjeu"); read back as such.
    level = LevelWords.of(
        plan.get("level_label") or "Axe", plan.get("level_plural") or "", plan.get("level_gender") or ""
    )
    names = {"Axes": level.plural if _sheet_title_ok(level.plural) else "Axes"}
    for title, columns in SHEETS.items():
        columns = [(level.singular if key == "axis" else h, key, required) for h, key, required in columns]
        sheet = _sheet(workbook, names.get(title, title), columns, rows[title])
        for column in ("Début", "Fin", "Date"):
            for index, (header, _, _) in enumerate(columns, start=1):
                if header == column:
                    for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                        cell.number_format = "DD/MM/YYYY"
                        cell.alignment = Alignment(horizontal="left")
        _add_drop_downs(sheet, title, columns, len(rows[title]), names)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


# ---------------------------------------------------------------------------
# Reading: one reader per sheet (actions.plan_io.sheets), then the open format's own rules


@dataclass
class Parsed:
    data: dict[str, Any]
    reading: Reading
    rows: int = 0

    def where(self, path: str) -> str | None:
        """The cell a JSON path came from, in words."""
        found = self.reading.where(path)
        return CellError("", found.sheet, found.row, found.column).where if found else None


def _read(content: bytes) -> Reading:
    return read_book(open_book(content))


def _sorted(errors: list[CellError]) -> list[CellError]:
    order = {reader.title: i for i, reader in enumerate(READERS)}
    return sorted(
        errors,
        key=lambda e: (
            e.sheet is not None,
            order.get(e.sheet, len(order)),
            e.row or 0,
            len(e.column or ""),
            e.column or "",
        ),
    )


def data_from_workbook(content: bytes) -> Parsed:
    """Read the template (.xlsx or .ods) into a ctg-plan/1 document, without the open format's
    validation. Raises SpreadsheetError listing every cell that cannot be read."""
    reading = _read(content)
    if reading.errors:
        raise SpreadsheetError(_sorted(reading.errors))
    strip_private(reading.data)
    return Parsed(data=reading.data, reading=reading, rows=reading.rows)


def _validated(reading: Reading) -> list[CellError]:
    """The open format's errors of what could be read, each at its cell, without those of
    cells already refused (a refused cell is left empty: the schema would only repeat it)."""
    from actions.plan_io import open_format

    data = reading.data
    if reading.aside:  # fiches of an unknown axis: their cells are checked too
        numbers = [axis["number"] for axis in data["axes"] if isinstance(axis["number"], int)]
        spare = {"number": max(numbers, default=0) + 1, "title": "?", "actions": reading.aside}
        data = {**data, "axes": [*data["axes"], spare]}
    errors = []
    for error in open_format.validate(data):
        path, _, message = error.partition(" : ")
        where = reading.where(path)
        if where is None:
            errors.append(CellError(error))
        elif where not in reading.flagged:  # a refused cell, or a row-wide error on a refused row
            errors.append(CellError(message, where.sheet, where.row, where.column))
    return errors


def read_document(filename: str, content: bytes) -> dict[str, Any]:
    """A plan file, JSON (ctg-plan/1) or a workbook (the template, .xlsx or .ods), read and
    validated. Raises PlanFormatError listing every problem at once; for a workbook each
    names its cell."""
    from actions.plan_io import open_format

    if filename.lower().endswith(".json"):
        return open_format.load(content)
    if not filename.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods", ".csv")) and content[:2] != b"PK":
        raise PlanFormatError(
            ["Format non reconnu : envoyez le modèle rempli (.xlsx ou .ods) ou un fichier JSON."]
        )
    try:
        reading = _read(content)
    except SpreadsheetError as exc:
        raise PlanFormatError(exc.cells) from exc
    errors = reading.errors + _validated(reading)
    if errors:
        raise PlanFormatError(_sorted(errors))
    strip_private(reading.data)
    return reading.data
