"""Production settings and the headers every response carries; the health endpoint."""

import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_has_no_warning_with_production_settings():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEBUG", "PYTEST", "SECURE_"))}
    env.update(CTG_ENV="production", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="ctg.example.fr")
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_SETTINGS_MODULE"}}
    env.update(CTG_ENV="production")
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "SECRET_KEY doit être défini en production." in result.stderr


def test_security_headers_on_a_real_page(reader_client, val_aigo):
    response = reader_client.get(reverse("plan_detail", args=["val-aigo"]))
    assert response.status_code == 200
    csp = dict(
        (directive.split(" ", 1) + [""])[:2] for directive in response["Content-Security-Policy"].split("; ")
    )
    assert csp["default-src"] == csp["script-src"] == csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert (
        "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
    )
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"""\s(on[a-z]+|hx-on[:\w-]*|style)\s*=""", re.IGNORECASE)


@pytest.mark.parametrize("path", sorted((ROOT / "templates").rglob("*.html")), ids=lambda p: p.name)
def test_templates_hold_nothing_the_policy_refuses(path):
    """The Content-Security-Policy refuses inline scripts, inline styles and event attributes:
    the page would silently lose them. PDF templates are rendered by WeasyPrint, not a browser."""
    if "pdf" in path.parts:
        pytest.skip("rendered by WeasyPrint")
    text = path.read_text()
    assert not INLINE_SCRIPT.search(text), "un <script> en ligne : le mettre dans static/js/"
    assert not INLINE_HANDLER.search(text), "style= ou on…= en ligne : le mettre dans static/"


@pytest.mark.parametrize(
    "url",
    [
        "/plans/val-aigo/",
        "/plans/val-aigo/fiches/",
        "/plans/val-aigo/fiches/12/",
        "/plans/val-aigo/tableau-de-bord/",
        "/plans/val-aigo/rapports/",
    ],
)
def test_pages_as_served_hold_nothing_the_policy_refuses(reader_client, val_aigo, url):
    page = reader_client.get(url).text
    assert not INLINE_SCRIPT.search(page)
    assert not INLINE_HANDLER.search(page)


def test_health_is_public_and_says_all_is_well(client, db):
    response = client.get("/sante/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True, "message": "Base de données joignable."}
    assert body["checks"]["migrations"]["message"] == "Toutes les migrations sont appliquées."
    assert body["checks"]["worker"]["ok"] is True
    assert "no-cache" in response["Cache-Control"]


def test_health_is_503_when_a_task_waits_too_long(client, db, settings):
    # A queued task as the database backend writes it (the worker would run it).
    DBTaskResult.objects.create(
        task_path="reporting.tasks.generate_report",
        args_kwargs={"args": [0], "kwargs": {}},
        backend_name="default",
        run_after=timezone.now(),
    )
    settings.HEALTH_MAX_TASK_WAIT = 300
    assert client.get("/sante/").status_code == 200  # just queued: the worker has time
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(minutes=12))
    response = client.get("/sante/")
    assert response.status_code == 503
    worker = response.json()["checks"]["worker"]
    assert worker["ok"] is False
    assert worker["message"] == (
        "Une tâche attend depuis 12 min : le worker (manage.py db_worker) ne traite plus la file."
    )
    assert response.json()["status"] == "erreur"


def test_health_is_503_with_unapplied_migrations(client, db, monkeypatch):
    class Pending:
        app_label, name = "partners", "0099_future"

    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [(Pending, False)])
    response = client.get("/sante/")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == {
        "ok": False,
        "message": "Migrations non appliquées : partners.0099_future.",
    }
