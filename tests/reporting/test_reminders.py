"""Reminders by email: a digest per person and plan of what concerns them, sent once per period
through a real SMTP server, unsubscribed by a signed link."""

import contextlib
import datetime
import email
import email.policy
import socket

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from actions.models import Status
from axes.models import Role
from reporting import reminders
from reporting.models import Frequency, ReminderPreference, ReminderSending
from tests.factories import (
    ActionFactory,
    AxisFactory,
    CalendarEntryFactory,
    DecisionFactory,
    MeetingFactory,
    OrganisationFactory,
    PlanFactory,
    StepFactory,
    grant,
)

PARIS = datetime.timezone(datetime.timedelta(hours=1))
TODAY = datetime.datetime(2026, 12, 2, 10, tzinfo=PARIS)  # a Wednesday of ISO week 49


def at(*args):
    return time_machine.travel(datetime.datetime(*args, tzinfo=PARIS), tick=False)


def person(username):
    # No password to hash (hashing is slow by design): these people never sign in by form.
    return get_user_model().objects.create(
        username=username, email=f"{username}@example.org", first_name="Camille", last_name=username
    )


@pytest.fixture
def plan(db):
    """Villemur pilots fiche 1 (due on 15/12), fiche 2 (late, an open decision) and fiche 4 (not
    touched since May); Bessières pilots fiche 3 (late, its own decision). The next COPIL is
    on 10 December."""
    with at(2026, 5, 4, 9):
        plan = PlanFactory(slug="val", territory="CC de Val'Aïgo", title="CTG de Val'Aïgo")
        villemur = OrganisationFactory(commune=True, name="Villemur-sur-Tarn")
        bessieres = OrganisationFactory(commune=True, name="Bessières")
        plan.communes.set([villemur, bessieres])
        axis = AxisFactory(plan=plan, number=1)
        fiches = {}
        for number, title, status, end, pilot in [
            (1, "Créer une micro-crèche", Status.IN_PROGRESS, "2026-12-15", villemur),
            (2, "Relancer le relais petite enfance", Status.PLANNED, "2026-06-30", villemur),
            (3, "Ouvrir un accueil de loisirs", Status.IN_PROGRESS, "2026-10-31", bessieres),
            (4, "Ludothèque itinérante", Status.IN_PROGRESS, None, villemur),
        ]:
            fiche = ActionFactory(plan=plan, axis=axis, number=number, title=title, status=status)
            fiche.pilots.add(pilot)
            if end:
                CalendarEntryFactory(action=fiche, label="2026", start="2026-01-01", end=end)
            fiches[number] = fiche
        StepFactory(action=fiches[1], text="Trouver le local")
        past = MeetingFactory(plan=plan, date=datetime.date(2026, 6, 16))
    with at(2026, 6, 16, 18):
        DecisionFactory(meeting=past, text="Choisir le prestataire du relais", actions=[fiches[2]])
        DecisionFactory(meeting=past, text="Valider le budget de l'accueil", actions=[fiches[3]])
    with at(2026, 11, 20, 9):
        for number in (1, 2, 3):
            fiches[number].save_edit(by=None, progress=fiches[number].progress + 10)
    MeetingFactory(plan=plan, date=datetime.date(2026, 12, 10), agenda="Bilan 2026 et budget 2027")
    people = {
        "admin": grant(person("admin"), plan, Role.ADMIN),
        "coordinateur": grant(person("coordinateur"), plan, Role.COORDINATOR),
        "contributeur": grant(person("contributeur"), plan, Role.CONTRIBUTOR, villemur),
        "lecteur": grant(person("lecteur"), plan, Role.READER),
        "oisif": grant(person("oisif"), plan, Role.CONTRIBUTOR, OrganisationFactory()),
    }
    return plan, fiches, people


def digests_by_user():
    with at(2026, 12, 2, 10):
        return {d.user.username: d for d in reminders.build_digests()}


def numbers(lines):
    return [line.number for line in lines]


def test_a_contributeur_gets_what_they_may_update_and_pilot(plan):
    d = digests_by_user()["contributeur"]
    assert d.period == "2026-W49" and d.summary is None
    assert [(due.fiche.number, due.end) for due in d.due] == [(1, datetime.date(2026, 12, 15))]
    assert numbers(d.late) == [2]  # fiche 3 is late too, but Bessières' own
    assert [(line.number, updated) for line, updated in d.stale] == [(4, datetime.date(2026, 5, 4))]
    assert [decision.text for decision in d.decisions] == ["Choisir le prestataire du relais"]
    assert d.next_copil.date == datetime.date(2026, 12, 10)
    assert d.due[0].fiche.url == "http://127.0.0.1:8000/plans/val/fiches/1/"


