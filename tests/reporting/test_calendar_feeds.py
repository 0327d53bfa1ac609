"""Calendar feeds (ICS): an élu subscribes from an agenda, which cannot sign in."""

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from actions.models import Action, CalendarEntry
from axes.models import Role
from partners.models import Membership, Organisation
from reporting.ics import fold
from reporting.models import CalendarFeedToken, Instance, Meeting
from tests.factories import (
    ActionFactory,
    AxisFactory,
    CalendarEntryFactory,
    PlanFactory,
    UserFactory,
    build_plan,
    grant,
)
from tests.scale import copied_plan


def feed_url(plan, token, commune=None):
    if commune is not None:
        return reverse("commune_calendar_feed", args=[plan.slug, commune.insee, token])
    return reverse("plan_calendar_feed", args=[plan.slug, token])


def parse(response) -> Calendar:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events(calendar: Calendar) -> list:
    return list(calendar.walk("VEVENT"))


def as_date(event, name):
    return event.decoded(name)


@pytest.fixture
def token(reader):
    return CalendarFeedToken.objects.issue(reader).token


@pytest.fixture
def copil(val_aigo):
    return Meeting.objects.create(
        plan=val_aigo, instance=Instance.COPIL, date=datetime.date(2025, 6, 12), agenda="Bilan d'étape"
    )


def test_plan_feed(val_aigo, token, copil):
    anonymous = Client()  # an agenda: no session, no cookie
    response = anonymous.get(feed_url(val_aigo, token))
    calendar = parse(response)
    assert str(calendar["VERSION"]) == "2.0"
    assert "Suivi CTG" in str(calendar["PRODID"])
    assert str(calendar["X-WR-CALNAME"]) == "CTG CC de Val'Aïgo"
    dated = CalendarEntry.objects.filter(action__plan=val_aigo).exclude(start=None, end=None)
    found = events(calendar)
    assert len(found) == dated.count() + 1
    uids = [str(e["UID"]) for e in found]
    assert len(set(uids)) == len(uids)

    entry = dated.exclude(start=None).exclude(end=None).select_related("action").first()
    (event,) = [e for e in found if str(e["UID"]) == f"calendar-{entry.pk}@suivi-ctg"]
    assert str(event["SUMMARY"]) == f"Action {entry.action.number} : {entry.label}"
    assert as_date(event, "DTSTART") == entry.start
    assert as_date(event, "DTEND") == entry.end + datetime.timedelta(days=1)
    assert str(event["DESCRIPTION"]).startswith(f"Action {entry.action.number} : {entry.action.fiche_title}")
    assert entry.description in str(event["DESCRIPTION"])
    assert str(event["URL"]) == f"http://testserver/plans/val-aigo/fiches/{entry.action.number}/"

    (meeting,) = [e for e in found if str(e["UID"]) == f"meeting-{copil.pk}@suivi-ctg"]
    assert str(meeting["SUMMARY"]) == "COPIL — CC de Val'Aïgo"
    assert as_date(meeting, "DTSTART") == datetime.date(2025, 6, 12)
    assert as_date(meeting, "DTEND") == datetime.date(2025, 6, 13)
    assert "Bilan d'étape" in str(meeting["DESCRIPTION"])


def test_entries_with_one_date_and_without_dates(val_aigo, token):
    action = val_aigo.actions.get(number=20)
    after = CalendarEntry.objects.create(
        action=action, label="2026 et après", start=datetime.date(2026, 1, 1)
    )
    until = CalendarEntry.objects.create(
        action=action, label="Jusqu'à juin 2025", end=datetime.date(2025, 6, 30)
    )
    undated = CalendarEntry.objects.create(action=action, label="Au fil de l'eau")
    found = {str(e["UID"]): e for e in events(parse(Client().get(feed_url(val_aigo, token))))}
    assert as_date(found[f"calendar-{after.pk}@suivi-ctg"], "DTSTART") == datetime.date(2026, 1, 1)
    assert as_date(found[f"calendar-{after.pk}@suivi-ctg"], "DTEND") == datetime.date(2026, 1, 2)
    assert as_date(found[f"calendar-{until.pk}@suivi-ctg"], "DTSTART") == datetime.date(2025, 6, 30)
    assert f"calendar-{undated.pk}@suivi-ctg" not in found


def test_text_is_escaped_and_folded(val_aigo, token):
    action = val_aigo.actions.get(number=3)
    description = (
        "Réunir les partenaires ; puis, avec la CAF, rédiger\nun compte rendu \\ partagé. "
        + "Élaboration du projet éducatif de territoire à l'échelle intercommunale. " * 4
    )
    entry = CalendarEntry.objects.create(
        action=action,
        label="Mars, avril ; mai",
        description=description,
        start=datetime.date(2025, 3, 1),
        end=datetime.date(2025, 5, 31),
    )
    response = Client().get(feed_url(val_aigo, token))
    for line in response.content.split(b"\r\n"):
        assert len(line) <= 75
        line.decode()  # never cut inside a UTF-8 character
    assert b"\n" not in response.content.replace(b"\r\n", b"")
    (event,) = [e for e in events(parse(response)) if str(e["UID"]) == f"calendar-{entry.pk}@suivi-ctg"]
    assert str(event["SUMMARY"]) == "Action 3 : Mars, avril ; mai"
    assert str(event["DESCRIPTION"]) == f"Action 3 : {action.fiche_title}\n{description}"


