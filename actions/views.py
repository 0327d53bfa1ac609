"""The coordinators' workspace: the fiches list and the fiche page, editable in place.

One view, two renderings: the full page, or, for htmx, the named partial of the same
template. Every form also works as a plain POST that redirects back to the fiche.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, Value
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from actions import amounts, forms, prepared
from actions.journal import KEY, journal, journal_update
from actions.listing import fiches_list, readable_plan
from actions.models import (
    IMPORT_REASON,
    Action,
    ActionPartner,
    Audience,
    CalendarEntry,
    Condition,
    Financing,
    Indicator,
    IndicatorValue,
    Note,
    PlanImport,
    StaleVersion,
    Step,
    Theme,
)
from actions.permissions import FicheAccess, get_fiche_for_user, get_rw_fiche_for_user, may_edit_step
from actions.plan_io import open_format, spreadsheet
from actions.plan_io.errors import CellError
from actions.prepared import OBJECT_ID, Prepared
from actions.state import plan_state
from axes.models import Plan
from axes.permissions import get_plan_for_user
from partners.models import Organisation

TEMPLATE = "actions/action_detail.html"


# ---------------------------------------------------------------------------
# The fiches list


@require_GET
def action_list(request: HttpRequest, slug: str) -> HttpResponse:
    plan = readable_plan(request.user, slug)
    results_only = request.htmx and not request.htmx.history_restore_request
    form = forms.ActionFilterForm.for_plan(plan, request.GET, drawn=not results_only)
    # Paged, counted in SQL (actions/listing.py): a plan may hold a thousand fiches.
    listing = fiches_list(plan, form, request.GET.get("page"), timezone.localdate())
    context = {"plan": plan, "form": form, **listing}
    if results_only:
        return render(request, "actions/action_list.html#results", context)
    return render(request, "actions/action_list.html", context)


# ---------------------------------------------------------------------------
# The fiche page
#
# Read-only by default: each item's "Modifier" is a link to the same page with
# `?modifier=<section>-<pk>` (or `-nouveau`), which opens that one form; with htmx (the
# sections are boosted) the same GET answers the section alone. Each section reads its own
# few rows (`_load`), so a write answers with the fragments it changed, built from what
# those fragments show, not from the whole page.

PAGE_FIELDS = ("plan", "axis", "objective")
JOURNAL_LIMIT = 50
NEXT_STEPS = 3


def _fiches(today=None, user=None):
    """What every fiche view reads with the fiche itself: its plan, axis and lateness."""
    return Action.objects.select_related(*PAGE_FIELDS).with_deadline(today).with_tags_and_financing()


def _fiche_page(today, user):
    """What the fiche page reads besides: the fiche's other lives the user may read."""
    return _fiches(today).with_lineage(user)


_FICHE_AGAIN = Prepared(
    lambda fiche, today: _fiches(today).filter(pk=fiche), fiche=OBJECT_ID, today=prepared.DAY
)


def _fiche_again(pk: int) -> Action:
    """The fiche read again after a write (its SQL compiled once: actions/prepared.py)."""
    found = _FICHE_AGAIN.run(fiche=pk, today=timezone.localdate())
    if not found:
        raise Http404("Fiche-action introuvable.")
    return found[0]


def _fiche_for_user(request: HttpRequest, slug: str, number: int) -> tuple[Action, FicheAccess]:
    return get_fiche_for_user(request.user, slug, number, _fiches)


def _rw_fiche_for_user(request: HttpRequest, slug: str, number: int) -> tuple[Action, FicheAccess]:
    return get_rw_fiche_for_user(request.user, slug, number, _fiches)


@dataclass(frozen=True)
class Editing:
    """Which form the page shows open: `?modifier=partenaires-12`, `etapes-nouveau`,
    `etapes` (the steps' tools), `pilotage`, `valeurs-nouvelle-3` (a year of indicator 3)."""

    section: str = ""
    pk: int | str | None = None

    @classmethod
    def parse(cls, value: str) -> Editing:
        section, _, rest = value.partition("-")
        if section not in EDITABLE:
            return cls()
        if rest == "":
            return cls(section)
        if rest == "nouveau" or (
            section == "valeurs" and rest.startswith("nouvelle-") and rest[9:].isdigit()
        ):
            return cls(section, rest)
        return cls(section, int(rest)) if rest.isdigit() else cls()

    @property
    def part(self) -> str:
        return EDITABLE.get(self.section, "")

    @property
    def new(self) -> bool:
        return isinstance(self.pk, str)


# The sections an edit opens in (`?modifier=<section>…`), and the partial that draws each.
EDITABLE = {
    "pilotage": "pilots",
    "etapes": "steps",
    "partenaires": "partners",
    "conditions": "conditions",
    "calendrier": "calendar",
    "indicateurs": "indicators",
    "valeurs": "indicators",
    "financements": "financing",
    "thematiques": "tags",
}
# Partial → the id of the section it draws (where a plain POST lands back on the page).
ANCHORS = {
    "status": "statut",
    "next": "prochaines-etapes",
    "pilots": "pilotage",
    "steps": "etapes",
    "partners": "partenaires",
    "conditions": "conditions",
    "calendar": "calendrier",
    "notes": "notes",
    "indicators": "indicateurs",
    "journal": "journal",
    "financing": "financements",
    "tags": "thematiques",
}
PART_OF_ANCHOR = {anchor: part for part, anchor in ANCHORS.items()}
# What each partial reads (the loaders below); "page" is everything.
NEEDS = {
    "summary": ["pilots"],
    "status": ["tally"],
    "state": ["tally"],
    "next": ["steps"],
    "steps": ["steps"],
    "pilots": ["pilots"],
    "partners": ["partners"],
    "conditions": ["conditions"],
    "calendar": ["calendar"],
    "indicators": ["indicators"],
    "notes": ["notes"],
    "journal": ["journal"],
    "decisions": ["decisions"],
    "financing": ["financing"],
    "tags": ["tags"],
}
PAGE = [
    "pilots",
    "steps",
    "partners",
    "conditions",
    "calendar",
    "indicators",
    "notes",
    "decisions",
    "journal",
    "financing",
    "tags",
]
# After a write, what else on the page changed and follows out of band (htmx only).
FOLLOWS = {
    "status": ["journal"],
    "pilots": ["summary", "journal"],
    "steps": ["next", "state", "journal"],
    "next": ["steps", "state", "journal"],
    "partners": ["journal"],
    "conditions": ["journal"],
    "calendar": ["summary", "state", "journal"],
    "notes": ["journal"],
    "indicators": [],
    "financing": ["journal"],
    "tags": ["journal"],
}
ANNOUNCE = {
    "status": "Statut enregistré",
    "pilots": "Pilotage enregistré",
    "steps": "Étapes enregistrées",
    "partners": "Partenaires enregistrés",
    "conditions": "Conditions enregistrées",
    "calendar": "Échéance enregistrée",
    "notes": "Note ajoutée",
    "indicators": "Indicateur enregistré",
    "financing": "Financement enregistré",
    "tags": "Thématiques et publics enregistrés",
}


