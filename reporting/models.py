import datetime
import secrets
import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from actions.models import Action, Note, validate_plausible_date
from axes.models import Plan


class Instance(models.TextChoices):
    COPIL = "copil", "COPIL"
    COTECH = "cotech", "COTECH"
    WORKING_GROUP = "working_group", "Groupe de travail"


class MeetingQuerySet(models.QuerySet):
    def copils_held(self, today: datetime.date):
        """The COPILs held by `today`, the last first: the first is the reference date of "what
        changed since the last COPIL" (the screen, the PDF and the CAF overview alike)."""
        return self.filter(instance=Instance.COPIL, date__lte=today).order_by("-date", "-pk")

    def copils_to_come(self, today: datetime.date):
        """The COPILs after `today`, the next first."""
        return self.filter(instance=Instance.COPIL, date__gt=today).order_by("date", "pk")

    def last_copil(self, plan: Plan, today: datetime.date | None = None):
        """The last COPIL held (copils_held). One query."""
        return self.filter(plan=plan).copils_held(today or timezone.localdate()).first()

    def next_copil(self, plan: Plan, today: datetime.date | None = None):
        return self.filter(plan=plan).copils_to_come(today or timezone.localdate()).first()


class Meeting(models.Model):
    """A governance meeting of the plan: COPIL, COTECH, groupe de travail."""

    plan = models.ForeignKey(Plan, verbose_name="plan", on_delete=models.CASCADE, related_name="meetings")
    instance = models.CharField("instance", max_length=20, choices=Instance.choices)
    date = models.DateField("date", validators=[validate_plausible_date])
    attendees = models.TextField(
        "participants", blank=True, max_length=10000, help_text="Une personne ou structure par ligne."
    )
    agenda = models.TextField("ordre du jour", blank=True, max_length=10000)

    objects = MeetingQuerySet.as_manager()
    # "instance" is a property of simple-history's historical records: that one field is not kept.
    history = HistoricalRecords(excluded_fields=["instance"], verbose_name="historique de la réunion")

    class Meta:
        verbose_name = "réunion de pilotage"
        verbose_name_plural = "réunions de pilotage"
        ordering = ["-date", "-pk"]
        # Serves MeetingQuerySet.copils_held() (last_copil, the CAF overview): a plan's latest COPIL.
        indexes = [models.Index(fields=["plan", "instance", "date"], name="meeting_plan_instance_date")]

    def __str__(self) -> str:
        return f"{self.get_instance_display()} du {self.date:%d/%m/%Y}"

    @property
    def attendee_list(self) -> list[str]:
        return [line.strip() for line in self.attendees.splitlines() if line.strip()]


class DecisionStatus(models.TextChoices):
    TO_TAKE = "to_take", "À prendre"
    TAKEN = "taken", "Prise"
    POSTPONED = "postponed", "Reportée"
    ABANDONED = "abandoned", "Abandonnée"


# A decision still waiting for the COPIL: listed on the dashboard and in the dossier.
OPEN_DECISIONS = [DecisionStatus.TO_TAKE, DecisionStatus.POSTPONED]


class DecisionQuerySet(models.QuerySet):
    def of_plan(self, plan: Plan):
        return self.filter(meeting__plan=plan)

    def still_open(self):
        """Decisions the COPIL has still to take (à prendre, reportées), oldest first."""
        return (
            self.filter(status__in=OPEN_DECISIONS)
            .select_related("meeting")
            .prefetch_related("actions")
            .order_by("meeting__date", "pk")
        )


