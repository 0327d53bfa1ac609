"""The Nu HTML Checker (vnu, the W3C's validator) on every page and htmx fragment, for the roles
that see different markup (issue 12): 0 errors, apart from htmx's `hx-*` attributes, which HTML
does not know. scripts/test fetches vnu.jar (npm's vnu-jar) and runs it with the machine's Java.

The pages are those a person reaches: the plan's pages, the fiche page with each of its forms
opened on demand (the full page without JavaScript, the fragment with htmx), the answer of an
in-place write, the meeting and member pages, the import, the account and the public pages, and
the pages documents add or change (in the same run of the checker: one start of Java).
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.every_page import FRAGMENT, document_pages, every_page

VNU_JAR = os.environ.get("VNU_JAR", "")
# htmx's attributes are not HTML's: the only errors we accept (issue 12).
HTMX_ATTRIBUTE = "Attribute “hx-"


def checker():
    if not VNU_JAR:
        pytest.skip("VNU_JAR n'est pas défini (scripts/test le télécharge et le définit)")
    jar = Path(VNU_JAR)
    assert jar.is_file(), f"VNU_JAR désigne un fichier absent : {jar}"
    java = shutil.which("java")
    assert java, "Java est nécessaire pour vnu (scripts/test l'installe)"
    # One short run: the JIT's first tier only, which starts the checker on half the CPU (the
    # optimising compiler's threads would work for a run that ends before it pays back).
    return [java, "-Xss4m", "-XX:TieredStopAtLevel=1", "-jar", str(jar)]


def vnu_errors(command, documents: dict[str, str], folder: Path) -> dict[str, list[str]]:
    """{name: [error, …]} for the documents vnu finds fault with (one run of the checker)."""
    files = {}
    for index, (name, html) in enumerate(documents.items()):
        path = folder / f"{index:03d}.html"
        path.write_text(html, encoding="utf-8")
        files[path.name] = name
    result = subprocess.run(  # noqa: S603 (our own command line: java and the jar scripts/test fetched)
        [
            *command,
            "--format",
            "json",
            "--errors-only",
            "--exit-zero-always",
            *map(str, folder.glob("*.html")),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    errors: dict[str, list[str]] = {}
    for message in messages:
        if message.get("type") != "error" or HTMX_ATTRIBUTE in message.get("message", ""):
            continue
        url = message.get("url", "")
        name = files.get(url.rsplit("/", 1)[-1], url)
        errors.setdefault(name, []).append(f"l. {message.get('lastLine')} : {message['message']}")
    return errors


# Two documents the checker must judge as written: the run and its reading do find errors, and
# let only htmx's attributes through. Checked in the same run as the pages (one start of Java).
SENTINELS = {
    "témoin : id en double": FRAGMENT.format('<p id="a">1</p><p id="a">2</p>'),
    "témoin : htmx": FRAGMENT.format('<button type="button" hx-post="/x/" hx-target="#a">Envoyer</button>'),
}


@pytest.fixture
def documents(val_aigo, client, settings, tmp_path_factory):
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return {**every_page(client, val_aigo), **document_pages(client, val_aigo)}


def test_every_page_and_fragment_passes_the_html_checker(documents, tmp_path):
    errors = vnu_errors(checker(), {**SENTINELS, **documents}, tmp_path)
    sentinels = {name: errors.pop(name) for name in SENTINELS if name in errors}
    assert list(sentinels) == ["témoin : id en double"], sentinels
    assert "Duplicate ID" in sentinels["témoin : id en double"][0]
    report = "\n".join(f"{name}\n  " + "\n  ".join(lines) for name, lines in errors.items())
    assert not errors, report
