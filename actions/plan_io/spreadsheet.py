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
import zipfile
from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree as DefusedET
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from actions.models import NoteKind, Status
from actions.plan_io.errors import PlanFormatError, SpreadsheetError
from partners.models import OrganisationKind

MAX_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_ROWS = 10_000

YES, NO = "oui", "non"
STATUS_LABELS = {s.label.lower(): s.value for s in Status} | {s.value: s.value for s in Status}
KIND_LABELS = {k.label.lower(): k.value for k in OrganisationKind} | {
    k.value: k.value for k in OrganisationKind
}
NOTE_LABELS = {k.label.lower(): k.value for k in NoteKind} | {k.value: k.value for k in NoteKind}
FINDINGS = {"force": "strengths", "point de vigilance": "watch_points"}

# Sheet → columns (header, key, required). The order is the template's.
PLAN_FIELDS = [
    ("Identifiant", "slug", True),
    ("Titre", "title", True),
    ("Territoire", "territory", True),
    ("Année de début", "start_year", True),
    ("Année de fin", "end_year", True),
    ("Nom du premier niveau", "level_label", False),
    ("Signataires", "signatories", False),
]
SHEETS: dict[str, list[tuple[str, str, bool]]] = {
    "Communes": [("Nom", "name", True), ("Code INSEE", "insee", False)],
    "Organisations": [
        ("Nom", "name", True),
        ("Sigle", "short_name", False),
        ("Type", "kind", True),
        ("Code INSEE", "insee", False),
        ("Rattachée à", "parent", False),
    ],
    "Axes": [
        ("Numéro", "number", True),
        ("Intitulé", "title", True),
        ("Thème du diagnostic", "theme", False),
    ],
    "Diagnostic": [("Axe", "axis", True), ("Nature", "kind", True), ("Constat", "text", True)],
    "Fiches": [
        ("Numéro", "number", True),
        ("Axe", "axis", True),
        ("Intitulé (synoptique)", "title", True),
        ("Nom de l'action (fiche)", "fiche_title", True),
        ("Pilotage", "pilotage", False),
        ("Pilotes", "pilots", False),
        ("Statut", "status", False),
        ("Avancement (%)", "progress", False),
    ],
    "Étapes": [
        ("Fiche", "fiche", True),
        ("Niveau", "level", False),
        ("Étape", "text", True),
        ("Commune", "commune", False),
        ("Réalisée", "done", False),
    ],
    "Partenaires": [
        ("Fiche", "fiche", True),
        ("Partenaire", "name", True),
        ("Rôle", "role", False),
        ("Organisation", "organisation", False),
    ],
    "Conditions": [("Fiche", "fiche", True), ("Condition", "text", True)],
    "Calendrier": [
        ("Fiche", "fiche", True),
        ("Période", "label", True),
        ("Ce qui est prévu", "description", False),
        ("Début", "start", False),
        ("Fin", "end", False),
    ],
    "Indicateurs": [
        ("Fiche", "fiche", True),
        ("Indicateur", "name", True),
        ("Unité", "unit", False),
        ("Valeur de référence", "baseline", False),
        ("Cible", "target", False),
        ("Année", "year", False),
        ("Valeur", "value", False),
        ("Commentaire", "comment", False),
    ],
    "Notes": [
        ("Fiche", "fiche", True),
        ("Date", "date", True),
        ("Nature", "kind", False),
        ("Auteur", "author", False),
        ("Note", "text", True),
    ],
}
OPTIONAL_SHEETS = {
    "Organisations",
    "Diagnostic",
    "Indicateurs",
    "Notes",
    "Communes",
    "Conditions",
    "Partenaires",
}

