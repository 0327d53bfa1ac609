"""Reminders by email: per person and per plan, a digest of what concerns them.

What a person may update comes from the permission querysets themselves
(Action.objects.editable_by, Step.objects.editable_by), asked once per permission profile of a
plan (people alike are asked once) in one UNION query; everything else (fiches, calendars, last
updates, open decisions, the next COPIL, the plan's summary) is read once per plan. Building the
digests of a plan costs a fixed number of queries, whatever the number of people.

Each digest is sent at most once per person, plan and period ("2026-W49" for a weekly digest,
"2026-12" for a monthly one): see ReminderSending, claimed in the transaction that sends.
"""

from __future__ import annotations

import datetime
import logging
from calendar import monthrange
from dataclasses import dataclass, field

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ObjectDoesNotExist
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, IntegerField, Max, Value
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from actions.models import OPEN_STATUSES, Action, Note, Step
from axes.models import MANAGER_ROLES, Plan, PlanRole, Role
from reporting.models import (
    DEFAULT_STALE_MONTHS,
    Decision,
    Frequency,
    Meeting,
    ReminderPreference,
    ReminderSending,
)
from reporting.overview import plan_overview

logger = logging.getLogger(__name__)

# "Échéances des semaines à venir": how far ahead a digest looks, by frequency.
HORIZON_DAYS = {Frequency.WEEKLY: 28, Frequency.MONTHLY: 42}
# Permission profiles asked in one UNION query (SQLite allows 500 terms; two each).
UNION_CHUNK = 100
UNSUBSCRIBE_SALT = "reporting.reminders.unsubscribe"


# ---------------------------------------------------------------------------
# Periods, links, unsubscribe tokens


def period_key(frequency: str, day: datetime.date) -> str:
    """The period a digest belongs to: the ISO week ("2026-W49") or the month ("2026-12")."""
    if frequency == Frequency.MONTHLY:
        return f"{day:%Y-%m}"
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def months_before(day: datetime.date, months: int) -> datetime.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return day.replace(year=year, month=month, day=min(day.day, monthrange(year, month)[1]))


def absolute(path: str) -> str:
    """An address for an email: mails are read outside the site (settings.CTG_BASE_URL)."""
    return settings.CTG_BASE_URL.rstrip("/") + path


def unsubscribe_token(user) -> str:
    """A signed, non-expiring token naming the user: the one-click unsubscribe link needs no
    sign-in, and can only ever set that user's reminders to "jamais"."""
    return signing.dumps(user.pk, salt=UNSUBSCRIBE_SALT, compress=True)


def user_pk_from_token(token: str) -> int | None:
    """The user a token names, or None when it was tampered with or made with another key."""
    try:
        value = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def unsubscribe_url(user) -> str:
    return absolute(reverse("reminders_unsubscribe", kwargs={"token": unsubscribe_token(user)}))


def preference_of(user) -> ReminderPreference:
    """The user's preferences, the defaults when they never chose (not saved). Reads the
    select_related cache when there is one, else one query."""
    try:
        return user.reminder_preference
    except ObjectDoesNotExist:
        return ReminderPreference(user=user)


class ReminderPreferenceForm(forms.ModelForm):
    """The account page's form (kept beside the rules it sets)."""

    stale_months = forms.IntegerField(
        label=ReminderPreference._meta.get_field("stale_months").verbose_name.capitalize(),
        min_value=1,
        max_value=24,
        help_text=ReminderPreference._meta.get_field("stale_months").help_text,
    )

    class Meta:
        model = ReminderPreference
        fields = ["frequency", "stale_months"]
        widgets = {"frequency": forms.RadioSelect}
        help_texts = {"frequency": "Un courriel par plan, seulement quand quelque chose vous concerne."}


# ---------------------------------------------------------------------------
# The digest as plain data


@dataclass(frozen=True)
class FicheLine:
    pk: int
    number: int
    title: str
    status_label: str
    deadline: datetime.date | None
    url: str

    @property
    def label(self) -> str:
        return f"Action {self.number}"


