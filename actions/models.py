import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import (
    CharField,
    Exists,
    ExpressionWrapper,
    JSONField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Concat, JSONObject
from django.db.transaction import TransactionManagementError
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from actions.periods import MAX_YEAR, MIN_YEAR
from actions.prepared import OBJECT_ID, Prepared
from axes.models import Axis, Objective, Plan, PlanRole, Role
from partners.models import Organisation


def validate_plausible_date(value: datetime.date) -> None:
    """A CTG runs for a few years: a date outside 1900-2100 is a typo, and would break the
    calendars built from it (an all-day event ends the day after)."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(
            f"Date invraisemblable : l'année doit être comprise entre {MIN_YEAR} et {MAX_YEAR}."
        )


# History rows written when a plan is first imported (or loaded before history was kept)
# carry this reason: they give the journal its baseline without showing a fiche's whole
# content as "added" by nobody. An import that updates an existing plan writes instead
# `import_reason(...)` ("import du 30/11/2026 de val-aigo.xlsx"), which the journal shows.
IMPORT_REASON = "import"
IMPORT_REASON_PREFIX = "import du "


def import_reason(filename: str | None = None, day: datetime.date | None = None) -> str:
    """The change reason of an import that updates an existing plan."""
    day = day or timezone.localdate()
    reason = f"{IMPORT_REASON_PREFIX}{day:%d/%m/%Y}" + (f" de {filename}" if filename else "")
    return reason if len(reason) <= 100 else reason[:99] + "…"  # history_change_reason holds 100


class StaleVersion(Exception):
    """Someone saved the object after the form was displayed: the edit would overwrite theirs."""

    def __init__(self, current):
        super().__init__(f"{current!r} a changé entre-temps")
        self.current = current


_LOCKED: dict[type, Prepared] = {}  # Versioned.locked()'s query, by model


class Versioned(models.Model):
    """Optimistic locking: forms carry the version they showed; a stale one is refused.

    Every save (app, admin, import) moves the version on, so no writer is ever silently
    overwritten. `locked()` takes the row lock on PostgreSQL so two concurrent saves of the
    same version cannot both pass the check.
    """

    version = models.PositiveIntegerField("version", default=1, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            self.version += 1
        super().save(*args, **kwargs)

    @classmethod
    def locked(cls, pk, *, version: int):
        """Lock the row and check the version the user saw. Call inside transaction.atomic().
        Its SQL is built once per model (actions/prepared.py): every in-place save reads it."""
        query = _LOCKED.get(cls)
        if query is None:
            query = _LOCKED.setdefault(
                cls, Prepared(lambda pk: cls.objects.select_for_update().filter(pk=pk), pk=OBJECT_ID)
            )
        # Django refuses select_for_update outside a transaction when it builds the query;
        # the compiled query skips that check, so it is made here.
        if not connection.in_atomic_block:
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        found = query.run(pk=pk)
        if not found:
            raise cls.DoesNotExist(f"{cls._meta.object_name} matching query does not exist.")
        current = found[0]
        if current.version != version:
            raise StaleVersion(current)
        return current

    def save_edit(self, *, by, **changes) -> None:
        """Apply a user's edit, journaled in their name."""
        for name, value in changes.items():
            setattr(self, name, value)
        self._history_user = by
        self.save()


def _represents(user, plan, organisation_lookup: str, value):
    """Exists: the user is a contributeur of `plan` who represents there an organisation with
    `organisation_lookup` = value ("" for the organisation itself). Representation is per plan:
    being a commune's référent on one plan gives nothing on another."""
    lookup = f"organisations__{organisation_lookup}" if organisation_lookup else "organisations"
    return Exists(PlanRole.objects.filter(user=user, role=Role.CONTRIBUTOR, plan=plan, **{lookup: value}))


# The largest amount a financing line holds (14 digits, 2 of them cents): a larger figure is a
# typo. The open format bounds its amounts the same (plan_format.LARGEST_AMOUNT).
LARGEST_AMOUNT = Decimal("999999999999.99")


def validate_amount(value: Decimal) -> None:
    if value < 0:
        raise ValidationError("Un montant ne peut pas être négatif.")
    if value > LARGEST_AMOUNT:
        raise ValidationError("Montant invraisemblable : 999 999 999 999,99 € au plus.")


class Tag(models.Model):
    """An entry of a list an installation administrator manages in the admin (the CAF's
    fields of action, the publics a fiche targets); fiches are tagged with them."""

    name = models.CharField("nom", max_length=100, unique=True)
    slug = models.SlugField("identifiant (adresse)", max_length=100, unique=True)
    position = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        abstract = True
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Theme(Tag):
    """A field of action of the CAF: petite enfance, parentalité, accès aux droits…"""

    class Meta(Tag.Meta):
        verbose_name = "thématique"
        verbose_name_plural = "thématiques (champs d'intervention)"

    def get_absolute_url(self) -> str:
        return reverse("theme_fiches", kwargs={"slug": self.slug})


class Audience(Tag):
    """A public a fiche targets: an age band (0–3 ans…), the families, the parents…"""

    class Meta(Tag.Meta):
        verbose_name = "public visé"
        verbose_name_plural = "publics visés"


class Status(models.TextChoices):
    PLANNED = "planned", "À venir"
    IN_PROGRESS = "in_progress", "En cours"
    DONE = "done", "Réalisée"
    ON_HOLD = "on_hold", "En pause"
    ABANDONED = "abandoned", "Abandonnée"


# A fiche that is finished or given up can no longer be late.
OPEN_STATUSES = [Status.PLANNED, Status.IN_PROGRESS, Status.ON_HOLD]


class JSONList(models.Aggregate):
    """Rows aggregated into a JSON array, on PostgreSQL and SQLite alike."""

    function = "JSONB_AGG"  # jsonb: Django reads it as text and parses it itself
    output_field = JSONField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra_context)


