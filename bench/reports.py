"""How long the dossier COPIL takes, on Val'Aïgo and on a plan of 100 fiches, against WeasyPrint.

    .venv/bin/python bench/reports.py [--rounds N] [--rounds-large N] [--scale 5]

Times the whole dossier, build_report("copil", plan), and its three stages one by one:
the data (report_context: queries and charts), the HTML (render_to_string) and WeasyPrint
alone on that same HTML string (parse and layout, then PDF writing, with the base URL and
URL fetcher of reporting/pdf.py). Prints median, min and max in ms, each stage's share of
the total, the ratio of the total to WeasyPrint alone (the figure that holds on a noisy
machine), the ratio between the two plans, pages, PDF size and peak memory. Wall and CPU time
of the process both: on a loaded machine the CPU figures are the steadier. See
bench/README.md.

Never touches db.sqlite3: a temporary SQLite file by default, or the PostgreSQL database
named by BENCH_DATABASE_URL, which is created if needed, migrated and EMPTIED.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import io
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Side-effect free: constants and functions only; Django is set up by main() below.
from bench.workspace import FIXTURE, django_for_bench, line, plan_sizes, scaled  # noqa: E402

KIND = "copil"
LAST_COPIL_DAYS = 120  # the last COPIL, so many days ago: the dossier shows the notes since
NEXT_COPIL_DAYS = 30  # the next one, the dossier's subtitle
# A few notes per fiche: (days ago, kind, text). The last one predates the last COPIL, so
# the dossier leaves it out, as it does in real use.
NOTES = [
    (
        12,
        "follow_up",
        "Point d'étape avec le pilote et les partenaires : le calendrier est tenu, la prochaine "
        "réunion du groupe de travail est fixée. Reste à confirmer la salle et les invitations.",
    ),
    (
        40,
        "achievement",
        "Première séance réalisée, 18 familles présentes dont 7 nouvelles.\n"
        "Retour très positif des professionnels ; compte rendu diffusé aux communes.",
    ),
    (
        75,
        "difficulty",
        "Le recrutement de l'animatrice a pris du retard : le poste n'est pourvu qu'à mi-temps "
        "jusqu'à la rentrée, ce qui décale deux étapes de l'action.",
    ),
    (
        200,
        "outlook",
        "Étendre l'action aux communes du nord du territoire l'an prochain si le financement "
        "de la CAF est reconduit.",
    ),
]
INDICATOR_EVERY = 2  # an indicator with values on one fiche in two


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds on Val'Aïgo (default 3)")
    parser.add_argument(
        "--rounds-large",
        type=int,
        default=None,
        help="timed rounds on the large plan (default: --rounds, at most 2)",
    )
    parser.add_argument("--scale", type=int, default=5, help="size of the large plan, × Val'Aïgo (default 5)")
    args = parser.parse_args()
    if args.rounds < 1 or (args.rounds_large is not None and args.rounds_large < 1):
        parser.error("--rounds doit être au moins 1")
    if not 2 <= args.scale <= 50:
        parser.error("--scale doit être entre 2 et 50")
    return args


# ---------------------------------------------------------------------------
# Setup: the plans, with notes, indicators and COPILs


def enriched(data: dict, today: datetime.date) -> dict:
    """Val'Aïgo with a few notes on every fiche and an indicator with yearly values on one fiche
    in two (the fixture has neither), so that the dossier's pages look like real ones."""
    years = range(data["plan"]["start_year"], min(today.year, data["plan"]["end_year"] + 1))
    for axis in data["axes"]:
        for action in axis["actions"]:
            action["notes"] = [
                {
                    "date": (today - datetime.timedelta(days=days)).isoformat(),
                    "kind": kind,
                    "text": text,
                    "author": "Claire Banc",
                }
                for days, kind, text in NOTES
            ]
            if action["number"] % INDICATOR_EVERY == 1:
                action["indicators"] = [
                    {
                        "name": "Familles touchées par l'action",
                        "unit": "familles",
                        "baseline": 40,
                        "target": 120,
                        "values": [
                            {"year": year, "value": 40 + 25 * k, "comment": "Bilan annuel du pilote"}
                            for k, year in enumerate(years, start=1)
                        ],
                    }
                ]
    return data


