"""The Content-Security-Policy in real Chromium: the pages and their htmx interactions run
without a single violation (an inline script, style or handler would be refused silently)."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_no_policy_violation_while_reading_and_filtering(reader_page, live_server):
    page = reader_page
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation',"
        " e => console.error('Content Security Policy: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    for path in [
        "/plans/val-aigo/",
        "/plans/val-aigo/fiches/12/",
        "/plans/val-aigo/tableau-de-bord/",
        "/plans/val-aigo/rapports/",
        "/tableau-de-bord/",
    ]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/plans/val-aigo/fiches/")
    assert page.evaluate("typeof window.htmx") == "object"
    page.locator("#id_q").fill("jeunesse")  # the list's own search, not the header's
    expect(page).to_have_url(re.compile(r"[?&]q=jeunesse"), timeout=5000)
    page.wait_for_load_state("networkidle")
    # htmx would inject its indicator <style> without includeIndicatorStyles=false.
    assert page.evaluate("document.querySelectorAll('style').length") == 0
    assert violations == []