def json_rows(queryset, *, by: str = "action", **fields) -> Subquery:
    """The rows of `queryset` (correlated to the outer row by its `by` column: the fiche's) as
    one JSON array of objects holding `fields`: a fiche's few tags or financing lines read with
    the fiche itself, not by a query of their own. NULL when there are none."""
    rows = queryset.order_by().values(by).annotate(rows=JSONList(JSONObject(**fields))).values("rows")
    return Subquery(rows, output_field=JSONField())


class ActionQuerySet(models.QuerySet):
    """Fiche-level permission rules; see the table in the README."""

    def visible_to(self, user):
        return self.filter(plan__in=Plan.objects.visible_to(user))

    def editable_by(self, user):
        """Fiches whose content the user may change: every fiche of a plan they administer or
        coordinate; for a contributeur, the fiches their organisation pilots."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            Q(plan__in=Plan.objects.managed_by(user))
            | _represents(user, OuterRef("plan"), "piloted_actions", OuterRef("pk"))
        ).filter(plan__closed_at=None)  # a closed (renewed) plan is read-only

    def notable_by(self, user):
        """Fiches the user may add a note de suivi to: those they may edit and, for a
        contributeur, those where their organisation is a partner or has steps."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            Q(pk__in=self.editable_by(user).values("pk"))
            | _represents(user, OuterRef("plan"), "partnerships__action", OuterRef("pk"))
            | _represents(user, OuterRef("plan"), "steps__action", OuterRef("pk"))
        ).filter(plan__closed_at=None)

    def with_lineage(self, user):
        """The fiche's other lives (reporting.renewal, Action.previous), in the same query: the
        fiche it carries on (`previous`, its plan) with `previous_readable`, and the first fiche
        carrying it on into a next plan (`next_number`, `next_plan_slug`, `next_plan_title`,
        `next_plan_years`), each only where the user may read the other plan."""
        readable = Plan.objects.visible_to(user)
        following = Action.objects.filter(
            Exists(readable.filter(pk=OuterRef("plan_id"))), previous=OuterRef("pk")
        ).order_by("plan__start_year", "pk")
        return self.select_related("previous__plan").annotate(
            previous_readable=Exists(readable.filter(pk=OuterRef("previous__plan_id"))),
            next_number=Subquery(following.values("number")[:1]),
            next_plan_slug=Subquery(following.values("plan__slug")[:1]),
            next_plan_title=Subquery(following.values("plan__title")[:1]),
            next_plan_years=Subquery(
                following.annotate(
                    years=Concat("plan__start_year", Value("-"), "plan__end_year", output_field=CharField())
                ).values("years")[:1]
            ),
        )

    def with_deadline(self, today: datetime.date | None = None):
        """Annotate `deadline` (the last end date of the calendar) and `is_late`.

        "En retard" is never typed: a fiche still open whose calendar has ended before
        today is late; an open-ended entry ("Fin 2024 et après") keeps it on time.
        """
        today = today or timezone.localdate()
        entries = CalendarEntry.objects.filter(action=OuterRef("pk"))
        last_end = entries.exclude(end=None).order_by("-end").values("end")[:1]
        # "The last end date is past" is "an end date is past and none is to come", two EXISTS
        # on the (action, end) index: comparing `deadline` made the database compute the
        # deadline's subquery again for each mention (three times a row to filter a list).
        ended = entries.filter(end__lt=today)
        going_on = entries.filter(Q(end__gte=today) | Q(end=None, start__isnull=False))
        return self.annotate(
            deadline=Subquery(last_end),
            is_late=ExpressionWrapper(
                Q(status__in=OPEN_STATUSES) & Exists(ended) & ~Exists(going_on),
                output_field=models.BooleanField(),
            ),
        )

    def overdue(self, today: datetime.date | None = None):
        return self.with_deadline(today).filter(is_late=True)

    def figures(self, today: datetime.date | None = None, *, by: str | None = None, **more):
        """What a list says of all its fiches, whatever page it shows: `fiches` (how many),
        `progress_sum` and `progress_n` (the progress added up over those not abandoned, and
        their number: the mean is theirs), `late` (with_deadline's rule), and the aggregates
        given in `more`. Grouped by the field `by`: a values() queryset, a row per value (lazy,
        so that actions/prepared.py can compile it with `today` bound); without `by`: a dict
        over them all. One query."""
        kept = ~Q(status=Status.ABANDONED)
        figures = {
            "fiches": models.Count("pk"),
            "progress_sum": models.Sum("progress", filter=kept),
            "progress_n": models.Count("pk", filter=kept),
            "late": models.Count("pk", filter=Q(is_late=True)),
            **more,
        }
        fiches = self.order_by().with_deadline(today)
        if by is None:
            return fiches.aggregate(**figures)
        return fiches.values(by).annotate(**figures)

    def concerning(self, organisation):
        """Fiches an organisation pilots, is partner of, or has steps in (its commune's).

        A commune's rows are few in any installation (its territory's plans): its three lists
        are read once, on their organisation's index, instead of three probes for each fiche
        of the plan (a third of the time on a plan of 1,000 fiches, bench/workspace.py)."""
        return self.filter(
            Q(pk__in=Action.pilots.through.objects.filter(organisation=organisation).values("action"))
            | Q(pk__in=ActionPartner.objects.filter(organisation=organisation).values("action"))
            | Q(pk__in=Step.objects.filter(commune=organisation).values("action"))
        )

    def tagged(self, *, theme: str | None = None, audience: str | None = None):
        """Fiches tagged with the theme and/or the public of these slugs."""
        queryset = self
        if theme:
            queryset = queryset.filter(
                Exists(Action.themes.through.objects.filter(action=OuterRef("pk"), theme__slug=theme))
            )
        if audience:
            queryset = queryset.filter(
                Exists(
                    Action.audiences.through.objects.filter(action=OuterRef("pk"), audience__slug=audience)
                )
            )
        return queryset

    def due_between(self, start: datetime.date, end: datetime.date):
        """Open fiches with a calendar entry ending within [start, end]."""
        return self.filter(
            Q(status__in=OPEN_STATUSES)
            & Exists(CalendarEntry.objects.filter(action=OuterRef("pk"), end__range=(start, end)))
        )

    def for_listing(self):
        """What a list of fiches shows: axis, pilots, lateness. Two queries whatever the size."""
        return (
            self.select_related("axis", "plan").prefetch_related("pilots").with_deadline().order_by("number")
        )

    def with_tags_and_financing(self):
        """Annotate `theme_rows`, `audience_rows` and `financing_rows`: the fiche's themes, the
        publics it targets and its financing lines, as JSON read in the fiche's own query (see
        Action.themes_list, audiences_list, financing_list). Amounts travel as text, exactly."""
        amount = {name: Cast(name, CharField()) for name in ("planned", "granted", "spent")}
        return self.annotate(
            theme_rows=json_rows(
                Action.themes.through.objects.filter(action=OuterRef("pk")),
                id="theme_id",
                name="theme__name",
                slug="theme__slug",
                position="theme__position",
            ),
            audience_rows=json_rows(
                Action.audiences.through.objects.filter(action=OuterRef("pk")),
                id="audience_id",
                name="audience__name",
                slug="audience__slug",
                position="audience__position",
            ),
            financing_rows=json_rows(
                Financing.objects.filter(action=OuterRef("pk")),
                id="id",
                version="version",
                position="position",
                funder="funder",
                organisation_id="organisation_id",
                scheme="scheme",
                year="year",
                **amount,
            ),
        )

    def with_details(self):
        """Everything a fiche page shows, in a fixed number of queries."""
        top_steps = Step.objects.filter(parent=None).select_related("commune")
        children = Step.objects.select_related("commune")
        return (
            self.for_listing()
            .select_related("axis__plan")
            .prefetch_related(
                models.Prefetch("steps", queryset=top_steps, to_attr="top_steps"),
                models.Prefetch("top_steps__children", queryset=children),
                models.Prefetch("partners", queryset=ActionPartner.objects.select_related("organisation")),
                "conditions",
                "calendar_entries",
                models.Prefetch("indicators", queryset=Indicator.objects.prefetch_related("values")),
                models.Prefetch("notes", queryset=Note.objects.order_by("-date", "-pk")),
                models.Prefetch("financing", queryset=Financing.objects.select_related("organisation")),
                "themes",
                "audiences",
                # reporting.Decision, named by its relation: actions does not import reporting.
                "decisions__meeting",
                "decisions__actions__plan",
                "decisions__status_changed_by",
            )
        )


