"""The errors of reading a plan file, shared by the open format (JSON) and the spreadsheet."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CellError:
    """One problem of a file, located when it can be: sheet, row (as the spreadsheet numbers
    it) and column letter."""

    message: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    @property
    def where(self) -> str:
        if self.sheet is None:
            return ""
        text = f"feuille « {self.sheet} »"
        if self.row is not None:
            text += f", ligne {self.row}"
        if self.column is not None:
            text += f", colonne {self.column}"
        return text

    def __str__(self) -> str:
        return f"{self.where} : {self.message}" if self.sheet else self.message


def _texts(errors) -> tuple[list[str], list[CellError]]:
    cells = [e if isinstance(e, CellError) else CellError(str(e)) for e in errors]
    return [str(e) for e in cells], cells


class PlanFormatError(Exception):
    """A plan file that cannot be imported. `errors` lists every problem, in French; `cells`
    the same as CellError, located for a workbook."""

    def __init__(self, errors):
        self.errors, self.cells = _texts(errors)
        super().__init__("\n".join(self.errors))


class SpreadsheetError(Exception):
    """A workbook that cannot be read; `errors` lists every problem, in French, `cells` the
    same as CellError."""

    def __init__(self, errors):
        self.errors, self.cells = _texts(errors)
        super().__init__("\n".join(self.errors))
