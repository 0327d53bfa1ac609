"""What documents cost the fiche page, and what a download costs, against a trivial page.

    .venv/bin/python bench/documents.py [--rounds 30] [--documents 200]

Loads Val'Aïgo, signs in a coordinator (django.test.Client, the whole middleware stack) and
times, in the same rounds: the trivial page of bench/urls.py, fiche 12's page with no document,
the same page once `--documents` documents are joined to the fiche and to its notes (half each,
one note per two documents), and the download of a 1 MB PDF. Prints medians in ms, each as a
multiple of the trivial page's (the figure that holds on a noisy machine) and the page's SQL
queries (the same number with and without documents: they come with the notes' query).

Never touches db.sqlite3 nor media/: a temporary SQLite file (or BENCH_DATABASE_URL, EMPTIED)
and a temporary MEDIA_ROOT.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.workspace import FIXTURE, TRIVIAL_URL, django_for_bench  # noqa: E402

FICHE = 12
PDF = b"%PDF-1.4\n%%EOF\n"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30, help="timed requests of each kind (30)")
    parser.add_argument("--documents", type=int, default=200, help="documents joined to the fiche (200)")
    args = parser.parse_args()
    if args.rounds < 3 or args.documents < 2:
        parser.error("--rounds doit être au moins 3 et --documents au moins 2")
    return args


def median_ms(client, url: str, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times)


def main() -> None:
    args = parse_args()
    media = Path(tempfile.mkdtemp(prefix="ctg-bench-media-"))
    try:
        with django_for_bench() as (database, engine, load):
            from django.conf import settings
            from django.contrib.auth import get_user_model
            from django.core.files.uploadedfile import SimpleUploadedFile
            from django.db import connection
            from django.test import Client, override_settings
            from django.test.utils import CaptureQueriesContext
            from django.urls import reverse

            from actions.models import Note
            from actions.plan_io import open_format
            from axes.models import PlanRole, Role
            from reporting import documents

            storage = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
            with override_settings(
                ROOT_URLCONF="bench.urls",
                ALLOWED_HOSTS=["testserver"],
                DEBUG=False,
                MEDIA_ROOT=str(media),
                STORAGES={**settings.STORAGES, **storage},
            ):
                plan = open_format.import_plan(open_format.load(FIXTURE.read_bytes())).plan
                user = get_user_model().objects.create_user("bench-docs", first_name="Claire")
                PlanRole.objects.create(plan=plan, user=user, role=Role.COORDINATOR)
                client = Client()
                client.force_login(user)
                action = plan.actions.get(number=FICHE)
                fiche = action.get_absolute_url()
                median_ms(client, TRIVIAL_URL, 5)  # warm-up

                def page_queries() -> int:
                    with CaptureQueriesContext(connection) as queries:
                        client.get(fiche)
                    return len(queries)

                def rounds() -> tuple[float, float]:
                    samples_trivial, samples_page = [], []
                    for _ in range(args.rounds):
                        samples_trivial.append(median_ms(client, TRIVIAL_URL, 1))
                        samples_page.append(median_ms(client, fiche, 1))
                    return statistics.median(samples_trivial), statistics.median(samples_page)

                median_ms(client, fiche, 3)
                before_queries = page_queries()
                trivial_before, page_before = rounds()

                notes = [
                    Note.objects.create(action=action, text=f"Note {i}", author=user)
                    for i in range(args.documents // 4)
                ]
                for i in range(args.documents):
                    upload = SimpleUploadedFile(f"preuve-{i}.pdf", PDF)
                    note = notes[i % len(notes)] if i % 2 and notes else None
                    documents.store(upload, plan=plan, by=user, action=action, note=note)
                big = documents.store(
                    SimpleUploadedFile("compte-rendu.pdf", PDF + b"0" * (1024 * 1024)),
                    plan=plan,
                    by=user,
                    action=action,
                )
                median_ms(client, fiche, 3)
                after_queries = page_queries()
                trivial_after, page_after = rounds()
                download = reverse("document_download", args=[plan.slug, big.pk])
                download_ms = median_ms(client, download, args.rounds)

            print(f"Base : {database} ({engine}), charge au départ {load:.2f}; {args.rounds} tours")
            print(f"Page triviale : {trivial_before:.1f} ms puis {trivial_after:.1f} ms")
            print(
                f"Fiche {FICHE}, sans document : {page_before:.1f} ms "
                f"({page_before / trivial_before:.1f}× la page triviale), {before_queries} requêtes SQL"
            )
            print(
                f"Fiche {FICHE}, {args.documents} documents et {len(notes)} notes de plus : "
                f"{page_after:.1f} ms "
                f"({page_after / trivial_after:.1f}× la page triviale), {after_queries} requêtes SQL"
            )
            print(
                f"Téléchargement d'un PDF de 1 Mo : {download_ms:.1f} ms "
                f"({download_ms / trivial_after:.1f}× la page triviale)"
            )
    finally:
        shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    main()