def _steps(fiche):
    return Step.objects.filter(action=fiche).select_related("commune").order_by("position", "pk")


_SECTION_SQL: dict[str, Prepared] = {}


def _tally(done: int, total: int) -> dict | None:
    """ "Étapes : 7 / 12 réalisées (58 %)"."""
    return {"done": done, "total": total, "percent": round(100 * done / total)} if total else None


class Page:
    """The context of the fiche page, or of a few of its partials: each loader reads one
    section's rows (one query each) and only when a partial drawn needs them."""

    def __init__(self, request: HttpRequest, action: Action, access: FicheAccess):
        self.request, self.action, self.access = request, action, access
        self.context: dict = {
            "action": action,
            "plan": action.plan,
            "perms": access,
            "fiche_url": action.get_absolute_url(),
            "editing": Editing(),
            "confirming": Editing(),
            "focus_step": None,
            "announce": "",
            "search": "",
            "found": [],
            "move_choices": [("up", "Monter"), ("down", "Descendre")],
        }
        self.loaded: set[str] = set()

    def load(self, *parts: str) -> Page:
        self.needed = {need for part in parts for need in (PAGE if part == "page" else NEEDS.get(part, []))}
        for part in parts:
            for need in PAGE if part == "page" else NEEDS.get(part, []):
                if need not in self.loaded:
                    self.loaded.add(need)
                    getattr(self, f"_load_{need}")()
        return self

    # -- loaders: one query each ------------------------------------------------------

    def _of_fiche(self, name: str, build) -> list:
        """The rows `build(fiche)` reads for this fiche, its SQL compiled once per process
        (actions/prepared.py): the ORM would spend more building it than the database running it."""
        query = _SECTION_SQL.get(name)
        if query is None:
            query = _SECTION_SQL.setdefault(name, Prepared(build, fiche=OBJECT_ID))
        return query.run(fiche=self.action.pk)

    def _load_pilots(self) -> None:
        self.context["pilots"] = self._of_fiche(
            "pilots", lambda fiche: Organisation.objects.filter(piloted_actions=fiche).order_by("name")
        )

    def _load_steps(self) -> None:
        """Every step of the fiche in one query, arranged as the page shows them."""
        if self.access.can_edit:
            steps = self._of_fiche("steps", _steps)
        else:  # which steps this user may tick: a contributeur's commune's
            steps = list(
                _steps(self.action).annotate(
                    editable=Exists(Step.objects.editable_by(self.request.user).filter(pk=OuterRef("pk")))
                )
            )
        if not self.access.can_edit:
            editable = frozenset(step.pk for step in steps if step.editable)
            self.access = dataclasses.replace(self.access, editable_steps=editable)
            self.context["perms"] = self.access
        tops = [step for step in steps if step.parent_id is None]
        for top in tops:
            top.kids = [step for step in steps if step.parent_id == top.pk]
            top.group = None
            for kid in top.kids:
                kid.group = top
        # A step with sub-steps (a commune's heading) is a heading: its sub-steps are the work.
        leaves = [leaf for top in tops for leaf in (top.kids or [top])]
        for leaf in leaves:
            leaf.may_edit = self.access.may_edit_step(leaf)
        for top in tops:
            top.may_edit = self.access.may_edit_step(top)
        self.context.update(
            top_steps=tops,
            steps_by_pk={step.pk: step for step in steps},
            next_steps=[leaf for leaf in leaves if not leaf.done][:NEXT_STEPS],
            step_tally=_tally(sum(leaf.done for leaf in leaves), len(leaves)),
        )

    def _load_tally(self) -> None:
        """The steps done and to do, for the state line alone: counted in SQL when the steps
        themselves are not drawn (the steps that are work: those without sub-steps)."""
        if "steps" in self.loaded or "steps" in self.needed:
            return  # counted by _load_steps
        rows = self._of_fiche(
            "tally",
            lambda fiche: (
                Step.objects.filter(action=fiche)
                .exclude(Exists(Step.objects.filter(parent=OuterRef("pk"))))
                .order_by()
                .values("action")
                .annotate(total=Count("pk"), done=Count("pk", filter=Q(done=True)))
            ),
        )
        self.context["step_tally"] = _tally(rows[0]["done"], rows[0]["total"]) if rows else None

    def _load_partners(self) -> None:
        self.context["partners"] = self._of_fiche(
            "partners",
            lambda fiche: ActionPartner.objects.filter(action=fiche).select_related("organisation"),
        )

    def _load_conditions(self) -> None:
        self.context["conditions"] = self._of_fiche(
            "conditions", lambda fiche: Condition.objects.filter(action=fiche)
        )

    def _load_calendar(self) -> None:
        self.context["entries"] = self._of_fiche(
            "calendar", lambda fiche: CalendarEntry.objects.filter(action=fiche)
        )

    def _load_indicators(self) -> None:
        """The indicators and their values in one query (a LEFT JOIN, one row per value)."""
        fields = ["id", "version", "position", "name", "unit", "baseline", "target"]
        value_fields = ["id", "version", "year", "value", "comment"]
        rows = self._of_fiche(
            "indicators",
            lambda fiche: (
                Indicator.objects.filter(action=fiche)
                .order_by("position", "pk", "values__year")
                .values(*fields, *[f"values__{name}" for name in value_fields])
            ),
        )
        indicators: dict[int, Indicator] = {}
        for row in rows:
            indicator = indicators.get(row["id"])
            if indicator is None:
                indicator = Indicator(action=self.action, **{name: row[name] for name in fields})
                indicator.value_list = []
                indicators[row["id"]] = indicator
            if row["values__id"] is not None:
                value = IndicatorValue(indicator=indicator, **{n: row[f"values__{n}"] for n in value_fields})
                indicator.value_list.append(value)
        self.context["indicators"] = list(indicators.values())

    def _load_notes(self) -> None:
        """The notes with their documents, and the fiche's own documents, in one query: the
        notes LEFT JOIN their documents, UNION ALL the documents on the fiche itself
        (reporting.Document, reached by its relations: actions does not import reporting)."""
        doc = ["pk", "name", "size", "uploaded_at", "uploaded_by_name"]
        note = ["pk", "date", "kind", "text", "author_id", "author_name", "date_precision"]
        documents = Action.documents.rel.related_model.objects
        rows = self._of_fiche(
            "notes",
            lambda fiche: (
                # Without their default ordering: SQLite refuses an ORDER BY inside a UNION.
                Note.objects.filter(action=fiche)
                .order_by()
                .values_list(*note, *[f"documents__{name}" for name in doc])
                .union(
                    documents.filter(action=fiche, note=None)
                    .order_by()
                    .values_list(
                        *[Value(None, output_field=Note._meta.get_field(name)) for name in ["id", *note[1:]]],
                        *doc,
                    ),
                    all=True,
                )
            ),
        )
        notes: dict[int, Note] = {}
        own: list[SimpleNamespace] = []
        user, access = self.request.user, self.access
        for row in rows:
            found = SimpleNamespace(**dict(zip(doc, row[len(note) :], strict=True)))
            if row[0] is None:
                own.append(found)
                continue
            if row[0] not in notes:
                notes[row[0]] = Note(action=self.action, **dict(zip(["id", *note[1:]], row, strict=False)))
                notes[row[0]].document_list = []
                notes[row[0]].may_attach = access.can_edit or (access.can_note and row[4] == user.pk)
            if found.pk is not None:
                notes[row[0]].document_list.append(found)
        self.context["notes"] = sorted(notes.values(), key=lambda n: (n.date, n.pk), reverse=True)
        self.context["fiche_documents"] = sorted(own, key=lambda d: (d.uploaded_at, d.pk))
        for item in self.context["notes"]:
            item.document_list.sort(key=lambda d: (d.uploaded_at, d.pk))

    def _load_decisions(self) -> None:
        """The decisions naming this fiche, each with every fiche it names: one query on the
        relation itself (reporting.Decision is reached by its relation: actions does not
        import reporting)."""
        through = Action.decisions.through
        rows = self._of_fiche(
            "decisions",
            lambda fiche: (
                through.objects.filter(decision__in=through.objects.filter(action=fiche).values("decision"))
                .select_related("decision__meeting", "decision__status_changed_by", "action__plan")
                .order_by(
                    "-decision__meeting__date", "-decision__meeting__pk", "decision__pk", "action__number"
                )
            ),
        )
        decisions: dict = {}
        for row in rows:
            decisions.setdefault(row.decision_id, (row.decision, []))[1].append(row.action)
        for decision, actions in decisions.values():
            named = decision.actions.all()
            named._result_cache, named._prefetch_done = actions, True
            decision._prefetched_objects_cache = {"actions": named}
        self.context["decisions"] = [decision for decision, _ in decisions.values()]

    def _load_financing(self) -> None:
        self.context["financing"] = self.action.financing_list()  # read with the fiche
        self.context["financing_totals"] = amounts.totals(self.context["financing"])

    def _load_tags(self) -> None:
        self.context["themes"] = self.action.themes_list()  # read with the fiche
        self.context["audiences"] = self.action.audiences_list()

    def _load_journal(self) -> None:
        self.context["journal"] = journal([self.action.pk], limit=JOURNAL_LIMIT)

    # -- forms ------------------------------------------------------------------------------

    def forms(self, *, status_form=None, note_form=None, parts=("status", "notes")) -> Page:
        """The two forms the page always shows, those of `parts` when drawing only those."""
        if self.access.can_edit and "status" in parts:
            self.context["status_form"] = status_form or forms.StatusForm(instance=self.action)
        if self.access.can_note and "notes" in parts:
            self.context["note_form"] = note_form or forms.NoteForm(initial={"date": timezone.localdate()})
        return self

    def open(self, editing: Editing, form=None, *, search: str = "") -> Page:
        """Open one edit form (bound, with its errors, or fresh for the item it names). An
        item that is not there, or that the user may not change, opens nothing."""
        self.load(editing.part)
        if form is None:
            form = self._fresh_form(editing, search)
            if form is None:
                return self
        self.context.update(editing=editing, edit_form=form)
        _mark_focus(form)
        return self

    def _fresh_form(self, editing: Editing, search: str):
        ctx, section, pk = self.context, editing.section, editing.pk
        if section == "pilotage":
            if not self.access.can_edit:
                return None
            found = forms.search_organisations(search) if search else []
            self.context["search"] = search
            self.context["found"] = found
            organisations = list(forms.plan_organisations(self.action.plan))
            return forms.PilotsForm(instance=self.action, organisations=organisations, found=found)
        if section == "etapes":
            communes = list(self.action.plan.communes.order_by("name"))
            if pk is None:
                return True if self.access.can_edit_steps else None  # the tools of each step
            if editing.new:
                return (
                    forms.NewStepForm(communes=communes, parents=ctx["top_steps"])
                    if self.access.can_edit
                    else None
                )
            step = ctx["steps_by_pk"].get(pk)
            if step is None or not step.may_edit:
                return None
            return forms.StepForm(instance=step, communes=communes)
        if not self.access.can_edit:
            return None
        if section == "partenaires":
            found = forms.search_organisations(search) if search else []
            self.context["search"] = search
            self.context["found"] = found
            organisations = [*found, *forms.plan_organisations(self.action.plan)]
            if editing.new:
                return forms.NewPartnerForm(organisations=organisations)
            item = _by_pk(ctx["partners"], pk)
            return item and forms.PartnerForm(instance=item, organisations=organisations)
        if section == "conditions":
            if editing.new:
                return forms.NewConditionForm()
            item = _by_pk(ctx["conditions"], pk)
            return item and forms.ConditionForm(instance=item)
        if section == "calendrier":
            if editing.new:
                return forms.NewCalendarEntryForm()
            item = _by_pk(ctx["entries"], pk)
            return item and forms.CalendarEntryForm(instance=item)
        if section == "indicateurs":
            if editing.new:
                return forms.NewIndicatorForm()
            item = _by_pk(ctx["indicators"], pk)
            return item and forms.IndicatorForm(instance=item)
        if section == "financements":
            kwargs = _choices(section, self.action)
            if editing.new:
                return forms.NewFinancingForm(**kwargs)
            item = _by_pk(ctx["financing"], pk)
            return item and forms.FinancingForm(instance=item, **kwargs)
        if section == "thematiques":
            return _tags_form(self.action, current=ctx)
        if section == "valeurs":
            if editing.new:
                indicator = _by_pk(ctx["indicators"], int(pk.split("-")[1]))
                return indicator and forms.IndicatorValueForm(indicator=indicator)
            value = next((v for i in ctx["indicators"] for v in i.value_list if v.pk == pk), None)
            return value and forms.IndicatorValueForm(instance=value)
        return None

    def confirm(self, confirming: Editing, item) -> Page:
        self.load(confirming.part)
        self.context.update(confirming=confirming, confirm_item=item)
        return self

    # -- rendering ----------------------------------------------------------------------

    def render_page(self, *, status: int = 200) -> HttpResponse:
        self.load("page")
        return render(self.request, TEMPLATE, self.context, status=status)

    def render_parts(self, part: str, *, status: int = 200, announce: str = "", follow=()) -> HttpResponse:
        """The partial `part`, marked with what to announce, then `follow` out of band."""
        follow = [self._journal_news() if name == "journal" else name for name in follow]
        self.load(part, *follow)
        self.context["announce"] = announce
        html = [render_to_string(f"{TEMPLATE}#{part}", self.context, self.request)]
        self.context.update(announce="", oob=True)
        html += [render_to_string(f"{TEMPLATE}#{name}", self.context, self.request) for name in follow]
        # A boosted link or form would otherwise push its URL (`?modifier=…`, `…/statut/`)
        # into the history: the page's address stays the fiche's.
        return HttpResponse("".join(html), status=status, headers={"HX-Push-Url": "false"})

    def _journal_news(self) -> str:
        """The journal after a write: when the page says which line it shows first (static/js/
        app.js sends its key), only the lines since, added on top of its list, and where the
        list now ends ("journal_new"); otherwise the whole journal again."""
        after = self.request.headers.get("X-Journal-Newest", "")
        update = (
            journal_update(self.action.pk, after=after, limit=JOURNAL_LIMIT) if KEY.fullmatch(after) else None
        )
        if update is None:
            return "journal"
        self.loaded.add("journal")
        self.context.update(journal=update.entries, journal_keep_from=update.keep_from)
        return "journal_new"


