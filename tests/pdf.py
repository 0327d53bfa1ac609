"""What a PDF says, read as a person reads it: its text, whitespace folded, pages joined.

Read by pdftotext (poppler-utils, which scripts/test installs): pypdf parsed WeasyPrint's
content streams in Python, about a third of a second a page (over 10 s for Val'Aïgo's dossier,
read by a dozen tests), where pdftotext takes a few milliseconds."""

import subprocess
from pathlib import Path


def pdf_pages(pdf: bytes | Path, *, as_laid_out: bool = False) -> list[str]:
    """The text of each page, whitespace (narrow no-break spaces included) folded to single spaces.

    In the order the PDF draws it (pdftotext -raw, the order pypdf read), or with `as_laid_out`
    in the order pdftotext reads the page (a list's bullets before their items)."""
    content = pdf.read_bytes() if isinstance(pdf, Path) else pdf
    command = ["pdftotext", *([] if as_laid_out else ["-raw"]), "-enc", "UTF-8", "-", "-"]
    out = subprocess.run(command, input=content, capture_output=True, check=True).stdout  # noqa: S603
    # pdftotext ends every page with a form feed.
    return [" ".join(page.split()) for page in out.decode("utf-8").split("\f")[:-1]]


def pdf_text(pdf: bytes | Path, *, as_laid_out: bool = False) -> str:
    return " ".join(pdf_pages(pdf, as_laid_out=as_laid_out))
