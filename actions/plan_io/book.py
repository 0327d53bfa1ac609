"""A workbook, .xlsx or .ods, opened as plain rows of cell values, hostile files refused first.

Both are zip archives of XML: the same limits hold for both (5 MB sent, 50 MB unpacked, 10,000
rows, no DTD nor entity), checked before anything is parsed. The .xlsx goes through openpyxl;
the .ods (LibreOffice's own format) is read here, streaming its content.xml with defusedxml,
because odfpy builds the whole document in memory with an XML parser that does not refuse
entities.

A cell formatted as a percentage reads as text, "50 %", whichever program wrote it: the value
behind it (0.5) would otherwise read as half a percent.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from defusedxml import ElementTree as DefusedET
from openpyxl import load_workbook

from actions.plan_io.errors import SpreadsheetError

MAX_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_ROWS = 10_000
# Beyond the last column any template has: LibreOffice repeats an empty cell up to column AMJ.
MAX_COLUMNS = 64

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
DAMAGED = "Ce classeur est endommagé ou incomplet et ne peut pas être lu."
NOT_A_WORKBOOK = "Ce fichier n'est pas un classeur Excel (.xlsx) ni LibreOffice (.ods)."


@dataclass
class Book:
    """Sheet title → rows (lists of cell values: str, int, float, bool, date, datetime, None)."""

    sheets: dict[str, list[list]]
    kind: str  # "xlsx" or "ods"

    @property
    def sheetnames(self) -> list[str]:
        return list(self.sheets)


def open_book(content: bytes) -> Book:
    """The workbook's rows; SpreadsheetError (in French) for anything else."""
    kind = _check_container(content)
    try:
        return _read_ods(content) if kind == "ods" else _read_xlsx(content)
    except SpreadsheetError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the parser trips on, the answer is the same
        raise SpreadsheetError([f"{DAMAGED[:-1]} ({type(exc).__name__})."]) from exc


def _check_container(content: bytes) -> str:
    if len(content) > MAX_BYTES:
        raise SpreadsheetError(
            [f"Fichier trop volumineux : {len(content) / 1024 / 1024:.1f} Mo pour 5 Mo au plus."]
        )
    if content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise SpreadsheetError(
            [
                "Ce fichier est chiffré (protégé par un mot de passe) ou au format Excel 97-2003 (.xls) : "
                "enregistrez-le sans mot de passe au format .xlsx (ou .ods)."
            ]
        )
    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise SpreadsheetError([NOT_A_WORKBOOK])
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
            # A few megabytes of zip can hold gigabytes of XML: measure before reading anything.
            unpacked = sum(info.file_size for info in infos)
            if unpacked > MAX_UNPACKED_BYTES:
                raise SpreadsheetError(
                    [
                        f"Classeur refusé : décompressé, il ferait {unpacked // 1024 // 1024} Mo "
                        "(50 Mo au plus)."
                    ]
                )
            names = {info.filename for info in infos}
            types = (
                archive.read("[Content_Types].xml").decode("utf-8", "replace")
                if "[Content_Types].xml" in names
                else ""
            )
            mimetype = archive.read("mimetype").strip() if "mimetype" in names else b""
    except zipfile.BadZipFile as exc:
        raise SpreadsheetError([DAMAGED]) from exc
    if any(name.lower().endswith("vbaproject.bin") for name in names) or "macroEnabled" in types:
        raise SpreadsheetError(
            ["Ce classeur contient des macros (.xlsm) : enregistrez-le au format .xlsx, sans macros."]
        )
    if any(name.startswith(("Basic/", "Scripts/")) for name in names):
        raise SpreadsheetError(
            ["Ce classeur contient des macros : enregistrez-le au format .ods ou .xlsx, sans macros."]
        )
    if mimetype == ODS_MIMETYPE and "content.xml" in names:
        return "ods"
    if "xl/workbook.xml" not in names:
        raise SpreadsheetError([NOT_A_WORKBOOK])
    _count_xlsx_rows(content, sorted(name for name in names if name.startswith("xl/worksheets/")))
    return "xlsx"


def _too_many() -> SpreadsheetError:
    return SpreadsheetError([f"Trop de lignes : plus de {MAX_ROWS} au total."])


def _count_xlsx_rows(content: bytes, sheets: list[str]) -> None:
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
                                raise _too_many()
                except DefusedET.ParseError as exc:
                    raise SpreadsheetError([DAMAGED]) from exc


def _percent(value: float) -> str:
    figure = round(value * 100, 6)
    return f"{int(figure) if float(figure).is_integer() else figure} %"