class ActiveActionManager(models.Manager.from_queryset(ActionQuerySet)):
    """Fiches in force: an archived fiche (dropped by an import) is hidden everywhere, yet
    kept with its steps, notes, decisions and journal until a file or a manager restores it."""

    def get_queryset(self):
        return super().get_queryset().filter(archived_at=None)


class Action(Versioned):
    """A fiche-action of the plan."""

    plan = models.ForeignKey(Plan, verbose_name="plan", on_delete=models.CASCADE, related_name="actions")
    axis = models.ForeignKey(Axis, verbose_name="axe", on_delete=models.CASCADE, related_name="actions")
    # Only in plans that have a level between axis and fiche; of the fiche's own axis (clean()).
    objective = models.ForeignKey(
        Objective,
        verbose_name="objectif",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="actions",
    )
    number = models.PositiveSmallIntegerField(
        "numéro", help_text="Numéro de la fiche dans l'ensemble du plan (Action 1 … Action 20)."
    )
    title = models.CharField("intitulé (synoptique)", max_length=500)
    fiche_title = models.CharField("nom de l'action (fiche)", max_length=500)
    pilotage = models.CharField(
        "pilotage",
        max_length=300,
        blank=True,
        help_text="Tel qu'écrit dans la fiche, ex. « CCVA / Coordination petite enfance ».",
    )
    pilots = models.ManyToManyField(
        Organisation, verbose_name="organisations pilotes", related_name="piloted_actions", blank=True
    )
    status = models.CharField("statut", max_length=20, choices=Status.choices, default=Status.PLANNED)
    progress = models.PositiveSmallIntegerField(
        "avancement (%)", default=0, help_text="Une fiche réalisée est à 100 %."
    )
    themes = models.ManyToManyField(Theme, verbose_name="thématiques", related_name="actions", blank=True)
    audiences = models.ManyToManyField(
        Audience, verbose_name="publics visés", related_name="actions", blank=True
    )
    archived_at = models.DateTimeField("archivée le", null=True, blank=True, editable=False)
    # The same fiche in the plan this one renews (reporting.renewal): "Suite de l'action N".
    previous = models.ForeignKey(
        "self",
        verbose_name="fiche du plan précédent",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="continuations",
    )
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="archivée par",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # The first manager is the default one: archived fiches are left out of every list, page,
    # dashboard and report. `all_objects` sees them (the archive page, imports, the admin);
    # related objects reach their fiche through it too (base_manager_name), archived or not.
    objects = ActiveActionManager()
    all_objects = ActionQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["version"], verbose_name="historique de la fiche-action")

    class Meta:
        verbose_name = "fiche-action"
        verbose_name_plural = "fiches-actions"
        ordering = ["plan", "number"]
        base_manager_name = "all_objects"
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "number"],
                name="action_unique_number_per_plan",
                violation_error_message="Ce plan a déjà une fiche-action portant ce numéro.",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100),
                name="action_progress_max_100",
                violation_error_message="L'avancement est un pourcentage, de 0 à 100.",
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="action_number_positive",
                violation_error_message="Le numéro d'une fiche commence à 1.",
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(progress=100),
                name="action_done_is_100",
                violation_error_message="Une fiche réalisée est à 100 %% d'avancement.",
            ),
        ]

    def __str__(self) -> str:
        return f"Action {self.number} : {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("action_detail", kwargs={"slug": self.plan.slug, "number": self.number})

    @property
    def label(self) -> str:
        return f"Action {self.number}"

    def clean(self) -> None:
        if self.axis_id and self.plan_id and self.axis.plan_id != self.plan_id:
            raise ValidationError({"axis": "Cet axe appartient à un autre plan."})
        if self.objective_id and self.axis_id and self.objective.axis_id != self.axis_id:
            level = self.axis.plan.level
            raise ValidationError(
                {
                    "objective": f"Cet objectif relève {level.agree('d’un autre', 'd’une autre')} "
                    f"{level.lower} que {level.agree('celui', 'celle')} de la fiche."
                }
            )

    def themes_list(self) -> list[Theme]:
        """The fiche's themes, in the list's order: from with_tags_and_financing() when it was
        read so, otherwise one query."""
        return _tags(self, "theme_rows", Theme, self.themes)

    def audiences_list(self) -> list[Audience]:
        return _tags(self, "audience_rows", Audience, self.audiences)

    def financing_list(self) -> list["Financing"]:
        """The fiche's financing lines in order (see themes_list)."""
        if not hasattr(self, "financing_rows"):
            return list(self.financing.all())
        lines = []
        for row in sorted(self.financing_rows or [], key=lambda row: (row["position"], row["id"])):
            for name in ("planned", "granted", "spent"):
                row[name] = Decimal(row[name]) if row[name] is not None else None
            pk = row.pop("id")
            line = Financing(action=self, pk=pk, **row)
            line._state.adding, line._state.db = False, self._state.db
            lines.append(line)
        return lines

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def archive(self, *, by, reason: str = "") -> None:
        """Take the fiche out of the plan, keeping everything it holds (journaled)."""
        self.archived_at, self.archived_by = timezone.now(), by
        self._save_journaled(by=by, reason=reason)

    def restore(self, *, by, reason: str = "") -> None:
        """Bring an archived fiche back into the plan (journaled "Fiche restaurée")."""
        self.archived_at, self.archived_by = None, None
        self._save_journaled(by=by, reason=reason)

    def _save_journaled(self, *, by, reason: str) -> None:
        self._history_user = by
        if reason:
            self._change_reason = reason
        self.save()

    def set_tags(self, *, by, reason: str = "", **wanted) -> list["TagChange"]:
        """Give the fiche these themes and/or publics (`themes=`, `audiences=`: lists of Theme /
        Audience) and journal what changed in `by`'s name, with `reason` for an import (one
        TagChange per list that changed). Nothing is written for a list that is already so.
        A query per list to read it, then one or two to change it, and one for the journal."""
        changes = []
        for name, tags in wanted.items():
            related = getattr(self, name)
            through, column = related.through, f"{related.target_field_name}_id"
            before = list(related.all())
            change = TagChange.between(self, name, before, tags, by=by, reason=reason)
            if change is None:
                continue
            kept, after = {tag.pk for tag in before}, {tag.pk for tag in tags}
            if kept - after:
                through.objects.filter(action=self, **{f"{column}__in": kept - after}).delete()
            through.objects.bulk_create(through(action=self, **{column: pk}) for pk in after - kept)
            changes.append(change)
        return TagChange.objects.bulk_create(changes) if changes else []

    def step_tally(self) -> tuple[int, int]:
        """(done, total) of the steps that are work: a step with sub-steps (a commune's
        heading) counts through them. Reads `top_steps` when with_details() prefetched it;
        otherwise one query."""
        if hasattr(self, "top_steps"):
            tops = [(step, list(step.children.all())) for step in self.top_steps]
        else:
            steps = list(self.steps.all())
            tops = [(s, [c for c in steps if c.parent_id == s.pk]) for s in steps if s.parent_id is None]
        counted = [leaf for step, children in tops for leaf in (children or [step])]
        return sum(leaf.done for leaf in counted), len(counted)