class Decision(models.Model):
    meeting = models.ForeignKey(
        Meeting, verbose_name="réunion", on_delete=models.CASCADE, related_name="decisions"
    )
    text = models.TextField("décision", max_length=5000)
    status = models.CharField(
        "état", max_length=20, choices=DecisionStatus.choices, default=DecisionStatus.TAKEN
    )
    actions = models.ManyToManyField(
        Action, verbose_name="fiches-actions concernées", blank=True, related_name="decisions"
    )
    status_changed_at = models.DateTimeField("état changé le", null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="état changé par",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = DecisionQuerySet.as_manager()
    history = HistoricalRecords(verbose_name="historique de la décision")

    class Meta:
        verbose_name = "décision"
        verbose_name_plural = "décisions"
        ordering = ["meeting", "pk"]

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_DECISIONS

    def set_status(self, status: str, *, by) -> None:
        """Record that the decision was taken, postponed or dropped, by whom and when (journaled)."""
        self.status = status
        self.status_changed_at = timezone.now()
        self.status_changed_by = by
        self._history_user = by
        self.save()


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "En file d'attente"
    RUNNING = "running", "En cours de génération"
    DONE = "done", "Prêt"
    FAILED = "failed", "Échec"


class GeneratedReport(models.Model):
    """A PDF made in the background, kept until the plan changes (see reporting.reports.fingerprint)."""

    plan = models.ForeignKey(Plan, verbose_name="plan", on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField("rapport", max_length=20)
    year = models.PositiveSmallIntegerField("année", null=True, blank=True)
    fingerprint = models.CharField("état du plan", max_length=200)
    status = models.CharField(
        "état", max_length=20, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField("avancement (%)", default=0)
    step = models.CharField("étape", max_length=200, blank=True)
    filename = models.CharField("nom du fichier", max_length=200, blank=True)
    pdf = models.BinaryField("PDF", blank=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="demandé par", null=True, on_delete=models.SET_NULL
    )
    requested_at = models.DateTimeField("demandé le", auto_now_add=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)

    class Meta:
        verbose_name = "rapport généré"
        verbose_name_plural = "rapports générés"
        ordering = ["-requested_at", "-pk"]
        # Serves the cache lookup: the same report of the same plan in the same state.
        indexes = [models.Index(fields=["plan", "kind", "year", "fingerprint"], name="report_cache_key")]

    def __str__(self) -> str:
        return f"{self.filename or self.kind} ({self.get_status_display()})"

    def set_progress(self, progress: int, step: str, *, status: str = ReportStatus.RUNNING) -> None:
        self.progress, self.step, self.status = progress, step, status
        self.save(update_fields=["progress", "step", "status"])


class CalendarFeedTokenQuerySet(models.QuerySet):
    def issue(self, user, *, renew: bool = False) -> "CalendarFeedToken":
        """The user's secret calendar address, made on first request; `renew` replaces it, and the
        old address stops working at once."""
        if renew:
            feed, _ = self.update_or_create(user=user, defaults={"token": new_feed_token()})
        else:
            feed, _ = self.get_or_create(user=user, defaults={"token": new_feed_token()})
        return feed

    def owner(self, token: str):
        """The active user a secret calendar address belongs to, or None. One query."""
        feed = self.select_related("user").filter(token=token, user__is_active=True).first()
        return feed.user if feed else None


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeedToken(models.Model):
    """The secret part of a user's calendar feed addresses.

    Agendas subscribe to a feed without signing in, so the address itself is the key: it shows
    what its owner may read, no more, and stops working when the account is deactivated or the
    address is renewed.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="utilisateur",
        on_delete=models.CASCADE,
        related_name="calendar_feed_token",
    )
    token = models.CharField("jeton", max_length=64, unique=True)
    issued_at = models.DateTimeField("émise le", auto_now=True)

    objects = CalendarFeedTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "adresse d'abonnement au calendrier"
        verbose_name_plural = "adresses d'abonnement au calendrier"

    def __str__(self) -> str:
        return f"Calendrier de {self.user}"


# ---------------------------------------------------------------------------
# Reminders by email (reporting.reminders)


class Frequency(models.TextChoices):
    WEEKLY = "weekly", "Hebdomadaire"
    MONTHLY = "monthly", "Mensuelle"
    NEVER = "never", "Jamais"


DEFAULT_STALE_MONTHS = 3


class ReminderPreference(models.Model):
    """How often a person wants their digest, and when a fiche they pilot counts as forgotten.
    A person without a row gets the defaults (weekly, 3 months)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="utilisateur",
        on_delete=models.CASCADE,
        related_name="reminder_preference",
    )
    frequency = models.CharField(
        "fréquence des rappels", max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY
    )
    stale_months = models.PositiveSmallIntegerField(
        "fiches sans mise à jour depuis (mois)",
        default=DEFAULT_STALE_MONTHS,
        help_text="Le rappel signale les fiches que vous pilotez restées sans mise à jour aussi longtemps.",
    )
    updated_at = models.DateTimeField("modifiées le", auto_now=True)

    class Meta:
        verbose_name = "préférence de rappel"
        verbose_name_plural = "préférences de rappel"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stale_months__gte=1, stale_months__lte=24),
                name="reminder_stale_months_range",
                violation_error_message="Le délai est compris entre 1 et 24 mois.",
            ),
        ]

    def __str__(self) -> str:
        return f"Rappels de {self.user} : {self.get_frequency_display().lower()}"


