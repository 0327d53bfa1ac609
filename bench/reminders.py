"""How long building the reminder digests takes for 1,000 people, against a trivial query.

    .venv/bin/python bench/reminders.py [--users 1000] [--rounds 5]

Loads Val'Aïgo (20 fiches), gives `--users` people a role on it (2 % administrateurs, 3 %
coordinateurs, 60 % contributeurs each representing one of the plan's organisations, the rest
lecteurs), puts a COPIL in a week, then times reporting.reminders.build_digests() (building only,
nothing sent, nothing recorded) and a trivial query of the same process. Prints the medians, their
ratio, the SQL queries of one build, and the same for a tenth of the people: the queries grow by
one per hundred people (the permission querysets asked in UNION batches), not one per person.

Never touches db.sqlite3: a temporary SQLite file by default, or the PostgreSQL database named by
BENCH_DATABASE_URL, which is created if needed, migrated and EMPTIED.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.workspace import FIXTURE, django_for_bench  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1000, help="people with a role on the plan (1000)")
    parser.add_argument("--rounds", type=int, default=5, help="timed builds (default 5)")
    args = parser.parse_args()
    if args.users < 10 or args.rounds < 1:
        parser.error("--users doit être au moins 10 et --rounds au moins 1")
    return args


def people(plan, count: int, prefix: str) -> None:
    """`count` people with a role on `plan`, in bulk (no password hashing)."""
    from django.contrib.auth import get_user_model

    from axes.models import PlanRole, Role

    organisations = sorted(
        {org.pk for action in plan.actions.prefetch_related("pilots") for org in action.pilots.all()}
        | set(plan.communes.values_list("pk", flat=True))
    )
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"{prefix}{i}", email=f"{prefix}{i}@example.org", password="!")
        for i in range(count)
    )

    def role(i: int) -> str:
        share = i * 100 // count
        if share < 2:
            return Role.ADMIN
        if share < 5:
            return Role.COORDINATOR
        if share < 65:
            return Role.CONTRIBUTOR
        return Role.READER

    roles = PlanRole.objects.bulk_create(
        PlanRole(plan=plan, user=user, role=role(i)) for i, user in enumerate(users)
    )
    PlanRole.organisations.through.objects.bulk_create(
        PlanRole.organisations.through(
            planrole_id=r.pk, organisation_id=organisations[i % len(organisations)]
        )
        for i, r in enumerate(roles)
        if r.role == Role.CONTRIBUTOR
    )


def timed(function, rounds: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main() -> None:
    args = parse_args()
    with django_for_bench() as (database, engine, load):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from actions.plan_io import open_format
        from axes.models import Plan
        from reporting.models import Meeting
        from reporting.reminders import build_digests

        plan = open_format.import_plan(open_format.load(FIXTURE.read_bytes())).plan
        today = timezone.localdate()
        Meeting.objects.create(
            plan=plan, instance="copil", date=today + datetime.timedelta(days=7), agenda="Bilan"
        )
        print(f"Base : {database} ({engine}), charge au départ {load:.2f}")
        print(f"Plan : {plan.slug}, {plan.actions.count()} fiches")
        rows = []
        done = 0
        for count in sorted({max(10, args.users // 10), args.users}):
            people(plan, count - done, f"p{count}-")
            done = count
            plans = Plan.objects.filter(pk=plan.pk)
            build = lambda plans=plans: build_digests(plans, today=today, include_sent=True)  # noqa: E731
            build()  # warm-up
            with CaptureQueriesContext(connection) as queries:
                digests = build()
            trivial_ms, _ = timed(lambda: Plan.objects.filter(pk=plan.pk).exists(), args.rounds * 20)
            build_ms, digests = timed(build, args.rounds)
            rows.append((count, len(digests), build_ms, trivial_ms, len(queries)))
        headings = ["personnes", "rappels", "construction", "requête triviale", "ratio", "requêtes"]
        print(" ".join(f"{h:>{w}}" for h, w in zip(headings, [10, 8, 13, 17, 8, 9], strict=True)))
        for count, built, build_ms, trivial_ms, n_queries in rows:
            print(
                f"{count:>10} {built:>8} {build_ms:>10.1f} ms {trivial_ms:>14.3f} ms "
                f"{build_ms / trivial_ms:>7.0f}× {n_queries:>9}"
            )
        count, built, build_ms, _, _ = rows[-1]
        print(f"Soit {build_ms / count:.2f} ms par personne (médiane de {args.rounds} constructions).")


if __name__ == "__main__":
    main()