@dataclass(frozen=True)
class DueLine:
    fiche: FicheLine
    end: datetime.date
    label: str
    description: str


@dataclass(frozen=True)
class DecisionLine:
    text: str
    meeting: str
    status_label: str
    fiches: tuple[str, ...]


@dataclass(frozen=True)
class PlanSummary:
    """What coordinators and administrateurs get besides: the dashboard's figures."""

    url: str
    fiches: int
    progress: int
    late: int
    due_soon: int
    decisions: int
    last_copil: datetime.date | None
    change_counts: dict
    changes: tuple[tuple[FicheLine, str], ...]  # (fiche, "En cours → Réalisée" or "")

    @property
    def has_news(self) -> bool:
        return bool(self.late or self.due_soon or self.decisions or any(self.change_counts.values()))


@dataclass
class Digest:
    user: object
    plan: Plan
    role: str
    frequency: str
    period: str
    today: datetime.date
    horizon: datetime.date
    stale_months: int
    due: list[DueLine] = field(default_factory=list)
    late: list[FicheLine] = field(default_factory=list)
    stale: list[tuple[FicheLine, datetime.date]] = field(default_factory=list)
    decisions: list[DecisionLine] = field(default_factory=list)
    next_copil: Meeting | None = None
    summary: PlanSummary | None = None

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    @property
    def copil_soon(self) -> bool:
        return self.next_copil is not None and self.next_copil.date <= self.horizon

    @property
    def has_news(self) -> bool:
        """Nothing is sent when this is false. A COPIL far away is mentioned, never a reason."""
        return bool(
            self.due
            or self.late
            or self.stale
            or self.decisions
            or self.copil_soon
            or (self.summary and self.summary.has_news)
        )

    def describe(self) -> str:
        """One line for --dry-run and the logs."""
        parts = [
            f"{len(self.due)} échéance(s)",
            f"{len(self.late)} fiche(s) en retard",
            f"{len(self.stale)} fiche(s) sans mise à jour",
            f"{len(self.decisions)} décision(s) à prendre",
        ]
        if self.next_copil:
            parts.append(f"prochain COPIL le {self.next_copil.date:%d/%m/%Y}")
        if self.summary:
            parts.append("synthèse du plan")
        return (
            f"{self.user.email} ({self.plan.slug}, {self.role_label.lower()}, {self.period}) : "
            + ", ".join(parts)
        )

    @property
    def subject(self) -> str:
        when = "de la semaine" if self.frequency == Frequency.WEEKLY else "du mois"
        return f"Suivi CTG — {self.plan.territory} : vos rappels {when}"


# ---------------------------------------------------------------------------
# Building, per plan


def permission_profile(role: PlanRole) -> tuple:
    """What the permission querysets read of a person on a plan: superuser or not, their role
    there and the organisations they represent there. People alike may update the same fiches,
    so each profile is asked once (tests/reporting/test_reminders.py checks this against
    editable_by for every person)."""
    return (role.user.is_superuser, role.role, frozenset(org.pk for org in role.organisations.all()))


def fiches_each_may_update(plan: Plan, roles: list[PlanRole]) -> dict[int, set[int]]:
    """For each person (user pk), the fiches of `plan` they may update: Action.objects.editable_by,
    plus the fiches where Step.objects.editable_by lets them tick steps (a commune's référent).
    The permission querysets are the rule, asked for one person of each permission profile, in
    UNION queries of UNION_CHUNK profiles: a plan's few dozen profiles cost one query."""
    representatives: dict[tuple, PlanRole] = {}
    for role in roles:
        representatives.setdefault(permission_profile(role), role)
    found: dict[int, set[int]] = {role.user_id: set() for role in representatives.values()}
    speakers = list(representatives.values())
    for start in range(0, len(speakers), UNION_CHUNK):
        parts = []
        for role in speakers[start : start + UNION_CHUNK]:
            uid = Value(role.user_id, output_field=IntegerField())
            parts.append(
                Action.objects.editable_by(role.user)
                .filter(plan=plan)
                .order_by()
                .annotate(recipient=uid, fiche=F("pk"))
                .values_list("recipient", "fiche")
            )
            parts.append(
                Step.objects.editable_by(role.user)
                .filter(action__plan=plan, action__archived_at=None)
                .order_by()
                .annotate(recipient=uid, fiche=F("action_id"))
                .values_list("recipient", "fiche")
            )
        for recipient, fiche in parts[0].union(*parts[1:], all=True):
            found[recipient].add(fiche)
    return {role.user_id: found[representatives[permission_profile(role)].user_id] for role in roles}


