"""Forms of the workspace: the fiches list's filters and the fiche's in-place edits."""

from __future__ import annotations

import datetime
import functools
from typing import NamedTuple

from django import forms
from django.db.models import CharField, Exists, OuterRef, PositiveSmallIntegerField, Q, Value

from actions.amounts import euros, parse_amount
from actions.models import (
    Action,
    ActionPartner,
    Audience,
    CalendarEntry,
    Condition,
    Financing,
    Indicator,
    IndicatorValue,
    Note,
    NoteKind,
    Status,
    Step,
    Theme,
)
from actions.periods import parse_period
from actions.prepared import OBJECT_ID, Prepared
from actions.renderer import Renderer
from actions.search import contains
from axes.models import Axis, Plan
from partners.models import Organisation

# Django's form templates drawn in Python (actions/renderer.py), shared by every form below.
RENDERER = Renderer()
DUE_SOON_DAYS = 92  # "échéance dans les 3 mois"


class OrganisationField(forms.TypedChoiceField):
    """A choice among organisations given once, as a list, so a page with a hundred of these
    forms issues no query per form (ModelChoiceField queries at every rendering)."""

    def __init__(self, *, organisations=(), **kwargs):
        self.organisations = {org.pk: org for org in organisations}
        choices = [("", "—")] + [(org.pk, org.name) for org in organisations]
        super().__init__(choices=choices, coerce=int, empty_value=None, **kwargs)

    def clean(self, value):
        pk = super().clean(value)
        return self.organisations.get(pk) if pk is not None else None

    def prepare_value(self, value):
        return value.pk if isinstance(value, Organisation) else value


def _filter_lists_query(plan, organisations: bool = True):
    """The filter form's lists, one UNION: the plan's axes, the organisations it names
    (pilots, partners, communes; not without `organisations`), its communes, and the
    installation's themes and publics."""
    columns = ("pk", "slug", "name", "position")

    def rows(queryset, kind: str, **values):
        # Without the models' ordering: SQLite refuses an ORDER BY inside a UNION.
        values.setdefault("slug", Value("", output_field=CharField()))
        values.setdefault("position", Value(0, output_field=PositiveSmallIntegerField()))
        return queryset.order_by().values_list(
            Value(kind, output_field=CharField()), *(values.get(name, name) for name in columns)
        )

    communes = Plan.communes.through.objects.filter(plan=plan).values("organisation")
    named = (
        Q(pk__in=Action.pilots.through.objects.filter(action__plan=plan).values("organisation"))
        | Q(pk__in=ActionPartner.objects.filter(action__plan=plan).values("organisation"))
        | Q(pk__in=communes)
    )  # three subqueries: joins would multiply rows with every plan of the installation
    lists = [
        rows(Organisation.objects.filter(named), "organisations"),
        rows(Organisation.objects.filter(pk__in=communes), "communes"),
        rows(Axis.objects.filter(plan=plan), "axes", name="title", position="number"),
        rows(Theme.objects.all(), "themes", slug="slug", position="position"),
        rows(Audience.objects.all(), "audiences", slug="slug", position="position"),
    ][0 if organisations else 1 :]
    # The organisations' order (the first query's names, an organisation's); others sorted below.
    return lists[0].union(*lists[1:], all=True).order_by("name")


_FILTER_LISTS = {
    organisations: Prepared(
        functools.partial(_filter_lists_query, organisations=organisations), plan=OBJECT_ID
    )
    for organisations in (True, False)
}


class _Axis(NamedTuple):
    pk: int
    number: int
    title: str


class _Organisation(NamedTuple):
    pk: int
    name: str


class _Tag(NamedTuple):
    pk: int
    slug: str
    name: str
    position: int


