"""Reports in real Chromium: an élu reads the dashboard, asks for the dossier COPIL, follows it while
the worker makes it (htmx polling, or reloading without JavaScript), downloads it; the fiche PDF.

The background dossier is asked for on a small plan of three fiches: the test is about the queue,
the status page and the download, and Val'Aïgo's 30-page dossier cost it half a minute of
WeasyPrint and text extraction (twice). The Val'Aïgo dossier itself is read page by page in
tests/reporting/test_reports.py::test_dossier_copil."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from axes.models import Role
from reporting.models import GeneratedReport, ReportStatus
from reporting.overview import plan_overview
from tests.browser.pages import READER_PASSWORD, axe_violations, describe, signed_in_as
from tests.factories import build_plan, grant
from tests.pdf import pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DASHBOARD = "/plans/{slug}/tableau-de-bord/"
REPORTS = "/plans/{slug}/rapports/"
CHART_TITLES = [
    "Avancement moyen par axe",
    "Statut des fiches par axe",
    "Calendrier des fiches-actions, 2023-2027",
]
POLLING = 10_000  # ms: htmx asks every second; leave room for a slow machine.


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "accept_downloads": True}


def run_worker():
    """The worker, once through the queue and now (it would otherwise sleep, then wait for more)."""
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)


def download(page, link, tmp_path):
    """Click `link`, save what the browser downloads, and return (suggested name, saved path)."""
    with page.expect_download() as info:
        link.click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    return info.value.suggested_filename, saved


def ask_for_the_dossier_copil(page, live_server, plan, audits=None):
    """From the dashboard, as the élu would, up to the status page of a newly queued dossier;
    the reports page's axe violations go into `audits` when given."""
    reports = REPORTS.format(slug=plan.slug)
    page.goto(f"{live_server.url}{DASHBOARD.format(slug=plan.slug)}")
    page.get_by_role("link", name="Préparer le dossier COPIL ou le bilan CAF en PDF").click()
    expect(page).to_have_url(f"{live_server.url}{reports}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rapports PDF")
    if audits is not None:
        audits[reports] = axe_violations(page)
    page.get_by_role("button", name="Préparer le dossier COPIL").click()
    report = GeneratedReport.objects.get()
    expect(page).to_have_url(f"{live_server.url}{reports}{report.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dossier COPIL")
    return report


def test_reader_reads_the_dashboard(signed_in_page, live_server, val_aigo):
    page = signed_in_page
    page.get_by_role("link", name="Tableau de bord").first.click()
    expect(page).to_have_url(f"{live_server.url}{DASHBOARD.format(slug=val_aigo.slug)}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tableau de bord")

    def key_figure(term):
        return page.locator(".key-figures > div").filter(has=page.locator("dt", has_text=term)).locator("dd")

    expect(key_figure("Avancement global")).to_have_text(re.compile(r"^\d{1,3} %$"))
    expect(key_figure("Fiches-actions")).to_have_text("20")

    # Three charts, each an image named by its title and followed by the table of its figures
    # (one click away on screen, in the page for screen readers).
    charts = page.locator("div.chart")
    expect(charts).to_have_count(3)
    for chart, title in zip(charts.all(), CHART_TITLES, strict=True):
        expect(chart.get_by_role("img")).to_have_accessible_name(
            f"{title} (données dans le tableau qui suit)"
        )
        expect(chart.locator("table.chart-data")).to_have_count(1)
        expect(chart.locator("table.chart-data")).to_have_accessible_name(f"{title} : données")
        assert chart.locator("table.chart-data tbody tr").count() > 0, title

    late = plan_overview(val_aigo).late
    heading = page.get_by_role("heading", name=re.compile(r"^Fiches en retard \(\d+\)$"))
    expect(heading).to_have_text(f"Fiches en retard ({len(late)})")
    section = page.locator("section", has=heading)
    expect(section.get_by_role("listitem")).to_have_count(len(late))

    # WCAG 2 A and AA, with its three charts drawn.
    expect(page.locator('svg[role="img"]')).to_have_count(3)
    violations = axe_violations(page)
    assert not violations, describe(violations)


