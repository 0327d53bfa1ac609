"""The production mode, for real: scripts/serve (migrate, collectstatic, gunicorn, the worker)
against the test PostgreSQL, read through HTTP as the reverse proxy would pass it on; and two
workers sharing one queue.

Selected with `-m production`; they need PostgreSQL (several processes share the database).
"""

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import global_settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

from axes.models import Role
from reporting.models import GeneratedReport, ReportStatus
from reporting.tasks import generate_report
from tests.factories import ActionFactory, AxisFactory, PlanFactory, UserFactory, grant

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.production,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="plusieurs processus : PostgreSQL"),
]


@pytest.fixture(autouse=True)
def real_password_hashing(settings):
    """The server checks passwords with the production settings' hashers, not the suite's fast one."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The test database, as DATABASE_URL for another process."""
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def production_env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEBUG", "PYTEST"))}
    env.update(
        CTG_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=database_url(),
        ALLOWED_HOSTS="127.0.0.1",
        **extra,
    )
    return env


class Browser:
    """Just enough of a browser behind the TLS proxy: sends X-Forwarded-Proto (the proxy's word
    that the visitor came over HTTPS), keeps cookies (Secure ones too) and sends Origin."""

    def __init__(self, port: int, *, https: bool = True):
        self.port, self.https, self.cookies = port, https, {}

    def request(self, method: str, path: str, data: dict | None = None):
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.https:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://127.0.0.1:{self.port}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response, content

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, data: dict):
        return self.request("POST", path, data)


@pytest.fixture
def production_server(tmp_path):
    port = free_port()
    env = production_env(
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        STATIC_ROOT=str(tmp_path / "static"),
    )
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen(  # noqa: S603
        [str(ROOT / "scripts" / "serve")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(f"scripts/serve s'est arrêté :\n{log.read()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"scripts/serve ne répond pas :\n{log.read()}")
                time.sleep(0.2)
        yield port
    finally:
        # The script traps SIGTERM and stops gunicorn and the worker it started.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def test_production_mode_serves_pages_static_files_and_sign_in(production_server):
    plan = PlanFactory(territory="CC des Coteaux du Girou")
    ActionFactory(axis=AxisFactory(plan=plan), title="Ouvrir un lieu d'accueil enfants-parents")
    grant(UserFactory(username="claire", password="un-mot-de-passe-solide"), plan, Role.COORDINATOR)
    browser = Browser(production_server)

    response, content = browser.get("/connexion/")
    page = content.decode()
    assert response.status == 200 and "<h1>Connexion</h1>" in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "camera=()" in response.headers["Permissions-Policy"]

    # The stylesheet, collected with a hashed name and served by WhiteNoise, cached for good.
    stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page).group(1)
    response, content = browser.get(stylesheet)
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/css")
    assert "immutable" in response.headers["Cache-Control"] and b".htmx-indicator" in content

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response, _ = browser.post(
        "/connexion/",
        {"username": "claire", "password": "un-mot-de-passe-solide", "csrfmiddlewaretoken": token},
    )
    assert response.status == 302, response.status
    response, content = browser.get(f"/plans/{plan.slug}/")
    assert response.status == 200
    assert "CC des Coteaux du Girou" in content.decode()

    # Plain HTTP is sent to HTTPS, except the health endpoint that load balancers probe.
    plain = Browser(production_server, https=False)
    response, _ = plain.get("/connexion/")
    assert response.status == 301 and response.headers["Location"].startswith("https://")
    response, content = plain.get("/sante/")
    assert response.status == 200 and b'"status": "ok"' in content


def test_two_workers_make_each_report_exactly_once():
    # The bilan of a plan without fiches: the workers' claims are under test here, not the
    # report's content (tests/reporting); its three pages cost a third of the two-fiche dossier's
    # seven, and shorter tasks make the workers' claims meet more often.
    plan = PlanFactory()
    reports = [
        GeneratedReport.objects.create(plan=plan, kind="bilan", year=2025, fingerprint=str(i))
        for i in range(20)
    ]
    for report in reports:
        generate_report.enqueue(report.pk)
    assert DBTaskResult.objects.ready().count() == 20

    env = production_env(LOG_LEVEL="WARNING")
    workers = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--worker-id", name],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in ("worker-a", "worker-b")
    ]
    logs = [worker.communicate(timeout=300)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], logs

    results = list(DBTaskResult.objects.all())
    assert len(results) == 20
    assert all(result.status == "SUCCESSFUL" for result in results), logs
    # Claimed by one worker only, and run once: the workers' logs name each task once.
    assert all(len(result.worker_ids) == 1 for result in results)
    runs = Counter(re.findall(r"Task id=(\S+) path=\S+ state=SUCCESSFUL", "\n".join(logs)))
    assert sorted(runs) == sorted(str(result.id) for result in results)
    assert set(runs.values()) == {1}
    assert set(GeneratedReport.objects.values_list("status", flat=True)) == {ReportStatus.DONE}
    assert all(report.pdf[:5] == b"%PDF-" for report in GeneratedReport.objects.all())
