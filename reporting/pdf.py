"""PDF rendering with WeasyPrint: our static files only, never the network nor other files
(reporting/pdf_fetcher.py).

WeasyPrint is imported on the first PDF, not with this module: loading it (Pango through cffi)
costs about 0.8 s of CPU, which every command (migrate, collectstatic, check), every web worker
and every task worker would otherwise pay at start through the URLconf, PDF or not."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string

STATIC = (Path(settings.BASE_DIR) / "static").resolve()


def render_pdf(template: str, context: dict) -> bytes:
    from weasyprint import HTML

    from reporting.pdf_fetcher import StaticOnlyFetcher

    html = render_to_string(template, context)
    return HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=StaticOnlyFetcher()).write_pdf()