def _tags(action: Action, attribute: str, model, related) -> list:
    if not hasattr(action, attribute):
        return list(related.all())
    rows = sorted(getattr(action, attribute) or [], key=lambda row: (row["position"], row["name"]))
    return [model(pk=row["id"], name=row["name"], slug=row["slug"], position=row["position"]) for row in rows]


class TagChange(models.Model):
    """A change of a fiche's themes or publics, for its journal: what was added and removed,
    by name as the lists then said, who and when. Kept here rather than through
    django-simple-history's m2m_fields, which would copy every tag of the fiche on each save
    of the fiche (a status change included) and record a `set()` as two changes; the bulk
    writes of an import send no signal anyway. Written by Action.set_tags() only."""

    class Field(models.TextChoices):
        THEMES = "themes", "Thématiques"
        AUDIENCES = "audiences", "Publics visés"

    action = models.ForeignKey(
        Action, verbose_name="fiche-action", on_delete=models.CASCADE, related_name="tag_changes"
    )
    field = models.CharField("liste", max_length=20, choices=Field.choices)
    added = models.JSONField("ajoutés", default=list, blank=True)
    removed = models.JSONField("retirés", default=list, blank=True)
    at = models.DateTimeField("le", default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="par",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # "import du 30/11/2026 de val-aigo.xlsx", as history rows carry it (IMPORT_REASON: the
    # first load of a plan, which the journal leaves out).
    reason = models.CharField("motif", max_length=100, blank=True)

    class Meta:
        verbose_name = "changement de thématiques ou de publics"
        verbose_name_plural = "changements de thématiques ou de publics"
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_field_display()} de {self.action_id} le {self.at:%d/%m/%Y}"

    @classmethod
    def between(
        cls, action: Action, field: str, before, after, *, by, reason: str = ""
    ) -> "TagChange | None":
        """The change from the tags `before` to `after` (unsaved), None when they are the same."""
        kept = {tag.pk for tag in before}
        wanted = {tag.pk for tag in after}
        if kept == wanted:
            return None

        def names(tags, pks):
            return [tag.name for tag in sorted(tags, key=lambda t: (t.position, t.name)) if tag.pk in pks]

        return cls(
            action=action,
            field=field,
            added=names(after, wanted - kept),
            removed=names(before, kept - wanted),
            user=by if getattr(by, "pk", None) else None,
            reason=reason,
        )


