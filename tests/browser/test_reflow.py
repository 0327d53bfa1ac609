"""Every page, for every role, at 320 px (WCAG 1.4.10: 1280 px at 400 % zoom) and at 1366 px
(issue 12): nothing scrolls sideways, and axe-core (WCAG 2 A/AA) finds nothing."""

import pytest

from axes.models import Role
from partners.models import Organisation
from tests.browser.pages import audit_every_page, axe_violations, describe, signed_in_as
from tests.factories import DecisionFactory, MeetingFactory, UserFactory, grant, theme

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ["administration", "coordination", "contribution", "lecture", "caf"]
MANAGERS = {"administration", "coordination"}
FICHE = "/plans/val-aigo/fiches/12/"
# (path, who may read it).
PAGES = [
    (FICHE, None),
    ("/plans/val-aigo/", None),
    ("/plans/val-aigo/fiches/", None),
    ("/plans/val-aigo/fiches/?late=on", None),
    ("/plans/val-aigo/mes-fiches/", None),
    ("/plans/val-aigo/recherche/?q=mediatheque", None),
    ("/plans/val-aigo/recherche/?q=jeunesse", None),
    ("/plans/val-aigo/tableau-de-bord/", None),
    ("/plans/val-aigo/communes/31584/", None),
    ("/plans/val-aigo/reunions/", None),
    ("/plans/val-aigo/reunions/{meeting}/", None),
    ("/plans/val-aigo/rapports/", None),
    ("/plans/val-aigo/membres/", MANAGERS),
    ("/plans/val-aigo/membres/{member}/retirer/", MANAGERS),
    ("/tableau-de-bord/", None),
    ("/thematiques/", None),
    ("/thematiques/parentalite/", None),
    ("/compte/mot-de-passe/", None),
    ("/accessibilite/", None),
    ("/mentions-legales/", None),
    ("/donnees-personnelles/", None),
]
PUBLIC = [
    "/connexion/",
    "/compte/mot-de-passe-oublie/",
    "/accessibilite/",
    "/mentions-legales/",
    "/donnees-personnelles/",
]


@pytest.fixture
def people(val_aigo):
    """One person per role on Val'Aïgo, and the few things their pages show."""
    villemur = Organisation.objects.get(name="Villemur-sur-Tarn")
    caf = Organisation.objects.get(short_name="CAF", kind="caf")
    users = {
        "administration": grant(UserFactory(username="administration"), val_aigo, Role.ADMIN),
        "coordination": grant(UserFactory(username="coordination"), val_aigo, Role.COORDINATOR),
        "contribution": grant(UserFactory(username="contribution"), val_aigo, Role.CONTRIBUTOR, villemur),
        "lecture": grant(UserFactory(username="lecture"), val_aigo, Role.READER),
        "caf": UserFactory(username="caf"),
    }
    users["caf"].memberships.create(organisation=caf)
    # A theme with a fiche and its financing, for the theme's page (the list may have been flushed).
    fiche = val_aigo.actions.get(number=1)
    fiche.themes.add(theme("Parentalité", "parentalite"))
    fiche.financing.create(funder="CAF de la Haute-Garonne", scheme="Bonus territoire CTG", planned=12500)
    meeting = MeetingFactory(plan=val_aigo)
    DecisionFactory(meeting=meeting, actions=[val_aigo.actions.get(number=12)])
    member = val_aigo.roles.get(user=users["lecture"]).pk
    return {"users": users, "meeting": meeting.pk, "member": member}


def overflow(page):
    """How far the page scrolls sideways, in CSS pixels (0 when it reflows)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


SIZES = {320: {"width": 320, "height": 640}, 1366: {"width": 1366, "height": 900}}


def audit(page, url):
    """What is wrong with the page at 320 px and at 1366 px: sideways scroll, axe violations.

    The page is loaded at the width the previous one was left at, audited, then laid out again
    at the other width: media queries follow the viewport, and no script of ours reads the
    width, so a reload would show nothing more (and starting from the width it was left at
    spares laying out the previous page once more before leaving it)."""
    problems = []
    page.goto(url)
    first = page.viewport_size["width"]
    for width in (first, 1366 if first == 320 else 320):
        if page.viewport_size["width"] != width:
            page.set_viewport_size(SIZES[width])
        if width == 320 and (scroll := page.evaluate("document.documentElement.scrollWidth")) > 320:
            problems.append(f"320 px : la page fait {scroll} px de large")
        if violations := axe_violations(page):
            problems.append(f"axe à {width} px : " + describe(violations))
    return problems


def test_every_page_reflows_and_meets_wcag_signed_out_and_for_every_role(page, live_server, people):
    """The public pages signed out, then the five roles' walks, one after the other in one
    browser context, its session cookie replaced for each role (signed_in_as): the pages keep
    nothing else of the previous walk (no storage, no cached page: the HTML carries no
    validator), and a context per walk cost its creation and its first page's start again."""
    audit_every_page(page.context)
    page.set_viewport_size(SIZES[320])
    failures = {}
    walks = [(None, [(path, None) for path in PUBLIC])] + [(role, PAGES) for role in ROLES]
    for role, pages in walks:
        if role is not None:
            signed_in_as(page, live_server, role)
        for path, readers in pages:
            if readers is not None and role not in readers:
                continue
            path = path.format(meeting=people["meeting"], member=people["member"])
            problems = audit(page, f"{live_server.url}{path}")
            if problems:
                failures[f"{role or 'déconnecté'} : {path}"] = problems
    assert not failures, "\n".join(f"{where}\n  " + "\n  ".join(p) for where, p in failures.items())