def filter_lists(plan: Plan, *, organisations: bool = True) -> dict[str, list]:
    """What the filters of the fiches list offer: `axes`, `organisations` (left empty without
    `organisations`), `communes`, `themes` and `audiences` (rows with the fields the form
    reads, lighter than models), read in one query compiled once per process
    (actions/prepared.py)."""
    lists: dict[str, list] = {"axes": [], "organisations": [], "communes": [], "themes": [], "audiences": []}
    for kind, pk, slug, name, position in _FILTER_LISTS[organisations].run(plan=plan.pk):
        if kind == "axes":
            lists[kind].append(_Axis(pk, position, name))
        elif kind in ("organisations", "communes"):
            lists[kind].append(_Organisation(pk, name))
        else:
            lists[kind].append(_Tag(pk, slug, name, position))
    lists["axes"].sort(key=lambda axis: axis.number)
    for kind in ("themes", "audiences"):  # in their order, as their admin lists them
        lists[kind].sort(key=lambda tag: (tag.position, tag.name))
    return lists


class ActionFilterForm(forms.Form):
    """The filters of the fiches list, read from the query string (bookmarkable)."""

    default_renderer = RENDERER

    q = forms.CharField(label="Recherche", required=False, max_length=200)
    axis = forms.TypedChoiceField(label="Axe", required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label="Statut", required=False, choices=[("", "Tous")] + Status.choices)
    pilot = OrganisationField(label="Pilote", required=False)
    partner = OrganisationField(label="Partenaire", required=False)
    commune = OrganisationField(label="Commune", required=False)
    theme = forms.ChoiceField(label="Thématique", required=False)
    audience = forms.ChoiceField(label="Public visé", required=False)
    late = forms.BooleanField(label="En retard", required=False)
    due_soon = forms.BooleanField(label="Échéance dans les 3 mois", required=False)

    def __init__(self, *args, plan: Plan, axes, organisations, communes, themes=(), audiences=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.fields["axis"].choices = [("", "Tous")] + [
            (axis.number, plan.level.number(axis.number)) for axis in axes
        ]
        self.fields["axis"].label = plan.level.singular
        self.fields["pilot"] = OrganisationField(label="Pilote", required=False, organisations=organisations)
        self.fields["partner"] = OrganisationField(
            label="Partenaire", required=False, organisations=organisations
        )
        self.fields["commune"] = OrganisationField(label="Commune", required=False, organisations=communes)
        self.fields["theme"].choices = [("", "Toutes")] + [(t.slug, t.name) for t in themes]
        self.fields["audience"].choices = [("", "Tous")] + [(a.slug, a.name) for a in audiences]

    @classmethod
    def for_plan(cls, plan: Plan, data=None, *, drawn: bool = True) -> ActionFilterForm:
        """The form as the fiches list and its exports build it (one query: filter_lists).
        Not `drawn` (the list's results alone, for htmx), the organisations the plan names are
        read only to check a pilot or a partner given: on a large plan they are the costliest
        list (every partner row of the plan), and no one sees them."""
        organisations = drawn or any((data or {}).get(name) for name in ("pilot", "partner"))
        return cls(data or None, plan=plan, **filter_lists(plan, organisations=organisations))

    def filters(self) -> dict:
        """The filters given, as plain values (`q`: the words typed; `pilot`, `partner`,
        `commune`: organisation ids; `late`, `due_soon`: True), for `apply_filters`. An invalid
        filter is shown with its error beside it and ignored; the valid ones still apply."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        values = {name: data[name] for name in FILTERS if data.get(name)}
        values.update({name: data[name].pk for name in ("pilot", "partner", "commune") if data.get(name)})
        if data.get("q"):
            values["q"] = tuple(data["q"].split())
        return values

    def filter(self, queryset, today: datetime.date):
        """The fiches matching the filters (see `filters`)."""
        return apply_filters(queryset, self.filters(), today)


FILTERS = ("q", "axis", "status", "pilot", "partner", "commune", "theme", "audience", "late", "due_soon")


def apply_filters(queryset, filters: dict, today: datetime.date, until: datetime.date | None = None):
    """`queryset` restricted by `filters` (ActionFilterForm.filters); "échéance dans les 3 mois"
    runs from `today` to `until` (by default DUE_SOON_DAYS later)."""
    for word in filters.get("q", ()):
        # Accents and case aside, as the plan's search (actions/search.py), which a trigram
        # index serves on PostgreSQL.
        queryset = queryset.filter(
            Q(contains("title", word))
            | Q(contains("fiche_title", word))
            | Q(contains("pilotage", word))
            | Exists(Step.objects.filter(contains("text", word), action=OuterRef("pk")))
        )
    if "axis" in filters:
        queryset = queryset.filter(axis__number=filters["axis"])
    if "status" in filters:
        queryset = queryset.filter(status=filters["status"])
    if "pilot" in filters:
        queryset = queryset.filter(
            Exists(Action.pilots.through.objects.filter(action=OuterRef("pk"), organisation=filters["pilot"]))
        )
    if "partner" in filters:
        queryset = queryset.filter(
            Exists(ActionPartner.objects.filter(action=OuterRef("pk"), organisation=filters["partner"]))
        )
    if "commune" in filters:
        queryset = queryset.concerning(filters["commune"])
    if "theme" in filters or "audience" in filters:
        queryset = queryset.tagged(theme=filters.get("theme"), audience=filters.get("audience"))
    if filters.get("late"):
        queryset = queryset.filter(is_late=True)
    if filters.get("due_soon"):
        until = until or today + datetime.timedelta(days=DUE_SOON_DAYS)
        queryset = queryset.due_between(today, until)
    return queryset


class ItemForm(forms.ModelForm):
    """A fiche page holds one form per item: ids name the item, so labels point to their field."""

    default_renderer = RENDERER  # the fiche page's status and note forms on every load

    def __init__(self, *args, **kwargs):
        instance = kwargs.get("instance")
        name = self._meta.model._meta.model_name
        kwargs.setdefault("auto_id", f"{name}-{instance.pk if instance and instance.pk else 'nouveau'}-%s")
        super().__init__(*args, **kwargs)


class VersionedForm(ItemForm):
    """Carries the version the user saw, so a save over a colleague's newer edit is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["version"] = self.instance.version


class StatusForm(VersionedForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "statut-%s")  # the pilots' form is a form of the fiche too
        super().__init__(*args, **kwargs)

    class Meta:
        model = Action
        fields = ["status", "progress"]
        widgets = {"progress": forms.NumberInput(attrs={"min": 0, "max": 100, "step": 5})}
        help_texts = {"progress": "Une fiche « Réalisée » passe à 100 % d'elle-même."}

    def clean_progress(self):
        progress = self.cleaned_data["progress"]
        if progress is None or not 0 <= progress <= 100:
            raise forms.ValidationError("L'avancement est un pourcentage, de 0 à 100.")
        return progress

    def _post_clean(self):
        # The model's two check constraints (progress <= 100; done means 100) are what
        # clean_progress() and clean() ensure, and the database holds them anyway: validating
        # them again costs a query and two savepoints each, on every status change. Nothing
        # else of the model is validated here (its other fields are not the form's, its
        # clean() checks the axis), so the form only writes its two fields on the instance,
        # without building a queryset for each constraint to skip them all.
        self.instance = forms.models.construct_instance(self, self.instance, self._meta.fields)

    def clean(self):
        data = super().clean()
        # A finished fiche is at 100 %: otherwise the plan's overall progress lies.
        if data.get("status") == Status.DONE and "progress" in data:
            data["progress"] = 100
        return data


def plan_organisations(plan: Plan, *also):
    """The organisations a fiche's forms offer: the plan's communes and signatories, the
    pilots and partners of its fiches, and `also` (ids: the current pilots…). One query, made
    of subqueries: joins would multiply rows with every plan of the installation."""
    return Organisation.objects.filter(
        Q(pk__in=plan.communes.values("pk"))
        | Q(pk__in=plan.signatories.values("pk"))
        | Q(pk__in=Action.pilots.through.objects.filter(action__plan=plan).values("organisation"))
        | Q(pk__in=ActionPartner.objects.filter(action__plan=plan).values("organisation"))
        | Q(pk__in=[pk for pk in also if pk])
    ).order_by("name")


SEARCH_LIMIT = 20


def search_organisations(text: str, *, exclude=()) -> list[Organisation]:
    """Organisations of the installation whose name or short name holds `text`, at most
    SEARCH_LIMIT of them: for an organisation the plan does not name yet."""
    text = " ".join(text.split())[:100]
    if len(text) < 2:
        return []
    found = Organisation.objects.filter(Q(name__icontains=text) | Q(short_name__icontains=text))
    return list(found.exclude(pk__in=list(exclude)).order_by("name")[:SEARCH_LIMIT])


class OfferedOrganisationField(OrganisationField):
    """An organisation among those offered (the plan's), or any other of the installation the
    user found through the search: an id that names no organisation is refused."""

    default_error_messages = {"invalid_choice": "Organisation inconnue : choisissez-la dans la liste."}

    def valid_value(self, value):
        return self._resolve(value) is not None

    def _resolve(self, value):
        try:
            pk = int(value)
        except (TypeError, ValueError):
            return None
        if pk not in self.organisations:
            found = Organisation.objects.filter(pk=pk).first()
            if found is None:
                return None
            self.organisations[pk] = found
        return self.organisations[pk]

    def clean(self, value):
        pk = super(OrganisationField, self).clean(value)
        return self._resolve(pk) if pk is not None else None


class PilotsForm(VersionedForm):
    """Pilotage as written, and the pilot organisations as checkboxes: those the plan offers
    and the current ones; another organisation comes through the search (`found`)."""

    pilots = forms.TypedMultipleChoiceField(
        label="Organisations pilotes",
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Organisation inconnue : %(value)s n'est pas dans la liste."},
    )

    class Meta:
        model = Action
        fields = ["pilotage"]

    def __init__(self, *args, organisations=(), found=(), **kwargs):
        kwargs.setdefault("auto_id", "pilotage-%s")
        super().__init__(*args, **kwargs)
        self.organisations = {org.pk: org for org in [*organisations, *found]}
        self.fields["pilots"].choices = [(org.pk, org.name) for org in self.organisations.values()]
        self.fields["pilots"].valid_value = self._known
        if self.instance.pk and not self.is_bound:
            self.initial["pilots"] = [org.pk for org in self.instance.pilots.all()]

    def _known(self, value) -> bool:
        """Offered, or found by the search: any organisation of the installation, if it exists."""
        try:
            pk = int(value)
        except (TypeError, ValueError):
            return False
        if pk not in self.organisations:
            found = Organisation.objects.filter(pk=pk).first()
            if found is None:
                return False
            self.organisations[pk] = found
        return True

    def clean_pilots(self):
        return [self.organisations[pk] for pk in self.cleaned_data["pilots"]]


class StepForm(VersionedForm):
    class Meta:
        model = Step
        fields = ["text", "commune"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, communes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commune"] = OrganisationField(
            label="Commune concernée", required=False, organisations=communes
        )
        if self.instance.pk and not self.is_bound:
            self.initial["commune"] = self.instance.commune_id


class NewStepForm(ItemForm):
    parent = forms.TypedChoiceField(label="Sous-étape de", required=False, coerce=int, empty_value=None)

    class Meta:
        model = Step
        fields = ["text", "commune"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, communes=(), parents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commune"] = OrganisationField(
            label="Commune concernée", required=False, organisations=communes
        )
        self.parents = {step.pk: step for step in parents}
        self.fields["parent"].choices = [("", "Aucune (étape principale)")] + [
            (step.pk, step.text[:80]) for step in parents
        ]

    def clean_parent(self):
        pk = self.cleaned_data["parent"]
        return self.parents.get(pk) if pk else None


class StepToggleForm(VersionedForm):
    class Meta:
        model = Step
        fields = []


class CalendarEntryForm(VersionedForm):
    class Meta:
        model = CalendarEntry
        fields = ["label", "description", "start", "end"]
        widgets = {
            "description": forms.TextInput(),
            "start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {"start": "Laissez vide pour la déduire de la période (ex. « Début 2025 »)."}

    def clean(self):
        data = super().clean()
        start, end, label = data.get("start"), data.get("end"), data.get("label")
        relabelled = self.instance.pk and "label" in self.changed_data
        dates_touched = "start" in self.changed_data or "end" in self.changed_data
        if label and ((start is None and end is None) or (relabelled and not dates_touched)):
            # The dates follow the label unless the user typed dates of their own: a new
            # label with the old dates still shown in the form would keep the old period.
            period = parse_period(label)
            data["start"], data["end"] = (period.start, period.end) if period else (None, None)
        elif start and end and end < start:
            self.add_error("end", "La date de fin doit suivre la date de début.")
        return data


class NewCalendarEntryForm(CalendarEntryForm):
    version = None


class PartnerForm(VersionedForm):
    class Meta:
        model = ActionPartner
        fields = ["name", "role", "organisation"]
        labels = {"name": "Partenaire"}

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"] = OfferedOrganisationField(
            label="Organisation", required=False, organisations=organisations
        )
        self.fields["name"].required = False
        if self.instance.pk and not self.is_bound:
            self.initial["organisation"] = self.instance.organisation_id

    def clean(self):
        data = super().clean()
        if not data.get("name"):
            if data.get("organisation"):
                data["name"] = data["organisation"].label
            else:
                self.add_error("name", "Indiquez le partenaire ou choisissez son organisation.")
        return data


class NewPartnerForm(PartnerForm):
    version = None


class ConditionForm(VersionedForm):
    class Meta:
        model = Condition
        fields = ["text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2})}


class NewConditionForm(ConditionForm):
    version = None


class IndicatorForm(VersionedForm):
    class Meta:
        model = Indicator
        fields = ["name", "unit", "baseline", "target"]
        localized_fields = ["baseline", "target"]  # "27,5", as people write it


class NewIndicatorForm(IndicatorForm):
    version = None


class IndicatorValueForm(VersionedForm):
    """A value of one year. A new year is added; an existing one is changed through its own form."""

    class Meta:
        model = IndicatorValue
        fields = ["year", "value", "comment"]
        localized_fields = ["value"]
        widgets = {"comment": forms.TextInput()}

    def __init__(self, *args, indicator=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicator = indicator or self.instance.indicator
        if not self.instance.pk:
            self.fields["version"].required = False
            prefix = f"valeur-{self.indicator.pk}-nouvelle"
            self.auto_id = prefix + "-%s"
        plan = self.indicator.action.plan
        self.fields["year"].widget = forms.NumberInput(attrs={"min": plan.start_year, "max": plan.end_year})

    def clean_year(self):
        year = self.cleaned_data["year"]
        plan = self.indicator.action.plan
        if not plan.start_year <= year <= plan.end_year:
            raise forms.ValidationError(
                f"L'année doit être comprise entre {plan.start_year} et {plan.end_year}."
            )
        taken = IndicatorValue.objects.filter(indicator=self.indicator, year=year)
        if taken.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"L'année {year} a déjà une valeur : modifiez-la plutôt.")
        return year


class AmountField(forms.DecimalField):
    """An amount in euros as people type it: "12 500", "12 500,50 €", "12500.5"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)
        self.error_messages = {
            **self.error_messages,
            "invalid": "Saisissez un montant en euros, par exemple 12 500 ou 12 500,50.",
            "max_digits": "Montant invraisemblable : 999 999 999 999,99 € au plus.",
            "max_whole_digits": "Montant invraisemblable : 999 999 999 999,99 € au plus.",
            "max_decimal_places": "Un montant compte au plus 2 décimales (les centimes).",
        }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        amount = parse_amount(value)
        if amount is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return amount

    def prepare_value(self, value):
        # Shown as typed back in French: "12500,50" (no grouping, which some browsers refuse).
        if isinstance(value, (int, float)) or hasattr(value, "quantize"):
            return f"{value:f}".replace(".", ",").removesuffix(",00")
        return value


class FinancingForm(VersionedForm):
    """A financing line: the funder (an organisation of the plan, or its name as written), the
    scheme, the year within the plan, and the amounts, the spent one within the granted one."""

    planned = AmountField(label="Montant prévu (€)")
    granted = AmountField(label="Montant accordé (€)")
    spent = AmountField(label="Montant dépensé (€)")

    class Meta:
        model = Financing
        fields = ["funder", "organisation", "scheme", "year", "planned", "granted", "spent"]
        labels = {"funder": "Financeur"}

    def __init__(self, *args, organisations=(), plan: Plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.fields["organisation"] = OfferedOrganisationField(
            label="Organisation", required=False, organisations=organisations
        )
        self.fields["funder"].required = False
        self.fields["funder"].help_text = "Laissez vide pour reprendre le nom de l'organisation choisie."
        self.fields["year"].widget = forms.NumberInput(attrs={"min": plan.start_year, "max": plan.end_year})
        if self.instance.pk and not self.is_bound:
            self.initial["organisation"] = self.instance.organisation_id

    def clean_year(self):
        year = self.cleaned_data["year"]
        if year is not None and not self.plan.start_year <= year <= self.plan.end_year:
            raise forms.ValidationError(
                f"L'année doit être comprise entre {self.plan.start_year} et {self.plan.end_year}."
            )
        return year

    def clean(self):
        data = super().clean()
        if not data.get("funder"):
            if data.get("organisation"):
                data["funder"] = data["organisation"].label
            else:
                self.add_error("funder", "Indiquez le financeur ou choisissez son organisation.")
        planned, granted, spent = data.get("planned"), data.get("granted"), data.get("spent")
        amounts = [name for name in ("planned", "granted", "spent") if name not in self.errors]
        if len(amounts) == 3 and planned is None and granted is None and spent is None:
            self.add_error("planned", "Indiquez au moins un montant : prévu, accordé ou dépensé.")
        for name in amounts:
            if data.get(name) is not None and data[name] < 0:
                self.add_error(name, "Un montant ne peut pas être négatif.")
        if granted is not None and spent is not None and granted >= 0 and spent > granted:
            self.add_error(
                "spent",
                f"Le montant dépensé ({euros(spent)}) dépasse le montant accordé ({euros(granted)}) : "
                "corrigez l'un ou l'autre.",
            )
        return data

    def _get_validation_exclusions(self):
        # clean() says what the two check constraints hold, beside the field in French.
        return super()._get_validation_exclusions() | {"planned", "granted", "spent"}


class NewFinancingForm(FinancingForm):
    version = None


class TagsForm(forms.Form):
    """The fiche's themes (the CAF's fields of action) and the publics it targets, ticked among
    the lists the installation's administrators keep (given once: no query per rendering)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    themes = forms.TypedMultipleChoiceField(
        label="Thématiques", required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    audiences = forms.TypedMultipleChoiceField(
        label="Publics visés", required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, action: Action, themes, audiences, current=None, **kwargs):
        kwargs.setdefault("auto_id", "thematiques-%s")
        super().__init__(*args, **kwargs)
        self.lists = {"themes": {t.pk: t for t in themes}, "audiences": {a.pk: a for a in audiences}}
        for name, items in self.lists.items():
            self.fields[name].choices = [(pk, item.name) for pk, item in items.items()]
            self.fields[name].error_messages["invalid_choice"] = (
                "Cette entrée n'est plus dans la liste : rechargez la page."
            )
        if not self.is_bound:
            self.initial["version"] = action.version
            current = current or {}
            self.initial["themes"] = [t.pk for t in current.get("themes", [])]
            self.initial["audiences"] = [a.pk for a in current.get("audiences", [])]

    def clean(self):
        data = super().clean()
        for name, items in self.lists.items():
            if name in data:
                data[name] = [items[pk] for pk in data[name]]
        return data


class NoteForm(ItemForm):
    class Meta:
        model = Note
        fields = ["date", "kind", "text"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "text": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"text": "Note de suivi", "date": "Date"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].required = False

    def clean_kind(self):
        return self.cleaned_data["kind"] or NoteKind.FOLLOW_UP
