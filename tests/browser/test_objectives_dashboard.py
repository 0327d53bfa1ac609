"""The dashboard of a plan with objectives, in real Chromium: an élu reads each enjeu's
objectives under it, opens the figures behind the chart, and the page reflows at 320 px with
no axe-core (WCAG 2 A/AA) violation."""

import pytest
from playwright.sync_api import expect

from actions.models import Status
from axes.models import Objective, Role
from tests.browser.pages import FACTORY_PASSWORD, axe_violations, describe, sign_in
from tests.factories import ActionFactory, AxisFactory, FinancingFactory, PlanFactory, UserFactory, grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def plan():
    plan = PlanFactory(slug="bastides", territory="CC des Bastides", level_label="Enjeu")
    familles = AxisFactory(plan=plan, number=1, title="Soutenir les familles")
    AxisFactory(plan=plan, number=2, title="Animer la vie sociale")
    parents = Objective.objects.create(
        axis=familles, position=1, code="1.1", title="Accompagner les parents dans leur rôle éducatif"
    )
    ActionFactory(
        plan=plan, axis=familles, number=1, objective=parents, status=Status.IN_PROGRESS, progress=40
    )
    fiche = ActionFactory(plan=plan, axis=familles, number=2, status=Status.PLANNED, progress=0)
    FinancingFactory(action=fiche, funder="CAF 31", planned=1000)
    grant(UserFactory(username="elue"), plan, Role.READER)
    return plan


def test_an_elu_reads_the_objectives_under_their_enjeu(page, live_server, plan):
    page.goto(f"{live_server.url}/connexion/")
    sign_in(page, "elue", FACTORY_PASSWORD)
    page.wait_for_url(f"{live_server.url}/plans/bastides/tableau-de-bord/")
    expect(page.get_by_role("heading", name="Avancement par enjeu et par objectif")).to_be_visible()
    chart = page.get_by_role(
        "img", name="Avancement moyen par enjeu et par objectif (données dans le tableau qui suit)"
    )
    expect(chart).to_contain_text("Objectif 1.1 : Accompagner les parents dans leur rôle éducatif")
    page.get_by_role("button", name="Voir les données : Avancement moyen par enjeu et par objectif").click()
    table = page.get_by_role("table", name="Avancement moyen par enjeu et par objectif : données")
    expect(table).to_be_visible()
    assert [row.locator("th, td").all_inner_texts() for row in table.get_by_role("row").all()] == [
        ["Enjeu", "Avancement moyen"],
        ["Enjeu 1 : Soutenir les familles", "20 %"],
        ["Objectif 1.1 : Accompagner les parents dans leur rôle éducatif", "40 %"],
        ["Sans objectif", "0 %"],
        ["Enjeu 2 : Animer la vie sociale", "0 %"],
    ]
    # The objective's row is set in from its enjeu's, in the chart and in its table.
    header = table.get_by_role(
        "rowheader", name="Objectif 1.1 : Accompagner les parents dans leur rôle éducatif"
    )
    enjeu = table.get_by_role("rowheader", name="Enjeu 1 : Soutenir les familles")
    assert header.evaluate("e => getComputedStyle(e).paddingLeft") != enjeu.evaluate(
        "e => getComputedStyle(e).paddingLeft"
    )

    problems = {}
    # Reloaded once, as drawn (the figures closed again), then laid out again at 320 px: media
    # queries follow the viewport and no script of ours reads the width.
    page.set_viewport_size({"width": 1366, "height": 800})
    page.reload()
    for width in (1366, 320):
        page.set_viewport_size({"width": width, "height": 800})
        overflow = page.evaluate("document.documentElement.scrollWidth") - width
        if overflow > 0:
            problems[f"{width} px, défilement horizontal"] = overflow
        violations = axe_violations(page)
        if violations:
            problems[f"{width} px, axe"] = describe(violations)
    assert not problems, problems
