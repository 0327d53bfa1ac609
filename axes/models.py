from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.functional import cached_property

from axes.levels import LevelWords
from partners.models import Membership, Organisation, OrganisationKind


class Role(models.TextChoices):
    # Function names, which fit everyone whatever their gender.
    ADMIN = "admin", "Administration"
    COORDINATOR = "coordinator", "Coordination"
    CONTRIBUTOR = "contributor", "Contribution"
    READER = "reader", "Lecture"


# Who may edit every fiche of a plan and manage its members.
MANAGER_ROLES = [Role.ADMIN, Role.COORDINATOR]


class LevelGender(models.TextChoices):
    MASCULINE = "m", "Masculin"
    FEMININE = "f", "Féminin"


class PlanQuerySet(models.QuerySet):
    """The plan-level permission rules. Fiches and steps build on these (actions.models)."""

    def visible_to(self, user):
        """Plans a user may read: those they hold a role on, and, for a CAF's staff, every plan
        their CAF signed. Nobody sees a plan they hold no role on."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        signed_by_my_caf = Plan.signatories.through.objects.filter(
            plan=OuterRef("pk"),
            organisation__kind=OrganisationKind.CAF,
            organisation__in=Membership.objects.filter(user=user).values("organisation"),
        )
        return self.filter(
            Q(Exists(PlanRole.objects.filter(plan=OuterRef("pk"), user=user))) | Exists(signed_by_my_caf)
        )

    def with_role(self, user, roles):
        if not user.is_authenticated:
            return self.none()
        return self.filter(Exists(PlanRole.objects.filter(plan=OuterRef("pk"), user=user, role__in=roles)))

    def open(self):
        """Plans still running: a plan closed by its renewal (Plan.closed_at) is read-only."""
        return self.filter(closed_at=None)

    def managed_by(self, user):
        """Plans whose fiches the user may all edit and whose members they may manage. A closed
        plan is managed by nobody, superusers included: it is kept as it ended, readable only."""
        if user.is_authenticated and user.is_superuser:
            return self.open()
        return self.with_role(user, MANAGER_ROLES).open()

    def contributed_by(self, user):
        return self.with_role(user, [Role.CONTRIBUTOR])


class Plan(models.Model):
    """The action plan of one CTG: one territory, one contract period."""

    slug = models.SlugField("identifiant", max_length=60, unique=True)
    title = models.CharField("titre", max_length=200)
    territory = models.CharField(
        "territoire", max_length=200, help_text="Tel que le plan le nomme, ex. « CC de Val'Aïgo »."
    )
    start_year = models.PositiveSmallIntegerField("année de début")
    end_year = models.PositiveSmallIntegerField("année de fin")
    level_label = models.CharField(
        "nom du premier niveau",
        max_length=40,
        default="Axe",
        help_text="Ce que le plan appelle ses grandes orientations : « Axe », « Enjeu », « Orientation »…",
    )
    level_plural = models.CharField(
        "pluriel du premier niveau",
        max_length=40,
        blank=True,
        help_text="Vide : déduit du nom (« Enjeu » → « Enjeux »).",
    )
    level_gender = models.CharField(
        "genre du premier niveau",
        max_length=1,
        blank=True,
        choices=LevelGender.choices,
        help_text="Vide : déduit du nom (« Orientation » est féminin). "
        "Donne « cet enjeu », « cette orientation ».",
    )
    signatories = models.ManyToManyField(
        Organisation, verbose_name="signataires", related_name="signed_plans", blank=True
    )
    communes = models.ManyToManyField(
        Organisation,
        verbose_name="communes du territoire",
        related_name="territory_plans",
        blank=True,
        limit_choices_to={"kind": "commune"},
    )
    # Every organisation the plan declares (its imported "Organisations" sheet), whether a fiche
    # names it or not: the plan-level partners (MSA, CPAM, la région…) travel with the plan.
    partners = models.ManyToManyField(
        Organisation,
        verbose_name="organisations du plan",
        related_name="partner_in_plans",
        blank=True,
        help_text="Les organisations que le plan déclare, citées ou non dans une fiche-action.",
    )
    # Set when the plan is renewed (reporting.renewal): from then on it is read-only, kept with
    # its history. Every write permission goes through PlanQuerySet.managed_by and the fiche and
    # step querysets built on it, which leave closed plans out.
    closed_at = models.DateTimeField("clos le", null=True, blank=True, editable=False)

    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = "plan d'action"
        verbose_name_plural = "plans d'action"
        ordering = ["territory", "-start_year"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_year__gte=models.F("start_year")),
                name="plan_years_ordered",
                violation_error_message="L'année de fin doit suivre l'année de début.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.territory} — {self.title} ({self.start_year}-{self.end_year})"

    def get_absolute_url(self) -> str:
        return reverse("plan_detail", kwargs={"slug": self.slug})

    @cached_property
    def level(self) -> LevelWords:
        """The plan's own words for its first level: {{ plan.level.per }} -> "par enjeu"."""
        return LevelWords.of(self.level_label, self.level_plural, self.level_gender)

    @property
    def period(self) -> str:
        """ "2023-2027"."""
        return f"{self.start_year}-{self.end_year}"

    @property
    def title_has_period(self) -> bool:
        """ "Convention territoriale globale 2023-2027" says its years: never repeat them."""
        return str(self.start_year) in self.title and str(self.end_year) in self.title

    @property
    def title_with_period(self) -> str:
        """The title, followed by the period unless the title already says it."""
        return self.title if self.title_has_period else f"{self.title}, {self.period}"