def add_copils(plan, today: datetime.date) -> None:
    from reporting.models import Decision, DecisionStatus, Instance, Meeting

    Meeting.objects.create(
        plan=plan, instance=Instance.COPIL, date=today - datetime.timedelta(days=LAST_COPIL_DAYS)
    )
    upcoming = Meeting.objects.create(
        plan=plan, instance=Instance.COPIL, date=today + datetime.timedelta(days=NEXT_COPIL_DAYS)
    )
    for text in ("Valider le calendrier révisé de l'action 3", "Arbitrer le financement de l'action 12"):
        Decision.objects.create(meeting=upcoming, text=text, status=DecisionStatus.TO_TAKE)


@dataclass
class PlanUnderTest:
    plan: object
    label: str
    rounds: int
    import_seconds: float
    sizes: dict = field(default_factory=dict)
    samples: dict[str, list] = field(default_factory=dict)
    pages: int = 0
    pdf_bytes: int = 0
    html_bytes: int = 0


def load_plans(scale: int, rounds: int, rounds_large: int) -> list[PlanUnderTest]:
    from django.utils import timezone

    from actions.models import IndicatorValue, Note
    from actions.plan_io import open_format

    today = timezone.localdate()
    small_data = enriched(open_format.load(FIXTURE.read_bytes()), today)
    plans = []
    for label, data, n in (
        ("Val'Aïgo", small_data, rounds),
        (f"×{scale}", scaled(small_data, scale), rounds_large),
    ):
        start = time.perf_counter()
        plan = open_format.import_plan(data).plan
        add_copils(plan, today)
        plans.append(PlanUnderTest(plan, label, n, time.perf_counter() - start))
    for put in plans:
        put.sizes = plan_sizes(put.plan)
        put.sizes["notes"] = Note.objects.filter(action__plan=put.plan).count()
        put.sizes["valeurs d'indicateurs"] = IndicatorValue.objects.filter(
            indicator__action__plan=put.plan
        ).count()
    return plans


# ---------------------------------------------------------------------------
# The stages

STAGES = [
    ("total", "dossier COPIL entier (build_report)"),
    ("data", "  1. données (report_context)"),
    ("html", "  2. HTML (render_to_string)"),
    ("weasy", "  3. WeasyPrint seul (1 + 2 ci-dessous)"),
    ("layout", "       analyse et mise en page (render)"),
    ("write", "       écriture du PDF (write_pdf)"),
]


def weasyprint_html(html: str):
    """The HTML object reporting/pdf.py makes: same base URL, same URL fetcher."""
    from django.conf import settings
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"file", "data"})
    base_url = (settings.BASE_DIR / "static").as_uri() + "/"
    return HTML(string=html, base_url=base_url, url_fetcher=fetcher)


@dataclass
class Sample:
    wall: float  # ms, time.perf_counter
    cpu: float  # ms, time.process_time: this process only, all its threads


