"""The next plan: an ending plan renewed, the chosen fiches carried with what they hold, the
roles copied, the old plan read-only and still readable."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from actions.models import Action, Status
from axes.models import FindingKind, Plan, PlanRole, Role
from reporting.reports import build_report
from tests.factories import (
    ActionFactory,
    AxisFactory,
    CalendarEntryFactory,
    ConditionFactory,
    FindingFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    NoteFactory,
    OrganisationFactory,
    PartnerFactory,
    PlanFactory,
    StepFactory,
    grant,
)
from tests.pdf import pdf_text


def person(username, **extra):
    return get_user_model().objects.create(username=username, email=f"{username}@example.org", **extra)


@pytest.fixture
def ending(db):
    """A 2023-2027 plan: fiches 1 (en cours), 2 (à venir), 3 (réalisée), 4 (abandonnée) and 5
    (en pause), people of every role."""
    plan = PlanFactory(slug="val", title="CTG de Val'Aïgo", start_year=2023, end_year=2027)
    villemur = OrganisationFactory(commune=True, name="Villemur-sur-Tarn")
    caf = OrganisationFactory(name="CAF de la Haute-Garonne", kind="caf")
    plan.communes.set([villemur])
    plan.signatories.set([caf])
    axes = [AxisFactory(plan=plan, number=n, title=f"Axe numéro {n}", theme="Petite enfance") for n in (1, 2)]
    FindingFactory(axis=axes[0], kind=FindingKind.STRENGTH, text="Un réseau d'assistantes maternelles")
    FindingFactory(axis=axes[1], kind=FindingKind.WATCH_POINT, text="Peu de places en crèche")
    statuses = [Status.IN_PROGRESS, Status.PLANNED, Status.DONE, Status.ABANDONED, Status.ON_HOLD]
    fiches = {}
    for number, status in enumerate(statuses, start=1):
        fiches[number] = ActionFactory(
            plan=plan,
            axis=axes[number % 2],
            number=number,
            title=f"Fiche {number}",
            status=status,
            progress=100 if status == Status.DONE else 30,
        )
        fiches[number].pilots.add(villemur)
    first = fiches[1]
    StepFactory(action=first, text="Étape faite", done=True)
    StepFactory(action=first, text="Étape à faire")
    heading = StepFactory(action=first, text="Villemur", commune=villemur)
    StepFactory(action=first, parent=heading, text="Sous-étape faite", done=True, commune=villemur)
    StepFactory(action=first, parent=heading, text="Sous-étape à faire", commune=villemur)
    done_heading = StepFactory(action=first, text="Tout fait")
    StepFactory(action=first, parent=done_heading, text="Fait aussi", done=True)
    PartnerFactory(action=first, name="CAF", role="Financeur", organisation=caf)
    ConditionFactory(action=first, text="Un local disponible")
    CalendarEntryFactory(action=first, label="2025", start="2025-01-01", end="2025-12-31")
    NoteFactory(action=first, text="Une note de l'ancien plan")
    places = IndicatorFactory(action=first, name="Places", unit="places", baseline=2, target=10)
    IndicatorValueFactory(indicator=places, year=2024, value=5)
    IndicatorValueFactory(indicator=places, year=2025, value=8)
    IndicatorFactory(action=fiches[5], name="Sans valeur", baseline=3, target=6)
    people = {
        "admin": grant(person("admin"), plan, Role.ADMIN),
        "coordinateur": grant(person("coordinateur"), plan, Role.COORDINATOR),
        "contributeur": grant(person("contributeur"), plan, Role.CONTRIBUTOR, villemur),
        "lecteur": grant(person("lecteur"), plan, Role.READER),
        "autre": grant(person("autre"), PlanFactory(), Role.ADMIN),
    }
    return plan, fiches, people


def renew_url(plan):
    return reverse("plan_renew", kwargs={"slug": plan.slug})


DATA = {"slug": "val-2028", "title": "CTG de Val'Aïgo 2028-2032", "start_year": 2028, "end_year": 2032}


def test_the_form_proposes_the_next_period_and_the_unfinished_fiches(client, ending):
    plan, fiches, people = ending
    client.force_login(people["admin"])
    page = client.get(renew_url(plan))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="2028"' in html and 'value="2032"' in html and 'value="val-2028"' in html
    checked = {
        n for n in fiches if f'value="{n}"' in html and f'value="{n}" id="id_carry_{n - 1}" checked' in html
    }
    assert checked == {1, 2, 5}


def test_a_renewal_carries_three_fiches_with_what_they_hold(client, ending):
    plan, fiches, people = ending
    client.force_login(people["admin"])
    response = client.post(renew_url(plan), {**DATA, "carry": ["1", "2", "5"]})
    assert response.status_code == 302 and response.url == reverse(
        "plan_renewal", kwargs={"slug": "val-2028"}
    )
    new = Plan.objects.get(slug="val-2028")
    assert (new.territory, new.start_year, new.end_year) == (plan.territory, 2028, 2032)
    assert set(new.communes.all()) == set(plan.communes.all())
    assert set(new.signatories.all()) == set(plan.signatories.all())
    assert [(a.number, a.title, a.theme) for a in new.axes.order_by("number")] == [
        (1, "Axe numéro 1", "Petite enfance"),
        (2, "Axe numéro 2", "Petite enfance"),
    ]
    assert sorted(f.text for f in new.axes.get(number=2).findings.all()) == ["Peu de places en crèche"]

    carried = list(Action.objects.filter(plan=new).order_by("number"))
    assert [(a.number, a.title, a.previous_id) for a in carried] == [
        (1, "Fiche 1", fiches[1].pk),
        (2, "Fiche 2", fiches[2].pk),
        (3, "Fiche 5", fiches[5].pk),
    ]
    assert [(a.status, a.progress) for a in carried] == [
        (Status.IN_PROGRESS, 0),
        (Status.PLANNED, 0),
        (Status.ON_HOLD, 0),
    ]
    assert carried[0].axis.plan == new and carried[0].axis.number == fiches[1].axis.number
    one = carried[0]
    assert [p.name for p in one.pilots.all()] == ["Villemur-sur-Tarn"]
    # Open steps only, a heading with the open sub-steps under it; none done.
    tops = [(s.text, [c.text for c in s.children.all()]) for s in one.steps.filter(parent=None)]
    assert tops == [("Étape à faire", []), ("Villemur", ["Sous-étape à faire"])]
    assert not one.steps.filter(done=True).exists()
    assert [(p.name, p.role, p.organisation.name) for p in one.partners.all()] == [
        ("CAF", "Financeur", "CAF de la Haute-Garonne")
    ]
    assert [c.text for c in one.conditions.all()] == ["Un local disponible"]
    assert not one.calendar_entries.exists() and not one.notes.exists()
    indicator = one.indicators.get()
    assert (indicator.name, indicator.unit, indicator.baseline, indicator.target) == (
        "Places",
        "places",
        Decimal("8"),  # the last value known
        Decimal("10"),
    )
    assert not indicator.values.exists()
    assert carried[2].indicators.get().baseline == Decimal("3")  # no value: the old baseline

    # The roles, with the organisations represented.
    roles = {r.user.username: (r.role, [o.name for o in r.organisations.all()]) for r in new.roles.all()}
    assert roles == {
        "admin": (Role.ADMIN, []),
        "coordinateur": (Role.COORDINATOR, []),
        "contributeur": (Role.CONTRIBUTOR, ["Villemur-sur-Tarn"]),
        "lecteur": (Role.READER, []),
    }
    # The old plan is closed, with everything it held.
    plan.refresh_from_db()
    assert plan.closed_at is not None
    assert fiches[1].steps.count() == 7 and fiches[1].notes.count() == 1

    page = client.get(response.url).content.decode()
    assert "Suite de <a" in page and "l'action 5 du plan 2023-2027" in page


def test_the_carried_fiche_says_so_on_paper(client, ending):
    plan, fiches, people = ending
    client.force_login(people["admin"])
    client.post(renew_url(plan), {**DATA, "carry": ["5"]})
    pdf = build_report("fiche", Plan.objects.get(slug="val-2028"), number=1).pdf
    text = pdf_text(pdf)
    assert "Action 1 : Fiche 5 Suite de l'action 5 du plan « CTG de Val'Aïgo » (2023-2027)" in text


def test_the_old_plan_is_read_only_and_still_readable(client, ending):
    plan, fiches, people = ending
    client.force_login(people["admin"])
    client.post(renew_url(plan), {**DATA, "carry": ["1"]})
    for name in ("coordinateur", "contributeur", "admin"):
        client.force_login(people[name])
        url = reverse("action_status", args=[plan.slug, 1])
        response = client.post(url, {"status": "on_hold", "progress": 10, "version": fiches[1].version})
        assert response.status_code == 403, name
    fiches[1].refresh_from_db()
    assert (fiches[1].status, fiches[1].progress) == (Status.IN_PROGRESS, 30)
    client.force_login(people["lecteur"])
    assert client.get(fiches[1].get_absolute_url()).status_code == 200
    # The new plan is the one being edited now.
    client.force_login(people["coordinateur"])
    url = reverse("action_status", args=["val-2028", 1])
    assert client.post(url, {"status": "on_hold", "progress": 10, "version": 1}).status_code == 302
    assert Action.objects.get(plan__slug="val-2028", number=1).status == Status.ON_HOLD
    # And a closed plan is not renewed twice.
    client.force_login(people["admin"])
    assert client.get(renew_url(plan)).status_code == 403


@pytest.mark.parametrize(("who", "status"), [("coordinateur", 403), ("lecteur", 403), ("autre", 404)])
def test_only_administrateurs_renew(client, ending, who, status):
    plan, fiches, people = ending
    client.force_login(people[who])
    assert client.get(renew_url(plan)).status_code == status
    assert client.post(renew_url(plan), {**DATA, "carry": ["1"]}).status_code == status
    assert not Plan.objects.filter(slug="val-2028").exists()
    plan.refresh_from_db()
    assert plan.closed_at is None


def test_an_installation_superuser_renews(client, ending):
    plan, fiches, people = ending
    client.force_login(person("root", is_superuser=True, is_staff=True))
    response = client.post(renew_url(plan), {**DATA, "carry": []})
    assert response.status_code == 302
    assert Plan.objects.get(slug="val-2028").actions.count() == 0
    assert PlanRole.objects.filter(plan__slug="val-2028").count() == 4


def test_bad_input_is_refused_in_french_and_nothing_is_written(client, ending):
    plan, fiches, people = ending
    client.force_login(people["admin"])
    response = client.post(renew_url(plan), {**DATA, "slug": plan.slug, "end_year": 2027, "carry": ["1"]})
    html = response.content.decode()
    assert response.status_code == 422
    assert "Cet identifiant est déjà celui d" in html and "L&#x27;année de fin doit suivre" in html
    plan.refresh_from_db()
    assert plan.closed_at is None and Plan.objects.count() == 2


def test_the_reports_page_offers_the_next_plan_to_administrateurs_only(client, ending):
    plan, fiches, people = ending
    reports = reverse("reports", args=[plan.slug])
    client.force_login(people["admin"])
    assert f'href="{renew_url(plan)}">Préparer le plan suivant</a>' in client.get(reports).text
    client.force_login(people["coordinateur"])
    assert "Préparer le plan suivant" not in client.get(reports).text


def test_a_carried_fiche_keeps_its_themes_and_publics_not_its_financing(client, ending):
    from actions.models import Financing
    from tests.factories import FinancingFactory, audience, theme

    plan, fiches, people = ending
    fiches[1].themes.add(theme("Parentalité"))
    fiches[1].audiences.add(audience("Familles"))
    FinancingFactory(action=fiches[1], planned=5000)
    client.force_login(people["admin"])
    assert client.post(renew_url(plan), {**DATA, "carry": ["1"]}).status_code == 302
    carried = Action.objects.get(plan__slug="val-2028", number=1)
    assert [t.name for t in carried.themes.all()] == ["Parentalité"]
    assert [a.name for a in carried.audiences.all()] == ["Familles"]
    assert not Financing.objects.filter(action=carried).exists()
    # …journaled on the new fiche in the name of who renewed the plan, like its steps.
    from actions.journal import journal

    admin = people["admin"].get_full_name() or people["admin"].get_username()
    lines = [(entry.text, entry.author) for entry in journal([carried.pk])]
    assert ("Thématiques : ajouté « Parentalité »", admin) in lines
    assert ("Publics visés : ajouté « Familles »", admin) in lines
