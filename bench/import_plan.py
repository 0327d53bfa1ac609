"""How long importing a plan from the Excel template takes, against openpyxl merely reading it.

    .venv/bin/python bench/import_plan.py [--rounds N] [--rows 2000]

Builds a plan of about 2,000 template rows (Val'Aïgo's fiches copied as bench/workspace.py
does), writes it with workbook_from_data, and times on the same bytes: openpyxl alone reading
every row of every sheet (the baseline), data_from_workbook (our reading), read_document
(reading and validation), preview against an empty installation and against one holding the
plan, the import into an empty database and the re-import of the same file over itself.
Prints median, min and max in ms, each median as a multiple of openpyxl's (the figure that
holds on a noisy machine), the SQL queries of each step, and how the queries grow from
Val'Aïgo to the larger plan. See bench/README.md.

Never touches db.sqlite3: a temporary SQLite file by default, or the PostgreSQL database
named by BENCH_DATABASE_URL, which is created if needed, migrated and EMPTIED (after every
round, too).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import io
import json
import os
import platform
import re
import statistics
import sys
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Side-effect free: constants and functions only; Django is set up by main() below.
from bench.workspace import FIXTURE, django_for_bench, line, scaled  # noqa: E402

FILENAME = "plan-banc.xlsx"
SLUG = "val-aigo-banc-import"
WRITES = ("INSERT", "UPDATE", "DELETE")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument(
        "--rows", type=int, default=2000, help="data rows of the generated template (default 2000)"
    )
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds doit être au moins 1")
    if not 400 <= args.rows <= 9500:  # the app refuses workbooks of more than 10,000 rows
        parser.error("--rows doit être entre 400 et 9500")
    return args


# ---------------------------------------------------------------------------
# The plan and its workbook


def fixed_rows(data: dict) -> int:
    """Template rows that do not belong to a fiche: communes, organisations, axes, diagnostic."""
    plan = data["plan"]
    findings = sum(
        len(axis.get("diagnostic", {}).get(kind, []))
        for axis in data["axes"]
        for kind in ("strengths", "watch_points")
    )
    return len(plan.get("communes", [])) + len(plan.get("organisations", [])) + len(data["axes"]) + findings


def fiche_rows(action: dict) -> int:
    """Template rows of one fiche, as workbook_from_data writes them."""
    steps = sum(1 + len(step.get("children", [])) for step in action["steps"])
    indicators = sum(max(1, len(i.get("values") or [])) for i in action.get("indicators", []))
    return (
        1
        + steps
        + len(action["partners"])
        + len(action["conditions"])
        + len(action["calendar"])
        + indicators
        + len(action.get("notes", []))
    )


def sized_plan(rows: int) -> tuple[dict, float]:
    """Val'Aïgo scaled (workspace.scaled), then cut after the first fiche that brings the
    template to `rows` data rows. Returns the document and its size in Val'Aïgos."""
    base = json.loads(FIXTURE.read_bytes())
    per_copy = sum(fiche_rows(a) for axis in base["axes"] for a in axis["actions"])
    data = scaled(base, -(-(rows - fixed_rows(base)) // per_copy) + 1)
    total, cutoff = fixed_rows(data), 0
    for action in sorted((a for axis in data["axes"] for a in axis["actions"]), key=lambda a: a["number"]):
        if total >= rows:
            break
        total += fiche_rows(action)
        cutoff = action["number"]
    for axis in data["axes"]:
        axis["actions"] = [a for a in axis["actions"] if a["number"] <= cutoff]
    fiches = sum(len(axis["actions"]) for axis in data["axes"])
    base_fiches = sum(len(axis["actions"]) for axis in base["axes"])
    data["plan"]["slug"] = SLUG
    data["plan"]["territory"] = f"{base['plan']['territory']} (banc d'import, {fiches} fiches)"
    return data, fiches / base_fiches


def fiche_count(data: dict) -> int:
    return sum(len(axis["actions"]) for axis in data["axes"])


# ---------------------------------------------------------------------------
# The steps


def openpyxl_read(content: bytes) -> dict[str, int]:
    """The baseline: openpyxl opening the bytes as data_from_workbook does and going through
    every row of every sheet. Returns the rows of each sheet, header included."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    counts = {}
    for sheet in workbook.worksheets:
        n = 0
        for _ in sheet.iter_rows(values_only=True):
            n += 1
        counts[sheet.title] = n
    workbook.close()
    return counts


def flush() -> None:
    """Back to an empty installation: every table emptied, as a freshly migrated database
    (the app's migrations add no rows)."""
    from django.core.management import call_command

    call_command("flush", verbosity=0, interactive=False)


@dataclass
class Step:
    key: str
    label: str
    samples: list[float] = field(default_factory=list)  # wall, ms
    cpu: list[float] = field(default_factory=list)  # CPU of the process, ms
    queries: int | None = None
    writes: int | None = None


STEPS = [
    ("openpyxl", "openpyxl seul (lit toutes les lignes)"),
    ("read", "1. data_from_workbook (lecture)"),
    ("document", "2. read_document (lecture + validation)"),
    ("preview_empty", "3a. preview, installation vide"),
    ("preview_full", "3b. preview, plan déjà installé"),
    ("import", "4. import_plan, base vide"),
    ("reimport", "5. import_plan, même fichier par-dessus"),
]


def timed(step: Step | None, function: Callable[[], object]) -> object:
    gc.collect()
    cpu = time.process_time()
    start = time.perf_counter()
    result = function()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    if step is not None:
        step.samples.append(elapsed * 1000)
        step.cpu.append(cpu * 1000)
    return result


def check(condition: bool, message: str) -> None:
    if not condition:
        sys.exit(f"Banc arrêté : {message}")


def one_round(content: bytes, fiches: int, steps: dict[str, Step] | None) -> None:
    """Every step once, in the order of a real import (upload, preview, confirmation), then
    the same file again; the database is emptied at the end. `steps` None: untimed."""
    from actions.plan_io import open_format
    from actions.plan_io.spreadsheet import data_from_workbook, read_document

    def at(key):
        return steps[key] if steps else None

    timed(at("openpyxl"), lambda: openpyxl_read(content))
    parsed = timed(at("read"), lambda: data_from_workbook(content))
    check(fiche_count(parsed.data) == fiches, "data_from_workbook n'a pas lu toutes les fiches")
    data = timed(at("document"), lambda: read_document(FILENAME, content))
    seen = timed(at("preview_empty"), lambda: open_format.preview(data))
    check(not seen.plan_exists and len(seen.new) == fiches, f"aperçu sur base vide inattendu : {seen}")
    report = timed(at("import"), lambda: open_format.import_plan(data))
    check(report.created and report.actions == fiches, f"import inattendu : {report.summary()}")
    seen = timed(at("preview_full"), lambda: open_format.preview(data))
    check(
        seen.nothing_to_do and len(seen.unchanged) == fiches,
        f"aperçu du plan installé : {len(seen.changed)} fiche(s) modifiée(s), {len(seen.new)} nouvelle(s)",
    )
    report = timed(at("reimport"), lambda: open_format.import_plan(data))
    check(not report.created and report.unchanged == fiches, f"réimport inattendu : {report.summary()}")
    timed(at("openpyxl"), lambda: openpyxl_read(content))  # the baseline twice a round
    flush()


def statement(sql: str) -> str:
    """'INSERT actions_step', 'SELECT partners_organisation'…: what a query does, and where."""
    verb = sql.lstrip().split(None, 1)[0].upper()
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return verb  # the name of the savepoint changes from one call to the next
    if verb == "SELECT":
        match = re.search(r'\bFROM\s+"?(\w+)"?', sql, re.IGNORECASE)
    else:  # INSERT [OR IGNORE] INTO t, UPDATE t, DELETE FROM t
        match = re.search(r'^\s*\w+\s+(?:OR\s+\w+\s+)?(?:INTO\s+|FROM\s+)?"?(\w+)"?', sql, re.IGNORECASE)
    return f"{verb} {match.group(1)}" if match else verb


def count_queries(content: bytes) -> dict[str, tuple[int, int, Counter]]:
    """One untimed pass of every step under CaptureQueriesContext, on an empty database:
    {step: (queries, writes, queries by statement)}."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from actions.plan_io import open_format
    from actions.plan_io.spreadsheet import data_from_workbook, read_document

    data = read_document(FILENAME, content)
    calls = [
        ("openpyxl", lambda: openpyxl_read(content)),
        ("read", lambda: data_from_workbook(content)),
        ("document", lambda: read_document(FILENAME, content)),
        ("preview_empty", lambda: open_format.preview(data)),
        ("import", lambda: open_format.import_plan(data)),
        ("preview_full", lambda: open_format.preview(data)),
        ("reimport", lambda: open_format.import_plan(data)),
    ]
    counts = {}
    bounded = connection.queries_log
    for key, call in calls:
        # Django keeps the last 9,000 queries only: an unbounded log, emptied for each step.
        connection.queries_log = deque()
        try:
            with CaptureQueriesContext(connection) as captured:
                call()
            queries = captured.captured_queries  # read from the log: before it is put back
        finally:
            connection.queries_log = bounded
        kinds = Counter(statement(q["sql"]) for q in queries)
        writes = sum(n for kind, n in kinds.items() if kind.split()[0] in WRITES)
        counts[key] = (len(queries), writes, kinds)
    flush()
    return counts


# ---------------------------------------------------------------------------
# Report


def report(
    header: list[str],
    sheets: dict[str, int],
    steps: dict[str, Step],
    small: dict,
    large: dict,
    fiches: tuple[int, int],
) -> None:
    for text in header:
        print(text)
    print()

    from actions.plan_io.spreadsheet import SHEETS

    widths = (16, 8)
    print(line(("feuille", "lignes"), widths, 1))
    print("-" * sum(widths))
    data_rows = 0
    for title, n in sheets.items():
        rows = n if title == "Lisez-moi" else max(n - 1, 0)  # header left out
        if title in SHEETS:
            data_rows += rows
        note = {"Lisez-moi": "   (texte d'aide, non lu par l'import)", "Plan": "   (champs du plan)"}
        print(line((title, rows), widths, 1) + note.get(title, ""))
    print("-" * sum(widths))
    print(line(("total", data_rows), widths, 1) + "   (lignes de données des feuilles lues ligne à ligne)")
    print()

    baseline = statistics.median(steps["openpyxl"].samples)
    baseline_cpu = statistics.median(steps["openpyxl"].cpu)
    widths = (42, 4, 12, 18, 10, 12, 10, 10, 11)
    titles = (
        "étape",
        "n",
        "médiane ms",
        "min – max ms",
        "CPU ms",
        "× openpyxl",
        "idem CPU",
        "requêtes",
        "écritures",
    )
    print(line(titles, widths, 1))
    print("-" * sum(widths))
    for key, step in steps.items():
        median, cpu = statistics.median(step.samples), statistics.median(step.cpu)
        queries, writes, _ = large[key]
        cells = (
            step.label,
            len(step.samples),
            f"{median:.0f}",
            f"{min(step.samples):.0f} – {max(step.samples):.0f}",
            f"{cpu:.0f}",
            f"{median / baseline:.2f}",
            f"{cpu / baseline_cpu:.2f}",
            queries,
            writes,
        )
        print(line(cells, widths, 1))
    validation = statistics.median(steps["document"].samples) - statistics.median(steps["read"].samples)
    validation_cpu = statistics.median(steps["document"].cpu) - statistics.median(steps["read"].cpu)
    cells = (
        "  dont validation (2 − 1)",
        "",
        f"{validation:.0f}",
        "",
        f"{validation_cpu:.0f}",
        f"{validation / baseline:.2f}",
        f"{validation_cpu / baseline_cpu:.2f}",
    )
    print(line(cells, widths[:7], 1))
    print()

    small_fiches, large_fiches = fiches
    widths = (42, 16, 16, 16)
    titles = ("requêtes SQL", f"Val'Aïgo ({small_fiches} f.)", f"banc ({large_fiches} f.)", "en plus / fiche")
    print(line(titles, widths, 1))
    print("-" * sum(widths))
    for key, step in steps.items():
        a, b = small[key][0], large[key][0]
        print(line((step.label, a, b, f"{(b - a) / (large_fiches - small_fiches):.2f}"), widths, 1))
    print()

    kinds_small, kinds_large = small["import"][2], large["import"][2]
    growing = sorted(
        (kind for kind in kinds_large if kinds_large[kind] > kinds_small.get(kind, 0)),
        key=lambda kind: -kinds_large[kind],
    )
    titles = ("4. import, requêtes qui croissent", f"Val'Aïgo ({small_fiches} f.)", "banc", "en plus / fiche")
    print(line(titles, widths, 1))
    print("-" * sum(widths))
    for kind in growing:
        a, b = kinds_small.get(kind, 0), kinds_large[kind]
        print(line((kind, a, b, f"{(b - a) / (large_fiches - small_fiches):.2f}"), widths, 1))
    rest = [kind for kind in kinds_large if kind not in growing]
    print(f"  (constantes : {sum(kinds_large[k] for k in rest)} requêtes en {len(rest)} sortes)")
    if large["reimport"][1]:
        writes = {k: n for k, n in large["reimport"][2].items() if k.split()[0] in WRITES}
        print(f"\n5. réimport : écritures {', '.join(f'{k} ×{n}' for k, n in writes.items())}")


# ---------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    started = time.perf_counter()
    with django_for_bench() as (database, engine, load_before):
        import django
        import openpyxl
        from django.test import override_settings

        from actions.plan_io.spreadsheet import SHEETS, data_from_workbook, workbook_from_data

        data, size = sized_plan(args.rows)
        fiches = fiche_count(data)
        content = workbook_from_data(data)
        small_data = json.loads(FIXTURE.read_bytes())
        small_content = workbook_from_data(small_data)
        with override_settings(DEBUG=False):
            sheets = openpyxl_read(content)
            read_rows = data_from_workbook(content).rows
            check(
                read_rows == sum(n - 1 for title, n in sheets.items() if title in SHEETS),
                f"data_from_workbook a lu {read_rows} lignes de données",
            )
            one_round(content, fiches, None)  # warm-up: imports, schemas, templates of openpyxl
            steps = {key: Step(key, label) for key, label in STEPS}
            for _ in range(args.rounds):
                one_round(content, fiches, steps)
            large = count_queries(content)
            small = count_queries(small_content)
        now = datetime.datetime.now().astimezone()
        load_after = os.getloadavg()[0]
        header = [
            f"Suivi CTG — banc de l'import d'un plan (modèle Excel) — {now:%Y-%m-%d %H:%M %Z}",
            f"  {engine} ({database}) ; Python {platform.python_version()}, Django {django.get_version()}, "
            f"openpyxl {openpyxl.__version__}, {os.cpu_count()} cœur(s), DEBUG=False",
            f"  charge de la machine (moyenne 1 min) : {load_before:.1f} au début, {load_after:.1f} à la fin",
            f"  plan « {SLUG} » : {fiches} fiches (Val'Aïgo ×{size:.2f}), "
            f"classeur de {len(content) / 1024:.0f} Kio",
            f"  échauffement 1 tour, puis {args.rounds} tour(s) (openpyxl seul : 2 fois par tour) ; "
            "base vidée (flush) à la fin de chaque tour",
        ]
        report(header, sheets, steps, small, large, (fiche_count(small_data), fiches))
        print(f"\nDurée totale : {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
