"""PDF rendering with WeasyPrint: local resources only, never the network."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher


def render_pdf(template: str, context: dict) -> bytes:
    """Render a template to PDF. Stylesheets, fonts and images come from static/ or inline
    data: URLs; any other URL is refused, so a report never waits on (or leaks to) the network."""
    html = render_to_string(template, context)
    fetcher = URLFetcher(allowed_protocols={"file", "data"})
    base_url = (settings.BASE_DIR / "static").as_uri() + "/"
    return HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()