def test_fold_counts_octets():
    line = "DESCRIPTION:" + "é" * 100
    folded = fold(line).split("\r\n")
    assert all(len(part.encode()) <= 75 for part in folded)
    assert "".join(part[1:] if i else part for i, part in enumerate(folded)) == line


def test_commune_feed(val_aigo, token, copil):
    villemur = Organisation.objects.get(name="Villemur-sur-Tarn")
    for number in (12, 1):
        CalendarEntry.objects.create(
            action=val_aigo.actions.get(number=number),
            label="Rentrée 2025",
            start=datetime.date(2025, 9, 1),
            end=datetime.date(2025, 10, 31),
        )
    calendar = parse(Client().get(feed_url(val_aigo, token, commune=villemur)))
    assert str(calendar["X-WR-CALNAME"]) == "CTG CC de Val'Aïgo — Villemur-sur-Tarn"
    concerning = Action.objects.filter(plan=val_aigo).concerning(villemur)
    dated = CalendarEntry.objects.filter(action__in=concerning).exclude(start=None, end=None)
    found = events(calendar)
    assert len(found) == dated.count() + 1
    numbers = {
        int(re.match(r"Action (\d+) :", str(e["SUMMARY"])).group(1))
        for e in found
        if "Action" in str(e["SUMMARY"])
    }
    assert numbers == set(dated.values_list("action__number", flat=True))
    assert 12 in numbers and 1 not in numbers
    # A commune that is not the plan's: 404.
    elsewhere = Organisation.objects.create(name="Toulouse", kind="commune", insee="31555")
    assert Client().get(feed_url(val_aigo, token, commune=elsewhere)).status_code == 404


def test_a_token_shows_only_what_its_owner_may_read(val_aigo, token):
    other_plan = PlanFactory(territory="CC des Coteaux")
    action = ActionFactory(axis=AxisFactory(plan=other_plan), number=1, title="Fiche des Coteaux")
    CalendarEntryFactory(
        action=action, label="2026", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 12, 31)
    )
    stranger = grant(UserFactory(), other_plan, Role.READER)
    stranger_token = CalendarFeedToken.objects.issue(stranger).token
    anonymous = Client()
    # The reader of Val'Aïgo cannot read the other plan through their feed, and vice versa.
    assert anonymous.get(feed_url(other_plan, token)).status_code == 404
    assert anonymous.get(feed_url(val_aigo, stranger_token)).status_code == 404
    villemur = Organisation.objects.get(name="Villemur-sur-Tarn")
    assert anonymous.get(feed_url(val_aigo, stranger_token, commune=villemur)).status_code == 404
    found = events(parse(anonymous.get(feed_url(other_plan, stranger_token))))
    assert [str(e["SUMMARY"]) for e in found] == ["Action 1 : 2026"]
    # The CAF reads every plan it signed.
    caf_agent = UserFactory()
    Membership.objects.create(user=caf_agent, organisation=val_aigo.signatories.get(kind="caf"))
    caf_token = CalendarFeedToken.objects.issue(caf_agent).token
    assert anonymous.get(feed_url(val_aigo, caf_token)).status_code == 200
    assert anonymous.get(feed_url(other_plan, caf_token)).status_code == 404


def test_bad_or_revoked_tokens_are_404(val_aigo, reader, token):
    anonymous = Client()
    assert anonymous.get(feed_url(val_aigo, "inconnu")).status_code == 404
    assert anonymous.get(feed_url(val_aigo, token[:-1])).status_code == 404
    assert anonymous.get(f"/plans/val-aigo/calendrier/{token}.ics.exe").status_code == 404
    assert anonymous.get(f"/plans/val-aigo/calendrier/../{token}.ics").status_code == 404
    assert anonymous.get(feed_url(val_aigo, token)).status_code == 200
    # An account closed: its feeds close with it.
    reader.is_active = False
    reader.save()
    assert anonymous.get(feed_url(val_aigo, token)).status_code == 404
    reader.is_active = True
    reader.save()
    # Renewed: the old address stops working at once.
    renewed = CalendarFeedToken.objects.issue(reader, renew=True).token
    assert renewed != token
    assert anonymous.get(feed_url(val_aigo, token)).status_code == 404
    assert anonymous.get(feed_url(val_aigo, renewed)).status_code == 200


