"""Real Chromium: a CAF officer, from the overview of the plans her CAF signed, picks
"Parentalité" and reads the fiches of that theme in both territories, then opens one."""

import re

import pytest
from playwright.sync_api import expect

from partners.models import Membership, Organisation, OrganisationKind
from tests.browser.pages import axe_violations, open_as
from tests.factories import ActionFactory, FinancingFactory, PlanFactory, UserFactory, audience, theme

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_caf_officer_reads_parentalite_across_two_plans(page, live_server):
    caf = Organisation.objects.create(name="CAF de la Haute-Garonne", kind=OrganisationKind.CAF)
    parentalite, petite_enfance = theme("Parentalité"), theme("Petite enfance")
    parents = audience("Parents")
    nord = PlanFactory(slug="nord", territory="CC du Nord")
    sud = PlanFactory(slug="sud", territory="CC du Sud")
    gers = PlanFactory(slug="gers", territory="CC du Gers")  # another CAF's plan
    for plan in (nord, sud):
        plan.signatories.add(caf)
    gers.signatories.add(Organisation.objects.create(name="CAF du Gers", kind=OrganisationKind.CAF))
    ateliers = ActionFactory(plan=nord, axis__plan=nord, number=1, title="Ateliers parents-enfants")
    laep = ActionFactory(plan=sud, axis__plan=sud, number=3, title="Lieu d'accueil enfants-parents")
    creche = ActionFactory(plan=sud, axis=laep.axis, number=4, title="Micro-crèche")
    ailleurs = ActionFactory(plan=gers, axis__plan=gers, number=1, title="Café des parents gersois")
    for action in (ateliers, laep, ailleurs):
        action.themes.add(parentalite)
    creche.themes.add(petite_enfance)
    laep.audiences.add(parents)
    FinancingFactory(action=laep, funder="CAF 31", planned=12500, granted=10000)
    officer = UserFactory(username="ines", first_name="Inès", last_name="Martin")
    Membership.objects.create(user=officer, organisation=caf)

    open_as(page, live_server, "/tableau-de-bord/", "ines")
    page.get_by_role("link", name="Les fiches de tous ces plans par thématique").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Thématiques")
    page.get_by_label("Thématique", exact=True).select_option(label="Parentalité (2)")
    page.get_by_role("button", name="Afficher les fiches").click()

    expect(page).to_have_url(f"{live_server.url}/thematiques/{parentalite.slug}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Parentalité")
    table = page.get_by_role("table", name=re.compile("Fiches « Parentalité »"))
    expect(table.get_by_role("row")).to_have_count(3)  # the header and two fiches
    expect(table).to_contain_text("CC du Nord")
    expect(table).to_contain_text("CC du Sud")
    expect(table).to_contain_text("12\u00a0500\u00a0€")
    expect(table).not_to_contain_text("gersois")
    expect(table).not_to_contain_text("Micro-crèche")
    assert axe_violations(page) == []

    # Only the fiches for parents, then one of them opened.
    page.get_by_label("Public visé", exact=True).select_option(label="Parents")
    page.get_by_role("button", name="Filtrer").click()
    expect(table.get_by_role("row")).to_have_count(2)
    table.get_by_role("link", name="Action 3").click()
    expect(page).to_have_url(f"{live_server.url}/plans/sud/fiches/3/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lieu d'accueil enfants-parents")
    financing = page.get_by_role("region", name="Financements", exact=True)
    expect(financing).to_contain_text("CAF 31")
    expect(page.locator("#thematiques")).to_contain_text("Parents")
