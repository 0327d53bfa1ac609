"""How fast the coordinators' workspace answers, on Val'Aïgo and on a plan 50 times larger.

    .venv/bin/python bench/workspace.py [--rounds N] [--rounds-large N] [--scale 50]

Times, through django.test.Client (whole middleware stack, signed-in coordinator), a
trivial page of the same process, a status change, the fiches list filtered by commune
and lateness (htmx fragment and full page) and a fiche page, on both plans. Prints
median and p90 in ms, each median as a multiple of the trivial page's (the figure that
holds on a noisy machine), the ratio between the two plans and the SQL queries of each
request. See bench/README.md.

Then, on the fiche page alone: its figures with 1,000 other territories installed (plans with
their communes and a fiche piloted by one of them) against none, and on a fiche with 20,000
history rows against one with a single row (fiche page and htmx status change, each as a
multiple of the trivial page measured in the same rounds).

Never touches db.sqlite3: a temporary SQLite file by default, or the PostgreSQL database
named by BENCH_DATABASE_URL, which is created if needed, migrated and EMPTIED.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime
import gc
import json
import math
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "val-aigo.json"
HTMX = {"HTTP_HX_REQUEST": "true"}
FORM = "application/x-www-form-urlencoded"  # what htmx posts (the test client sends multipart)
TRIVIAL_URL = "/bench/trivial/"  # bench/urls.py
COMMUNE = "Villemur-sur-Tarn"
FICHE = 12  # the fiche with the most steps tied to communes, Villemur-sur-Tarn among them
WARMUP = 5
# Alternated by the status change, so that every POST really changes the fiche.
STATUSES = [("in_progress", 40), ("planned", 0)]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30, help="timed requests of each kind (default 30)")
    parser.add_argument(
        "--rounds-large", type=int, default=None, help="the same for the large plan (default: --rounds)"
    )
    parser.add_argument("--scale", type=int, default=50, help="size of the large plan, × Val'Aïgo")
    parser.add_argument("--territories", type=int, default=1000, help="other territories installed (1000)")
    parser.add_argument("--history", type=int, default=20_000, help="history rows of the busy fiche (20000)")
    args = parser.parse_args()
    if args.rounds < 1 or (args.rounds_large is not None and args.rounds_large < 1):
        parser.error("--rounds doit être au moins 1")
    if not 2 <= args.scale <= 1000:
        parser.error("--scale doit être entre 2 et 1000")
    return args


# ---------------------------------------------------------------------------
# Setup: a database of our own, the two plans, a coordinator


def configure_environment() -> tuple[str, Path | None]:
    """Point Django at the bench database; must run before settings are read.
    Returns a description of the database and the temporary directory to remove, if any."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "ctg.settings"
    os.environ["DEBUG"] = "0"  # as in production: no query log, no debug cursor
    bench_url = os.environ.get("BENCH_DATABASE_URL", "").strip()
    if bench_url:
        if not bench_url.startswith(("postgres://", "postgresql://", "pgsql://")):
            sys.exit("BENCH_DATABASE_URL doit être une URL PostgreSQL (postgresql://…).")
        if bench_url == os.environ.get("DATABASE_URL", "").strip():
            sys.exit("BENCH_DATABASE_URL est la base de DATABASE_URL : le banc la viderait. Abandon.")
        os.environ["DATABASE_URL"] = bench_url
        return "base BENCH_DATABASE_URL, vidée", None
    tmp = Path(tempfile.mkdtemp(prefix="ctg-bench-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    return "fichier temporaire", tmp


def prepare_database(emptied: bool) -> str:
    """Create (PostgreSQL) and migrate the database; empty it if it is not new."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.utils import OperationalError

    try:
        connection.ensure_connection()
    except OperationalError:
        if connection.vendor != "postgresql":
            raise
        import psycopg
        from psycopg import sql

        s = connection.settings_dict
        with psycopg.connect(
            dbname="postgres",
            user=s["USER"] or None,
            password=s["PASSWORD"] or None,
            host=s["HOST"] or None,
            port=s["PORT"] or None,
            autocommit=True,
        ) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(s["NAME"])))
        connection.ensure_connection()
    call_command("migrate", verbosity=0, interactive=False)
    if emptied:
        call_command("flush", verbosity=0, interactive=False)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


@contextlib.contextmanager
def django_for_bench():
    """What every bench script starts with and ends with: its own database (temporary SQLite
    unless BENCH_DATABASE_URL), Django set up, migrations applied; the temporary files removed
    at the end. Yields (database shown, engine shown, machine load at the start)."""
    database, tmp = configure_environment()
    load_before = os.getloadavg()[0]
    try:
        warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
        import django

        django.setup()
        yield database, prepare_database(emptied=tmp is None), load_before
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def scaled(data: dict, scale: int) -> dict:
    """Val'Aïgo `scale` times over: same axes, organisations and communes; each fiche copied
    `scale` times with new numbers (copy k of fiche n is n + k × the highest number)."""
    data = copy.deepcopy(data)
    data["plan"]["slug"] = f"val-aigo-x{scale}"
    data["plan"]["territory"] = f"{data['plan']['territory']} (×{scale})"
    offset = max(action["number"] for axis in data["axes"] for action in axis["actions"])
    for axis in data["axes"]:
        originals = axis["actions"]
        axis["actions"] = [
            {**copy.deepcopy(action), "number": action["number"] + k * offset}
            for k in range(scale)
            for action in originals
        ]
    return data


@dataclass
class PlanUnderTest:
    plan: object
    label: str
    import_seconds: float
    rounds: int
    sizes: dict = field(default_factory=dict)


def load_plans(scale: int, rounds: int, rounds_large: int) -> list[PlanUnderTest]:
    from actions.plan_io import open_format

    text = FIXTURE.read_bytes()
    start = time.perf_counter()
    small = open_format.import_plan(open_format.load(text)).plan
    small_seconds = time.perf_counter() - start
    start = time.perf_counter()
    large = open_format.import_plan(scaled(json.loads(text), scale)).plan
    large_seconds = time.perf_counter() - start
    plans = [
        PlanUnderTest(small, "Val'Aïgo", small_seconds, rounds),
        PlanUnderTest(large, f"×{scale}", large_seconds, rounds_large),
    ]
    for put in plans:
        put.sizes = plan_sizes(put.plan)
    return plans


def plan_sizes(plan) -> dict:
    from actions.models import Action, ActionPartner, CalendarEntry, Step

    return {
        "fiches": Action.objects.filter(plan=plan).count(),
        "étapes": Step.objects.filter(action__plan=plan).count(),
        "partenaires": ActionPartner.objects.filter(action__plan=plan).count(),
        "échéances": CalendarEntry.objects.filter(action__plan=plan).count(),
    }


def coordinator(plans: list[PlanUnderTest]):
    """A coordinator of both plans (what tests.factories.grant does, without factory_boy)."""
    from django.contrib.auth import get_user_model

    from axes.models import PlanRole, Role

    user, _ = get_user_model().objects.get_or_create(
        username="banc-coordinatrice", defaults={"first_name": "Claire", "last_name": "Banc"}
    )
    for put in plans:
        PlanRole.objects.update_or_create(plan=put.plan, user=user, defaults={"role": Role.COORDINATOR})
    return user


# ---------------------------------------------------------------------------
# The requests


@dataclass
class Case:
    """One kind of request. `prepare` does the untimed work (reading the current version…)
    and returns the request itself, which is what gets timed."""

    key: str
    label: str
    prepare: Callable[[], Callable[[], object]]
    samples: list[float] = field(default_factory=list)
    failures: int = 0
    queries: int = 0
    last_body: bytes = b""


def cases_for(client, plan) -> list[Case]:
    from django.urls import reverse

    from actions.models import Action
    from partners.models import Organisation

    action = Action.objects.get(plan=plan, number=FICHE)
    fiche_url = reverse("action_detail", kwargs={"slug": plan.slug, "number": FICHE})
    status_url = reverse("action_status", kwargs={"slug": plan.slug, "number": FICHE})
    list_url = reverse("action_list", kwargs={"slug": plan.slug})
    filters = {"commune": Organisation.objects.get(name=COMMUNE).pk, "late": "on"}
    turn = {"n": 0}

    def status_change():
        status, progress = STATUSES[turn["n"] % len(STATUSES)]
        turn["n"] += 1
        version = Action.objects.values_list("version", flat=True).get(pk=action.pk)
        data = {"status": status, "progress": progress, "version": version}
        headers = {**HTMX, **newest_line(action)}
        return lambda: client.post(status_url, urlencode(data), content_type=FORM, **headers)

    return [
        Case("trivial", "page triviale (GET)", lambda: lambda: client.get(TRIVIAL_URL)),
        Case("status", "changement de statut (POST htmx)", status_change),
        Case("list_htmx", "liste filtrée (GET htmx)", lambda: lambda: client.get(list_url, filters, **HTMX)),
        Case("list_page", "liste filtrée (page entière)", lambda: lambda: client.get(list_url, filters)),
        Case("fiche", f"page de la fiche n° {FICHE}", lambda: lambda: client.get(fiche_url)),
    ]


def newest_line(action) -> dict:
    """What static/js/app.js sends with each htmx request on a fiche page: the key of the
    journal's first line, so that a write answers with the lines since (read untimed)."""
    from actions.journal import journal
    from actions.views import JOURNAL_LIMIT

    lines = journal([action.pk], limit=JOURNAL_LIMIT)
    return {"HTTP_X_JOURNAL_NEWEST": lines[0].key} if lines else {}


def run_case(case: Case, *, timed: bool) -> None:
    send = case.prepare()
    start = time.perf_counter()
    response = send()
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        case.failures += 1
    if timed:
        case.samples.append(elapsed * 1000)
    case.last_body = response.content


def count_queries(case: Case) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    send = case.prepare()  # its reads (the version, the journal's first line) are not the request's
    with CaptureQueriesContext(connection) as captured:
        send()
    case.queries = len(captured)


def measure(suites: list[tuple[PlanUnderTest, list[Case]]]) -> None:
    """Warm up, then interleave: each round runs every kind of request on each plan still owed
    rounds, the two plans back to back (in turn first), so that a slow patch of the machine
    hits both alike."""
    for _, cases in suites:
        for _ in range(WARMUP):
            for case in cases:
                run_case(case, timed=False)
        for case in cases:
            case.failures = 0
    gc.collect()
    for round_number in range(max(put.rounds for put, _ in suites)):
        order = suites if round_number % 2 == 0 else suites[::-1]
        for index in range(len(suites[0][1])):
            for put, cases in order:
                if round_number < put.rounds:
                    run_case(cases[index], timed=True)
    for _, cases in suites:
        for case in cases:
            count_queries(case)


# ---------------------------------------------------------------------------
# Report


def p90(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def listed_fiches(case: Case, slug: str) -> int:
    return len(set(re.findall(rf'href="/plans/{slug}/fiches/(\d+)/"', case.last_body.decode())))


def line(cells, widths, left: int) -> str:
    """A table row: the first `left` columns aligned left, the others right."""
    return "".join(
        f"{cell:<{width}}" if i < left else f"{cell:>{width}}"
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
    ).rstrip()


# Issue 10's goals, as multiples of the trivial page (the list's is set for a 1,000-fiche plan).
GOALS = {"status": 5, "list_htmx": 5, "list_page": 5, "fiche": 10}


def goal_cell(key: str, ratio: float) -> str:
    goal = GOALS.get(key)
    if goal is None:
        return ""
    return f"≤ {goal} : {'atteint' if ratio <= goal else 'non'}"


def report(header: list[str], suites: list[tuple[PlanUnderTest, list[Case]]]) -> None:
    for text in header:
        print(text)
    for put, _ in suites:
        sizes = ", ".join(f"{n} {name}" for name, n in put.sizes.items())
        print(f"  {put.label:<9} {put.plan.slug:<14} {sizes} ; importé en {put.import_seconds:.1f} s")
    for put, cases in suites:
        shown = listed_fiches(next(c for c in cases if c.key == "list_htmx"), put.plan.slug)
        print(f"  {put.label:<9} liste « {COMMUNE} + en retard » : {shown} fiche(s) affichée(s)")
    print()

    widths = (34, 10, 4, 12, 9, 12, 10, 8, 18)
    titles = ("requête", "plan", "n", "médiane ms", "p90 ms", "× triviale", "requêtes", "échecs", "objectif")
    print(line(titles, widths, 2))
    print("-" * sum(widths))
    baseline = {put.plan.slug: statistics.median(cases[0].samples) for put, cases in suites}
    for index in range(len(suites[0][1])):
        for row, (put, cases) in enumerate(suites):
            case = cases[index]
            median = statistics.median(case.samples)
            cells = (
                case.label if row == 0 else "",
                put.label,
                len(case.samples),
                f"{median:.2f}",
                f"{p90(case.samples):.2f}",
                f"{median / baseline[put.plan.slug]:.2f}",
                case.queries,
                case.failures,
                goal_cell(case.key, median / baseline[put.plan.slug]),
            )
            print(line(cells, widths, 2))
    print()

    (small, small_cases), (large, large_cases) = suites
    widths = (34, 12, 14, 12)
    titles = (f"{large.label} / {small.label}", "médianes", "× triviale", "requêtes")
    print(line(titles, widths, 1))
    print("-" * sum(widths))
    for a, b in zip(small_cases, large_cases, strict=True):
        ma, mb = statistics.median(a.samples), statistics.median(b.samples)
        relative = (mb / baseline[large.plan.slug]) / (ma / baseline[small.plan.slug])
        print(line((a.label, f"{mb / ma:.2f}", f"{relative:.2f}", f"{a.queries} → {b.queries}"), widths, 1))


# ---------------------------------------------------------------------------
# The fiche page at scale: other territories, a long history


def fiche_cases(client, plan, number: int, label: str) -> list[Case]:
    """The trivial page, the fiche page and an htmx status change of fiche `number`."""
    from django.urls import reverse

    from actions.models import Action

    action = Action.objects.get(plan=plan, number=number)
    fiche_url = reverse("action_detail", kwargs={"slug": plan.slug, "number": number})
    status_url = reverse("action_status", kwargs={"slug": plan.slug, "number": number})
    turn = {"n": 0}

    def status_change():
        status, progress = STATUSES[turn["n"] % len(STATUSES)]
        turn["n"] += 1
        version = Action.objects.values_list("version", flat=True).get(pk=action.pk)
        data = {"status": status, "progress": progress, "version": version}
        headers = {**HTMX, **newest_line(action)}
        return lambda: client.post(status_url, urlencode(data), content_type=FORM, **headers)

    return [
        Case("trivial", f"page triviale [{label}]", lambda: lambda: client.get(TRIVIAL_URL)),
        Case("fiche", f"page de la fiche [{label}]", lambda: lambda: client.get(fiche_url)),
        Case("status", f"changement de statut [{label}]", status_change),
    ]


def run_rounds(suites: list[list[Case]], rounds: int) -> None:
    """Warm up, then interleave the suites round by round (see measure())."""
    for cases in suites:
        for _ in range(WARMUP):
            for case in cases:
                run_case(case, timed=False)
        for case in cases:
            case.failures = 0
    gc.collect()
    for round_number in range(rounds):
        order = suites if round_number % 2 == 0 else suites[::-1]
        for index in range(len(suites[0])):
            for cases in order:
                run_case(cases[index], timed=True)
    for cases in suites:
        for case in cases:
            count_queries(case)


def add_territories(count: int) -> None:
    """`count` plans of other territories, ten communes each, a fiche piloted by one of them."""
    from actions.models import Action
    from axes.models import Axis, Plan
    from partners.models import Organisation, OrganisationKind

    plans = Plan.objects.bulk_create(
        Plan(slug=f"banc-{n}", title="Plan", territory=f"CC n° {n}", start_year=2023, end_year=2027)
        for n in range(count)
    )
    communes = Organisation.objects.bulk_create(
        Organisation(name=f"Commune {n}-{k} (banc)", kind=OrganisationKind.COMMUNE)
        for n in range(count)
        for k in range(10)
    )
    Plan.communes.through.objects.bulk_create(
        Plan.communes.through(plan=p, organisation=communes[10 * n + k])
        for n, p in enumerate(plans)
        for k in range(10)
    )
    axes = Axis.objects.bulk_create(Axis(plan=p, number=1, title="Axe", theme="Thème") for p in plans)
    actions = Action.objects.bulk_create(
        Action(plan=p, axis=a, number=1, title="Fiche", fiche_title="Fiche")
        for p, a in zip(plans, axes, strict=True)
    )
    Action.pilots.through.objects.bulk_create(
        Action.pilots.through(action=a, organisation=communes[10 * n]) for n, a in enumerate(actions)
    )


def add_history(plan, number: int, rows: int) -> None:
    """`rows` history rows on fiche `number`, alternately "à venir" and "en cours"."""
    from actions.models import Action

    history = Action.history.model
    first = Action.objects.get(plan=plan, number=number).history.earliest()
    fields = {f.attname: getattr(first, f.attname) for f in history._meta.fields if f.attname != "history_id"}
    fields.update(history_type="~", history_change_reason=None)
    statuses = ["planned", "in_progress"]
    history.objects.bulk_create(
        (history(**{**fields, "status": statuses[n % 2]}) for n in range(rows)), batch_size=2000
    )


def compare(
    title: str, before: list[Case], after: list[Case], goal: float, *, same_rounds: bool = False
) -> None:
    """`goal`: the highest ratio after/before issue 10 accepts. `same_rounds`: the two were
    measured in the same interleaved rounds, so their trivial pages measure one thing: both
    are divided by the median of all those samples (on a busy machine the two trivial medians
    of one run differed by 1.7×, which the ratio then carried)."""
    widths = (44, 12, 10, 16, 12, 18)
    print(title)
    titles = ("requête", "médiane ms", "× triviale", "ratio après/avant", "requêtes", "objectif")
    print(line(titles, widths, 1))
    print("-" * sum(widths))
    base = {id(cases): statistics.median(cases[0].samples) for cases in (before, after)}
    if same_rounds:
        pooled = statistics.median(before[0].samples + after[0].samples)
        base = {id(before): pooled, id(after): pooled}
    for a, b in zip(before, after, strict=True):
        for cases, case in ((before, a), (after, b)):
            median = statistics.median(case.samples)
            ratio, verdict = "", ""
            if case is b and case.key != "trivial":
                value = (median / base[id(after)]) / (statistics.median(a.samples) / base[id(before)])
                ratio = f"{value:.2f}"
                verdict = f"≤ {goal} : {'atteint' if value <= goal else 'non'}"
            cells = (
                case.label,
                f"{median:.2f}",
                f"{median / base[id(cases)]:.2f}",
                ratio,
                case.queries,
                verdict,
            )
            print(line(cells, widths, 1))
    print()


def fiche_at_scale(client, plan, twin, args) -> None:
    """`twin`: the large plan, whose fiche n° 13 is Val'Aïgo's copied (the quiet fiche of the
    history block)."""
    from django.db import connection

    rounds = args.rounds
    before = fiche_cases(client, plan, FICHE, "1 territoire")
    run_rounds([before], rounds)
    add_territories(args.territories)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    after = fiche_cases(client, plan, FICHE, f"+{args.territories} territoires")
    run_rounds([after], rounds)
    title = f"Fiche n° {FICHE} de Val'Aïgo, {args.territories} autres territoires installés"
    compare(title, before, after, goal=1.5)

    # The same fiche twice: Val'Aïgo's n° 13 gets a long history, its copy in the large plan keeps
    # its single row. (Val'Aïgo's n° 11, measured until 2026-12-01, is a different fiche: 4-5 %
    # cheaper to draw than n° 13 with no history at all, which the ratio counted.)
    busy = 13
    add_history(plan, busy, args.history)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    short = fiche_cases(client, twin, busy, "1 ligne d'historique")
    long = fiche_cases(client, plan, busy, f"{args.history} lignes d'historique")
    run_rounds([short, long], rounds)
    compare(
        f"Historique : fiche n° {busy}, {args.history} lignes (Val'Aïgo) et 1 ligne (sa copie, {twin.slug})",
        short,
        long,
        goal=1.3,
        same_rounds=True,
    )


# ---------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    rounds_large = args.rounds_large or args.rounds
    started = time.perf_counter()
    with django_for_bench() as (database, engine, load_before):
        import django
        from django.test import Client, override_settings

        with override_settings(ROOT_URLCONF="bench.urls", ALLOWED_HOSTS=["testserver"], DEBUG=False):
            plans = load_plans(args.scale, args.rounds, rounds_large)
            anonymous = Client().get(TRIVIAL_URL)
            if anonymous.status_code != 302 or "/connexion/" not in anonymous["Location"]:
                sys.exit(f"La page triviale doit exiger la connexion (reçu {anonymous.status_code}).")
            client = Client()
            client.force_login(coordinator(plans))
            suites = [(put, cases_for(client, put.plan)) for put in plans]
            measure(suites)
        now = datetime.datetime.now().astimezone()
        load_after = os.getloadavg()[0]
        header = [
            f"Suivi CTG — banc de l'espace de travail — {now:%Y-%m-%d %H:%M %Z}",
            f"  {engine} ({database}) ; Python {platform.python_version()}, Django {django.get_version()}, "
            f"{os.cpu_count()} cœur(s), DEBUG=False",
            f"  charge de la machine (moyenne 1 min) : {load_before:.1f} au début, {load_after:.1f} à la fin",
            f"  django.test.Client, coordinatrice connectée ; échauffement {WARMUP}, "
            f"{args.rounds} + {rounds_large} tours entrelacés",
        ]
        report(header, suites)
        print()
        with override_settings(ROOT_URLCONF="bench.urls", ALLOWED_HOSTS=["testserver"], DEBUG=False):
            fiche_at_scale(client, plans[0].plan, plans[1].plan, args)
        print(f"\nDurée totale : {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