def _read_xlsx(content: bytes) -> Book:
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    sheets = {}
    for sheet in workbook.worksheets:
        rows = []
        for row in sheet.iter_rows():
            values = []
            for cell in row[:MAX_COLUMNS]:
                value = getattr(cell, "value", None)
                number = isinstance(value, int | float) and not isinstance(value, bool)
                if number and "%" in (getattr(cell, "number_format", "") or ""):
                    value = _percent(value)
                values.append(value)
            rows.append(values)
        sheets[sheet.title] = rows
    workbook.close()
    return Book(sheets=sheets, kind="xlsx")


# --- .ods ------------------------------------------------------------------------------------

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
T_TABLE, T_ROW, T_CELL, T_COVERED = (
    f"{{{_TABLE}}}table",
    f"{{{_TABLE}}}table-row",
    f"{{{_TABLE}}}table-cell",
    f"{{{_TABLE}}}covered-table-cell",
)
T_NAME, T_ROWS_REPEATED, T_COLUMNS_REPEATED = (
    f"{{{_TABLE}}}name",
    f"{{{_TABLE}}}number-rows-repeated",
    f"{{{_TABLE}}}number-columns-repeated",
)
O_TYPE, O_VALUE = f"{{{_OFFICE}}}value-type", f"{{{_OFFICE}}}value"
O_DATE, O_BOOLEAN = f"{{{_OFFICE}}}date-value", f"{{{_OFFICE}}}boolean-value"
TX_P, TX_S, TX_TAB, TX_BREAK = (
    f"{{{_TEXT}}}p",
    f"{{{_TEXT}}}s",
    f"{{{_TEXT}}}tab",
    f"{{{_TEXT}}}line-break",
)


def _repeat(element, name: str) -> int:
    try:
        return max(1, int(element.get(name) or 1))
    except ValueError:
        return 1


def _paragraph(element) -> str:
    """The text of a text:p, its spaces (text:s), tabs and line breaks included."""
    parts = [element.text or ""]
    for child in element.iter():
        if child is element:
            continue
        if child.tag == TX_S:
            parts.append(" " * _repeat(child, f"{{{_TEXT}}}c"))
        elif child.tag == TX_TAB:
            parts.append("\t")
        elif child.tag == TX_BREAK:
            parts.append("\n")
        elif child.text and child.tag != TX_P:
            parts.append(child.text)
        if child.tail:
            parts.append(child.tail)
    return "".join(parts)


def _ods_value(cell):
    kind = cell.get(O_TYPE)
    if kind in ("float", "currency"):
        number = float(cell.get(O_VALUE))
        return int(number) if number.is_integer() and abs(number) < 1e15 else number
    if kind == "percentage":
        return _percent(float(cell.get(O_VALUE)))
    if kind == "date":
        text = cell.get(O_DATE) or ""
        return datetime.datetime.fromisoformat(text) if "T" in text else datetime.date.fromisoformat(text)
    if kind == "boolean":
        return (cell.get(O_BOOLEAN) or "").lower() == "true"
    paragraphs = [_paragraph(p) for p in cell.iter(TX_P)]
    return "\n".join(paragraphs) if paragraphs else None


def _read_ods(content: bytes) -> Book:
    """content.xml streamed: rows and cells repeated by LibreOffice (an empty row "repeated"
    a million times closes every sheet) are expanded only while they hold something."""
    sheets: dict[str, list[list]] = {}
    seen = 0
    with zipfile.ZipFile(io.BytesIO(content)) as archive, archive.open("content.xml") as stream:
        rows: list[list] | None = None
        empty = 0
        try:
            for event, element in DefusedET.iterparse(stream, events=("start", "end"), forbid_dtd=True):
                if event == "start":
                    if element.tag == T_TABLE:
                        rows = sheets.setdefault(element.get(T_NAME) or f"Feuille {len(sheets) + 1}", [])
                        empty = 0
                    continue
                if element.tag == T_ROW and rows is not None:
                    values: list = []
                    for cell in element:
                        if cell.tag not in (T_CELL, T_COVERED):
                            continue
                        value = _ods_value(cell)
                        repeat = _repeat(cell, T_COLUMNS_REPEATED)
                        free = MAX_COLUMNS - len(values)
                        values.extend([value] * min(repeat, max(free, 0)))
                    while values and values[-1] in (None, ""):
                        values.pop()
                    repeat = _repeat(element, T_ROWS_REPEATED)
                    if not values:  # kept for the numbering only if something follows
                        empty += repeat
                    else:
                        seen += empty + repeat
                        if seen > MAX_ROWS:
                            raise _too_many()
                        rows.extend([] for _ in range(empty))
                        rows.extend(list(values) for _ in range(repeat))
                        empty = 0
                    element.clear()
                elif element.tag == T_TABLE:
                    rows = None
                    element.clear()
        except DefusedET.ParseError as exc:
            raise SpreadsheetError([DAMAGED]) from exc
    return Book(sheets=sheets, kind="ods")


def rows_of(book: Book, title: str) -> Iterator[list]:
    yield from book.sheets.get(title, [])