def _by_pk(items, pk):
    return next((item for item in items if item.pk == pk), None)


def _mark_focus(form) -> None:
    """After an htmx swap the app moves focus to [data-focus]: the first field in error, or
    the first field of a form just opened."""
    if not hasattr(form, "fields"):
        return
    names = [name for name in form.fields if name in form.errors] or [
        name for name, field in form.fields.items() if not field.widget.is_hidden
    ]
    if names:
        widget = form.fields[names[0]].widget
        widget.attrs = {**widget.attrs, "data-focus": ""}


@require_GET
def action_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    action, access = get_fiche_for_user(request.user, slug, number, _fiche_page)
    page = Page(request, action, access)
    editing = Editing.parse(request.GET.get("modifier", ""))
    search = request.GET.get("recherche", "").strip()
    if request.htmx and not request.htmx.history_restore_request:
        # A boosted link or search form of one section: that section alone.
        part = editing.part or PART_OF_ANCHOR.get(request.htmx.target or "", "")
        if part:
            if editing.part:
                page.open(editing, search=search)
            return page.forms().render_parts(part)
    if editing.part:
        page.open(editing, search=search)
    return page.forms().render_page()


@require_GET
def organisation_search(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Organisations of the installation matching a name, for the pilots or a partner's form
    (htmx: the few options to add; without JavaScript the fiche page answers the same search)."""
    action, access = _rw_fiche_for_user(request, slug, number)
    search = request.GET.get("recherche", "").strip()
    target = request.GET.get("pour", "pilotes")
    if not request.htmx:
        editing = "pilotage" if target == "pilotes" else target.replace("partenaire-", "partenaires-")
        return redirect(
            f"{action.get_absolute_url()}?{urlencode({'modifier': editing, 'recherche': search})}"
        )
    offered = list(forms.plan_organisations(action.plan))
    found = forms.search_organisations(search, exclude=[org.pk for org in offered])
    context = {"found": found, "search": search, "target": target, "plan": action.plan, "action": action}
    if target == "pilotes":
        return render(request, "actions/_organisations_found.html", context)
    editing = Editing.parse(target.replace("partenaire-", "partenaires-"))
    if editing.section != "partenaires":
        raise Http404("Formulaire inconnu.")
    item = None
    if not editing.new:
        item = get_object_or_404(ActionPartner.objects.filter(action=action), pk=editing.pk)
    form_class = forms.PartnerForm if item else forms.NewPartnerForm
    form = (
        form_class(instance=item, organisations=[*found, *offered])
        if item
        else form_class(organisations=[*found, *offered])
    )
    form.fields["organisation"].widget.attrs["data-focus"] = ""
    context["field"] = form["organisation"]
    return render(request, "actions/_organisations_found.html", context)


def _respond(
    request: HttpRequest,
    action: Action,
    access: FicheAccess,
    part: str,
    *,
    editing: Editing | None = None,
    form=None,
    status: int = 200,
    focus_step: int | None = None,
) -> HttpResponse:
    """After a write. htmx: the partial, from its own small context, and what else changed out
    of band. Otherwise a redirect to the fiche on success, or the page with the form in error."""
    failed = status >= 400
    if request.htmx or (failed and form is not None):
        # As saved (its lateness, its version), or as it stands: validating a ModelForm
        # writes the refused input onto the instance the request read.
        action = _fiche_again(action.pk)
    if form is not None:
        _mark_focus(form)  # the first field in error
    if request.htmx:
        page = Page(request, action, access)
        page.context["focus_step"] = focus_step
        if part == "status":
            page.forms(status_form=form if failed else None, parts=[part])
        elif part == "notes":
            page.forms(note_form=form if failed else None, parts=[part])
        elif form is not None and editing is not None:
            page.open(editing, form)
        if failed:
            message = "Rien n'a été enregistré : " + (
                "un collègue l'a modifié entre-temps."
                if status == 409
                else "le formulaire contient des erreurs."
            )
            return page.render_parts(part, status=status, announce=message)
        target = PART_OF_ANCHOR.get(request.htmx.target or "", part)
        if part == "steps" and target == "next":
            part = "next"
        return page.render_parts(
            part,
            announce=ANNOUNCE_AFTER.get(request.resolver_match.url_name, ANNOUNCE.get(part, "")),
            follow=FOLLOWS[part],
        )
    if form is None:
        if failed:  # a request no form could show (a forged or truncated one)
            messages.error(
                request, "Requête invalide : rien n'a été enregistré. Rechargez la page et recommencez."
            )
        return redirect(f"{action.get_absolute_url()}#{ANCHORS[part]}")
    page = Page(request, action, access)
    page.forms(status_form=form if part == "status" else None, note_form=form if part == "notes" else None)
    if editing is not None:
        page.open(editing, form)
    return page.render_page(status=status)


ANNOUNCE_AFTER = {
    "step_toggle": "Étape cochée",
    "step_move": "Étape déplacée",
    "item_delete": "Suppression enregistrée",
}


# ---------------------------------------------------------------------------
# Stale edits: refused, with what the colleague saved


def _who_and_when(obj) -> str:
    last = obj.history.select_related("history_user").first()
    if last is None:
        return "Quelqu'un"
    user = last.history_user
    name = (user.get_full_name() or user.get_username()) if user else (last.history_change_reason or "")
    name = name if name and name != IMPORT_REASON else "Un import"
    when = timezone.localtime(last.history_date)
    return f"{name} (le {when:%d/%m/%Y à %H:%M})"


def _current_value(obj) -> str:
    if isinstance(obj, Action):
        return (
            f"statut « {obj.get_status_display()} », avancement {obj.progress} %, pilotage « {obj.pilotage} »"
        )
    if isinstance(obj, Step):
        return f"« {obj.text} »{' (réalisée)' if obj.done else ' (à faire)'}"
    if isinstance(obj, CalendarEntry):
        dates = " – ".join(d.strftime("%d/%m/%Y") if d else "…" for d in (obj.start, obj.end))
        return f"« {obj} » ({dates})"
    return f"« {obj} »"


def _stale_message(stale: StaleVersion, outcome: str) -> str:
    return (
        f"{_who_and_when(stale.current)} a modifié cet élément pendant que vous l'éditiez. "
        f"Valeur actuelle : {_current_value(stale.current)}. {outcome}"
    )


def _refuse_stale(form, stale: StaleVersion):
    """The user's input again, now against the current version, with what changed meanwhile."""
    # Worded before re-binding: validating a ModelForm writes the input onto its instance.
    message = _stale_message(
        stale,
        "Vos changements n'ont pas été enregistrés : vérifiez-les, "
        "puis enregistrez à nouveau pour les appliquer.",
    )
    data: QueryDict = form.data.copy()
    data["version"] = str(stale.current.version)
    fresh = type(form)(data, instance=stale.current, **getattr(form, "choice_kwargs", {}))
    fresh.is_valid()
    fresh.add_error(None, message)
    return fresh


def _save_versioned(
    request, action, access, part, form, model, pk, changes, *, editing=None, refuse=_refuse_stale, **respond
):
    """Apply `changes` if the object is still at the version the user saw."""
    try:
        with transaction.atomic():
            obj = model.locked(pk, version=form.cleaned_data["version"])
            # Many-to-many fields are set after the save (which moves the version on); themes
            # and publics through set_tags(), which journals them.
            pilots = changes.pop("pilots", None)
            tags = {name: changes.pop(name) for name in ("themes", "audiences") if name in changes}
            obj.save_edit(by=request.user, **changes)
            if pilots is not None:
                obj.pilots.set(pilots)
            if tags:
                obj.set_tags(by=request.user, **tags)
    except StaleVersion as stale:
        refused = refuse(form, stale)
        return _respond(request, action, access, part, editing=editing, form=refused, status=409)
    return _respond(request, action, access, part, **respond)


# ---------------------------------------------------------------------------
# Status, progress, pilotage, notes


@require_POST
def action_status(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    action, access = _rw_fiche_for_user(request, slug, number)
    form = forms.StatusForm(request.POST, instance=action)
    if not form.is_valid():
        return _respond(request, action, access, "status", form=form, status=422)
    changes = {"status": form.cleaned_data["status"], "progress": form.cleaned_data["progress"]}
    return _save_versioned(request, action, access, "status", form, Action, action.pk, changes)


@require_POST
def action_pilots(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    action, access = _rw_fiche_for_user(request, slug, number)
    organisations = list(forms.plan_organisations(action.plan))
    form = forms.PilotsForm(request.POST, instance=action, organisations=organisations)
    form.choice_kwargs = {"organisations": organisations}
    editing = Editing("pilotage")
    if not form.is_valid():
        return _respond(request, action, access, "pilots", editing=editing, form=form, status=422)
    changes = {"pilotage": form.cleaned_data["pilotage"], "pilots": form.cleaned_data["pilots"]}
    return _save_versioned(
        request, action, access, "pilots", form, Action, action.pk, changes, editing=editing
    )


def _tags_form(action: Action, data=None, *, current=None) -> forms.TagsForm:
    """The themes and publics form, over the lists the installation keeps (two queries)."""
    return forms.TagsForm(
        data,
        action=action,
        themes=list(Theme.objects.all()),
        audiences=list(Audience.objects.all()),
        current=current,
    )


@require_POST
def action_tags(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    action, access = _rw_fiche_for_user(request, slug, number)
    form = _tags_form(action, request.POST)
    editing = Editing("thematiques")
    if not form.is_valid():
        return _respond(request, action, access, "tags", editing=editing, form=form, status=422)
    changes = {"themes": form.cleaned_data["themes"], "audiences": form.cleaned_data["audiences"]}

    def refuse(form, stale):
        data = form.data.copy()
        data["version"] = str(stale.current.version)
        fresh = _tags_form(stale.current, data)
        fresh.is_valid()
        fresh.add_error(
            None,
            _stale_message(
                stale, "Vos changements n'ont pas été enregistrés : vérifiez-les, puis enregistrez à nouveau."
            ),
        )
        return fresh

    return _save_versioned(
        request, action, access, "tags", form, Action, action.pk, changes, editing=editing, refuse=refuse
    )


@require_POST
def note_create(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    action, access = _fiche_for_user(request, slug, number)
    if not access.can_note:
        raise PermissionDenied("Vous ne pouvez pas ajouter de note à cette fiche-action.")
    form = forms.NoteForm(request.POST)
    if not form.is_valid():
        return _respond(request, action, access, "notes", form=form, status=422)
    note = form.save(commit=False)
    note.action = action
    note.author = request.user
    note.author_name = request.user.get_full_name() or request.user.get_username()
    note._history_user = request.user
    note.save()
    return _respond(request, action, access, "notes")


# ---------------------------------------------------------------------------
# The lists of a fiche: steps, calendar, partners, conditions, indicators and their values


@dataclass(frozen=True)
class Section:
    model: type
    form: type
    new_form: type | None
    partial: str
    label: str  # what a deletion names: "l'étape", "le partenaire"…


SECTIONS = {
    "etapes": Section(Step, forms.StepForm, forms.NewStepForm, "steps", "l'étape"),
    "calendrier": Section(
        CalendarEntry, forms.CalendarEntryForm, forms.NewCalendarEntryForm, "calendar", "l'échéance"
    ),
    "partenaires": Section(
        ActionPartner, forms.PartnerForm, forms.NewPartnerForm, "partners", "le partenaire"
    ),
    "conditions": Section(
        Condition, forms.ConditionForm, forms.NewConditionForm, "conditions", "la condition"
    ),
    "indicateurs": Section(
        Indicator, forms.IndicatorForm, forms.NewIndicatorForm, "indicators", "l'indicateur"
    ),
    "valeurs": Section(IndicatorValue, forms.IndicatorValueForm, None, "indicators", "la valeur"),
    "financements": Section(
        Financing, forms.FinancingForm, forms.NewFinancingForm, "financing", "la ligne de financement"
    ),
}


def _choices(section: str, action: Action) -> dict:
    if section == "etapes":
        return {"communes": list(action.plan.communes.order_by("name"))}
    if section == "partenaires":
        return {"organisations": list(forms.plan_organisations(action.plan))}
    if section == "financements":
        return {"organisations": list(forms.plan_organisations(action.plan)), "plan": action.plan}
    return {}


def _section(section: str) -> Section:
    if section not in SECTIONS:
        raise Http404("Rubrique inconnue.")
    return SECTIONS[section]


@require_POST
def item_create(request: HttpRequest, slug: str, number: int, section: str) -> HttpResponse:
    spec = _section(section)
    if spec.new_form is None:
        raise Http404("Rubrique inconnue.")
    action, access = _rw_fiche_for_user(request, slug, number)
    kwargs = _choices(section, action)
    if section == "etapes":
        kwargs["parents"] = list(Step.objects.filter(action=action, parent=None))
    form = spec.new_form(request.POST, **kwargs)
    editing = Editing(section, "nouveau")
    if not form.is_valid():
        return _respond(request, action, access, spec.partial, editing=editing, form=form, status=422)
    item = form.save(commit=False)
    item.action = action
    siblings = spec.model.objects.filter(action=action)
    if section == "etapes":
        item.parent = form.cleaned_data["parent"]
        siblings = siblings.filter(parent=item.parent)
    item.position = (siblings.aggregate(last=Max("position"))["last"] or 0) + 1
    item._history_user = request.user
    item.save()
    return _respond(request, action, access, spec.partial)


def _objects_of(spec: Section, action: Action):
    if spec.model is IndicatorValue:
        return IndicatorValue.objects.filter(indicator__action=action).select_related(
            "indicator__action__plan"
        )
    return spec.model.objects.filter(action=action)


def _item_for_user(request, slug, number, section, pk, *, step_rule: bool):
    """The fiche, one of its items and what the user may do, if they may change the item. For
    steps, `step_rule` lets a contributeur change the steps of their commune on a fiche they
    do not pilot. 404 if they may not read the fiche, 403 if they may not change the item."""
    spec = _section(section)
    action, access = _fiche_for_user(request, slug, number)
    item = get_object_or_404(_objects_of(spec, action), pk=pk)
    if section == "etapes" and step_rule:
        allowed = may_edit_step(request.user, access, item)
    else:
        allowed = access.can_edit
    if not allowed:
        raise PermissionDenied("Vous ne pouvez pas modifier cet élément.")
    return spec, action, access, item


@require_POST
def item_update(request: HttpRequest, slug: str, number: int, section: str, pk: int) -> HttpResponse:
    spec, action, access, item = _item_for_user(request, slug, number, section, pk, step_rule=True)
    if spec.model is IndicatorValue:
        raise Http404("Rubrique inconnue.")
    kwargs = _choices(section, action)
    commune_id = getattr(item, "commune_id", None)  # before validation writes the input onto item
    form = spec.form(request.POST, instance=item, **kwargs)
    form.choice_kwargs = kwargs
    editing = Editing(section, item.pk)
    # A contributeur rewords the steps of their commune; tying a step to a commune decides who
    # follows it, which is the call of those who edit the fiche.
    if (
        form.is_valid()
        and section == "etapes"
        and getattr(form.cleaned_data["commune"], "pk", None) != commune_id
        and not access.can_edit
    ):
        form.add_error(None, "Seuls ceux qui modifient la fiche changent la commune d'une étape.")
    if not form.is_valid():
        return _respond(request, action, access, spec.partial, editing=editing, form=form, status=422)
    changes = {name: form.cleaned_data[name] for name in form.Meta.fields}
    return _save_versioned(
        request, action, access, spec.partial, form, spec.model, item.pk, changes, editing=editing
    )


@require_http_methods(["GET", "POST"])
def item_delete(request: HttpRequest, slug: str, number: int, section: str, pk: int) -> HttpResponse:
    """GET: the confirmation (a page of its own; with htmx, in place in the section). POST:
    the deletion, if the item is still at the version the user confirmed."""
    spec, action, access, item = _item_for_user(request, slug, number, section, pk, step_rule=False)
    confirming = Editing(section, item.pk)
    if request.method == "GET":
        if request.htmx:
            page = Page(request, action, access).confirm(confirming, item)
            return page.forms().render_parts(spec.partial)
        context = {
            "action": action,
            "plan": action.plan,
            "item": item,
            "section": section,
            "what": spec.label,
            "back": f"{action.get_absolute_url()}#{ANCHORS[spec.partial]}",
        }
        return render(request, "actions/item_delete_confirm.html", context)
    kwargs = _choices(section, action)
    try:
        version = int(request.POST.get("version", ""))
        with transaction.atomic():
            current = spec.model.locked(item.pk, version=version)
            current._history_user = request.user
            current.delete()
    except ValueError:
        return _respond(request, action, access, spec.partial, status=422)
    except StaleVersion as stale:
        message = _stale_message(stale, "Il n'a pas été supprimé.")
        fresh = _form_of_current(spec.form, stale.current, kwargs)
        fresh.add_error(None, message)
        return _respond(request, action, access, spec.partial, editing=confirming, form=fresh, status=409)
    return _respond(request, action, access, spec.partial)


def _form_of_current(form_class, current, kwargs):
    """A form bound to the object's current values, to carry an error about it."""
    unbound = form_class(instance=current, **kwargs)
    data = {name: unbound[name].value() for name in unbound.fields}
    data = {name: ("" if value is None else value) for name, value in data.items()}
    form = form_class(data, instance=current, **kwargs)
    form.is_valid()
    return form


@require_POST
def step_toggle(request: HttpRequest, slug: str, number: int, pk: int) -> HttpResponse:
    spec, action, access, step = _item_for_user(request, slug, number, "etapes", pk, step_rule=True)
    form = forms.StepToggleForm(request.POST, instance=step)
    if not form.is_valid():
        return _respond(request, action, access, "steps", status=422)
    done = request.POST.get("done") == "1"

    def refuse(form, stale):
        message = _stale_message(stale, "Votre changement n'a pas été enregistré.")
        communes = list(action.plan.communes.order_by("name"))
        fresh = _form_of_current(forms.StepForm, stale.current, {"communes": communes})
        fresh.add_error(None, message)
        return fresh

    return _save_versioned(
        request,
        action,
        access,
        "steps",
        form,
        Step,
        step.pk,
        {"done": done},
        editing=Editing("etapes", step.pk),
        refuse=refuse,
        focus_step=step.pk,
    )


@require_POST
def step_move(request: HttpRequest, slug: str, number: int, pk: int) -> HttpResponse:
    """Swap a step with its previous or next sibling."""
    spec, action, access, step = _item_for_user(request, slug, number, "etapes", pk, step_rule=False)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        return _respond(request, action, access, "steps", status=422)
    upwards = direction == "up"
    with transaction.atomic():
        siblings = list(
            Step.objects.select_for_update()
            .filter(action=action, parent_id=step.parent_id)
            .order_by("position", "pk")
        )
        index = next(i for i, s in enumerate(siblings) if s.pk == step.pk)
        other = index - 1 if upwards else index + 1
        if 0 <= other < len(siblings):
            siblings[index], siblings[other] = siblings[other], siblings[index]
            for position, sibling in enumerate(siblings):
                if sibling.position != position:
                    sibling.save_edit(by=request.user, position=position)
    return _respond(request, action, access, "steps")


@require_POST
def indicator_value_save(request: HttpRequest, slug: str, number: int, pk: int) -> HttpResponse:
    """Add the value of a year to an indicator, or change one (`value_id` names it)."""
    action, access = _rw_fiche_for_user(request, slug, number)
    indicator = get_object_or_404(Indicator.objects.filter(action=action), pk=pk)
    indicator.action = action
    value_pk = request.POST.get("value_id", "")
    if value_pk:
        if not value_pk.isdigit():
            raise Http404("Valeur inconnue.")
        value = get_object_or_404(IndicatorValue.objects.filter(indicator=indicator), pk=int(value_pk))
        value.indicator = indicator
        form = forms.IndicatorValueForm(request.POST, instance=value)
        editing = Editing("valeurs", value.pk)
    else:
        form = forms.IndicatorValueForm(request.POST, indicator=indicator)
        editing = Editing("valeurs", f"nouvelle-{indicator.pk}")
    if not form.is_valid():
        return _respond(request, action, access, "indicators", editing=editing, form=form, status=422)
    if not value_pk:
        created = form.save(commit=False)
        created.indicator = indicator
        created._history_user = request.user
        try:
            with transaction.atomic():
                created.save()
        except IntegrityError:  # a colleague entered the same year meanwhile
            form.add_error(
                "year", "Cette année vient d'être saisie par quelqu'un d'autre : rechargez la page."
            )
            return _respond(request, action, access, "indicators", editing=editing, form=form, status=409)
        return _respond(request, action, access, "indicators")
    changes = {name: form.cleaned_data[name] for name in form.Meta.fields}
    return _save_versioned(
        request, action, access, "indicators", form, IndicatorValue, value.pk, changes, editing=editing
    )


# ---------------------------------------------------------------------------
# Importing a whole plan from the xlsx template (or JSON): upload → preview → confirm


def _may_import(user, slug: str, territory: str | None = None) -> str | None:
    """Why the user may not import this plan; None if they may. Changing a plan's territory
    (a file whose identifier is the plan of another territory) is for installation
    administrators only."""
    if user.is_superuser:
        return None
    managed = Plan.objects.managed_by(user).filter(slug=slug).first()
    if managed is not None:
        if territory is None or managed.territory == territory:
            return None
        return (
            f"Ce fichier décrit le territoire « {territory} », mais le plan « {slug} » est celui de "
            f"« {managed.territory} » : seul un administrateur de l'installation change le territoire "
            "d'un plan. S'il s'agit d'un autre plan, donnez-lui un autre identifiant (feuille « Plan »)."
        )
    if Plan.objects.visible_to(user).filter(slug=slug).exists():
        return f"Seuls les administrateurs et coordinateurs du plan « {slug} » peuvent l'importer."
    # A plan this person may not read and a plan that does not exist get the same answer: the
    # refusal must not tell whether someone else's plan goes by that identifier.
    return (
        f"Vous ne pouvez pas importer le plan « {slug} » : seuls ses administrateurs et coordinateurs "
        "l'importent, et seul un administrateur de l'installation crée un nouveau plan."
    )


def _importer(request: HttpRequest) -> None:
    if not (request.user.is_superuser or Plan.objects.managed_by(request.user).exists()):
        raise PermissionDenied("L'import est réservé aux administrateurs et coordinateurs d'un plan.")


@require_http_methods(["GET", "POST"])
def plan_import(request: HttpRequest) -> HttpResponse:
    _importer(request)
    errors: list[CellError] = []
    if request.method == "POST":
        upload = request.FILES.get("fichier")
        if upload is None:
            errors = [
                CellError("Choisissez un fichier : le modèle rempli (.xlsx ou .ods), ou un fichier JSON.")
            ]
        elif upload.size > spreadsheet.MAX_BYTES:
            errors = [
                CellError(f"Fichier trop volumineux : {upload.size / 1024 / 1024:.1f} Mo pour 5 Mo au plus.")
            ]
        else:
            try:
                data = spreadsheet.read_document(upload.name, upload.read())
            except open_format.PlanFormatError as exc:
                errors = exc.cells
            else:
                refusal = _may_import(request.user, data["plan"]["slug"], data["plan"]["territory"])
                if refusal:
                    errors = [CellError(refusal)]
                else:
                    pending = PlanImport.objects.create(
                        user=request.user,
                        filename=upload.name,
                        data=data,
                        plan_state=_state_of(data["plan"]["slug"]),
                    )
                    return redirect("plan_import_preview", pk=pending.pk)
    status = 422 if errors else 200
    context = {
        "errors": errors,
        # A workbook's errors in a table by sheet, row and column; the file's own (not a
        # workbook, too big, a JSON document's) above it, as sentences.
        "located": [error for error in errors if error.sheet],
        "general": [error for error in errors if not error.sheet],
    }
    return render(request, "actions/import_form.html", context, status=status)


def _pending(request: HttpRequest, pk: int) -> PlanImport:
    _importer(request)
    return get_object_or_404(PlanImport.objects.filter(user=request.user, applied_at=None), pk=pk)


def _state_of(slug: str) -> str:
    """plan_state() of the plan the file names; "" while no such plan exists."""
    plan = Plan.objects.filter(slug=slug).first()
    return plan_state(plan) if plan else ""


def _last_change(slug: str, since) -> str:
    """What changed the plan since `since`, in a few words, for the refusal message."""
    plan = Plan.objects.filter(slug=slug).first()
    if plan is None:
        return "un autre import vient de le créer"
    entries = journal(Action.all_objects.filter(plan=plan).values_list("pk", flat=True), since=since)
    if not entries:
        return "pilotes, communes ou signataires modifiés"
    last = entries[0]
    when = timezone.localtime(last.at)
    return f"dernière modification : {last.text}, par {last.author}, le {when:%d/%m/%Y à %H:%M}"


@require_GET
def plan_import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    pending = _pending(request, pk)
    context = {"pending": pending, "preview": open_format.preview(pending.data, by=request.user)}
    return render(request, "actions/import_preview.html", context)


@require_POST
def plan_import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    pending = _pending(request, pk)
    slug = pending.data["plan"]["slug"]
    refusal = _may_import(request.user, slug, pending.data["plan"]["territory"])
    if refusal:
        raise PermissionDenied(refusal)
    with transaction.atomic():
        # Edits made in the app after the upload would be overwritten by a file that never saw
        # them: the importer checks the fresh preview and confirms again.
        Plan.objects.select_for_update().filter(slug=slug).first()
        current = _state_of(slug)
        if current != pending.plan_state:
            what = _last_change(slug, pending.created_at)
            stale = (
                f"Le plan a été modifié depuis le dépôt du fichier ({what}) : "
                "vérifiez l'aperçu à jour, puis confirmez à nouveau."
            )
            pending.plan_state = current
            pending.save(update_fields=["plan_state"])
            context = {
                "pending": pending,
                "preview": open_format.preview(pending.data, by=request.user),
                "stale": stale,
            }
            return render(request, "actions/import_preview.html", context, status=409)
        # A file whose identifier is another territory's plan is applied only when asked for.
        territory = Plan.objects.filter(slug=slug).values_list("territory", flat=True).first()
        if (
            territory not in (None, pending.data["plan"]["territory"])
            and request.POST.get("territoire") != "changer"
        ):
            preview = open_format.preview(pending.data, by=request.user)
            context = {"pending": pending, "preview": preview, "territory_error": True}
            return render(request, "actions/import_preview.html", context, status=422)
        try:
            report = open_format.import_plan(pending.data, by=request.user, filename=pending.filename)
        except open_format.PlanFormatError as exc:
            context = {"errors": exc.errors}
            return render(request, "actions/import_form.html", context, status=422)
        pending.applied_at = timezone.now()
        pending.save(update_fields=["applied_at"])
    messages.success(request, report.summary())
    return redirect(report.plan)


# ---------------------------------------------------------------------------
# Archived fiches: those an import dropped, kept with their notes and journal


def _managed(request: HttpRequest, slug: str) -> Plan:
    """The plan, if the user administers or coordinates it: 404 if they may not read it, 403
    if they only read it."""
    plan, _ = get_plan_for_user(
        request.user,
        slug,
        manage="Seuls les administrateurs et coordinateurs du plan voient ses fiches archivées.",
    )
    return plan


@require_GET
def archived_actions(request: HttpRequest, slug: str) -> HttpResponse:
    plan = _managed(request, slug)
    actions = (
        Action.all_objects.filter(plan=plan)
        .exclude(archived_at=None)
        .select_related("axis", "archived_by")
        .annotate(note_count=Count("notes"))
        .order_by("number")
    )
    return render(request, "actions/archived_list.html", {"plan": plan, "actions": actions})


@require_POST
def action_restore(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    plan = _managed(request, slug)
    with transaction.atomic():
        action = get_object_or_404(
            Action.all_objects.select_for_update().exclude(archived_at=None), plan=plan, number=number
        )
        action.restore(by=request.user)
    messages.success(request, f"Action {action.number} restaurée, avec ses étapes, ses notes et son journal.")
    return redirect(action)


@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    """The blank template, documented in its first sheet."""
    return _xlsx(spreadsheet.workbook_from_data(), "modele-plan-ctg.xlsx")


@require_GET
def plan_template(request: HttpRequest, slug: str) -> HttpResponse:
    """A plan written in the template: to correct it in Excel and import it back."""
    plan = get_object_or_404(Plan.objects.visible_to(request.user), slug=slug)
    return _xlsx(spreadsheet.workbook_from_data(open_format.export_plan(plan)), f"{plan.slug}.xlsx")


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