@pytest.mark.parametrize("username", ["admin", "coordinateur"])
def test_managers_get_every_fiche_and_the_plans_summary(plan, username):
    d = digests_by_user()[username]
    assert numbers(d.late) == [2, 3] and [due.fiche.number for due in d.due] == [1]
    assert d.stale == []  # forgotten fiches are their pilots' reminder
    assert {decision.text for decision in d.decisions} == {
        "Choisir le prestataire du relais",
        "Valider le budget de l'accueil",
    }
    assert (d.summary.fiches, d.summary.late, d.summary.decisions) == (4, 2, 2)
    assert d.summary.last_copil == datetime.date(2026, 6, 16)
    assert d.summary.change_counts["decision"] == 0


def test_a_lecteur_hears_of_the_next_copil_only(plan):
    d = digests_by_user()["lecteur"]
    assert (d.due, d.late, d.stale, d.decisions, d.summary) == ([], [], [], [], None)
    assert d.next_copil.agenda == "Bilan 2026 et budget 2027"


def test_nothing_is_built_when_nothing_concerns_the_person(plan):
    plan_, fiches, people = plan
    plan_.meetings.filter(date=datetime.date(2026, 12, 10)).update(date=datetime.date(2027, 3, 1))
    built = digests_by_user()
    # A COPIL three months away is no reason to write; the lecteur and the idle contributeur
    # have nothing else.
    assert set(built) == {"admin", "coordinateur", "contributeur"}
    assert built["contributeur"].next_copil.date == datetime.date(2027, 3, 1)


def test_preferences_never_and_the_stale_threshold(plan):
    plan_, fiches, people = plan
    ReminderPreference.objects.create(user=people["admin"], frequency=Frequency.NEVER)
    ReminderPreference.objects.create(
        user=people["contributeur"], frequency=Frequency.MONTHLY, stale_months=8
    )
    built = digests_by_user()
    assert "admin" not in built
    assert built["contributeur"].period == "2026-12" and built["contributeur"].stale == []


def test_a_closed_plan_sends_nothing(plan):
    plan_, fiches, people = plan
    plan_.closed_at = TODAY
    plan_.save()
    assert digests_by_user() == {}


# ---------------------------------------------------------------------------
# Sending, through a real SMTP server


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=controller.port,
            EMAIL_USE_TLS=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
        ):
            yield inbox
    finally:
        controller.stop()


def run(*args) -> str:
    import io

    out = io.StringIO()
    with at(2026, 12, 2, 10):
        call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


def test_sent_once_over_smtp_with_both_parts_and_an_unsubscribe_header(plan, smtp):
    plan_, fiches, people = plan
    output = run()
    assert "5 rappel(s) envoyé(s)" in output
    by_recipient = {str(m["To"]): m for m in smtp.messages}
    assert set(by_recipient) == {f"{name}@example.org" for name in people}
    message = by_recipient["contributeur@example.org"]
    assert str(message["Subject"]).strip() == "Suivi CTG — CC de Val'Aïgo : vos rappels de la semaine"
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    unsubscribe = str(message["List-Unsubscribe"]).strip()
    assert unsubscribe.startswith("<http://127.0.0.1:8000/compte/notifications/desabonnement/")
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for part in (text, html):
        assert "http://127.0.0.1:8000/plans/val/fiches/1/" in part  # due on 15/12
        assert "http://127.0.0.1:8000/plans/val/fiches/2/" in part  # late
        assert "http://127.0.0.1:8000/plans/val/fiches/4/" in part  # forgotten since May
        assert "/plans/val/fiches/3/" not in part  # Bessières'
        assert "Choisir le prestataire du relais" in part and "Bilan 2026 et budget 2027" in part
        assert unsubscribe.strip("<>") in part
    assert "15/12/2026 : Action 1, 2026" in text
    assert "FICHES QUE VOUS PILOTEZ SANS MISE À JOUR DEPUIS 3 MOIS" in text
    assert "Relancer le relais petite enfance (échéance 30/06/2026, à venir)" in text
    assert "&#x27;" not in text and "Val'Aïgo" in text  # plain text is not HTML-escaped
    assert "Le plan en bref" in by_recipient["coordinateur@example.org"].get_body(("html",)).get_content()
    assert ReminderSending.objects.filter(period="2026-W49").count() == 5

    # The same week again, twice: nothing more.
    assert "0 rappel(s) envoyé(s)" in run() and "0 rappel(s) envoyé(s)" in run()
    assert len(smtp.messages) == 5


def test_dry_run_says_who_would_get_what_and_sends_nothing(plan, smtp):
    output = run("--dry-run", "--plan", "val")
    role = Role.CONTRIBUTOR.label.lower()
    assert (
        f"À envoyer : contributeur@example.org (val, {role}, 2026-W49) : 1 échéance(s), "
        "1 fiche(s) en retard, 1 fiche(s) sans mise à jour, 1 décision(s) à prendre, "
        "prochain COPIL le 10/12/2026" in output
    )
    assert "5 rappel(s) seraient envoyés" in output
    assert smtp.messages == [] and not ReminderSending.objects.exists()