def _last_updates(plan: Plan) -> dict[int, datetime.datetime]:
    """The last change of each fiche: its own history, its steps' and its notes'. Three queries."""
    last: dict[int, datetime.datetime] = {}
    sources = [
        (Action.history.filter(plan_id=plan.pk), "id"),
        (Step.history.filter(action__plan=plan), "action_id"),
        (Note.history.filter(action__plan=plan), "action_id"),
    ]
    for history, key in sources:
        for pk, when in (
            history.order_by().values(key).annotate(last=Max("history_date")).values_list(key, "last")
        ):
            if pk is not None and (pk not in last or when > last[pk]):
                last[pk] = when
    return last


def _summary(plan: Plan, today: datetime.date, lines: dict[int, FicheLine]) -> PlanSummary:
    o = plan_overview(plan, today=today)
    return PlanSummary(
        url=absolute(reverse("dashboard", kwargs={"slug": plan.slug})),
        fiches=len(o.actions),
        progress=o.progress,
        late=len(o.late),
        due_soon=len(o.due_soon),
        decisions=len(o.decisions_to_take),
        last_copil=o.last_copil.date if o.last_copil else None,
        change_counts=o.change_counts,
        changes=tuple(
            (
                lines[c.fiche.pk],
                f"{c.status_from_label} → {c.fiche.status_label}"
                if c.status_changed and c.status_from
                else "",
            )
            for c in o.changes
            if c.fiche.pk in lines
        ),
    )


def plan_digests(
    plan: Plan, *, today: datetime.date | None = None, include_sent: bool = False
) -> list[Digest]:
    """The digests of one plan's people for the current period, those with something to say.
    People who chose "jamais", have no email address, or already had this period's digest are
    left out (`include_sent` keeps the latter: the bench builds the same digests every round)."""
    today = today or timezone.localdate()
    roles = [
        role
        for role in PlanRole.objects.filter(plan=plan, user__is_active=True)
        .exclude(user__email="")
        .select_related("user", "user__reminder_preference")
        .prefetch_related("organisations")
        .order_by("user__username")
        if preference_of(role.user).frequency != Frequency.NEVER
    ]
    if not roles:
        return []
    sent = set(
        ReminderSending.objects.filter(
            plan=plan, period__in=[period_key(f, today) for f in HORIZON_DAYS]
        ).values_list("user_id", "period")
    )

    def period_of(role):
        return period_key(preference_of(role.user).frequency, today)

    if not include_sent:
        roles = [role for role in roles if (role.user_id, period_of(role)) not in sent]
        if not roles:
            return []

    actions = list(
        Action.objects.filter(plan=plan)
        .with_deadline(today)
        .prefetch_related("pilots", "calendar_entries")
        .order_by("number")
    )
    lines = {
        a.pk: FicheLine(
            a.pk,
            a.number,
            a.title,
            a.get_status_display(),
            a.deadline,
            absolute(reverse("action_detail", kwargs={"slug": plan.slug, "number": a.number})),
        )
        for a in actions
    }
    may_update = fiches_each_may_update(plan, roles)
    last_updates = _last_updates(plan)
    decisions = list(Decision.objects.of_plan(plan).still_open())
    next_copil = Meeting.objects.next_copil(plan, today)
    summary = None
    if any(role.role in MANAGER_ROLES for role in roles):
        summary = _summary(plan, today, lines)

    digests = []
    for role in roles:
        preference = preference_of(role.user)
        frequency = preference.frequency
        horizon = today + datetime.timedelta(days=HORIZON_DAYS[frequency])
        mine = may_update[role.user_id]
        represented = {org.pk for org in role.organisations.all()} if role.role == Role.CONTRIBUTOR else set()
        piloted = {a.pk for a in actions if represented & {org.pk for org in a.pilots.all()}}
        stale_before = months_before(today, preference.stale_months or DEFAULT_STALE_MONTHS)
        digest = Digest(
            user=role.user,
            plan=plan,
            role=role.role,
            frequency=frequency,
            period=period_key(frequency, today),
            today=today,
            horizon=horizon,
            stale_months=preference.stale_months,
            next_copil=next_copil,
            summary=summary if role.role in MANAGER_ROLES else None,
        )
        for action in actions:
            if action.pk in mine and action.status in OPEN_STATUSES:
                digest.due += [
                    DueLine(lines[action.pk], entry.end, entry.label, entry.description)
                    for entry in action.calendar_entries.all()
                    if entry.end and today <= entry.end <= horizon
                ]
                if action.is_late:
                    digest.late.append(lines[action.pk])
            updated = last_updates.get(action.pk)
            if (
                action.pk in piloted
                and action.status in OPEN_STATUSES
                and updated is not None
                and timezone.localtime(updated).date() < stale_before
            ):
                digest.stale.append((lines[action.pk], timezone.localtime(updated).date()))
        digest.due.sort(key=lambda due: (due.end, due.fiche.number))
        concerned = mine | piloted
        digest.decisions = [
            DecisionLine(
                d.text,
                str(d.meeting),
                d.get_status_display(),
                tuple(f"Action {a.number}" for a in d.actions.all()),
            )
            for d in decisions
            if role.role in MANAGER_ROLES or any(a.pk in concerned for a in d.actions.all())
        ]
        if digest.has_news:
            digests.append(digest)
    return digests


