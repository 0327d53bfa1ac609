"""Spreadsheet exports of the fiches and what they hold (xlsx, ods, csv), with django-import-export.

The fiches exported are those of the fiches list with the same query string: the same
`ActionFilterForm` reads it, so a filtered list exports those fiches only. Every export reads
a fixed number of queries whatever the size of the plan.

Every text cell goes through `spreadsheet_safe`: a text a spreadsheet would read as a formula
(`=HYPERLINK(…)`, `+1`, `-2+3`, `@SUM(A1)`, a leading tab or carriage return) is made inert
with a leading single quote, as OWASP recommends against CSV/formula injection. Numbers and
dates stay numbers and dates.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import tablib
from django.db.models import QuerySet
from import_export import resources
from import_export.fields import Field
from import_export.formats import base_formats

from actions.forms import ActionFilterForm
from actions.models import (
    Action,
    ActionPartner,
    CalendarEntry,
    Financing,
    Indicator,
    IndicatorValue,
    Note,
    Step,
)
from actions.plan_io.spreadsheet import cell_safe
from axes.levels import LevelWords
from axes.models import Plan
from reporting.overview import FINANCING_FIELDS, financing_summary

# One rule for every spreadsheet the app writes (exports and the plan template).
spreadsheet_safe = cell_safe


def yes_no(value: bool) -> str:
    return "Oui" if value else "Non"


def number(value: Decimal | None):
    """A decimal as the plan writes it: 12 rather than 12.00, 12.5 rather than 12.50."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else value.normalize()


class SafeExport:
    """Passes every exported cell through `spreadsheet_safe`, whoever exports (view or admin)."""

    def export_field(self, field, instance, **kwargs):
        return spreadsheet_safe(super().export_field(field, instance, **kwargs))


def column(name: str) -> Field:
    """A computed column: its value comes from the resource's `dehydrate_<field>` method."""
    return Field(column_name=name, readonly=True)


class ActionResource(SafeExport, resources.ModelResource):
    """The fiches, as the fiches list shows them."""

    number = column("N°")
    axis = column("Axe")
    axis_title = column("Intitulé de l'axe")
    # Always there, empty for a fiche without objective: a CAF reading several plans' exports
    # finds the same columns at the same places, whichever plans have this level.
    objective = column("Objectif")
    title = column("Intitulé (synoptique)")
    fiche_title = column("Nom de l'action (fiche)")
    pilotage = column("Pilotage")
    pilots = column("Organisations pilotes")
    status = column("Statut")
    progress = column("Avancement (%)")
    late = column("En retard")
    deadline = column("Dernière échéance")
    themes = column("Thématiques")
    audiences = column("Publics visés")

    class Meta:
        model = Action
        name = "Fiches-actions"
        fields = [
            "number",
            "axis",
            "axis_title",
            "objective",
            "title",
            "fiche_title",
            "pilotage",
            "pilots",
            "status",
            "progress",
            "late",
            "deadline",
            "themes",
            "audiences",
        ]

    def __init__(self, *, level: LevelWords | None = None, **kwargs):
        super().__init__(**kwargs)
        # The plan's own word for its first level: "Axe", "Enjeu", "Orientation"…
        # The plan's own word for its top level is user text too: made safe like any cell.
        level = level or LevelWords.of("Axe")
        self.fields["axis"].column_name = cell_safe(level.singular)
        self.fields["axis_title"].column_name = cell_safe(f"Intitulé ({level.lower})")

    def filter_export(self, queryset, **kwargs):
        # The admin hands a bare queryset: give it what the columns read, in a few queries.
        if isinstance(queryset, QuerySet):
            if "deadline" not in queryset.query.annotations:
                queryset = queryset.for_listing()
            queryset = queryset.select_related("objective")
        return queryset

    def dehydrate_number(self, action: Action) -> int:
        return action.number

    def dehydrate_axis(self, action: Action) -> int:
        return action.axis.number

    def dehydrate_axis_title(self, action: Action) -> str:
        return action.axis.title

    def dehydrate_objective(self, action: Action) -> str:
        """ "1.2 : Développer l'accueil du mercredi", the title alone when the plan does not
        number its objectives; empty without one."""
        objective = action.objective
        if objective is None:
            return ""
        return f"{objective.code} : {objective.title}" if objective.code else objective.title

    def dehydrate_title(self, action: Action) -> str:
        return action.title

    def dehydrate_fiche_title(self, action: Action) -> str:
        return action.fiche_title

    def dehydrate_pilotage(self, action: Action) -> str:
        return action.pilotage

    def dehydrate_pilots(self, action: Action) -> str:
        return ", ".join(sorted(org.name for org in action.pilots.all()))

    def dehydrate_status(self, action: Action) -> str:
        return action.get_status_display()

    def dehydrate_progress(self, action: Action) -> int:
        return action.progress

    def dehydrate_late(self, action: Action) -> str:
        return yes_no(action.is_late)

    def dehydrate_deadline(self, action: Action) -> datetime.date | None:
        return action.deadline

    def dehydrate_themes(self, action: Action) -> str:
        return "; ".join(theme.name for theme in action.themes_list())

    def dehydrate_audiences(self, action: Action) -> str:
        return "; ".join(audience.name for audience in action.audiences_list())