def test_feeds_need_no_session_and_take_no_post(val_aigo, token):
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.get(feed_url(val_aigo, token)).status_code == 200
    assert anonymous.head(feed_url(val_aigo, token)).status_code == 200
    assert anonymous.post(feed_url(val_aigo, token)).status_code in {403, 405}
    assert "sessionid" not in anonymous.cookies


def test_a_signed_in_user_reads_the_feed_of_the_token_not_the_session(client, val_aigo, token):
    stranger = grant(UserFactory(), PlanFactory(), Role.ADMIN)
    client.force_login(stranger)
    assert client.get(feed_url(val_aigo, token)).status_code == 200
    stranger.is_superuser = True
    stranger.save()
    assert client.get(feed_url(val_aigo, "inconnu")).status_code == 404


def test_feed_queries_do_not_grow_with_the_plan(db):
    user = UserFactory()
    token = CalendarFeedToken.objects.issue(user).token
    counts = []
    anonymous = Client()
    for size in (20, 200):
        plan = copied_plan(build_plan, size)  # the plans other modules make
        grant(user, plan, Role.READER)
        Meeting.objects.create(plan=plan, instance=Instance.COTECH, date=datetime.date(2025, 1, 1))
        commune = plan.communes.first()
        with CaptureQueriesContext(connection) as plan_queries:
            calendar = parse(anonymous.get(feed_url(plan, token)))
        assert len(events(calendar)) == size + 1
        with CaptureQueriesContext(connection) as commune_queries:
            parse(anonymous.get(feed_url(plan, token, commune=commune)))
        counts.append((len(plan_queries), len(commune_queries)))
    assert counts[0] == counts[1], counts
    assert counts[1][0] <= 5 and counts[1][1] <= 6, counts


# ---------------------------------------------------------------------------
# The subscription block on the dashboard and the commune page


def test_dashboard_offers_a_personal_address(reader_client, reader, val_aigo):
    url = reverse("dashboard", args=["val-aigo"])
    html = reader_client.get(url).text
    assert "S'abonner au calendrier" in html.replace("&#x27;", "'")
    assert "Obtenir mon adresse d" in html
    assert not CalendarFeedToken.objects.filter(user=reader).exists()

    response = reader_client.post(reverse("calendar_feed_token"), {"next": url})
    assert response.status_code == 302 and response["Location"] == f"{url}#abonnement"
    token = CalendarFeedToken.objects.get(user=reader).token
    html = reader_client.get(url).text.replace("&#x27;", "'")
    assert "Votre adresse d'abonnement au calendrier est prête." in html
    assert f'value="http://testserver/plans/val-aigo/calendrier/{token}.ics"' in html
    assert f'href="webcal://testserver/plans/val-aigo/calendrier/{token}.ics"' in html
    assert "Cette adresse est personnelle :" in html
    # Asking again keeps the same address.
    reader_client.post(reverse("calendar_feed_token"), {"next": url})
    assert CalendarFeedToken.objects.get(user=reader).token == token


def test_commune_page_offers_the_commune_feed(reader_client, reader, val_aigo):
    villemur = Organisation.objects.get(name="Villemur-sur-Tarn")
    token = CalendarFeedToken.objects.issue(reader).token
    html = reader_client.get(reverse("commune_dashboard", args=["val-aigo", villemur.insee])).text
    assert f"/plans/val-aigo/communes/{villemur.insee}/calendrier/{token}.ics" in html
    assert "qui concernent Villemur-sur-Tarn" in html


def test_renew_the_address(reader_client, reader, val_aigo):
    old = CalendarFeedToken.objects.issue(reader).token
    url = reverse("dashboard", args=["val-aigo"])
    response = reader_client.post(reverse("calendar_feed_token"), {"next": url, "renew": "1"}, follow=True)
    new = CalendarFeedToken.objects.get(user=reader).token
    assert new != old
    html = response.text.replace("&#x27;", "'")
    assert "Nouvelle adresse d'abonnement créée : l'ancienne ne fonctionne plus." in html
    assert new in html and old not in html


def test_token_page_is_post_only_and_stays_on_the_site(reader_client, reader, val_aigo):
    assert reader_client.get(reverse("calendar_feed_token")).status_code == 405
    for target in ["https://exemple.org/", "//exemple.org/", ""]:
        response = reader_client.post(reverse("calendar_feed_token"), {"next": target})
        assert response["Location"] == "/#abonnement"


def test_token_page_requires_signing_in(client, val_aigo):
    response = client.post(reverse("calendar_feed_token"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not CalendarFeedToken.objects.exists()


def test_each_user_gets_their_own_address(client, reader, val_aigo):
    other = grant(UserFactory(), PlanFactory(), Role.READER)
    client.force_login(other)
    client.post(reverse("calendar_feed_token"), {"next": "/"})
    mine = CalendarFeedToken.objects.issue(reader)
    assert CalendarFeedToken.objects.get(user=other).token != mine.token
    # The other plan's reader still cannot open Val'Aïgo's dashboard, nor its feed.
    assert client.get(reverse("dashboard", args=["val-aigo"])).status_code == 404
