"""The errors of reading a plan file, shared by the open format (JSON) and the spreadsheet."""

from __future__ import annotations


class PlanFormatError(Exception):
    """A plan file that cannot be imported. `errors` lists every problem, in French."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


class SpreadsheetError(Exception):
    """A workbook that cannot be read; `errors` lists every problem, in French."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors
