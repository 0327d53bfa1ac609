"""How fast one theme reads across a CAF's plans, with 1 plan and with many.

    .venv/bin/python bench/themes.py [--rounds N] [--plans 1 200]

Builds, for each size, that many plans signed by one CAF (tests/scale.py's bulk_plans: 20 fiches
each, half of them tagged "Parentalité", each with two financing lines and a calendar entry of
2024), then times through django.test.Client, signed in as the CAF's officer: a trivial page of
the same process, the theme's page
(/thematiques/parentalite/, first page of 50 fiches, and its last page) and one plan's
dashboard (financing totals included); then, signed in as the coordinator of the first plan
alone, the theme's page (its 10 fiches among all the installation's). Prints medians in ms,
each as a multiple of the trivial page's, and the SQL queries of each request (the same
whatever the number of plans). The tables are analysed after each build (on PostgreSQL, as
autovacuum would soon do), so that the planner does not work from the statistics of empty
tables. See bench/README.md.

Never touches db.sqlite3: a temporary SQLite file, or BENCH_DATABASE_URL (EMPTIED).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.workspace import TRIVIAL_URL, django_for_bench  # noqa: E402

FICHES = 20
FIRST_SLUG = "territoire-0000"  # tests/scale.py:bulk_plans' first plan


def build(n_plans: int, caf, parentalite, start: int) -> str:
    from django.db import connection

    from tests.scale import bulk_plans

    plans = bulk_plans(n_plans, signatory=caf, fiches_per_plan=FICHES, first=start, theme=parentalite)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return plans[0].slug


def timed(client, url: str, rounds: int) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        client.get(url)
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return statistics.median(times), len(captured)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--plans", type=int, nargs="+", default=[1, 200])
    args = parser.parse_args()
    with django_for_bench() as (database, engine, load):
        from django.contrib.auth import get_user_model
        from django.test import Client, override_settings

        from actions.models import Theme
        from axes.models import Plan, PlanRole, Role
        from partners.models import Membership, Organisation, OrganisationKind

        print(f"Base : {database} ({engine}) ; charge au départ : {load:.2f}")
        caf = Organisation.objects.create(name="CAF du banc", kind=OrganisationKind.CAF)
        parentalite, _ = Theme.objects.get_or_create(slug="parentalite", defaults={"name": "Parentalité"})
        officer = get_user_model().objects.create_user("agent-caf")
        Membership.objects.create(user=officer, organisation=caf)
        built = 0
        with override_settings(ROOT_URLCONF="bench.urls", ALLOWED_HOSTS=["testserver"], DEBUG=False):
            client = Client()
            client.force_login(officer)
            coordinator = Client()
            for n in args.plans:
                slug = build(n - built, caf, parentalite, built) if n > built else FIRST_SLUG
                if not built:
                    one = get_user_model().objects.create_user("coordination-premier-plan")
                    PlanRole.objects.create(
                        plan_id=Plan.objects.get(slug=FIRST_SLUG).pk, user=one, role=Role.COORDINATOR
                    )
                    coordinator.force_login(one)
                built = max(built, n)
                trivial, _ = timed(client, TRIVIAL_URL, args.rounds)
                theme, theme_q = timed(client, "/thematiques/parentalite/", args.rounds)
                last_page = -(-n * FICHES // 2 // 50)
                deep, deep_q = timed(client, f"/thematiques/parentalite/?page={last_page}", args.rounds)
                dashboard, dash_q = timed(client, f"/plans/{slug}/tableau-de-bord/", args.rounds)
                own, own_q = timed(coordinator, "/thematiques/parentalite/", args.rounds)
                print(
                    f"{n:>5} plan(s), {n * FICHES // 2} fiches « Parentalité » : "
                    f"page triviale {trivial:.1f} ms ; "
                    f"thématique {theme:.1f} ms (× {theme / trivial:.1f}, {theme_q} requêtes) ; "
                    f"sa page {last_page} {deep:.1f} ms (× {deep / trivial:.1f}, {deep_q} requêtes) ; "
                    f"tableau de bord d'un plan {dashboard:.1f} ms "
                    f"(× {dashboard / trivial:.1f}, {dash_q} requêtes) ; "
                    f"thématique du coordinateur d'un plan {own:.1f} ms "
                    f"(× {own / trivial:.1f}, {own_q} requêtes)"
                )


if __name__ == "__main__":
    main()
