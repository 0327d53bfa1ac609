"""PDF rendering with WeasyPrint: our static files only, never the network nor other files.

WeasyPrint is imported on the first PDF, not with this module: loading it (Pango through cffi)
costs about 0.8 s of CPU, which every command (migrate, collectstatic, check), every web worker
and every task worker would otherwise pay at start through the URLconf, PDF or not."""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.template.loader import render_to_string

STATIC = (Path(settings.BASE_DIR) / "static").resolve()


@functools.cache
def _static_only_fetcher_class():
    from weasyprint.urls import URLFetcher

    class StaticOnlyFetcher(URLFetcher):
        """Serves data: URLs and files under static/, refuses everything else. User text is
        escaped in the templates; this is the second lock, should markup ever slip through."""

        def fetch(self, url, headers=None):
            parsed = urlparse(url)
            if parsed.scheme == "file":
                if not Path(unquote(parsed.path)).resolve().is_relative_to(STATIC):
                    raise ValueError(f"Ressource hors de static/ refusée : {url}")
            elif parsed.scheme != "data":
                raise ValueError(f"Ressource externe refusée : {url}")
            return super().fetch(url, headers)

    return StaticOnlyFetcher


def __getattr__(name: str):
    if name == "StaticOnlyFetcher":  # `from reporting.pdf import StaticOnlyFetcher` loads WeasyPrint
        return _static_only_fetcher_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def render_pdf(template: str, context: dict) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template, context)
    fetcher = _static_only_fetcher_class()()
    return HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=fetcher).write_pdf()