class StepQuerySet(models.QuerySet):
    def editable_by(self, user):
        """Steps the user may tick or reword: those of the fiches they may edit and, for a
        contributeur, the steps tied to their commune on any fiche of the plan."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            Q(action__in=Action.objects.editable_by(user))
            | _represents(user, OuterRef("action__plan"), "", OuterRef("commune"))
        ).filter(action__plan__closed_at=None)


class Step(Versioned):
    """An étape de travail. One level of children, as when a fiche groups steps by commune."""

    action = models.ForeignKey(
        Action, verbose_name="fiche-action", on_delete=models.CASCADE, related_name="steps"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="étape parente",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    position = models.PositiveSmallIntegerField("ordre", default=0)
    text = models.TextField("étape", max_length=2000)
    commune = models.ForeignKey(
        Organisation,
        verbose_name="commune concernée",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="steps",
        limit_choices_to={"kind": "commune"},
    )
    done = models.BooleanField("réalisée", default=False)

    objects = StepQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["version"], verbose_name="historique de l'étape")

    class Meta:
        verbose_name = "étape de travail"
        verbose_name_plural = "étapes de travail"
        ordering = ["position", "pk"]
        indexes = [
            # Serves the fiche page: the steps of an action, in order.
            models.Index(fields=["action", "parent", "position"], name="step_action_order"),
            # Has this fiche a step of this commune? (ActionQuerySet.notable_by, for a commune's
            # contributeur; ActionQuerySet.concerning() reads a commune's steps on its own index.)
            models.Index(fields=["action", "commune"], name="step_action_commune"),
        ]

    def __str__(self) -> str:
        return self.text[:80]

    def clean(self) -> None:
        if self.parent_id:
            if self.parent.parent_id:
                raise ValidationError({"parent": "Une étape ne peut avoir qu'un niveau de sous-étapes."})
            if self.parent.action_id != self.action_id:
                raise ValidationError({"parent": "L'étape parente appartient à une autre fiche."})


class ActionPartner(Versioned):
    """A partner line of the fiche: the wording kept, the organisation linked when known."""

    action = models.ForeignKey(
        Action, verbose_name="fiche-action", on_delete=models.CASCADE, related_name="partners"
    )
    position = models.PositiveSmallIntegerField("ordre", default=0)
    name = models.CharField("partenaire (tel qu'écrit)", max_length=300)
    role = models.CharField("rôle", max_length=300, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="partnerships",
    )

    history = HistoricalRecords(excluded_fields=["version"], verbose_name="historique du partenaire")

    class Meta:
        verbose_name = "partenaire"
        verbose_name_plural = "partenaires"
        ordering = ["position", "pk"]
        # Serves the list's partner filter and ActionQuerySet.notable_by: is this organisation a
        # partner of this fiche?
        indexes = [models.Index(fields=["action", "organisation"], name="partner_action_organisation")]

    def __str__(self) -> str:
        return f"{self.name} : {self.role}" if self.role else self.name


class Condition(Versioned):
    """A condition de réussite / moyen."""

    action = models.ForeignKey(
        Action, verbose_name="fiche-action", on_delete=models.CASCADE, related_name="conditions"
    )
    position = models.PositiveSmallIntegerField("ordre", default=0)
    text = models.TextField("condition de réussite / moyen", max_length=2000)

    history = HistoricalRecords(excluded_fields=["version"], verbose_name="historique de la condition")

    class Meta:
        verbose_name = "condition de réussite / moyen"
        verbose_name_plural = "conditions de réussite / moyens"
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text[:80]


class CalendarEntry(Versioned):
    """A calendar line as written ("Début 2024 : relance…") and, when it is a period, its dates."""

    action = models.ForeignKey(
        Action, verbose_name="fiche-action", on_delete=models.CASCADE, related_name="calendar_entries"
    )
    position = models.PositiveSmallIntegerField("ordre", default=0)
    label = models.CharField("période (telle qu'écrite)", max_length=200)
    description = models.TextField("ce qui est prévu", blank=True, max_length=2000)
    start = models.DateField("début", null=True, blank=True, validators=[validate_plausible_date])
    end = models.DateField("fin", null=True, blank=True, validators=[validate_plausible_date])

    history = HistoricalRecords(excluded_fields=["version"], verbose_name="historique de l'échéance")

    class Meta:
        verbose_name = "échéance du calendrier"
        verbose_name_plural = "calendrier"
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start=None) | Q(end=None) | Q(end__gte=models.F("start")),
                name="calendar_entry_dates_ordered",
                violation_error_message="La date de fin doit suivre la date de début.",
            ),
        ]
        # Serves ActionQuerySet.with_deadline(): the last end date of each action.
        indexes = [models.Index(fields=["action", "end"], name="calendar_action_end")]

    def __str__(self) -> str:
        return f"{self.label} : {self.description}" if self.description else self.label


def amount_field(verbose_name: str) -> models.DecimalField:
    return models.DecimalField(
        verbose_name, max_digits=14, decimal_places=2, null=True, blank=True, validators=[validate_amount]
    )


class Financing(Versioned):
    """A financing line of the fiche: who funds it (an organisation of the plan, or its name as
    written), under which scheme, for which year, and the amounts planned, granted, spent."""

    action = models.ForeignKey(
        Action, verbose_name="fiche-action", on_delete=models.CASCADE, related_name="financing"
    )
    position = models.PositiveSmallIntegerField("ordre", default=0)
    funder = models.CharField("financeur (tel qu'écrit)", max_length=200)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="financing",
    )
    scheme = models.CharField(
        "dispositif",
        max_length=200,
        blank=True,
        help_text="Ex. « Bonus territoire CTG », « Prestation de service ».",
    )
    year = models.PositiveSmallIntegerField(
        "année",
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_YEAR), MaxValueValidator(MAX_YEAR)],
    )
    planned = amount_field("montant prévu (€)")
    granted = amount_field("montant accordé (€)")
    spent = amount_field("montant dépensé (€)")

    history = HistoricalRecords(excluded_fields=["version"], verbose_name="historique du financement")

    class Meta:
        verbose_name = "ligne de financement"
        verbose_name_plural = "financements"
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(planned=None) | Q(planned__gte=0))
                & (Q(granted=None) | Q(granted__gte=0))
                & (Q(spent=None) | Q(spent__gte=0)),
                name="financing_amounts_not_negative",
                violation_error_message="Un montant ne peut pas être négatif.",
            ),
            models.CheckConstraint(
                condition=Q(granted=None) | Q(spent=None) | Q(spent__lte=models.F("granted")),
                name="financing_spent_within_granted",
                violation_error_message="Le montant dépensé ne peut pas dépasser le montant accordé.",
            ),
        ]
        # Serves the fiche page (the lines of a fiche, in order) and the totals by fiche.
        indexes = [models.Index(fields=["action", "position"], name="financing_action_order")]

    def __str__(self) -> str:
        parts = [self.funder, self.scheme, str(self.year or "")]
        return " — ".join(part for part in parts if part)


class Indicator(Versioned):
    action = models.ForeignKey(
        Action, verbose_name="fiche-action", on_delete=models.CASCADE, related_name="indicators"
    )
    position = models.PositiveSmallIntegerField("ordre", default=0)
    name = models.CharField("indicateur", max_length=300)
    unit = models.CharField("unité", max_length=60, blank=True)
    baseline = models.DecimalField(
        "valeur de référence", max_digits=14, decimal_places=2, null=True, blank=True
    )
    target = models.DecimalField("cible", max_digits=14, decimal_places=2, null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["version"], verbose_name="historique de l'indicateur")

    class Meta:
        verbose_name = "indicateur"
        verbose_name_plural = "indicateurs"
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class IndicatorValue(Versioned):
    indicator = models.ForeignKey(
        Indicator, verbose_name="indicateur", on_delete=models.CASCADE, related_name="values"
    )
    year = models.PositiveSmallIntegerField("année")
    value = models.DecimalField("valeur", max_digits=14, decimal_places=2)
    comment = models.TextField("commentaire", blank=True, max_length=2000)

    history = HistoricalRecords(excluded_fields=["version"], verbose_name="historique de la valeur")

    class Meta:
        verbose_name = "valeur d'indicateur"
        verbose_name_plural = "valeurs d'indicateur"
        ordering = ["year"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "year"],
                name="indicator_value_unique_year",
                violation_error_message="Cet indicateur a déjà une valeur pour cette année.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} : {self.value}"


class NoteKind(models.TextChoices):
    """What a note says; the CAF bilan sorts a year's notes into these headings."""

    FOLLOW_UP = "follow_up", "Suivi"
    ACHIEVEMENT = "achievement", "Réalisation"
    DIFFICULTY = "difficulty", "Difficulté"
    OUTLOOK = "outlook", "Perspective"