class FicheColumns(resources.Resource):
    """The two columns that name the fiche a row belongs to."""

    fiche = column("N° de fiche")
    fiche_title = column("Fiche-action")

    def dehydrate_fiche(self, item) -> int:
        return item.action.number

    def dehydrate_fiche_title(self, item) -> str:
        return item.action.title


class StepResource(FicheColumns, SafeExport, resources.ModelResource):
    parent = column("Étape parente")
    text = column("Étape")
    commune = column("Commune")
    done = column("Réalisée")

    class Meta:
        model = Step
        name = "Étapes"
        fields = ["fiche", "fiche_title", "parent", "text", "commune", "done"]

    def dehydrate_parent(self, step: Step) -> str:
        return step.parent.text if step.parent_id else ""

    def dehydrate_text(self, step: Step) -> str:
        return step.text

    def dehydrate_commune(self, step: Step) -> str:
        return step.commune.name if step.commune_id else ""

    def dehydrate_done(self, step: Step) -> str:
        return yes_no(step.done)


class CalendarEntryResource(FicheColumns, SafeExport, resources.ModelResource):
    label = column("Période")
    description = column("Ce qui est prévu")
    start = column("Début")
    end = column("Fin")

    class Meta:
        model = CalendarEntry
        name = "Calendrier"
        fields = ["fiche", "fiche_title", "label", "description", "start", "end"]

    def dehydrate_label(self, entry: CalendarEntry) -> str:
        return entry.label

    def dehydrate_description(self, entry: CalendarEntry) -> str:
        return entry.description

    def dehydrate_start(self, entry: CalendarEntry) -> datetime.date | None:
        return entry.start

    def dehydrate_end(self, entry: CalendarEntry) -> datetime.date | None:
        return entry.end


class PartnerResource(FicheColumns, SafeExport, resources.ModelResource):
    name = column("Partenaire")
    role = column("Rôle")
    organisation = column("Organisation")

    class Meta:
        model = ActionPartner
        name = "Partenaires"
        fields = ["fiche", "fiche_title", "name", "role", "organisation"]

    def dehydrate_name(self, partner: ActionPartner) -> str:
        return partner.name

    def dehydrate_role(self, partner: ActionPartner) -> str:
        return partner.role

    def dehydrate_organisation(self, partner: ActionPartner) -> str:
        return partner.organisation.name if partner.organisation_id else ""


class NoteResource(FicheColumns, SafeExport, resources.ModelResource):
    date = column("Date")
    kind = column("Nature")
    author = column("Auteur")
    text = column("Note")

    class Meta:
        model = Note
        name = "Notes de suivi"
        fields = ["fiche", "fiche_title", "date", "kind", "author", "text"]

    def dehydrate_date(self, note: Note) -> datetime.date:
        return note.date

    def dehydrate_kind(self, note: Note) -> str:
        return note.get_kind_display()

    def dehydrate_author(self, note: Note) -> str:
        if note.author_name:
            return note.author_name
        if note.author_id:
            return note.author.get_full_name() or note.author.get_username()
        return ""

    def dehydrate_text(self, note: Note) -> str:
        return note.text


