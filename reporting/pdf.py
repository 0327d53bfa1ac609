"""PDF rendering with WeasyPrint: our static files only, never the network nor other files."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher

STATIC = (Path(settings.BASE_DIR) / "static").resolve()


class StaticOnlyFetcher(URLFetcher):
    """Serves data: URLs and files under static/, refuses everything else. User text is escaped
    in the templates; this is the second lock, should markup ever slip through."""

    def fetch(self, url, headers=None):
        parsed = urlparse(url)
        if parsed.scheme == "file":
            if not Path(unquote(parsed.path)).resolve().is_relative_to(STATIC):
                raise ValueError(f"Ressource hors de static/ refusée : {url}")
        elif parsed.scheme != "data":
            raise ValueError(f"Ressource externe refusée : {url}")
        return super().fetch(url, headers)


def render_pdf(template: str, context: dict) -> bytes:
    html = render_to_string(template, context)
    return HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=StaticOnlyFetcher()).write_pdf()