class DatePrecision(models.TextChoices):
    """How precisely a note is dated: plans written by hand date some notes by month or year."""

    DAY = "day", "jour"
    MONTH = "month", "mois"
    YEAR = "year", "année"


MONTHS = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]  # fmt: skip


def date_label(day: datetime.date, precision: str = DatePrecision.DAY) -> str:
    """A note's date as it was given: "12/03/2024", "mars 2024" or "2024"."""
    if precision == DatePrecision.YEAR:
        return str(day.year)
    if precision == DatePrecision.MONTH:
        return f"{MONTHS[day.month - 1]} {day.year}"
    return f"{day:%d/%m/%Y}"


class Note(models.Model):
    """A note de suivi: dated (by day, or by month or year for a plan written so), signed."""

    action = models.ForeignKey(
        Action, verbose_name="fiche-action", on_delete=models.CASCADE, related_name="notes"
    )
    date = models.DateField("date", default=timezone.localdate, validators=[validate_plausible_date])
    date_precision = models.CharField(
        "précision de la date", max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    kind = models.CharField("nature", max_length=20, choices=NoteKind.choices, default=NoteKind.FOLLOW_UP)
    text = models.TextField("note", max_length=10000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="auteur",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_notes",
    )
    author_name = models.CharField(
        "signature", max_length=200, blank=True, help_text="Nom affiché, conservé si le compte disparaît."
    )

    history = HistoricalRecords(verbose_name="historique de la note")

    class Meta:
        verbose_name = "note de suivi"
        verbose_name_plural = "notes de suivi"
        ordering = ["-date", "-pk"]

    def __str__(self) -> str:
        return f"{self.date_label} : {self.text[:60]}"

    @property
    def date_label(self) -> str:
        return date_label(self.date, self.date_precision)


class PlanImport(models.Model):
    """An uploaded plan file, read and validated, waiting for its importer to confirm the preview."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="importé par",
        on_delete=models.CASCADE,
        related_name="plan_imports",
    )
    filename = models.CharField("fichier", max_length=255)
    data = models.JSONField("contenu (ctg-plan/1)")
    # actions.state.plan_state() when the file was read ("" for a plan that did not exist):
    # confirming is refused if the plan changed since, so the preview shown is what applies.
    plan_state = models.CharField("état du plan au dépôt", max_length=1000, blank=True, default="")
    created_at = models.DateTimeField("déposé le", auto_now_add=True)
    applied_at = models.DateTimeField("appliqué le", null=True, blank=True)

    class Meta:
        verbose_name = "import de plan"
        verbose_name_plural = "imports de plans"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.created_at:%d/%m/%Y %H:%M})"