README = [
    "Modèle de plan d'action CTG — Suivi CTG",
    "",
    "Remplissez une feuille par partie du plan ; la première ligne de chaque feuille porte les noms",
    "des colonnes : ne les modifiez pas. Les colonnes marquées * sont obligatoires.",
    "",
    "Plan : identifiant (minuscules, chiffres, tirets, ex. val-aigo), titre, territoire, années,",
    "  nom du premier niveau (Axe, Enjeu, Orientation…), signataires séparés par des points-virgules.",
    "Communes : les communes du territoire et leur code INSEE.",
    "Organisations : les organisations citées (Type : EPCI, Commune, CAF, Département, État,",
    "  Association, Autre) ; « Rattachée à » nomme une autre organisation de la liste.",
    "Axes : numéro, intitulé, thème du diagnostic. Diagnostic : Axe, Nature (Force ou Point de",
    "  vigilance), Constat.",
    "Fiches : numéro dans tout le plan (1, 2, 3…), numéro de l'axe, intitulé du synoptique, nom",
    "  de l'action dans la fiche, pilotage tel qu'écrit, pilotes (organisations, séparées par ;),",
    "  statut (À venir, En cours, Réalisée, En pause, Abandonnée), avancement de 0 à 100.",
    "Étapes : dans l'ordre de la fiche. Niveau 2 = sous-étape de l'étape de niveau 1 qui précède",
    "  (par exemple les étapes d'une commune). Commune : si l'étape concerne une commune.",
    "  Réalisée : oui ou non.",
    "Partenaires : nom tel qu'écrit, rôle, et l'organisation correspondante si elle est connue.",
    "Calendrier : la période telle qu'écrite (« Début 2024 », « Rentrée 2025 », « 2026 »,",
    "  « En cours »…). Laissez Début et Fin vides : elles sont déduites de la période quand",
    "  c'est possible (dates au format JJ/MM/AAAA sinon).",
    "Indicateurs : une ligne par valeur annuelle (Année, Valeur, Commentaire).",
    "Notes : date, nature (Suivi, Réalisation, Difficulté, Perspective), auteur, texte.",
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
                    _date(note["date"]),
                    notes_labels.get(note.get("kind"), "Suivi"),
                    note.get("author"),
                    note["text"],
                ]
                for note in a.get("notes", [])
            ]
    for title, columns in SHEETS.items():
        sheet = _sheet(workbook, title, columns, rows[title])
        for column in ("Début", "Fin", "Date"):
            for index, (header, _, _) in enumerate(columns, start=1):
                if header == column:
                    for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                        cell.number_format = "DD/MM/YYYY"
                        cell.alignment = Alignment(horizontal="left")
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


# ---------------------------------------------------------------------------
# Reading


@dataclass
class Parsed:
    data: dict[str, Any]
    origins: dict[str, str] = field(default_factory=dict)  # JSON path → "feuille « X », ligne N, colonne C"
    rows: int = 0

    def where(self, path: str) -> str | None:
        """The cell a JSON path came from: the longest known prefix of the path."""
        while path:
            if path in self.origins:
                return self.origins[path]
            path = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", path)
        return None


def _check_container(content: bytes) -> None:
    if len(content) > MAX_BYTES:
        raise SpreadsheetError(
            [f"Fichier trop volumineux : {len(content) / 1024 / 1024:.1f} Mo pour 5 Mo au plus."]
        )
    if content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise SpreadsheetError(
            [
                "Ce fichier est chiffré (protégé par un mot de passe) ou au format Excel 97-2003 (.xls) : "
                "enregistrez-le sans mot de passe au format .xlsx."
            ]
        )
    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise SpreadsheetError(["Ce fichier n'est pas un classeur Excel (.xlsx)."])
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        infos = archive.infolist()
        # A few megabytes of zip can hold gigabytes of XML: measure before reading anything.
        unpacked = sum(info.file_size for info in infos)
        if unpacked > MAX_UNPACKED_BYTES:
            raise SpreadsheetError(
                [f"Classeur refusé : décompressé, il ferait {unpacked // 1024 // 1024} Mo (50 Mo au plus)."]
            )
        names = {info.filename for info in infos}
        types = (
            archive.read("[Content_Types].xml").decode("utf-8", "replace")
            if "[Content_Types].xml" in names
            else ""
        )
    if any(name.lower().endswith("vbaproject.bin") for name in names) or "macroEnabled" in types:
        raise SpreadsheetError(
            ["Ce classeur contient des macros (.xlsm) : enregistrez-le au format .xlsx, sans macros."]
        )
    if "xl/workbook.xml" not in names:
        raise SpreadsheetError(["Ce fichier n'est pas un classeur Excel (.xlsx)."])
    _count_rows(content, sorted(name for name in names if name.startswith("xl/worksheets/")))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    # The template neutralises formula-like text with a leading quote: remove it on the way back.
    if text.startswith("'") and text[1:2] in ("=", "+", "-", "@"):
        text = text[1:]
    return text


