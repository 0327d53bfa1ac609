"""What a PDF says, read as a person reads it: its text, whitespace folded, pages joined."""

import io

from pypdf import PdfReader


def pdf_text(content: bytes) -> str:
    return " ".join(
        " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(content)).pages).split()
    )
