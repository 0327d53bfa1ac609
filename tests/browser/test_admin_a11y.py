"""The admin pages we customise, audited in real Chromium: 0 WCAG 2 A/AA violations (RGAA), at
1366 px and at 320 px, in French."""

import pytest
from django.urls import reverse

from actions.models import Action
from axes.models import Axis
from partners.models import Organisation
from reporting.models import Meeting
from tests.browser.pages import audit_every_page, axe_violations, describe, signed_in_as
from tests.factories import UserFactory, theme

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def administrator(val_aigo):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


def admin_pages(val_aigo):
    fiche = Action.objects.get(plan=val_aigo, number=12)
    meeting = Meeting.objects.create(plan=val_aigo, instance="copil", date="2026-03-12")
    pages = [reverse("admin:index")]
    for obj in (
        val_aigo,
        Axis.objects.filter(plan=val_aigo).first(),
        fiche,
        Organisation.objects.first(),
        meeting,
    ):
        opts = obj._meta
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    pages.append(reverse("admin:actions_step_changelist"))
    # The lists an installation administrator keeps (themes, publics), and the financing lines.
    parentalite = theme("Parentalité")
    pages += [
        reverse("admin:actions_theme_changelist"),
        reverse("admin:actions_theme_change", args=[parentalite.pk]),
        reverse("admin:actions_audience_changelist"),
        reverse("admin:actions_financing_changelist"),
    ]
    pages.append(reverse("admin:django_tasks_database_dbtaskresult_changelist"))
    return pages


def test_admin_pages_meet_wcag_a_and_aa(page, live_server, administrator, val_aigo):
    signed_in_as(page, live_server, "admin")
    audit_every_page(page.context)
    page.set_viewport_size({"width": 1366, "height": 900})
    widths = [1366, 320]
    found = {}
    for path in admin_pages(val_aigo):
        page.goto(f"{live_server.url}{path}")
        assert page.locator("h1").count() >= 1, path
        if path == reverse("admin:index"):
            assert "Administration de Suivi CTG" in page.locator("#site-name").inner_text()
        for width in widths:
            # Audited at the width the page was loaded at, then the same document laid out
            # again at the other: the admin's layout follows the viewport through media queries
            # only (no script reads the width), so a reload would show nothing more.
            if page.viewport_size["width"] != width:
                page.set_viewport_size({"width": width, "height": 900})
            violations = axe_violations(page)
            if violations:
                found[f"{path} ({width} px)"] = describe(violations)
        # The next page loaded at the width this one was left at: the page left is not laid
        # out once more for nothing.
        widths.reverse()
    assert not found, "\n\n".join(f"{path}:\n{text}" for path, text in found.items())