def data_from_workbook(content: bytes) -> Parsed:
    """Read the template into a ctg-plan/1 document. Errors name their sheet, row and column."""
    try:
        return _data_from_workbook(content)
    except SpreadsheetError:
        raise
    except Exception as exc:  # noqa: BLE001 - read-only workbooks parse their XML lazily
        raise SpreadsheetError(
            [f"Ce classeur Excel est endommagé ou incomplet et ne peut pas être lu ({type(exc).__name__})."]
        ) from exc


def _count_rows(content: bytes, sheets: list[str]) -> None:
    """Refuse a workbook of more than MAX_ROWS rows, counted while reading the sheets' XML and
    stopping at the first row too many: the size a sheet declares (<dimension>) may be missing
    or false, and openpyxl, without it, reads the whole sheet before giving us a row (21.8 s
    and 357 MB for 300,000 rows)."""
    seen = 0
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in sheets:
            if not name.endswith(".xml"):
                continue
            with archive.open(name) as stream:
                try:
                    for _, element in DefusedET.iterparse(stream, events=("start",), forbid_dtd=True):
                        if element.tag.endswith("}row") or element.tag == "row":
                            seen += 1
                            if seen > MAX_ROWS:
                                raise SpreadsheetError([f"Trop de lignes : plus de {MAX_ROWS} au total."])
                except DefusedET.ParseError as exc:
                    raise SpreadsheetError(
                        ["Ce classeur Excel est endommagé ou incomplet et ne peut pas être lu."]
                    ) from exc