class Axis(models.Model):
    """A strategic axis (or "enjeu", "orientation") and the diagnosis behind it."""

    plan = models.ForeignKey(Plan, verbose_name="plan", on_delete=models.CASCADE, related_name="axes")
    number = models.PositiveSmallIntegerField("numéro")
    title = models.CharField("intitulé", max_length=500)
    theme = models.CharField(
        "thème du diagnostic",
        max_length=200,
        blank=True,
        help_text="Le thème de la synthèse des enjeux, ex. « La petite enfance ».",
    )

    class Meta:
        verbose_name = "axe"
        verbose_name_plural = "axes"
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "number"],
                name="axis_unique_number_per_plan",
                violation_error_message="Ce plan a déjà un axe portant ce numéro.",
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1),
                name="axis_number_positive",
                violation_error_message="Le numéro d'un axe commence à 1.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan.level.singular} {self.number} : {self.title}"


class Objective(models.Model):
    """An objective between an axis and its fiches, for the plans that have this level
    ("Objectif 1.2 : Développer l'accueil du mercredi"). A plan without objectives has none."""

    axis = models.ForeignKey(Axis, verbose_name="axe", on_delete=models.CASCADE, related_name="objectives")
    position = models.PositiveSmallIntegerField("ordre", default=0)
    code = models.CharField(
        "numéro", max_length=20, blank=True, help_text="Tel que le plan l'écrit, ex. « 1.2 » ou « OS 3 »."
    )
    title = models.CharField("intitulé", max_length=500)

    class Meta:
        verbose_name = "objectif"
        verbose_name_plural = "objectifs"
        ordering = ["axis", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["axis", "title"],
                name="objective_unique_title_per_axis",
                violation_error_message="Cet axe a déjà un objectif portant cet intitulé.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} : {self.title}"

    @property
    def label(self) -> str:
        """ "Objectif 1.2", or "Objectif" when the plan does not number them."""
        return f"Objectif {self.code}" if self.code else "Objectif"


class FindingKind(models.TextChoices):
    STRENGTH = "strength", "Force"
    WATCH_POINT = "watch_point", "Point de vigilance"


class Finding(models.Model):
    """One line of the synthèse des enjeux: a force or a point de vigilance of an axis."""

    axis = models.ForeignKey(Axis, verbose_name="axe", on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField("nature", max_length=20, choices=FindingKind.choices)
    position = models.PositiveSmallIntegerField("ordre", default=0)
    text = models.TextField("constat")

    class Meta:
        verbose_name = "constat du diagnostic"
        verbose_name_plural = "constats du diagnostic"
        ordering = ["axis", "kind", "position", "pk"]

    def __str__(self) -> str:
        return self.text[:80]


class PlanRole(models.Model):
    """The role a user holds on a plan."""

    plan = models.ForeignKey(Plan, verbose_name="plan", on_delete=models.CASCADE, related_name="roles")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="utilisateur",
        on_delete=models.CASCADE,
        related_name="plan_roles",
    )
    role = models.CharField("rôle", max_length=20, choices=Role.choices)
    organisations = models.ManyToManyField(
        Organisation,
        verbose_name="organisations représentées",
        related_name="plan_roles",
        blank=True,
        help_text="Pour un contributeur : la commune ou le partenaire qu'il représente sur ce plan.",
    )

    class Meta:
        verbose_name = "rôle sur un plan"
        verbose_name_plural = "rôles sur les plans"
        ordering = ["plan", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "user"],
                name="plan_role_unique",
                violation_error_message="Cet utilisateur a déjà un rôle sur ce plan.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} : {self.get_role_display()} ({self.plan.slug})"