class ReminderSending(models.Model):
    """One digest sent: to whom, for which plan, for which period ("2026-W49", "2026-12").

    The row is inserted before the message is sent, in the same transaction: a second worker
    running at the same time waits on the unique index, then fails to insert and skips; a
    message that fails to send rolls its row back and is tried again on the next run."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="destinataire",
        on_delete=models.CASCADE,
        related_name="reminder_sendings",
    )
    plan = models.ForeignKey(
        Plan, verbose_name="plan", on_delete=models.CASCADE, related_name="reminder_sendings"
    )
    period = models.CharField("période", max_length=10)
    sent_at = models.DateTimeField("envoyé le", default=timezone.now)

    class Meta:
        verbose_name = "rappel envoyé"
        verbose_name_plural = "rappels envoyés"
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "plan", "period"],
                name="reminder_sent_once_per_period",
                violation_error_message="Ce rappel a déjà été envoyé pour cette période.",
            ),
        ]
        # The unique index also serves the lookup of who already had this period's digest.

    def __str__(self) -> str:
        return f"Rappel {self.period} à {self.user} ({self.plan.slug})"


def _document_path(document: "Document", filename: str) -> str:
    # Never the sender's name (it lives in `name`): a random key under the plan, with the
    # extension of the checked type, so that storage never sees a name chosen by a user.
    return f"documents/{document.plan_id}/{uuid.uuid4().hex}{Path(filename).suffix.lower()}"


class Document(models.Model):
    """A file attached to a fiche, to one of its notes, or to a meeting (minutes, photos,
    proofs, the signed convention). Checked by reporting.documents before it is stored, read
    only through its download view (never served by the web server)."""

    plan = models.ForeignKey(Plan, verbose_name="plan", on_delete=models.CASCADE, related_name="documents")
    action = models.ForeignKey(
        Action,
        verbose_name="fiche-action",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="documents",
    )
    note = models.ForeignKey(
        Note, verbose_name="note", null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    meeting = models.ForeignKey(
        Meeting,
        verbose_name="réunion",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="documents",
    )
    name = models.CharField("nom du fichier", max_length=150)
    file = models.FileField("fichier", upload_to=_document_path, max_length=255)
    content_type = models.CharField("type", max_length=120)
    size = models.PositiveBigIntegerField("taille (octets)")
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    uploaded_at = models.DateTimeField("ajouté le", default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="ajouté par",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="documents",
    )
    uploaded_by_name = models.CharField(
        "signature", max_length=200, blank=True, help_text="Nom affiché, conservé si le compte disparaît."
    )

    history = HistoricalRecords(verbose_name="historique du document")

    class Meta:
        verbose_name = "document"
        verbose_name_plural = "documents"
        ordering = ["-uploaded_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(action__isnull=False, meeting__isnull=True)
                    | models.Q(action__isnull=True, note__isnull=True, meeting__isnull=False)
                ),
                name="document_one_owner",
                violation_error_message="Un document est joint à une fiche (ou à l'une de ses notes) "
                "ou à une réunion, pas aux deux.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def owner_label(self) -> str:
        if self.meeting_id:
            return str(self.meeting)
        if self.note_id:
            return f"la note du {self.note.date:%d/%m/%Y} de l'action {self.action.number}"
        return f"l'action {self.action.number}"


class WrittenBySQL(models.Model):
    """A table only SQL writes (reporting/figures.py): a Django instance, possibly read before
    the last write, must never save it back."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} est écrite par reporting/figures.py seulement.")


class PlanChanges(WrittenBySQL):
    """How many writes the rows a plan's figures are made of have seen: its fiches, their
    calendar entries, its meetings. Counted by database triggers (reporting/figures.py), so
    that no write escapes it, whatever makes it (a form, the admin, an import's bulk writes,
    a queryset's update(), a delete); never written by Django. No foreign key: a plan's
    deletion writes its fiches' rows here on its way, and the number alone means nothing."""

    plan = models.OneToOneField(
        Plan, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    n = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "compteur d'écritures d'un plan"

    def __str__(self) -> str:
        return f"{self.plan_id} : {self.n}"


class PlanFigures(WrittenBySQL):
    """A plan's figures as the CAF overview shows them, kept between requests: computed for
    `day` (lateness and "COPIL held" depend on the day) when the plan's PlanChanges stood at
    `changes`; either moved on, they are computed again (reporting/figures.py)."""

    plan = models.OneToOneField(Plan, primary_key=True, on_delete=models.CASCADE, related_name="figures")
    fiches = models.PositiveIntegerField(default=0)
    progress_sum = models.PositiveIntegerField(default=0)  # over the fiches not abandoned
    progress_n = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)
    last_copil = models.DateField(null=True)
    day = models.DateField()
    changes = models.BigIntegerField()

    class Meta:
        verbose_name = "chiffres d'un plan (vue d'ensemble)"

    def __str__(self) -> str:
        return f"{self.plan_id} le {self.day:%d/%m/%Y}"