def timed(function: Callable[[], object]) -> tuple[Sample, object]:
    gc.collect()  # each stage pays for its own garbage, not for the previous one's
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return Sample((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000), result


def stages(put: PlanUnderTest) -> tuple[dict[str, Sample], int, int, int]:
    """The dossier's stages one by one. Returns their times, the pages, the PDF's and the
    HTML's sizes; what they made is freed on return."""
    from django.template.loader import render_to_string

    from reporting.reports import report_context

    times = {}
    times["data"], (template, context) = timed(lambda: report_context(KIND, put.plan))
    times["html"], html = timed(lambda: render_to_string(template, context))
    times["layout"], document = timed(lambda: weasyprint_html(html).render())
    times["write"], pdf = timed(lambda: document.write_pdf())
    times["weasy"] = Sample(
        *(getattr(times["layout"], a) + getattr(times["write"], a) for a in ("wall", "cpu"))
    )
    return times, len(document.pages), len(pdf), len(html.encode())


def one_round(put: PlanUnderTest, *, whole_first: bool) -> None:
    """The whole dossier and its stages one by one, on the same plan; the whole dossier first or
    last, in turn, so that neither side always runs after the other."""
    from reporting.reports import build_report

    if whole_first:
        total, report = timed(lambda: build_report(KIND, put.plan))
        times, pages, pdf_bytes, html_bytes = stages(put)
    else:
        times, pages, pdf_bytes, html_bytes = stages(put)
        total, report = timed(lambda: build_report(KIND, put.plan))
    times["total"] = total
    for key, sample in times.items():
        put.samples.setdefault(key, []).append(sample)
    if not put.pages:  # first round: what the dossier is, untimed
        from pypdf import PdfReader

        put.pages = len(PdfReader(io.BytesIO(report.pdf)).pages)
        put.pdf_bytes, put.html_bytes = len(report.pdf), html_bytes
    # The stages must remake the dossier, not some other document (the PDFs differ only by
    # their creation date).
    if pages != put.pages or abs(pdf_bytes - len(report.pdf)) > 100:
        sys.exit(
            f"{put.label} : WeasyPrint seul ne refait pas le PDF de build_report "
            f"({pages} pages, {pdf_bytes} octets contre {put.pages} pages, {len(report.pdf)} octets)."
        )


def measure(plans: list[PlanUnderTest]) -> dict[str, int]:
    """One untimed dossier on Val'Aïgo (templates, fonts, stylesheets loaded once), then
    interleaved rounds: each does Val'Aïgo and the large plan back to back (in turn first), so
    that a slow patch of the machine hits both; the whole dossier goes before its stages in
    even rounds, after them in odd ones. Returns the process's peak memory (KiB) before
    any dossier, after the warm-up one and at the end."""
    from reporting.reports import build_report

    peaks = {"avant le premier dossier": maxrss()}
    build_report(KIND, plans[0].plan)
    peaks[f"après un dossier de {plans[0].label}"] = maxrss()
    for round_number in range(max(put.rounds for put in plans)):
        order = plans if round_number % 2 == 0 else plans[::-1]
        for put in order:
            if round_number < put.rounds:
                one_round(put, whole_first=round_number % 2 == 0)
    peaks[f"à la fin (dossiers {plans[1].label} compris)"] = maxrss()
    return peaks


def maxrss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


# ---------------------------------------------------------------------------
# Report


def med(put: PlanUnderTest, key: str, clock: str = "wall") -> float:
    return statistics.median(getattr(sample, clock) for sample in put.samples[key])


def report(header: list[str], plans: list[PlanUnderTest], peaks: dict[str, int]) -> None:
    for text in header:
        print(text)
    for put in plans:
        sizes = ", ".join(f"{n} {name}" for name, n in put.sizes.items())
        print(f"  {put.label:<9} {put.plan.slug:<12} {sizes} ; importé en {put.import_seconds:.1f} s")
    print()

    widths = (40, 10, 3, 12, 16, 11, 11)
    titles = ("étape", "plan", "n", "médiane ms", "min – max ms", "CPU ms", "part CPU")
    print(line(titles, widths, 2))
    print("-" * sum(widths))
    for key, label in STAGES:
        for row, put in enumerate(plans):
            walls = [sample.wall for sample in put.samples[key]]
            cells = (
                label if row == 0 else "",
                put.label,
                len(walls),
                f"{med(put, key):.0f}",
                f"{min(walls):.0f} – {max(walls):.0f}",
                f"{med(put, key, 'cpu'):.0f}",
                f"{100 * med(put, key, 'cpu') / med(put, 'total', 'cpu'):.0f} %",
            )
            print(line(cells, widths, 2))
    for row, put in enumerate(plans):
        rest = {
            clock: med(put, "total", clock) - sum(med(put, k, clock) for k in ("data", "html", "weasy"))
            for clock in ("wall", "cpu")
        }
        cells = (
            "  reste (entier − 1 − 2 − 3)" if row == 0 else "",
            put.label,
            "",
            f"{rest['wall']:.0f}",
            "",
            f"{rest['cpu']:.0f}",
            f"{100 * rest['cpu'] / med(put, 'total', 'cpu'):.0f} %",
        )
        print(line(cells, widths, 2))
    print()

    widths = (10, 7, 10, 10, 15, 22, 12, 18)
    titles = (
        "plan",
        "pages",
        "PDF",
        "HTML",
        "ms CPU / page",
        "entier / WeasyPrint",
        "idem CPU",
        "(1 + 2) / 3 CPU",
    )
    print(line(titles, widths, 1))
    print("-" * sum(widths))
    for put in plans:
        ours = med(put, "data", "cpu") + med(put, "html", "cpu")
        cells = (
            put.label,
            put.pages,
            f"{put.pdf_bytes / 1024:.0f} Kio",
            f"{put.html_bytes / 1024:.0f} Kio",
            f"{med(put, 'total', 'cpu') / put.pages:.1f}",
            f"{med(put, 'total') / med(put, 'weasy'):.2f}",
            f"{med(put, 'total', 'cpu') / med(put, 'weasy', 'cpu'):.2f}",
            f"{ours / med(put, 'weasy', 'cpu'):.3f}",
        )
        print(line(cells, widths, 1))
    print()

    small, large = plans
    widths = (40, 12, 12)
    print(line((f"{large.label} / {small.label}", "médianes", "CPU"), widths, 1))
    print("-" * sum(widths))
    for key, label in STAGES:
        cells = (
            label,
            f"{med(large, key) / med(small, key):.2f}",
            f"{med(large, key, 'cpu') / med(small, key, 'cpu'):.2f}",
        )
        print(line(cells, widths, 1))
    print(line(("pages", f"{large.pages / small.pages:.2f}", ""), widths, 1))
    print(line(("fiches", f"{large.sizes['fiches'] / small.sizes['fiches']:.2f}", ""), widths, 1))
    print()
    print(
        "Pic mémoire du processus (maxrss) : "
        + ", ".join(f"{kib / 1024:.0f} Mio {when}" for when, kib in peaks.items())
    )


# ---------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    rounds_large = args.rounds_large or min(args.rounds, 2)
    started = time.perf_counter()
    with django_for_bench() as (database, engine, load_before):
        import django
        import weasyprint
        from django.test import override_settings

        with override_settings(DEBUG=False):
            plans = load_plans(args.scale, args.rounds, rounds_large)
            peaks = measure(plans)
        now = datetime.datetime.now().astimezone()
        load_after = os.getloadavg()[0]
        header = [
            f"Suivi CTG — banc du dossier COPIL — {now:%Y-%m-%d %H:%M %Z}",
            f"  {engine} ({database}) ; Python {platform.python_version()}, Django {django.get_version()}, "
            f"WeasyPrint {weasyprint.__version__}, {os.cpu_count()} cœur(s), DEBUG=False",
            f"  charge de la machine (moyenne 1 min) : {load_before:.1f} au début, {load_after:.1f} à la fin",
            f"  échauffement 1 dossier de Val'Aïgo, puis {args.rounds} + {rounds_large} tours entrelacés ; "
            f"dernier COPIL il y a {LAST_COPIL_DAYS} jours, prochain dans {NEXT_COPIL_DAYS}",
        ]
        report(header, plans, peaks)
        print(f"\nDurée totale : {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
