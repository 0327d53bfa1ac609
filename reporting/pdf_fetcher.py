"""The only resources WeasyPrint may read for our PDFs. In its own module so that WeasyPrint
(about 0.8 s of CPU to load) is imported with the first PDF (reporting/pdf.py), not by every
command and worker through the URLconf."""

from pathlib import Path
from urllib.parse import unquote, urlparse

from weasyprint.urls import URLFetcher

from reporting.pdf import STATIC


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