def build_digests(
    plans=None, *, today: datetime.date | None = None, include_sent: bool = False
) -> list[Digest]:
    """The digests of every open plan (a closed plan is read-only: nothing to remind)."""
    plans = Plan.objects.open() if plans is None else plans.filter(closed_at=None)
    return [
        digest
        for plan in plans.order_by("slug")
        for digest in plan_digests(plan, today=today, include_sent=include_sent)
    ]


# ---------------------------------------------------------------------------
# Sending


def message_for(digest: Digest, *, connection=None) -> EmailMultiAlternatives:
    link = unsubscribe_url(digest.user)
    context = {
        "d": digest,
        "plan_url": absolute(reverse("plan_detail", kwargs={"slug": digest.plan.slug})),
        "preferences_url": absolute(reverse("reminder_preferences")),
        "unsubscribe_url": link,
    }
    message = EmailMultiAlternatives(
        subject=digest.subject,
        body=render_to_string("emails/reminder.txt", context),
        to=[digest.user.email],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{link}>",
            # RFC 8058: mail clients unsubscribe with one POST to the link, no page shown.
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(render_to_string("emails/reminder.html", context), "text/html")
    return message


@dataclass
class SendResult:
    sent: list[Digest] = field(default_factory=list)
    already_sent: list[Digest] = field(default_factory=list)


def send_reminders(plans=None, *, today: datetime.date | None = None, dry_run: bool = False) -> SendResult:
    """Send each digest that has something to say, once per person, plan and period. With
    `dry_run`, build them and return them as if sent, recording nothing."""
    result = SendResult()
    digests = build_digests(plans, today=today)
    if dry_run:
        result.sent = digests
        return result
    if not digests:
        return result
    with get_connection() as connection:
        for digest in digests:
            message = message_for(digest, connection=connection)
            try:
                # Claim first: another worker inserting the same row waits for this transaction,
                # then fails on the unique index. A failed send rolls the claim back.
                with transaction.atomic():
                    ReminderSending.objects.create(user=digest.user, plan=digest.plan, period=digest.period)
                    message.send()
            except IntegrityError:
                result.already_sent.append(digest)
                continue
            logger.info("Rappel envoyé : %s", digest.describe())
            result.sent.append(digest)
    return result