def test_a_digest_claimed_by_another_worker_is_not_sent_again(plan, smtp, monkeypatch):
    plan_, fiches, people = plan
    built = digests_by_user()
    # Another worker claims the contributeur's digest after this one built it.
    ReminderSending.objects.create(user=people["contributeur"], plan=plan_, period="2026-W49")
    monkeypatch.setattr(reminders, "build_digests", lambda plans, today=None: list(built.values()))
    output = run()
    assert "4 rappel(s) envoyé(s), 1 déjà envoyé(s) par ailleurs" in output
    assert "contributeur@example.org" not in {str(m["To"]) for m in smtp.messages}


def test_a_failed_send_is_tried_again(plan, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    with pytest.raises(OSError):
        run()
    assert not ReminderSending.objects.exists()


# ---------------------------------------------------------------------------
# Preferences and unsubscribing


def test_the_account_page_sets_the_preferences(client, plan):
    plan_, fiches, people = plan
    user = people["lecteur"]
    client.force_login(user)
    page = client.get(reverse("reminder_preferences"))
    assert page.status_code == 200
    assert "Hebdomadaire" in page.content.decode() and 'value="3"' in page.content.decode()
    response = client.post(reverse("reminder_preferences"), {"frequency": "monthly", "stale_months": "6"})
    assert response.status_code == 302
    preference = ReminderPreference.objects.get(user=user)
    assert (preference.frequency, preference.stale_months) == ("monthly", 6)
    bad = client.post(reverse("reminder_preferences"), {"frequency": "monthly", "stale_months": "0"})
    assert bad.status_code == 422 and "supérieure ou égale à 1" in bad.content.decode()


def test_the_account_page_needs_signing_in(client, db):
    assert client.get(reverse("reminder_preferences")).status_code == 302


def test_unsubscribed_by_the_link_without_signing_in(client, plan):
    plan_, fiches, people = plan
    user = people["contributeur"]
    url = reminders.unsubscribe_url(user).removeprefix("http://127.0.0.1:8000")
    page = client.get(url)
    assert page.status_code == 200 and "Me désabonner des rappels" in page.content.decode()
    assert not ReminderPreference.objects.filter(user=user).exists()  # a GET changes nothing
    done = client.post(url)
    assert done.status_code == 200 and "ne recevra plus de rappels" in done.content.decode()
    assert ReminderPreference.objects.get(user=user).frequency == Frequency.NEVER
    assert "contributeur" not in digests_by_user()


def test_one_click_unsubscribe_from_a_mail_client(plan):
    """RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click`, with no cookie nor token."""
    from django.test import Client

    plan_, fiches, people = plan
    user = people["lecteur"]
    url = reminders.unsubscribe_url(user).removeprefix("http://127.0.0.1:8000")
    response = Client(enforce_csrf_checks=True).post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert ReminderPreference.objects.get(user=user).frequency == Frequency.NEVER


def test_a_tampered_link_is_refused_in_french(client, plan):
    plan_, fiches, people = plan
    token = reminders.unsubscribe_token(people["lecteur"])
    for bad in (token[:-2] + "xx", "n-importe-quoi", reminders.unsubscribe_token(people["lecteur"]) + "a"):
        url = reverse("reminders_unsubscribe", kwargs={"token": bad})
        for response in (client.get(url), client.post(url)):
            assert response.status_code == 400
            assert "Lien de désabonnement invalide" in response.content.decode()
    assert not ReminderPreference.objects.exists()


def test_the_locmem_outbox_gets_the_same_message(plan):
    """Outside SMTP, the default test backend holds the message: headers set once."""
    with at(2026, 12, 2, 10):
        reminders.send_reminders()
    message = next(m for m in mail.outbox if m.to == ["lecteur@example.org"])
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.alternatives[0].mimetype == "text/html"


def test_people_alike_may_update_what_editable_by_says(plan):
    """The digests ask the permission querysets once per profile: for every person, the result
    is what Action/Step.objects.editable_by say for them."""
    from actions.models import Action, Step
    from axes.models import PlanRole

    plan_, fiches, people = plan
    grant(person("second-contributeur"), plan_, Role.CONTRIBUTOR, *fiches[1].pilots.all())
    grant(person("commune-seule"), plan_, Role.CONTRIBUTOR, *fiches[3].pilots.all())
    StepFactory(action=fiches[2], commune=fiches[3].pilots.get())
    roles = list(PlanRole.objects.filter(plan=plan_).select_related("user").prefetch_related("organisations"))
    computed = reminders.fiches_each_may_update(plan_, roles)
    for role in roles:
        expected = set(Action.objects.editable_by(role.user).filter(plan=plan_).values_list("pk", flat=True))
        expected |= set(
            Step.objects.editable_by(role.user).filter(action__plan=plan_).values_list("action", flat=True)
        )
        assert computed[role.user_id] == expected, role.user.username
    assert computed[people["contributeur"].pk] == {fiches[n].pk for n in (1, 2, 4)}
    assert computed[people["lecteur"].pk] == set()
