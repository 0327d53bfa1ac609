from django.conf import settings
from django.db import models


class OrganisationKind(models.TextChoices):
    EPCI = "epci", "EPCI"
    COMMUNE = "commune", "Commune"
    CAF = "caf", "CAF"
    DEPARTEMENT = "departement", "Département"
    REGION = "region", "Région"
    ETAT = "etat", "État"
    EDUCATION = "education", "Éducation nationale"
    MSA = "msa", "MSA"
    CPAM = "cpam", "CPAM"
    ASSOCIATION = "association", "Association"
    OTHER = "other", "Autre"


class OrganisationQuerySet(models.QuerySet):
    def communes(self):
        return self.filter(kind=OrganisationKind.COMMUNE)


class Organisation(models.Model):
    """A body that signs, pilots or partners a CTG: EPCI, commune, CAF, département…

    Organisations are shared by every plan of the installation (one CAF signs with every
    territory of its département), so they are identified by their full name; what a fiche
    writes ("CD31 - PMI", "Communes : médiathèque") is kept on the fiche itself.
    """

    name = models.CharField("nom", max_length=200, unique=True)
    short_name = models.CharField("sigle ou nom court", max_length=60, blank=True)
    kind = models.CharField("type", max_length=20, choices=OrganisationKind.choices)
    insee = models.CharField(
        "code INSEE",
        max_length=5,
        blank=True,
        help_text="Pour les communes : code officiel géographique à 5 caractères.",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="rattachée à",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = "organisation"
        verbose_name_plural = "organisations"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["insee"],
                condition=~models.Q(insee=""),
                name="organisation_unique_insee",
                violation_error_message="Une autre organisation porte déjà ce code INSEE.",
            ),
            models.CheckConstraint(
                condition=models.Q(insee="") | models.Q(insee__regex=r"^[0-9AB]{5}$"),
                name="organisation_insee_format",
                violation_error_message="Le code INSEE compte 5 caractères (chiffres, A ou B).",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """The short name where there is one: what people write in a fiche."""
        return self.short_name or self.name

    @property
    def url_key(self) -> str:
        """How a commune's pages are addressed: its INSEE code, or "c<id>" when it has none
        (the open format allows a commune without one)."""
        return self.insee or f"c{self.pk}"


class Membership(models.Model):
    """A user belongs to an organisation: a commune's référent, a CAF agent, the CCVA's coordinator."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="utilisateur",
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name="organisation", on_delete=models.CASCADE, related_name="memberships"
    )

    class Meta:
        verbose_name = "appartenance à une organisation"
        verbose_name_plural = "appartenances aux organisations"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"],
                name="membership_unique",
                violation_error_message="Cet utilisateur appartient déjà à cette organisation.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.organisation}"


class SignInThrottleQuerySet(models.QuerySet):
    def locked(self, keys: list[str]):
        """The locks in force on any of these keys (an account, an address)."""
        from django.utils import timezone

        return self.filter(key__in=keys, locked_until__gt=timezone.now())

    def record_failure(self, key: str, *, limit: int) -> "SignInThrottle":
        """Count one failed sign-in against `key`, locking it at the `limit`-th failure within
        SIGNIN_LOCKOUT_MINUTES. The row is locked while counted: gunicorn workers share it."""
        from datetime import timedelta

        from django.db import transaction
        from django.utils import timezone

        now = timezone.now()
        window = timedelta(minutes=settings.SIGNIN_LOCKOUT_MINUTES)
        with transaction.atomic():
            row, _ = self.select_for_update().get_or_create(key=key, defaults={"window_start": now})
            if row.window_start <= now - window:
                row.failures, row.window_start = 0, now
            row.failures += 1
            if row.failures >= limit:
                row.locked_until = now + window
            row.save()
        return row

    def unlock(self, keys: list[str]) -> int:
        return self.filter(key__in=keys).delete()[0]


class SignInThrottle(models.Model):
    """Failed sign-ins counted per account (`user:<username>`) and per address (`ip:<address>`).

    In the database rather than a cache: every gunicorn worker and web node must see the same
    count, and one row per key keeps the table small whatever an attacker sends.
    """

    key = models.CharField("clé", max_length=200, unique=True)
    failures = models.PositiveIntegerField("échecs", default=0)
    window_start = models.DateTimeField("premier échec compté le")
    locked_until = models.DateTimeField("bloqué jusqu'au", null=True, blank=True)

    objects = SignInThrottleQuerySet.as_manager()

    class Meta:
        verbose_name = "blocage de connexion"
        verbose_name_plural = "blocages de connexion"
        ordering = ["-locked_until", "key"]

    def __str__(self) -> str:
        return self.key

    @staticmethod
    def user_key(username: str) -> str:
        # Lower-cased: "Alice" and "alice" are the same target for someone guessing.
        return f"user:{username.strip().lower()}"

    @staticmethod
    def ip_key(address: str) -> str:
        return f"ip:{address}"


class FormSubmission(models.Model):
    """A form just sent (without JavaScript): the same form sent twice within seconds, by a double
    click or an impatient second click, is recorded once (see ctg.middleware.SubmitOnceMiddleware)."""

    key = models.CharField("empreinte", max_length=64, unique=True)
    sent_at = models.DateTimeField("envoyé le", auto_now_add=True, db_index=True)
    location = models.CharField("redirigé vers", max_length=500, blank=True)

    class Meta:
        verbose_name = "formulaire envoyé"
        verbose_name_plural = "formulaires envoyés"

    def __str__(self) -> str:
        return f"{self.key[:12]}… ({self.sent_at:%d/%m/%Y %H:%M:%S})"