class FinancingResource(FicheColumns, SafeExport, resources.ModelResource):
    funder = column("Financeur")
    organisation = column("Organisation")
    scheme = column("Dispositif")
    year = column("Année")
    planned = column("Montant prévu (€)")
    granted = column("Montant accordé (€)")
    spent = column("Montant dépensé (€)")

    class Meta:
        model = Financing
        name = "Financements"
        fields = [
            "fiche",
            "fiche_title",
            "funder",
            "organisation",
            "scheme",
            "year",
            "planned",
            "granted",
            "spent",
        ]

    def dehydrate_funder(self, line: Financing) -> str:
        return line.funder

    def dehydrate_organisation(self, line: Financing) -> str:
        return line.organisation.name if line.organisation_id else ""

    def dehydrate_scheme(self, line: Financing) -> str:
        return line.scheme

    def dehydrate_year(self, line: Financing) -> int | None:
        return line.year

    def dehydrate_planned(self, line: Financing):
        return number(line.planned)

    def dehydrate_granted(self, line: Financing):
        return number(line.granted)

    def dehydrate_spent(self, line: Financing):
        return number(line.spent)


class FinancingTotalsResource(SafeExport, resources.Resource):
    """The financing of the fiches added up by axis, by funder and by year, one block after the
    other (reporting.overview.financing_summary: the dashboard's figures)."""

    group = column("Regroupement")
    label = column("Libellé")
    planned = column("Montant prévu (€)")
    granted = column("Montant accordé (€)")
    spent = column("Montant dépensé (€)")

    class Meta:
        name = "Financements (totaux)"
        fields = ["group", "label", "planned", "granted", "spent"]

    def dehydrate_group(self, row) -> str:
        return row[0]

    def dehydrate_label(self, row) -> str:
        return row[1].label

    def dehydrate_planned(self, row):
        return number(row[1].planned)

    def dehydrate_granted(self, row):
        return number(row[1].granted)

    def dehydrate_spent(self, row):
        return number(row[1].spent)


@dataclass
class IndicatorRow:
    """One line of the indicators table: an indicator and one of its yearly values (or none yet)."""

    indicator: Indicator
    value: IndicatorValue | None

    @property
    def action(self) -> Action:
        return self.indicator.action


class IndicatorResource(FicheColumns, SafeExport, resources.Resource):
    name = column("Indicateur")
    unit = column("Unité")
    baseline = column("Valeur de référence")
    target = column("Cible")
    year = column("Année")
    value = column("Valeur")
    comment = column("Commentaire")

    class Meta:
        name = "Indicateurs"
        fields = ["fiche", "fiche_title", "name", "unit", "baseline", "target", "year", "value", "comment"]

    def dehydrate_name(self, row: IndicatorRow) -> str:
        return row.indicator.name

    def dehydrate_unit(self, row: IndicatorRow) -> str:
        return row.indicator.unit

    def dehydrate_baseline(self, row: IndicatorRow):
        return number(row.indicator.baseline)

    def dehydrate_target(self, row: IndicatorRow):
        return number(row.indicator.target)

    def dehydrate_year(self, row: IndicatorRow) -> int | None:
        return row.value.year if row.value else None

    def dehydrate_value(self, row: IndicatorRow):
        return number(row.value.value) if row.value else None

    def dehydrate_comment(self, row: IndicatorRow) -> str:
        return row.value.comment if row.value else ""


# ---------------------------------------------------------------------------
# Which fiches, and the rows of each export


def filtered_fiches(plan: Plan, data, today: datetime.date):
    """The fiches the fiches list shows for this query string (a lazy queryset)."""
    return ActionFilterForm.for_plan(plan, data).filter(Action.objects.filter(plan=plan).for_listing(), today)


def _step_order(step: Step):
    top = step.parent or step
    return (step.action.number, top.position, top.pk, step.parent_id is not None, step.position, step.pk)


def _fiches_rows(fiches):
    # Themes, publics and the objective read with the fiches.
    return list(fiches.select_related("objective").with_tags_and_financing())


def _steps_rows(fiches):
    steps = Step.objects.filter(action__in=fiches.values("pk")).select_related("action", "parent", "commune")
    return sorted(steps, key=_step_order)


def _calendar_rows(fiches):
    return list(
        CalendarEntry.objects.filter(action__in=fiches.values("pk"))
        .select_related("action")
        .order_by("action__number", "position", "pk")
    )