def waiting(page, javascript):
    """The status page of a queued dossier, as a reader with or without scripts sees it."""
    progress = page.locator("#avancement-rapport")
    bar = progress.get_by_role("progressbar", name="Avancement de la génération")
    # Playwright's text and role queries skip <noscript>; CSS reaches what the browser renders there.
    reload_hint = progress.locator("noscript p")
    expect(progress).to_contain_text("En file d'attente")
    expect(bar).to_have_attribute("value", "0")
    if javascript:
        # The page's deferred scripts run once it is parsed: wait for them, not only its text.
        page.wait_for_load_state()
        assert page.evaluate("typeof window.htmx") == "object"
        expect(progress).to_have_attribute("hx-trigger", "every 1s")
        expect(reload_hint).to_have_count(0)  # with scripts on, <noscript> holds bare text
        page.evaluate("window.sansRechargement = true")
    else:
        expect(reload_hint).to_be_visible()
        expect(reload_hint).to_have_text("Rechargez la page pour voir l'avancement.")


def ready(page, plan, javascript, tmp_path):
    """Once the worker made it: ready without a reload with scripts, after one without; the
    download is the plan's dossier."""
    progress = page.locator("#avancement-rapport")
    bar = progress.get_by_role("progressbar", name="Avancement de la génération")
    if not javascript:
        # Nothing moves by itself: the page says so, and the élu reloads.
        expect(progress).to_contain_text("En file d'attente")
        page.reload()
    filename = f"{plan.slug}-dossier-copil.pdf"
    link = page.get_by_role("link", name=f"Télécharger le PDF ({filename})")
    expect(progress).to_contain_text("Prêt", timeout=POLLING)
    expect(link).to_be_visible()
    expect(bar).to_have_attribute("value", "100")
    expect(progress).not_to_contain_text("En file d'attente")
    expect(progress.locator("noscript")).to_have_count(0)
    if javascript:
        assert page.evaluate("window.sansRechargement") is True, "the page was reloaded"
        # Ready: htmx stops asking.
        expect(progress).not_to_have_attribute("hx-trigger", re.compile("."))

    name, saved = download(page, link, tmp_path / ("js" if javascript else "sans-js"))
    assert name == filename
    text = pdf_text(saved)
    fiche = plan.actions.get(number=2)
    for expected in [
        "Dossier COPIL",
        plan.territory,
        "Sommaire",
        f"Action 2 : {fiche.title}",
    ]:
        assert expected in text, expected
    assert re.search(r"page 1 / \d+", text), "no page numbers"


@pytest.fixture
def small_plan(django_user_model):
    """Three full fiches on two axes, and an élu who reads them."""
    plan = build_plan(3, n_axes=2)
    grant(django_user_model.objects.create_user("lecteur", password=READER_PASSWORD), plan, Role.READER)
    return plan


def test_reader_gets_the_dossier_copil_made_in_the_background(
    page, new_context, live_server, small_plan, tmp_path
):
    """Two élus ask for the dossier COPIL, one with scripts on and one without; the plan being
    the same, they wait for the same dossier, made once by the worker."""
    signed_in_as(page, live_server, "lecteur")
    # WCAG 2 A and AA on the reports page and on the status page once ready (with scripts on, as
    # most people read them).
    audits = {}
    report = ask_for_the_dossier_copil(page, live_server, small_plan, audits)
    waiting(page, javascript=True)

    plain = signed_in_as(new_context(java_script_enabled=False).new_page(), live_server, "lecteur")
    assert ask_for_the_dossier_copil(plain, live_server, small_plan) == report
    waiting(plain, javascript=False)

    run_worker()
    report.refresh_from_db()
    assert (report.status, report.progress) == (ReportStatus.DONE, 100)

    ready(page, small_plan, True, tmp_path)
    audits[f"{REPORTS.format(slug=small_plan.slug)}{report.pk}/ (prêt)"] = axe_violations(page)
    failures = {url: describe(violations) for url, violations in audits.items() if violations}
    assert not failures, "\n".join(f"{url}:\n{text}" for url, text in failures.items())
    ready(plain, small_plan, False, tmp_path)


def test_reader_downloads_the_fiche_of_action_12(reader_page, live_server, tmp_path):
    page = reader_page
    page.goto(f"{live_server.url}/plans/val-aigo/fiches/12/")
    link = page.get_by_role("link", name="Télécharger la fiche en PDF")
    expect(link).to_have_attribute("href", "/plans/val-aigo/fiches/12.pdf")

    name, saved = download(page, link, tmp_path)
    assert name == "val-aigo-fiche-12.pdf"
    text = pdf_text(saved)
    assert "Action 12" in text
    assert "page 1 / 1" in text
