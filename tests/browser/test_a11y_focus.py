"""After an htmx swap the focus stays where the user works and the outcome is announced
(static/js/app.js: data-announce, data-focus); the header menu folds behind a button on a
phone; removing a member asks first, with and without JavaScript (issue 12)."""

import re

import pytest
from playwright.sync_api import expect

from axes.models import Role
from tests.browser.pages import open_as
from tests.factories import DecisionFactory, MeetingFactory, UserFactory, grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def coordination(val_aigo):
    return grant(UserFactory(username="coordination"), val_aigo, Role.COORDINATOR)


def test_filtering_the_list_announces_the_count_and_keeps_the_focus(page, live_server, coordination):
    open_as(page, live_server, "/plans/val-aigo/fiches/", "coordination")
    late = page.get_by_label("En retard")
    late.check()
    expect(page.locator("#annonce")).to_have_text(re.compile(r"^\d+ fiches?$"))
    expect(page.locator("#toast")).to_be_visible()
    expect(late).to_be_focused()
    announced = page.locator("#annonce").inner_text()
    expect(page.locator("#resultats-titre")).to_contain_text(announced)


def test_changing_a_decision_announces_it_and_focus_stays_on_it(page, live_server, coordination, val_aigo):
    decision = DecisionFactory(meeting=MeetingFactory(plan=val_aigo))
    open_as(page, live_server, f"/plans/val-aigo/reunions/{decision.meeting.pk}/", "coordination")
    item = page.locator(f"#decision-{decision.pk}")
    item.get_by_label("État de la décision").select_option(label="Prise")
    item.get_by_role("button", name="Changer l'état").click()
    expect(page.locator("#annonce")).to_have_text("Décision prise.")
    expect(page.locator(f"#decision-{decision.pk}").get_by_label("État de la décision")).to_be_focused()
    assert page.evaluate("document.activeElement !== document.body")


def test_the_menu_folds_behind_a_button_on_a_phone(page, live_server, coordination):
    page.set_viewport_size({"width": 320, "height": 640})
    open_as(page, live_server, "/plans/val-aigo/", "coordination")
    button = page.get_by_role("button", name="Menu")
    menu = page.get_by_role("navigation", name="Menu principal")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("link", name="Mes fiches")).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(button).to_be_focused()


def test_without_javascript_the_menu_is_simply_listed(new_context, live_server, coordination):
    page = new_context(java_script_enabled=False, viewport={"width": 320, "height": 640}).new_page()
    open_as(page, live_server, "/plans/val-aigo/", "coordination")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(
        page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Mes fiches")
    ).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


@pytest.mark.parametrize("javascript", [True, False], ids=["avec-js", "sans-js"])
def test_removing_a_member_asks_first(new_context, live_server, coordination, val_aigo, javascript):
    reader = grant(UserFactory(username="elue", first_name="Anne", last_name="Roux"), val_aigo, Role.READER)
    page = new_context(java_script_enabled=javascript).new_page()
    open_as(page, live_server, "/plans/val-aigo/membres/", "coordination")
    page.get_by_role("link", name="Retirer elue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Retirer Anne Roux du plan ?")
    assert val_aigo.roles.filter(user=reader).exists()  # nothing removed by asking
    page.get_by_role("button", name="Retirer du plan").click()
    expect(page).to_have_url(f"{live_server.url}/plans/val-aigo/membres/")
    expect(page.get_by_text("n'a plus accès au plan")).to_be_visible()
    assert not val_aigo.roles.filter(user=reader).exists()