def _partners_rows(fiches):
    return list(
        ActionPartner.objects.filter(action__in=fiches.values("pk"))
        .select_related("action", "organisation")
        .order_by("action__number", "position", "pk")
    )


def _notes_rows(fiches):
    return list(
        Note.objects.filter(action__in=fiches.values("pk"))
        .select_related("action", "author")
        .order_by("action__number", "date", "pk")
    )


def _financing_rows(fiches):
    return list(
        Financing.objects.filter(action__in=fiches.values("pk"))
        .select_related("action", "organisation")
        .order_by("action__number", "position", "pk")
    )


def _financing_totals_rows(fiches):
    """(group, MoneyRow) by axis, by funder, by year, then the total. Two queries."""
    listed = list(fiches.prefetch_related(None).select_related("objective"))  # plan, axis, objective joined
    if not listed:
        return []
    plan = listed[0].plan
    axes = sorted({action.axis for action in listed}, key=lambda axis: axis.number)
    rows = Financing.objects.filter(action__in=[action.pk for action in listed]).values(*FINANCING_FIELDS)
    summary = financing_summary(plan, listed, axes, rows)
    return (
        [("Objectif" if row.sub else plan.level.singular, row) for row in summary.by_axis]
        + [("Financeur", row) for row in summary.by_funder]
        + [("Année", row) for row in summary.by_year]
        + ([("Total", summary.total)] if summary else [])
    )


def _indicators_rows(fiches):
    indicators = (
        Indicator.objects.filter(action__in=fiches.values("pk"))
        .select_related("action")
        .prefetch_related("values")
        .order_by("action__number", "position", "pk")
    )
    return [
        IndicatorRow(indicator, value)
        for indicator in indicators
        for value in (list(indicator.values.all()) or [None])
    ]


@dataclass(frozen=True)
class Export:
    resource: type[resources.Resource]
    rows: object
    title: str


# The exports, by the name their URL gives them.
EXPORTS = {
    "fiches": Export(ActionResource, _fiches_rows, "Fiches-actions"),
    "etapes": Export(StepResource, _steps_rows, "Étapes"),
    "calendrier": Export(CalendarEntryResource, _calendar_rows, "Calendrier"),
    "partenaires": Export(PartnerResource, _partners_rows, "Partenaires"),
    "notes": Export(NoteResource, _notes_rows, "Notes de suivi"),
    "indicateurs": Export(IndicatorResource, _indicators_rows, "Indicateurs"),
    "financements": Export(FinancingResource, _financing_rows, "Financements"),
    "financements-totaux": Export(FinancingTotalsResource, _financing_totals_rows, "Financements (totaux)"),
}


def dataset(plan: Plan, what: str, data, today: datetime.date) -> tablib.Dataset:
    """The export `what` of the fiches matching the query string `data`. A fixed number of queries."""
    export = EXPORTS[what]
    rows = export.rows(filtered_fiches(plan, data, today))
    kwargs = {"level": plan.level} if export.resource is ActionResource else {}
    # A list, not a queryset: import-export would page through a prefetching queryset, one
    # more round of queries per hundred rows.
    result = export.resource(**kwargs).export(queryset=rows)
    result.title = export.title
    return result


# ---------------------------------------------------------------------------
# File formats


def _csv_cell(value):
    # French spreadsheets read "12.5" as a date: write decimals with a comma.
    if isinstance(value, Decimal | float):
        return str(value).replace(".", ",")
    return value


@dataclass(frozen=True)
class FileFormat:
    format: base_formats.Format
    content_type: str

    def render(self, data: tablib.Dataset) -> bytes:
        if isinstance(self.format, base_formats.CSV):
            # For spreadsheets set to French: semicolons, decimal commas, and a byte order mark
            # so that accents survive a double-click in Excel.
            french = tablib.Dataset(headers=data.headers, title=data.title)
            for row in data:
                french.append([_csv_cell(cell) for cell in row])
            return self.format.export_data(french, delimiter=";").encode("utf-8-sig")
        return self.format.export_data(data)


FORMATS = {
    "xlsx": FileFormat(base_formats.XLSX(), base_formats.XLSX.CONTENT_TYPE),
    "ods": FileFormat(base_formats.ODS(), base_formats.ODS.CONTENT_TYPE),
    "csv": FileFormat(base_formats.CSV(), "text/csv; charset=utf-8"),
}
