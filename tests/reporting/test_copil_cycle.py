"""The COPIL cycle over time: a bilan of a past year as it stood then, reports remade whenever
what they show changed, the whole fiche on paper, one definition of "new notes"."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse

from actions.models import IndicatorValue, Status
from axes.models import Finding, Role
from reporting.models import Decision, DecisionStatus, Meeting
from reporting.reports import build_report, fingerprint
from reporting.tasks import request_report
from tests.factories import (
    ActionFactory,
    AxisFactory,
    CalendarEntryFactory,
    ConditionFactory,
    DecisionFactory,
    FindingFactory,
    MeetingFactory,
    NoteFactory,
    OrganisationFactory,
    PartnerFactory,
    PlanFactory,
    StepFactory,
    UserFactory,
    grant,
    imported_plan,
)
from tests.pdf import pdf_pages, pdf_text

PARIS = datetime.timezone(datetime.timedelta(hours=1))


def text_of(html: str) -> str:
    import html as html_module

    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", html)).split())


# ---------------------------------------------------------------------------
# The bilan of a year shows the plan as it stood on 31 December


@pytest.fixture
def two_years(db):
    """A plan followed from 2025 into 2026: fiche 9 in progress at the end of 2025, done in 2026."""
    with time_machine.travel(datetime.datetime(2025, 3, 1, 10, tzinfo=PARIS), tick=False):
        plan = PlanFactory(slug="val", territory="CC de Val'Aïgo")
        axis = AxisFactory(plan=plan, number=1, title="Accompagner les familles")
        fiche = ActionFactory(
            plan=plan,
            axis=axis,
            number=9,
            title="Créer une micro-crèche",
            status=Status.IN_PROGRESS,
            progress=40,
        )
        quiet = ActionFactory(plan=plan, axis=axis, number=10, title="Une fiche sans nouvelles")
        step = StepFactory(action=fiche, text="Trouver le local")
        StepFactory(action=fiche, text="Recruter l'équipe")
        CalendarEntryFactory(action=fiche, label="2026", start="2026-01-01", end="2026-12-31")
    with time_machine.travel(datetime.datetime(2025, 6, 16, 18, tzinfo=PARIS), tick=False):
        MeetingFactory(plan=plan, instance="copil", date=datetime.date(2025, 6, 16))
        NoteFactory(action=fiche, date=datetime.date(2025, 6, 16), text="Local trouvé à Villemur.")
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, tzinfo=PARIS), tick=False):
        fiche.save_edit(by=None, status=Status.DONE, progress=100)
        step.save_edit(by=None, done=True)
        NoteFactory(action=fiche, date=datetime.date(2026, 3, 2), text="Crèche ouverte.")
    with time_machine.travel(datetime.datetime(2026, 6, 16, 18, tzinfo=PARIS), tick=False):
        MeetingFactory(plan=plan, instance="copil", date=datetime.date(2026, 6, 16))
    return plan, fiche, quiet


def test_a_past_bilan_shows_the_year_as_it_was_whatever_changed_since(two_years):
    """The bilans of 2025 and 2026, then the bilan of 2025 again after later changes, which leave
    it as it was (one test, so that the first reading serves both checks: a bilan is a
    WeasyPrint run)."""
    plan, fiche, quiet = two_years
    with time_machine.travel(datetime.datetime(2026, 11, 30, 12, tzinfo=PARIS), tick=False):
        text = pdf_text(build_report("bilan", plan, year=2025).pdf)
        today = pdf_text(build_report("bilan", plan, year=2026).pdf)
    fiche_2025 = text[text.index("Action 9 :") : text.index("Action 10 :")]
    assert "Statut au 31/12/2025 : En cours, avancement 40 %, étapes réalisées 0 / 2" in fiche_2025
    assert "Réalisée" not in fiche_2025 and "100 %" not in fiche_2025
    assert "Dernier COPIL 16/06/2025" in text and "16/06/2026" not in text
    assert "Local trouvé à Villemur." in fiche_2025 and "Crèche ouverte." not in text
    assert "COPIL du 16/06/2025" in text  # the meetings of that year
    # A fiche with nothing in the year says so once.
    quiet_2025 = text[text.index("Action 10 :") :]
    assert quiet_2025.count("Aucune note de suivi en 2025.") == 1 and "aucune en 2025" not in quiet_2025

    fiche_2026 = today[today.index("Action 9 :") : today.index("Action 10 :")]
    assert "Réalisée, avancement 100 %, étapes réalisées 1 / 2" in fiche_2026
    assert "Dernier COPIL 16/06/2026" in today and "Crèche ouverte." in fiche_2026

    # Later changes leave the past bilan unchanged.
    with time_machine.travel(datetime.datetime(2026, 11, 30, 12, tzinfo=PARIS), tick=False):
        fiche.save_edit(by=None, status=Status.ABANDONED, progress=0)
        quiet.save_edit(by=None, status=Status.IN_PROGRESS, progress=10)
        fiche.steps.update(done=False)
        after = pdf_text(build_report("bilan", plan, year=2025).pdf)
    strip = re.compile(r"page \d+ / \d+")
    assert strip.sub("", text) == strip.sub("", after)


def test_a_plan_loaded_after_the_fact_is_its_own_past(db):
    """A plan first loaded today (the import of three full fiches): its bilan of 2024 shows it as
    loaded, not empty."""
    plan, _ = imported_plan(3)
    text = pdf_text(build_report("bilan", plan, year=2024).pdf)
    assert "Action 3 :" in text and "Fiches-actions 3" in text


# ---------------------------------------------------------------------------
# Reports are remade when anything they show changes


@pytest.fixture
def small_plan(db):
    plan = PlanFactory()
    axis = AxisFactory(plan=plan, number=1)
    FindingFactory(axis=axis)
    action = ActionFactory(plan=plan, axis=axis, number=1)
    StepFactory(action=action)
    PartnerFactory(action=action, role="Financeur")
    ConditionFactory(action=action)
    CalendarEntryFactory(action=action, label="2026", start="2026-01-01", end="2026-12-31")
    NoteFactory(action=action)
    indicator = action.indicators.create(name="Familles reçues", baseline=10, target=30)
    IndicatorValue.objects.create(indicator=indicator, year=2025, value=12)
    meeting = MeetingFactory(plan=plan)
    DecisionFactory(meeting=meeting, actions=[action])
    return plan


CHANGES = {
    "statut": lambda p: p.actions.get().save_edit(by=None, status=Status.IN_PROGRESS, progress=20),
    "étape cochée": lambda p: p.actions.get().steps.get().save_edit(by=None, done=True),
    "étape supprimée": lambda p: p.actions.get().steps.get().delete(),
    "partenaire": lambda p: p.actions.get().partners.get().save_edit(by=None, role="Co-pilote"),
    "condition": lambda p: p.actions.get().conditions.get().save_edit(by=None, text="Un local"),
    "calendrier": lambda p: p.actions.get().calendar_entries.get().save_edit(by=None, label="2027"),
    "note": lambda p: NoteFactory(action=p.actions.get(), text="Nouvelle note"),
    "indicateur": lambda p: p.actions.get().indicators.get().save_edit(by=None, target=50),
    "valeur ajoutée": lambda p: IndicatorValue.objects.create(
        indicator=p.actions.get().indicators.get(), year=2026, value=20
    ),
    "valeur modifiée": lambda p: IndicatorValue.objects.get(indicator__action__plan=p).save_edit(
        by=None, value=13
    ),
    "pilotes": lambda p: p.actions.get().pilots.add(OrganisationFactory()),
    "réunion ajoutée": lambda p: MeetingFactory(plan=p, instance="cotech"),
    "réunion modifiée": lambda p: _save(Meeting.objects.get(plan=p), agenda="Budget 2027"),
    "décision prise": lambda p: Decision.objects.get(meeting__plan=p).set_status(
        DecisionStatus.TAKEN, by=None
    ),
    "décision ajoutée": lambda p: DecisionFactory(meeting=Meeting.objects.get(plan=p)),
    "décision liée à une autre fiche": lambda p: Decision.objects.get(meeting__plan=p).actions.clear(),
    "titre du plan": lambda p: _save(p, title="Plan d'action 2025-2029"),
    "axe": lambda p: _save(p.axes.get(), title="Un nouvel intitulé"),
    "diagnostic": lambda p: _save(Finding.objects.get(axis__plan=p), text="Un autre constat"),
}


def _save(obj, **changes):
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.save()


@pytest.mark.parametrize("change", CHANGES)
def test_any_change_a_report_shows_makes_a_new_report(small_plan, change):
    report, queued = request_report(small_plan, "copil")
    assert queued
    again, queued = request_report(small_plan, "copil")
    assert not queued and again.pk == report.pk  # nothing changed: the same report
    CHANGES[change](small_plan)
    small_plan.refresh_from_db()
    fresh, queued = request_report(small_plan, "copil")
    assert queued and fresh.pk != report.pk, change


def test_another_plans_changes_do_not_remake_this_one(small_plan):
    before = fingerprint(small_plan)
    other = ActionFactory()
    other.save_edit(by=None, status=Status.IN_PROGRESS, progress=10)
    MeetingFactory(plan=other.plan)
    assert fingerprint(small_plan) == before


def test_tomorrow_remakes_the_report(small_plan):
    """Lateness and the edition date depend on the day."""
    with time_machine.travel(datetime.datetime(2026, 5, 4, 10, tzinfo=PARIS)):
        today = fingerprint(small_plan)
    with time_machine.travel(datetime.datetime(2026, 5, 5, 10, tzinfo=PARIS)):
        assert fingerprint(small_plan) != today


# ---------------------------------------------------------------------------
# The whole fiche on paper


def test_the_fiche_pdf_carries_every_section_of_the_plans_fiche(client, db):
    plan = PlanFactory()
    action = ActionFactory(
        plan=plan,
        axis=AxisFactory(plan=plan, number=1),
        number=4,
        title="Développer l'accueil des adolescents",
        fiche_title="Ouvrir un accueil jeunes intercommunal",
        pilotage="CCVA / Service jeunesse",
        status=Status.IN_PROGRESS,
        progress=30,
    )
    heading = StepFactory(action=action, text="Villemur-sur-Tarn")
    StepFactory(action=action, parent=heading, text="Trouver une salle", done=True)
    StepFactory(action=action, parent=heading, text="Recruter un animateur")
    PartnerFactory(action=action, name="CAF", role="Financement et accompagnement")
    ConditionFactory(action=action, text="Un poste d'animateur à temps plein")
    CalendarEntryFactory(action=action, label="Rentrée 2026", start="2026-09-01", end="2026-10-31")
    DecisionFactory(meeting=MeetingFactory(plan=plan), text="Chiffrer le poste d'animateur", actions=[action])
    NoteFactory(action=action, text="Salle trouvée au collège.")
    grant(user := UserFactory(), plan, Role.READER)
    client.force_login(user)
    response = client.get(reverse("fiche_pdf", args=[plan.slug, 4]))
    text = pdf_text(response.content)
    for expected in [
        "Action 4 : Développer l'accueil des adolescents",
        "Nom de l'action Ouvrir un accueil jeunes intercommunal",
        "Pilotage CCVA / Service jeunesse",
        "Étapes de travail",
        "Trouver une salle (réalisée)",
        "Partenaires CAF : Financement et accompagnement",
        "Conditions de réussite / moyens Un poste d'animateur à temps plein",
        "Calendrier",
        "Rentrée 2026",
        "Statut : En cours",
        "Avancement : 30 % (étapes : 1 / 2 réalisées)",
        "Décisions Chiffrer le poste d'animateur",
        "Salle trouvée au collège.",
    ]:
        assert expected.replace(" :", " :") in text.replace("\u202f", " "), expected
    # The commune heading groups steps: it is not a step to tick.
    assert "Villemur-sur-Tarn (réalisée)" not in text


# ---------------------------------------------------------------------------
# One definition of "new notes", and the dossier's first pages


def test_dashboard_and_dossier_count_the_same_new_notes(client, db):
    with time_machine.travel(datetime.datetime(2026, 6, 1, 10, tzinfo=PARIS), tick=False):
        plan = PlanFactory()
        action = ActionFactory(plan=plan, axis=AxisFactory(plan=plan, number=1), number=1)
        NoteFactory(action=action, date=datetime.date(2026, 5, 20), text="Écrite avant le COPIL.")
    with time_machine.travel(datetime.datetime(2026, 6, 16, 8, tzinfo=PARIS), tick=False):
        MeetingFactory(plan=plan, date=datetime.date(2026, 6, 16))
    with time_machine.travel(datetime.datetime(2026, 7, 1, 10, tzinfo=PARIS), tick=False):
        # Written after the COPIL about a day before it: news for the next COPIL.
        NoteFactory(action=action, date=datetime.date(2026, 6, 10), text="Compte rendu du 10 juin.")
        NoteFactory(action=action, date=datetime.date(2026, 7, 1), text="Réunion des parents.")
        user = grant(UserFactory(), plan, Role.READER)
        client.force_login(user)
        dashboard = text_of(client.get(reverse("dashboard", args=[plan.slug])).text)
        dossier = pdf_text(build_report("copil", plan).pdf)
    assert "Nouvelles notes : 2" in dashboard and "nouvelles notes : 2" in dossier
    fiche = dossier[dossier.index("Notes de suivi depuis le dernier COPIL") :]
    assert "Compte rendu du 10 juin." in fiche and "Réunion des parents." in fiche
    assert "Écrite avant le COPIL." not in fiche and "Écrite avant le COPIL." not in dashboard


def test_the_dossier_opens_with_what_an_elu_reads_in_two_minutes(db):
    with time_machine.travel(datetime.datetime(2026, 1, 10, 10, tzinfo=PARIS), tick=False):
        plan = PlanFactory()
        axis = AxisFactory(plan=plan, number=1, title="Petite enfance")
        late = ActionFactory(
            plan=plan, axis=axis, number=1, title="Fiche en retard", status=Status.IN_PROGRESS
        )
        CalendarEntryFactory(action=late, label="2025", start="2025-01-01", end="2025-12-31")
        soon = ActionFactory(plan=plan, axis=axis, number=2, title="Fiche à échéance")
        CalendarEntryFactory(action=soon, label="Avril 2026", start="2026-04-01", end="2026-04-30")
        for number in range(3, 9):
            ActionFactory(plan=plan, axis=axis, number=number, title=f"Fiche courte {number}")
        MeetingFactory(plan=plan, date=datetime.date(2026, 2, 1))
        DecisionFactory(
            meeting=MeetingFactory(plan=plan, date=datetime.date(2026, 2, 2)), text="Voter le budget"
        )
    with time_machine.travel(datetime.datetime(2026, 3, 5, 10, tzinfo=PARIS), tick=False):
        soon.save_edit(by=None, status=Status.IN_PROGRESS, progress=10)
        pages = pdf_pages(build_report("copil", plan).pdf)
    assert pages[1].startswith("L'essentiel")
    first = " ".join(pages[1:3])
    assert "Fiches en retard (1) Action 1 : Fiche en retard" in first
    assert "30/04/2026 : Action 2, Avril 2026" in first
    assert "Décisions à prendre (1) Voter le budget" in first
    assert "Action 2 : Fiche à échéance Statut : à venir → en cours" in first
    assert "Fiche courte" not in pages[1]  # only the fiches that changed
    # Short fiches share pages: eight fiches do not take eight pages.
    fiche_pages = [
        page for page in pages if re.search(r"Action \d+ : Fiche", page) and "Sommaire" not in page
    ]
    assert len(fiche_pages) < 8
    assert not any(page.count("Aucune note") > 1 and len(page) < 400 for page in pages)


def test_chart_text_is_legible_on_paper(db):
    """The charts are drawn 640 units wide on the 178 mm of an A4 page: 1 unit = 0.278 mm."""
    from django.template.loader import render_to_string

    from reporting.reports import report_context

    plan = PlanFactory()
    ActionFactory(plan=plan, axis=AxisFactory(plan=plan, number=1, title="Accompagner la parentalité"))
    template, context = report_context("copil", plan)
    html = render_to_string(template, context)
    sizes = [int(size) for size in re.findall(r'font-size="(\d+)"', html)]
    assert sizes and min(sizes) * 178 / 640 * 72 / 25.4 >= 8  # points
    assert ">Axe 1 : Accompagner la parentalité</text>" in html  # bars named by their titles


def test_an_import_counts_since_the_last_copil(client, db):
    from actions.plan_io import open_format

    with time_machine.travel(datetime.datetime(2026, 5, 1, 10, tzinfo=PARIS), tick=False):
        plan = ActionFactory(number=3, title="Ouvrir un lieu d'accueil").plan
        data = open_format.export_plan(plan)
        plan.delete()
        plan = open_format.import_plan(data).plan  # the first load: the baseline, not news
    with time_machine.travel(datetime.datetime(2026, 6, 16, 18, tzinfo=PARIS), tick=False):
        MeetingFactory(plan=plan, date=datetime.date(2026, 6, 16))
    with time_machine.travel(datetime.datetime(2026, 9, 1, 10, tzinfo=PARIS), tick=False):
        fiche = data["axes"][0]["actions"][0]
        fiche.update(status="in_progress", progress=30)
        fiche["notes"] = [
            {"date": "2026-08-30", "kind": "achievement", "text": "Lieu ouvert.", "author": "M. Roux"}
        ]
        claire = UserFactory(first_name="Claire", last_name="Dupont")
        open_format.import_plan(data, by=claire, filename="plan.xlsx")
        client.force_login(grant(UserFactory(), plan, Role.READER))
        html = text_of(client.get(reverse("dashboard", args=[plan.slug])).text)
    assert "Changements de statut : 1" in html and "Nouvelles notes : 1" in html
    assert "Statut : à venir → en cours" in html and "Lieu ouvert." in html