def _data_from_workbook(content: bytes) -> Parsed:
    _check_container(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - whatever openpyxl trips on, the answer is the same
        raise SpreadsheetError(
            [f"Ce classeur Excel est endommagé ou incomplet et ne peut pas être lu ({type(exc).__name__})."]
        ) from exc

    errors: list[str] = []
    parsed = Parsed(data={"format": "ctg-plan/1", "plan": {}, "axes": []})

    def cell_name(sheet, row, column):
        return f"feuille « {sheet} », ligne {row}, colonne {column}"

    # -- Plan: two columns, field / value.
    plan = parsed.data["plan"]
    if "Plan" not in workbook.sheetnames:
        errors.append("Feuille « Plan » manquante.")
    else:
        values = {}
        for index, row in enumerate(workbook["Plan"].iter_rows(min_row=2, values_only=True), start=2):
            if row and row[0]:
                values[_text(row[0]).rstrip(" *")] = (row[1] if len(row) > 1 else None, index)
        for header, key, required in PLAN_FIELDS:
            value, row = values.get(header, (None, None))
            where = cell_name("Plan", row, "B") if row else "feuille « Plan »"
            parsed.origins[f"plan.{key}"] = where
            text = _text(value)
            if not text:
                if required:
                    errors.append(
                        f"{where} : « {header} » est obligatoire."
                        if row
                        else f"{where} : ligne « {header} » manquante."
                    )
                continue
            if key in ("start_year", "end_year"):
                if not re.fullmatch(r"\d{4}", text):
                    errors.append(
                        f"{where} : « {header} » doit être une année sur 4 chiffres (trouvé : « {text} »)."
                    )
                    continue
                plan[key] = int(text)
            elif key == "signatories":
                plan[key] = [part.strip() for part in text.split(";") if part.strip()]
            else:
                plan[key] = text

    # -- The other sheets: headers on the first row.
    tables: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for title, columns in SHEETS.items():
        if title not in workbook.sheetnames:
            if title not in OPTIONAL_SHEETS:
                errors.append(f"Feuille « {title} » manquante.")
            tables[title] = []
            continue
        rows = workbook[title].iter_rows(values_only=True)
        header_row = next(rows, ()) or ()
        headers = {_text(h).rstrip(" *").lower(): i for i, h in enumerate(header_row) if _text(h)}
        positions, missing = {}, []
        for header, key, _ in columns:
            if header.lower() in headers:
                positions[key] = headers[header.lower()]
            else:
                missing.append(header)
        if missing:
            errors.append(f"Feuille « {title} » : colonne(s) manquante(s) : {', '.join(missing)}.")
            tables[title] = []
            continue
        letters = {key: get_column_letter(i + 1) for key, i in positions.items()}
        table = []
        for index, row in enumerate(rows, start=2):
            if not row or all(v is None or _text(v) == "" for v in row):
                continue
            record = {key: (row[i] if i < len(row) else None) for key, i in positions.items()}
            record["_where"] = {key: cell_name(title, index, letters[key]) for key in positions}
            record["_row"] = f"feuille « {title} », ligne {index}"
            for header, key, required in columns:
                if required and _text(record[key]) == "":
                    errors.append(f"{record['_where'][key]} : « {header} » est obligatoire.")
            table.append((index, record))
        tables[title] = table
        parsed.rows += len(table)

    def integer(record, key, header):
        text = _text(record[key])
        if text == "":
            return None
        if not re.fullmatch(r"-?\d+", text):
            errors.append(
                f"{record['_where'][key]} : « {header} » doit être un nombre entier (trouvé : « {text} »)."
            )
            return None
        return int(text)

    def number(record, key, header):
        value = record[key]
        if value is None or _text(value) == "":
            return None
        if isinstance(value, (int, float)):
            return int(value) if float(value).is_integer() else float(value)
        text = _text(value).replace("\u202f", "").replace(" ", "").replace(",", ".")
        try:
            result = float(text)
        except ValueError:
            errors.append(
                f"{record['_where'][key]} : « {header} » doit être un nombre (trouvé : « {_text(value)} »)."
            )
            return None
        return int(result) if result.is_integer() else result

    def a_date(record, key, header):
        value = record[key]
        if value is None or _text(value) == "":
            return None
        if isinstance(value, datetime.datetime):
            return value.date().isoformat()
        if isinstance(value, datetime.date):
            return value.isoformat()
        text = _text(value)
        for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
            try:
                return datetime.datetime.strptime(text, pattern).date().isoformat()
            except ValueError:
                continue
        errors.append(f"{record['_where'][key]} : date « {text} » invalide (attendu JJ/MM/AAAA).")
        return None

    def choice(record, key, header, labels, default):
        text = _text(record[key])
        if text == "":
            return default
        value = labels.get(text.lower())
        if value is None:
            allowed = ", ".join(
                label[:1].upper() + label[1:] for label in labels if label not in labels.values()
            )
            errors.append(
                f"{record['_where'][key]} : « {text} » n'est pas possible pour « {header} » ({allowed})."
            )
        return value or default

    plan["communes"] = []
    for _, r in tables["Communes"]:
        parsed.origins[f"plan.communes[{len(plan['communes'])}]"] = r["_row"]
        plan["communes"].append(
            {"name": _text(r["name"]), "insee": _text(r["insee"]).zfill(5) if _text(r["insee"]) else None}
        )
    plan["organisations"] = []
    for _, r in tables["Organisations"]:
        parsed.origins[f"plan.organisations[{len(plan['organisations'])}]"] = r["_row"]
        plan["organisations"].append(
            {
                "name": _text(r["name"]),
                "short_name": _text(r["short_name"]) or None,
                "kind": choice(r, "kind", "Type", KIND_LABELS, "other"),
                "insee": _text(r["insee"]).zfill(5) if _text(r["insee"]) else None,
                "parent": _text(r["parent"]) or None,
            }
        )

    axes: dict[int, dict] = {}
    for _, r in tables["Axes"]:
        number_ = integer(r, "number", "Numéro")
        if number_ is None:
            continue
        if number_ in axes:
            errors.append(f"{r['_where']['number']} : l'axe {number_} apparaît deux fois.")
            continue
        i = len(axes)
        parsed.origins[f"axes[{i}]"] = r["_row"]
        parsed.origins[f"axes[{i}].title"] = r["_where"]["title"]
        axes[number_] = {
            "number": number_,
            "title": _text(r["title"]),
            "diagnostic": {"theme": _text(r["theme"]), "strengths": [], "watch_points": []},
            "actions": [],
        }
    for _, r in tables["Diagnostic"]:
        number_ = integer(r, "axis", "Axe")
        kind = FINDINGS.get(_text(r["kind"]).lower())
        if number_ is not None and number_ not in axes:
            errors.append(f"{r['_where']['axis']} : axe {number_} inconnu (absent de la feuille « Axes »).")
        elif kind is None and _text(r["kind"]):
            errors.append(
                f"{r['_where']['kind']} : « {_text(r['kind'])} » : indiquez Force ou Point de vigilance."
            )
        elif number_ is not None and kind:
            axes[number_]["diagnostic"][kind].append(_text(r["text"]))

    fiches: dict[int, dict] = {}
    for _, r in tables["Fiches"]:
        number_ = integer(r, "number", "Numéro")
        axis_number = integer(r, "axis", "Axe")
        if number_ is None or axis_number is None:
            continue
        if number_ in fiches:
            errors.append(
                f"{r['_where']['number']} : la fiche n° {number_} apparaît deux fois "
                "dans la feuille « Fiches »."
            )
            continue
        if axis_number not in axes:
            errors.append(
                f"{r['_where']['axis']} : axe {axis_number} inconnu (absent de la feuille « Axes »)."
            )
            # Kept aside, so that its steps and partners do not each report an unknown fiche.
            axis = {"actions": []}
            path = f"?.actions[{number_}]"
        else:
            axis = axes[axis_number]
            path = f"axes[{list(axes).index(axis_number)}].actions[{len(axis['actions'])}]"
        parsed.origins[path] = r["_row"]
        for key in ("number", "title", "fiche_title", "pilotage", "pilots", "status", "progress"):
            parsed.origins[f"{path}.{key}"] = r["_where"][key]
        progress = integer(r, "progress", "Avancement (%)")
        fiche = {
            "number": number_,
            "title": _text(r["title"]),
            "fiche_title": _text(r["fiche_title"]),
            "pilotage": _text(r["pilotage"]),
            "pilots": sorted(p.strip() for p in _text(r["pilots"]).split(";") if p.strip()),
            "steps": [],
            "partners": [],
            "conditions": [],
            "calendar": [],
            "status": choice(r, "status", "Statut", STATUS_LABELS, Status.PLANNED.value),
            "progress": progress if progress is not None else 0,
            "indicators": [],
            "notes": [],
            "_path": path,
        }
        axis["actions"].append(fiche)
        fiches[number_] = fiche

    def fiche_of(record):
        number_ = integer(record, "fiche", "Fiche")
        if number_ is None:
            return None
        if number_ not in fiches:
            errors.append(
                f"{record['_where']['fiche']} : fiche n° {number_} inconnue "
                "(absente de la feuille « Fiches »)."
            )
            return None
        return fiches[number_]

    for _, r in tables["Étapes"]:
        fiche = fiche_of(r)
        if fiche is None:
            continue
        level = integer(r, "level", "Niveau") or 1
        done_text = _text(r["done"]).lower()
        if done_text not in ("", YES, NO, "x", "vrai", "faux", "true", "false", "1", "0"):
            errors.append(
                f"{r['_where']['done']} : « Réalisée » attend oui ou non (trouvé : « {_text(r['done'])} »)."
            )
        step = {
            "text": _text(r["text"]),
            "commune": _text(r["commune"]) or None,
            "done": done_text in (YES, "x", "vrai", "true", "1"),
            "children": [],
        }
        if level == 2:
            if not fiche["steps"]:
                errors.append(
                    f"{r['_where']['level']} : une sous-étape (niveau 2) doit suivre "
                    "une étape de niveau 1 de la même fiche."
                )
                continue
            parent = len(fiche["steps"]) - 1
            path = f"{fiche['_path']}.steps[{parent}].children[{len(fiche['steps'][parent]['children'])}]"
            fiche["steps"][parent]["children"].append(step)
        elif level == 1:
            path = f"{fiche['_path']}.steps[{len(fiche['steps'])}]"
            fiche["steps"].append(step)
        else:
            errors.append(f"{r['_where']['level']} : « Niveau » vaut 1 (étape) ou 2 (sous-étape).")
            continue
        parsed.origins[path] = r["_row"]
        parsed.origins[f"{path}.text"] = r["_where"]["text"]
        parsed.origins[f"{path}.commune"] = r["_where"]["commune"]

    for _, r in tables["Partenaires"]:
        fiche = fiche_of(r)
        if fiche:
            path = f"{fiche['_path']}.partners[{len(fiche['partners'])}]"
            for key in ("name", "role", "organisation"):
                parsed.origins[f"{path}.{key}"] = r["_where"][key]
            fiche["partners"].append(
                {
                    "name": _text(r["name"]),
                    "role": _text(r["role"]) or None,
                    "organisation": _text(r["organisation"]) or None,
                }
            )
    for _, r in tables["Conditions"]:
        fiche = fiche_of(r)
        if fiche:
            parsed.origins[f"{fiche['_path']}.conditions[{len(fiche['conditions'])}]"] = r["_where"]["text"]
            fiche["conditions"].append(_text(r["text"]))
    for _, r in tables["Calendrier"]:
        fiche = fiche_of(r)
        if fiche:
            path = f"{fiche['_path']}.calendar[{len(fiche['calendar'])}]"
            parsed.origins[path] = r["_row"]
            for key in ("label", "description", "start", "end"):
                parsed.origins[f"{path}.{key}"] = r["_where"][key]
            entry = {"label": _text(r["label"]), "description": _text(r["description"]) or None}
            start, end = a_date(r, "start", "Début"), a_date(r, "end", "Fin")
            if start or end:  # given dates are kept; otherwise the label's period is computed
                entry["start"], entry["end"] = start, end
            fiche["calendar"].append(entry)
    for _, r in tables["Indicateurs"]:
        fiche = fiche_of(r)
        if fiche is None:
            continue
        name = _text(r["name"])
        indicator = next((i for i in fiche["indicators"] if i["name"] == name), None)
        if indicator is None:
            path = f"{fiche['_path']}.indicators[{len(fiche['indicators'])}]"
            for key in ("name", "unit", "baseline", "target"):
                parsed.origins[f"{path}.{key}"] = r["_where"][key]
            indicator = {
                "name": name,
                "unit": _text(r["unit"]) or None,
                "baseline": number(r, "baseline", "Valeur de référence"),
                "target": number(r, "target", "Cible"),
                "values": [],
                "_path": path,
            }
            fiche["indicators"].append(indicator)
        year = integer(r, "year", "Année")
        if year is not None:
            value = number(r, "value", "Valeur")
            if value is None:
                errors.append(f"{r['_where']['value']} : la valeur de l'année {year} manque.")
                continue
            path = f"{indicator['_path']}.values[{len(indicator['values'])}]"
            parsed.origins[path] = r["_row"]
            parsed.origins[f"{path}.year"] = r["_where"]["year"]
            indicator["values"].append({"year": year, "value": value, "comment": _text(r["comment"]) or None})
    for _, r in tables["Notes"]:
        fiche = fiche_of(r)
        if fiche:
            path = f"{fiche['_path']}.notes[{len(fiche['notes'])}]"
            for key in ("date", "text", "author"):
                parsed.origins[f"{path}.{key}"] = r["_where"][key]
            fiche["notes"].append(
                {
                    "date": a_date(r, "date", "Date") or "",
                    "kind": choice(r, "kind", "Nature", NOTE_LABELS, NoteKind.FOLLOW_UP.value),
                    "text": _text(r["text"]),
                    "author": _text(r["author"]) or None,
                }
            )

    for fiche in fiches.values():
        del fiche["_path"]
        for indicator in fiche["indicators"]:
            del indicator["_path"]
    parsed.data["axes"] = list(axes.values())
    if errors:
        raise SpreadsheetError(errors)
    return parsed


def read_document(filename: str, content: bytes) -> dict[str, Any]:
    """A plan file, JSON (ctg-plan/1) or xlsx (the template), read and validated.

    Raises PlanFormatError listing every problem; for a workbook each names its cell."""
    from actions.plan_io import open_format

    if filename.lower().endswith(".json"):
        return open_format.load(content)
    if not filename.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods", ".csv")) and content[:2] != b"PK":
        raise PlanFormatError(["Format non reconnu : envoyez le modèle Excel (.xlsx) ou un fichier JSON."])
    try:
        parsed = data_from_workbook(content)
    except SpreadsheetError as exc:
        raise PlanFormatError(exc.errors) from exc
    located = []
    for error in open_format.validate(parsed.data):
        path, _, message = error.partition(" : ")
        where = parsed.where(path)
        located.append(f"{where} : {message}" if where else error)
    if located:
        raise PlanFormatError(located)
    return parsed.data
