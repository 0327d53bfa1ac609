"""The Nu HTML Checker (vnu, the W3C's validator) on every page and htmx fragment, for the roles
that see different markup (issue 12): 0 errors, apart from htmx's `hx-*` attributes, which HTML
does not know. scripts/test fetches vnu.jar (npm's vnu-jar) and runs it with the machine's Java.

The pages are those a person reaches: the plan's pages, the fiche page with each of its forms
opened on demand (the full page without JavaScript, the fragment with htmx), the answer of an
in-place write, the meeting and member pages, the import, the account and the public pages.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client

from axes.models import Role
from partners.models import Organisation
from tests.factories import DecisionFactory, MeetingFactory, UserFactory, grant

VNU_JAR = os.environ.get("VNU_JAR", "")
# htmx's attributes are not HTML's: the only errors we accept (issue 12).
HTMX_ATTRIBUTE = "Attribute “hx-"
FRAGMENT = (
    '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Fragment</title></head>'
    "<body>{}</body></html>"
)
FICHE = "/plans/val-aigo/fiches/12/"
FORMS_ON_DEMAND = [
    "pilotage",
    "etapes",
    "etapes-nouveau",
    "partenaires-nouveau",
    "conditions-nouveau",
    "calendrier-nouveau",
    "indicateurs-nouveau",
]


def checker():
    if not VNU_JAR:
        pytest.skip("VNU_JAR n'est pas défini (scripts/test le télécharge et le définit)")
    jar = Path(VNU_JAR)
    assert jar.is_file(), f"VNU_JAR désigne un fichier absent : {jar}"
    java = shutil.which("java")
    assert java, "Java est nécessaire pour vnu (scripts/test l'installe)"
    return [java, "-Xss4m", "-jar", str(jar)]


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


def get(client: Client, path: str, htmx: bool = False) -> str:
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.get(path, headers=headers)
    assert response.status_code == 200, f"{path} : {response.status_code}"
    html = response.content.decode()
    return html if html.lstrip().lower().startswith("<!doctype") else FRAGMENT.format(html)


@pytest.fixture
def documents(val_aigo, client):
    """Every page and fragment, as the people who see different markup get them."""
    villemur = Organisation.objects.get(name="Villemur-sur-Tarn")
    coordinator = grant(UserFactory(username="coordination"), val_aigo, Role.COORDINATOR)
    contributor = grant(UserFactory(username="contribution"), val_aigo, Role.CONTRIBUTOR, villemur)
    reader = grant(UserFactory(username="lecture"), val_aigo, Role.READER)
    administrator = UserFactory(username="admin", is_superuser=True, is_staff=True)
    meeting = MeetingFactory(plan=val_aigo)
    DecisionFactory(meeting=meeting, actions=[val_aigo.actions.get(number=12)])
    member = val_aigo.roles.get(user=reader).pk
    fiche = val_aigo.actions.get(number=12)
    step, partner = fiche.steps.first(), fiche.partners.first()

    found = {}
    for path in ["/connexion/", "/compte/mot-de-passe-oublie/", "/accessibilite/", "/mentions-legales/"]:
        found[f"anonyme {path}"] = get(client, path)

    client.force_login(coordinator)
    pages = [
        "/plans/val-aigo/",
        "/plans/val-aigo/fiches/",
        "/plans/val-aigo/fiches/?late=on&q=jeunesse",
        "/plans/val-aigo/mes-fiches/",
        "/plans/val-aigo/recherche/?q=mediatheque",
        "/plans/val-aigo/tableau-de-bord/",
        "/plans/val-aigo/communes/31584/",
        "/plans/val-aigo/reunions/",
        f"/plans/val-aigo/reunions/{meeting.pk}/",
        f"/plans/val-aigo/reunions/{meeting.pk}/modifier/",
        f"/plans/val-aigo/reunions/{meeting.pk}/supprimer/",
        "/plans/val-aigo/rapports/",
        "/plans/val-aigo/membres/",
        f"/plans/val-aigo/membres/{member}/retirer/",
        "/tableau-de-bord/",
        "/compte/mot-de-passe/",
        "/compte/notifications/",
        "/donnees-personnelles/",
        FICHE,
        f"{FICHE}etapes/{step.pk}/supprimer/",
    ]
    for path in pages:
        found[f"coordination {path}"] = get(client, path)
    for editing in [*FORMS_ON_DEMAND, f"etapes-{step.pk}", f"partenaires-{partner.pk}"]:
        found[f"coordination {FICHE}?modifier={editing}"] = get(client, f"{FICHE}?modifier={editing}")
        found[f"coordination htmx {FICHE}?modifier={editing}"] = get(
            client, f"{FICHE}?modifier={editing}", True
        )
    found["coordination htmx liste filtrée"] = get(client, "/plans/val-aigo/fiches/?late=on", True)
    answer = client.post(
        f"{FICHE}statut/",
        {"status": "in_progress", "progress": 40, "version": fiche.version},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    found["coordination htmx réponse au changement de statut"] = FRAGMENT.format(answer.content.decode())

    for who, user in (("contribution", contributor), ("lecture", reader)):
        client.force_login(user)
        for path in (
            "/plans/val-aigo/",
            "/plans/val-aigo/mes-fiches/",
            "/plans/val-aigo/tableau-de-bord/",
            FICHE,
        ):
            found[f"{who} {path}"] = get(client, path)

    client.force_login(administrator)
    found["administration /import/"] = get(client, "/import/")
    return found


def test_every_page_and_fragment_passes_the_html_checker(documents, tmp_path):
    errors = vnu_errors(checker(), documents, tmp_path)
    report = "\n".join(f"{name}\n  " + "\n  ".join(lines) for name, lines in errors.items())
    assert not errors, report


def test_the_checker_reports_what_it_must(tmp_path):
    """The run and its reading do find errors, and let only htmx's attributes through."""
    documents = {
        "id en double": FRAGMENT.format('<p id="a">1</p><p id="a">2</p>'),
        "htmx": FRAGMENT.format('<button type="button" hx-post="/x/" hx-target="#a">Envoyer</button>'),
    }
    errors = vnu_errors(checker(), documents, tmp_path)
    assert list(errors) == ["id en double"]
    assert "Duplicate ID" in errors["id en double"][0]
