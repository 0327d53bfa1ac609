"""Load on the production mode: many people at once, each reading and writing as they would.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/ctg_bench \\
        .venv/bin/python bench/load.py [--users 50] [--seconds 60] [--think 1 3] [--workers 4]

Starts scripts/serve (gunicorn and the task worker, CTG_ENV=production) on the PostgreSQL
database named by BENCH_DATABASE_URL, which is created if needed, migrated and EMPTIED, with the
Val'Aïgo plan and one account per user (a third coordinateurs who write, the rest lecteurs).
Each simulated person signs in through the form, then until the time is up waits 1 to 3 s and
does one thing: read a fiche (40 %), the fiches list filtered (15 %), the dashboard (15 %), the
plan page (10 %), or, for coordinateurs, write a note (10 %) or change a fiche's progress
(10 %). Prints requests per second, p50 / p95 / p99 per kind and overall, the errors, and checks
that every write the server accepted is in the database. Load generator and server share this
machine's cores: compare runs, not absolute figures. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.workspace import FIXTURE, django_for_bench  # noqa: E402

PASSWORD = "charge-de-test-2026"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (WEB_CONCURRENCY)")
    return parser.parse_args()


def setup(users: int):
    """The plan and the accounts, written before the server starts."""
    from django.contrib.auth import get_user_model

    from actions.plan_io import open_format
    from axes.models import PlanRole, Role

    plan = open_format.import_plan(open_format.load(FIXTURE.read_bytes())).plan
    User = get_user_model()
    people = []
    for i in range(users):
        role = Role.COORDINATOR if i % 3 == 0 else Role.READER
        user = User.objects.create_user(
            f"charge{i}", password=PASSWORD, first_name="Charge", last_name=str(i)
        )
        PlanRole.objects.create(plan=plan, user=user, role=role)
        people.append((user.username, role == Role.COORDINATOR))
    numbers = list(plan.actions.values_list("number", flat=True))
    return plan, people, numbers


def database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_server(port: int, workers: int, static_root: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEBUG"))}
    env.update(
        CTG_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=database_url(),
        ALLOWED_HOSTS="127.0.0.1",
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY=str(workers),
        STATIC_ROOT=str(static_root),
        LOG_LEVEL="ERROR",
    )
    process = subprocess.Popen(  # noqa: S603
        [str(ROOT / "scripts" / "serve")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    from tests.test_production import Browser

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            response, _ = Browser(port).get("/connexion/")
            if response.status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.5)
    stop_server(process)
    raise SystemExit("Le serveur de production n'a pas démarré en 2 minutes.")


def stop_server(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.notes_accepted: list[str] = []
        self.progress_accepted: dict[int, int] = {}

    def record(self, kind: str, seconds: float, error: str | None = None) -> None:
        with self.lock:
            self.times[kind].append(seconds)
            if error:
                self.errors.append(f"{kind}: {error}")


def person(
    port: int, username: str, writes: bool, numbers: list[int], deadline: float, think, results: Results
):
    from tests.test_production import Browser

    rng = random.Random(username)
    browser = Browser(port)
    try:
        _, page = browser.get("/connexion/")
        token = CSRF.search(page.decode()).group(1)
        response, _ = browser.post(
            "/connexion/", {"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD}
        )
        if response.status != 302:
            results.record("connexion", 0, f"statut {response.status}")
            return
    except OSError as exc:
        results.record("connexion", 0, str(exc))
        return
    kinds = ["fiche"] * 40 + ["liste"] * 15 + ["tableau"] * 15 + ["plan"] * 10
    if writes:
        kinds += ["note"] * 10 + ["avancement"] * 10
    while time.monotonic() + think[0] < deadline:
        time.sleep(rng.uniform(*think))
        kind, number = rng.choice(kinds), rng.choice(numbers)
        start = time.perf_counter()
        try:
            if kind == "fiche":
                response, _ = browser.get(f"/plans/val-aigo/fiches/{number}/")
                ok = response.status == 200
            elif kind == "liste":
                response, _ = browser.get("/plans/val-aigo/fiches/?status=in_progress&q=parent")
                ok = response.status == 200
            elif kind == "tableau":
                response, _ = browser.get("/plans/val-aigo/tableau-de-bord/")
                ok = response.status == 200
            elif kind == "plan":
                response, _ = browser.get("/plans/val-aigo/")
                ok = response.status == 200
            else:
                _, page = browser.get(f"/plans/val-aigo/fiches/{number}/")
                token = CSRF.search(page.decode()).group(1)
                start = time.perf_counter()  # the write alone
                if kind == "note":
                    text = f"Note de charge {username} {secrets.token_hex(4)}"
                    response, _ = browser.post(
                        f"/plans/val-aigo/fiches/{number}/notes/",
                        {
                            "csrfmiddlewaretoken": token,
                            "date": "2026-11-30",
                            "kind": "follow_up",
                            "text": text,
                        },
                    )
                    ok = response.status in (200, 302)
                    if ok:
                        with results.lock:
                            results.notes_accepted.append(text)
                else:
                    version = re.search(r'name="version" value="(\d+)"[^>]*>', page.decode())
                    status = "in_progress"
                    progress = rng.randint(1, 99)
                    response, _ = browser.post(
                        f"/plans/val-aigo/fiches/{number}/statut/",
                        {
                            "csrfmiddlewaretoken": token,
                            "status": status,
                            "progress": progress,
                            "version": version.group(1) if version else "1",
                        },
                    )
                    # 409: a colleague changed the fiche meanwhile: refused on purpose, not an error.
                    ok = response.status in (200, 302, 409)
                    if response.status in (200, 302):
                        with results.lock:
                            results.progress_accepted[number] = progress
            results.record(kind, time.perf_counter() - start, None if ok else f"statut {response.status}")
        except OSError as exc:
            results.record(kind, time.perf_counter() - start, str(exc))


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def main() -> int:
    args = parse_args()
    if not os.environ.get("BENCH_DATABASE_URL", "").startswith("postgres"):
        print("BENCH_DATABASE_URL doit désigner une base PostgreSQL (elle sera vidée).", file=sys.stderr)
        return 2
    with django_for_bench() as (database, engine, load_before):
        plan, people, numbers = setup(args.users)
        from tests.test_production import free_port

        port = free_port()
        with tempfile.TemporaryDirectory() as static_root:
            server = start_server(port, args.workers, Path(static_root))
            try:
                results = Results()
                deadline = time.monotonic() + args.seconds
                threads = [
                    threading.Thread(
                        target=person,
                        args=(port, username, writes, numbers, deadline, args.think, results),
                        daemon=True,
                    )
                    for username, writes in people
                ]
                started = time.monotonic()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=args.seconds + 120)
                elapsed = time.monotonic() - started
            finally:
                stop_server(server)

        from actions.models import Action, Note

        stored_notes = set(Note.objects.filter(action__plan=plan).values_list("text", flat=True))
        missing_notes = [text for text in results.notes_accepted if text not in stored_notes]
        progress = dict(Action.objects.filter(plan=plan).values_list("number", "progress"))
        # A later accepted write may have overwritten an earlier one: the last write of each fiche
        # must be there, unless another accepted write came after it (checked through the history).
        history = defaultdict(set)
        for number, value in Action.history.filter(plan_id=plan.pk).values_list("number", "progress"):
            history[number].add(value)
        missing_progress = [n for n, v in results.progress_accepted.items() if v not in history[n]]

    every = [t for samples in results.times.values() for t in samples]
    print(
        f"Charge : {args.users} personnes, pause {args.think[0]:g}–{args.think[1]:g} s, {args.seconds:g} s, "
        f"gunicorn {args.workers} workers, {engine}"
    )
    print(
        f"Machine : {os.cpu_count()} cœurs, charge {load_before:.2f} au départ, "
        f"{os.getloadavg()[0]:.2f} à la fin"
    )
    print()
    print(f"{'requête':<12}{'nombre':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for kind in sorted(results.times):
        samples = results.times[kind]
        print(
            f"{kind:<12}{len(samples):>8}{percentile(samples, 50):>10.0f}{percentile(samples, 95):>10.0f}"
            f"{percentile(samples, 99):>10.0f}"
        )
    if every:
        print(
            f"{'toutes':<12}{len(every):>8}{percentile(every, 50):>10.0f}{percentile(every, 95):>10.0f}"
            f"{percentile(every, 99):>10.0f}"
        )
    print()
    print(f"Débit : {len(every) / elapsed:.1f} requêtes/s sur {elapsed:.0f} s")
    print(
        f"Erreurs : {len(results.errors)}" + (f" ({'; '.join(results.errors[:5])})" if results.errors else "")
    )
    print(
        f"Écritures acceptées : {len(results.notes_accepted)} notes, "
        f"{len(results.progress_accepted)} fiches ; "
        f"absentes de la base : {len(missing_notes)} notes, {len(missing_progress)} avancements"
    )
    print(f"Avancement final relu : {len(progress)} fiches")
    return 1 if results.errors or missing_notes or missing_progress else 0


if __name__ == "__main__":
    sys.exit(main())
