"""Issue 10's figures that are not about the fiche page, in one run: the dashboard's queries on a
plan of 20 and of 2,000 fiches, the filtered fiches list of a 1,000-fiche plan against a trivial
page, and the CAF overview with 1,000 plans against 1.

    .venv/bin/python bench/scale.py [--rounds N]
    BENCH_DATABASE_URL=postgresql://… .venv/bin/python bench/scale.py

Each request is timed through django.test.Client (whole middleware stack, signed in), in
interleaved rounds, and its median shown as a multiple of the trivial page's median in the
same run (the figure that holds on a noisy machine); the SQL queries of each request are
counted once, untimed. The database is chosen as in bench/workspace.py (a temporary SQLite
file, or BENCH_DATABASE_URL, EMPTIED). See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.workspace import FIXTURE, TRIVIAL_URL, django_for_bench, line, scaled  # noqa: E402

HTMX = {"HTTP_HX_REQUEST": "true"}
WARMUP = 3
COLD = "idem, chiffres à recalculer (1er du jour)"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="timed requests of each kind (default 20)")
    parser.add_argument(
        "--only",
        choices=["overview"],
        help="overview: only the CAF overview's rows and the trivial page (no plan imported)",
    )
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds doit être au moins 1")
    return args


def build(*, imports: bool = True):
    """Val'Aïgo ×1 and ×100 (2,000 fiches) and ×50 (1,000 fiches) imported (unless `imports` is
    false); 1,000 plans of 20 fiches signed by one CAF and 1 plan signed by another; a user for
    each view."""
    from django.contrib.auth import get_user_model

    from actions.plan_io import open_format
    from axes.models import Plan, PlanRole, Role
    from partners.models import Organisation, OrganisationKind
    from reporting.models import Instance, Meeting
    from tests.scale import bulk_plans

    base = json.loads(FIXTURE.read_bytes())
    plans = {}
    for scale in (1, 50, 100) if imports else ():
        data = base if scale == 1 else scaled(base, scale)
        start = time.perf_counter()
        plans[scale] = open_format.import_plan(data).plan
        plans[scale].import_seconds = time.perf_counter() - start
        Meeting.objects.create(plan=plans[scale], instance=Instance.COPIL, date=datetime.date(2025, 1, 1))
    User = get_user_model()
    coordinator = User.objects.create(username="banc-coordinatrice", first_name="Claire", last_name="Banc")
    for plan in plans.values():
        PlanRole.objects.create(plan=plan, user=coordinator, role=Role.COORDINATOR)
    cafs = {}
    for n, name in ((1, "CAF d'un plan"), (1000, "CAF de mille plans")):
        caf = Organisation.objects.create(name=name, short_name="CAF", kind=OrganisationKind.CAF)
        bulk_plans(n, signatory=caf, fiches_per_plan=20, first=0 if n == 1 else 1)
        user = User.objects.create(username=f"banc-caf-{n}")
        user.memberships.create(organisation=caf)
        cafs[n] = user
    return plans, coordinator, cafs, Plan


def plan_cases(plans, reverse) -> list[tuple]:
    """The rows about imported plans: the dashboards, the filtered list, the plan page."""
    from partners.models import Organisation

    commune = Organisation.objects.get(name="Villemur-sur-Tarn").pk
    x50 = plans[50].slug
    return [
        ("tableau de bord, 20 fiches", "coord", reverse("dashboard", args=[plans[1].slug]), {}, {}),
        (
            "tableau de bord, 2 000 fiches",
            "coord",
            reverse("dashboard", args=[plans[100].slug]),
            {},
            {},
        ),
        (
            "liste filtrée, 1 000 fiches (htmx)",
            "coord",
            reverse("action_list", args=[x50]),
            {"commune": commune, "late": "on"},
            HTMX,
        ),
        (
            "liste filtrée, 1 000 fiches (page)",
            "coord",
            reverse("action_list", args=[x50]),
            {"commune": commune, "late": "on"},
            {},
        ),
        (
            "liste, 1 000 fiches, texte « enfance »",
            "coord",
            reverse("action_list", args=[x50]),
            {"q": "enfance"},
            {},
        ),
        ("page du plan, 1 000 fiches", "coord", reverse("plan_detail", args=[x50]), {}, {}),
    ]


def main() -> int:
    args = parse_args()
    started = time.perf_counter()
    with django_for_bench() as (database, engine, load_before):
        import django
        from django.db import connection
        from django.test import Client, override_settings
        from django.test.utils import CaptureQueriesContext
        from django.urls import reverse

        with override_settings(ROOT_URLCONF="bench.urls", ALLOWED_HOSTS=["testserver"], DEBUG=False):
            built = time.perf_counter()
            plans, coordinator, cafs, _ = build(imports=args.only is None)
            built = time.perf_counter() - built
            clients = {}
            for key, user in (("coord", coordinator), ("caf1", cafs[1]), ("caf1000", cafs[1000])):
                clients[key] = Client()
                clients[key].force_login(user)
            overview = [
                ("vue d'ensemble CAF, 1 plan", "caf1", reverse("plans_dashboard"), {}, {}),
                ("vue d'ensemble CAF, 1 000 plans", "caf1000", reverse("plans_dashboard"), {}, {}),
                (
                    "idem, triée par retard, page 7",
                    "caf1000",
                    reverse("plans_dashboard"),
                    {"sort": "-late", "page": 7, "no_copil": 6},
                    {},
                ),
                (COLD, "caf1000", reverse("plans_dashboard"), {}, {}),
            ]
            # The first request of a day (or after a write to every plan) computes every
            # plan's figures again: the kept ones are dropped before each of its requests.
            from reporting.models import PlanFigures

            before = {COLD: lambda: PlanFigures.objects.all().delete()}
            cases = [("page triviale", "coord", TRIVIAL_URL, {}, {})]
            if args.only is None:
                cases += plan_cases(plans, reverse)
            cases += overview
            samples = {label: [] for label, *_ in cases}
            queries, sizes = {}, {}
            for label, who, url, params, headers in cases:
                for _ in range(WARMUP):
                    before.get(label, int)()
                    assert clients[who].get(url, params, **headers).status_code == 200, label
                before.get(label, int)()
                with CaptureQueriesContext(connection) as captured:
                    response = clients[who].get(url, params, **headers)
                queries[label], sizes[label] = len(captured), len(response.content)
            gc.collect()
            for round_number in range(args.rounds):
                order = cases if round_number % 2 == 0 else cases[::-1]
                for label, who, url, params, headers in order:
                    before.get(label, int)()
                    start = time.perf_counter()
                    clients[who].get(url, params, **headers)
                    samples[label].append((time.perf_counter() - start) * 1000)
        load_after = os.getloadavg()[0]
        now = datetime.datetime.now().astimezone()
        print(f"Suivi CTG — banc de l'échelle (issue 10) — {now:%Y-%m-%d %H:%M %Z}")
        print(
            f"  {engine} ({database}) ; Python {platform.python_version()}, Django {django.get_version()}, "
            f"{os.cpu_count()} cœur(s), DEBUG=False"
        )
        print(
            f"  charge de la machine (/proc/loadavg, 1 min) : {load_before:.2f} au début, "
            f"{load_after:.2f} à la fin"
        )
        imports = (
            f"imports : Val'Aïgo {plans[1].import_seconds:.1f} s, ×50 {plans[50].import_seconds:.1f} s, "
            f"×100 {plans[100].import_seconds:.1f} s ; "
            if plans
            else "--only overview (aucun import) ; "
        )
        print(f"  {imports}mise en place totale {built:.0f} s ; {args.rounds} tours entrelacés")
        print()
        widths = (40, 12, 10, 12, 10, 9)
        print(line(("requête", "médiane ms", "p90 ms", "× triviale", "requêtes", "Kio"), widths, 1))
        print("-" * sum(widths))
        trivial = statistics.median(samples["page triviale"])
        for label, *_ in cases:
            ordered = sorted(samples[label])
            median = statistics.median(ordered)
            p90 = ordered[max(0, int(len(ordered) * 0.9 + 0.5) - 1)]
            cells = (
                label,
                f"{median:.1f}",
                f"{p90:.1f}",
                f"{median / trivial:.1f}",
                queries[label],
                sizes[label] // 1024,
            )
            print(line(cells, widths, 1))
        print()
        one = statistics.median(samples["vue d'ensemble CAF, 1 plan"])
        many = statistics.median(samples["vue d'ensemble CAF, 1 000 plans"])
        print(f"vue d'ensemble CAF, 1 000 plans / 1 plan : {many / one:.2f}× (objectif ≤ 1,5×)")
        if plans:
            small = statistics.median(samples["tableau de bord, 20 fiches"])
            large = statistics.median(samples["tableau de bord, 2 000 fiches"])
            print(
                f"tableau de bord : {queries['tableau de bord, 20 fiches']} → "
                f"{queries['tableau de bord, 2 000 fiches']} requêtes (objectif ≤ 12), "
                f"temps ×{large / small:.1f}"
            )
        print(f"\nDurée totale : {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
