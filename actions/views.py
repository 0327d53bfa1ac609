"""The coordinators' workspace: the fiches list and the fiche page, editable in place.

One view, two renderings: the full page, or, for htmx, the named partial of the same
template. Every form also works as a plain POST that redirects back to the fiche.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from actions import forms, plan_format, spreadsheet
from actions.journal import journal
from actions.models import (
    IMPORT_REASON,
    Action,
    ActionPartner,
    CalendarEntry,
    Condition,
    Indicator,
    IndicatorValue,
    PlanImport,
    StaleVersion,
    Status,
    Step,
)
from actions.permissions import fiche_permissions
from actions.state import plan_state
from axes.models import Plan
from partners.models import Organisation

TEMPLATE = "actions/action_detail.html"
# The id of the section each partial draws: where a plain POST lands back on the page.
ANCHORS = {
    "status": "statut",
    "pilots": "pilotage",
    "steps": "etapes",
    "partners": "partenaires",
    "conditions": "conditions",
    "calendar": "calendrier",
    "notes": "notes",
    "indicators": "indicateurs",
}
JOURNAL_LIMIT = 100


# ---------------------------------------------------------------------------
# The fiches list


@require_GET
def action_list(request: HttpRequest, slug: str) -> HttpResponse:
    plan = get_object_or_404(Plan.objects.visible_to(request.user), slug=slug)
    form = forms.ActionFilterForm.for_plan(plan, request.GET)
    today = timezone.localdate()
    actions = list(form.filter(Action.objects.filter(plan=plan).for_listing(), today))
    counts = dict.fromkeys(Status, 0)
    for action in actions:
        counts[Status(action.status)] += 1
    context = {
        "plan": plan,
        "form": form,
        "actions": actions,
        "total": Action.objects.filter(plan=plan).count(),
        "status_counts": [(status.label, counts[status]) for status in Status],
        "late_count": sum(action.is_late for action in actions),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "actions/action_list.html#results", context)
    return render(request, "actions/action_list.html", context)


# ---------------------------------------------------------------------------
# The fiche page


@require_GET
def action_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    action = _visible(request, slug, number)
    return render(request, TEMPLATE, _context(request, action))


def _visible(request: HttpRequest, slug: str, number: int) -> Action:
    """The fiche with everything its page shows; 404 for those who may not read it."""
    return get_object_or_404(
        Action.objects.visible_to(request.user).with_details(), plan__slug=slug, number=number
    )


def _context(request: HttpRequest, action: Action, bound: dict | None = None) -> dict:
    """Everything the fiche page and each of its partials show. `bound` holds the forms
    being re-displayed with their errors, keyed like the fresh ones ("status", ("etapes", 12)…)."""
    bound = bound or {}
    perms = fiche_permissions(request.user, action)
    plan = action.plan
    context = {
        "action": action,
        "plan": plan,
        "perms": perms,
        "move_choices": [("up", "Monter"), ("down", "Descendre")],
        "step_tally": _step_tally(action),
        "step_forms": {},
    }
    if perms.can_edit or perms.editable_steps:
        communes = list(plan.communes.order_by("name"))
        organisations = list(Organisation.objects.order_by("name")) if perms.can_edit else []

        def form_for(key, factory):
            return bound.get(key) or factory()

        context["step_forms"] = {
            item.pk: form_for(
                ("etapes", item.pk), lambda item=item: forms.StepForm(instance=item, communes=communes)
            )
            for step in action.top_steps
            for item in [step, *step.children.all()]
            if item.pk in perms.editable_steps
        }
        if perms.can_edit:
            context.update(
                status_form=form_for("status", lambda: forms.StatusForm(instance=action)),
                pilots_form=form_for(
                    "pilots", lambda: forms.PilotsForm(instance=action, organisations=organisations)
                ),
                new_step_form=form_for(
                    ("etapes", None),
                    lambda: forms.NewStepForm(communes=communes, parents=action.top_steps),
                ),
                calendar_forms={
                    e.pk: form_for(("calendrier", e.pk), lambda e=e: forms.CalendarEntryForm(instance=e))
                    for e in action.calendar_entries.all()
                },
                new_calendar_form=form_for(("calendrier", None), forms.NewCalendarEntryForm),
                partner_forms={
                    p.pk: form_for(
                        ("partenaires", p.pk),
                        lambda p=p: forms.PartnerForm(instance=p, organisations=organisations),
                    )
                    for p in action.partners.all()
                },
                new_partner_form=form_for(
                    ("partenaires", None), lambda: forms.NewPartnerForm(organisations=organisations)
                ),
                condition_forms={
                    c.pk: form_for(("conditions", c.pk), lambda c=c: forms.ConditionForm(instance=c))
                    for c in action.conditions.all()
                },
                new_condition_form=form_for(("conditions", None), forms.NewConditionForm),
                indicator_forms={
                    i.pk: form_for(("indicateurs", i.pk), lambda i=i: forms.IndicatorForm(instance=i))
                    for i in action.indicators.all()
                },
                new_indicator_form=form_for(("indicateurs", None), forms.NewIndicatorForm),
                value_forms={
                    v.pk: form_for(("valeurs", v.pk), lambda v=v: forms.IndicatorValueForm(instance=v))
                    for i in action.indicators.all()
                    for v in i.values.all()
                },
                new_value_forms={
                    i.pk: form_for(
                        ("valeurs", f"new-{i.pk}"), lambda i=i: forms.IndicatorValueForm(indicator=i)
                    )
                    for i in action.indicators.all()
                },
            )
    if perms.can_note:
        context["note_form"] = bound.get("notes") or forms.NoteForm(initial={"date": timezone.localdate()})
    context["journal"] = journal([action.pk])[:JOURNAL_LIMIT]
    return context


def _step_tally(action: Action) -> dict | None:
    """The progress the steps suggest, shown beside the typed one."""
    done, total = action.step_tally()
    return {"done": done, "total": total, "percent": round(100 * done / total)} if total else None


def _respond(
    request: HttpRequest, action: Action, partial: str, *, bound: dict | None = None, status: int = 200
) -> HttpResponse:
    """After a write: the partial (and the journal, out of band) for htmx; otherwise a
    redirect to the fiche on success, or the whole page with the errors."""
    action = Action.objects.with_details().get(pk=action.pk)
    if request.htmx:
        context = _context(request, action, bound)
        html = "".join(
            render_to_string(f"{TEMPLATE}#{name}", context, request)
            for name in (partial, "summary-oob", "journal-oob")
        )
        return HttpResponse(html, status=status)
    if bound is None:
        if status >= 400:  # a request no form could show (a forged or truncated one)
            messages.error(
                request, "Requête invalide : rien n'a été enregistré. Rechargez la page et recommencez."
            )
        return redirect(f"{action.get_absolute_url()}#{ANCHORS[partial]}")
    return render(request, TEMPLATE, _context(request, action, bound), status=status)


def _editable(request: HttpRequest, slug: str, number: int) -> Action:
    """The fiche, if the user may edit it: 404 if they may not read it, 403 if only read."""
    action = get_object_or_404(Action.objects.visible_to(request.user), plan__slug=slug, number=number)
    if not Action.objects.editable_by(request.user).filter(pk=action.pk).exists():
        raise PermissionDenied("Vous ne pouvez pas modifier cette fiche-action.")
    return action


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


def _save_versioned(request, action, partial, key, form, model, pk, changes, *, refuse=_refuse_stale):
    """Apply `changes` if the object is still at the version the user saw."""
    try:
        with transaction.atomic():
            obj = model.locked(pk, version=form.cleaned_data["version"])
            pilots = changes.pop("pilots", None)
            obj.save_edit(by=request.user, **changes)
            if pilots is not None:
                obj.pilots.set(pilots)
    except StaleVersion as stale:
        return _respond(request, action, partial, bound={key: refuse(form, stale)}, status=409)
    return _respond(request, action, partial)


# ---------------------------------------------------------------------------
# Status, progress, pilotage, notes


@require_POST
def action_status(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    action = _editable(request, slug, number)
    form = forms.StatusForm(request.POST, instance=action)
    if not form.is_valid():
        return _respond(request, action, "status", bound={"status": form}, status=422)
    changes = {"status": form.cleaned_data["status"], "progress": form.cleaned_data["progress"]}
    return _save_versioned(request, action, "status", "status", form, Action, action.pk, changes)


@require_POST
def action_pilots(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    action = _editable(request, slug, number)
    organisations = list(Organisation.objects.order_by("name"))
    form = forms.PilotsForm(request.POST, instance=action, organisations=organisations)
    form.choice_kwargs = {"organisations": organisations}
    if not form.is_valid():
        return _respond(request, action, "pilots", bound={"pilots": form}, status=422)
    changes = {"pilotage": form.cleaned_data["pilotage"], "pilots": form.cleaned_data["pilots"]}
    return _save_versioned(request, action, "pilots", "pilots", form, Action, action.pk, changes)


@require_POST
def note_create(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    action = get_object_or_404(Action.objects.visible_to(request.user), plan__slug=slug, number=number)
    if not Action.objects.notable_by(request.user).filter(pk=action.pk).exists():
        raise PermissionDenied("Vous ne pouvez pas ajouter de note à cette fiche-action.")
    form = forms.NoteForm(request.POST)
    if not form.is_valid():
        return _respond(request, action, "notes", bound={"notes": form}, status=422)
    note = form.save(commit=False)
    note.action = action
    note.author = request.user
    note.author_name = request.user.get_full_name() or request.user.get_username()
    note._history_user = request.user
    note.save()
    return _respond(request, action, "notes")


# ---------------------------------------------------------------------------
# The lists of a fiche: steps, calendar, partners, conditions


@dataclass(frozen=True)
class Section:
    model: type
    form: type
    new_form: type
    partial: str


SECTIONS = {
    "etapes": Section(Step, forms.StepForm, forms.NewStepForm, "steps"),
    "calendrier": Section(CalendarEntry, forms.CalendarEntryForm, forms.NewCalendarEntryForm, "calendar"),
    "partenaires": Section(ActionPartner, forms.PartnerForm, forms.NewPartnerForm, "partners"),
    "conditions": Section(Condition, forms.ConditionForm, forms.NewConditionForm, "conditions"),
    "indicateurs": Section(Indicator, forms.IndicatorForm, forms.NewIndicatorForm, "indicators"),
}


def _choices(section: str, action: Action) -> dict:
    if section == "etapes":
        return {"communes": list(action.plan.communes.order_by("name"))}
    if section == "partenaires":
        return {"organisations": list(Organisation.objects.order_by("name"))}
    return {}


def _section(section: str) -> Section:
    if section not in SECTIONS:
        raise Http404("Rubrique inconnue.")
    return SECTIONS[section]


@require_POST
def item_create(request: HttpRequest, slug: str, number: int, section: str) -> HttpResponse:
    spec = _section(section)
    action = _editable(request, slug, number)
    kwargs = _choices(section, action)
    if section == "etapes":
        kwargs["parents"] = list(action.steps.filter(parent=None))
    form = spec.new_form(request.POST, **kwargs)
    if not form.is_valid():
        return _respond(request, action, spec.partial, bound={(section, None): form}, status=422)
    item = form.save(commit=False)
    item.action = action
    siblings = spec.model.objects.filter(action=action)
    if section == "etapes":
        item.parent = form.cleaned_data["parent"]
        siblings = siblings.filter(parent=item.parent)
    item.position = (siblings.aggregate(last=Max("position"))["last"] or 0) + 1
    item._history_user = request.user
    item.save()
    return _respond(request, action, spec.partial)


def _item(request, slug, number, section, pk, *, step_rule: bool):
    """The fiche and one of its items, if the user may change it. For steps, `step_rule` lets
    a contributeur change the steps of their commune on a fiche they do not pilot."""
    spec = _section(section)
    action = get_object_or_404(Action.objects.visible_to(request.user), plan__slug=slug, number=number)
    item = get_object_or_404(spec.model.objects.filter(action=action), pk=pk)
    if section == "etapes" and step_rule:
        allowed = Step.objects.editable_by(request.user).filter(pk=item.pk).exists()
    else:
        allowed = Action.objects.editable_by(request.user).filter(pk=action.pk).exists()
    if not allowed:
        raise PermissionDenied("Vous ne pouvez pas modifier cet élément.")
    return spec, action, item


@require_POST
def item_update(request: HttpRequest, slug: str, number: int, section: str, pk: int) -> HttpResponse:
    spec, action, item = _item(request, slug, number, section, pk, step_rule=True)
    kwargs = _choices(section, action)
    commune_id = getattr(item, "commune_id", None)  # before validation writes the input onto item
    form = spec.form(request.POST, instance=item, **kwargs)
    form.choice_kwargs = kwargs
    # A contributeur rewords the steps of their commune; tying a step to a commune decides who
    # follows it, which is the call of those who edit the fiche.
    if (
        form.is_valid()
        and section == "etapes"
        and getattr(form.cleaned_data["commune"], "pk", None) != commune_id
        and not Action.objects.editable_by(request.user).filter(pk=action.pk).exists()
    ):
        form.add_error(None, "Seuls ceux qui modifient la fiche changent la commune d'une étape.")
    if not form.is_valid():
        return _respond(request, action, spec.partial, bound={(section, item.pk): form}, status=422)
    changes = {name: form.cleaned_data[name] for name in form.Meta.fields}
    return _save_versioned(
        request, action, spec.partial, (section, item.pk), form, spec.model, item.pk, changes
    )


@require_POST
def item_delete(request: HttpRequest, slug: str, number: int, section: str, pk: int) -> HttpResponse:
    spec, action, item = _item(request, slug, number, section, pk, step_rule=False)
    kwargs = _choices(section, action)
    try:
        version = int(request.POST.get("version", ""))
        with transaction.atomic():
            current = spec.model.locked(item.pk, version=version)
            current._history_user = request.user
            current.delete()
    except ValueError:
        return _respond(request, action, spec.partial, status=422)
    except StaleVersion as stale:
        message = _stale_message(stale, "Il n'a pas été supprimé.")
        fresh = _form_of_current(spec.form, stale.current, kwargs)
        fresh.add_error(None, message)
        return _respond(request, action, spec.partial, bound={(section, item.pk): fresh}, status=409)
    return _respond(request, action, spec.partial)


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
    spec, action, step = _item(request, slug, number, "etapes", pk, step_rule=True)
    form = forms.StepToggleForm(request.POST, instance=step)
    if not form.is_valid():
        return _respond(request, action, "steps", status=422)
    done = request.POST.get("done") == "1"
    communes = list(action.plan.communes.order_by("name"))

    def refuse(form, stale):
        message = _stale_message(stale, "Votre changement n'a pas été enregistré.")
        fresh = _form_of_current(forms.StepForm, stale.current, {"communes": communes})
        fresh.add_error(None, message)
        return fresh

    return _save_versioned(
        request, action, "steps", ("etapes", step.pk), form, Step, step.pk, {"done": done}, refuse=refuse
    )


@require_POST
def step_move(request: HttpRequest, slug: str, number: int, pk: int) -> HttpResponse:
    """Swap a step with its previous or next sibling."""
    spec, action, step = _item(request, slug, number, "etapes", pk, step_rule=False)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        return _respond(request, action, "steps", status=422)
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
    return _respond(request, action, "steps")


@require_POST
def indicator_value_save(request: HttpRequest, slug: str, number: int, pk: int) -> HttpResponse:
    """Add the value of a year to an indicator, or change one (`value_id` names it)."""
    action = _editable(request, slug, number)
    indicator = get_object_or_404(
        Indicator.objects.filter(action=action).select_related("action__plan"), pk=pk
    )
    value_pk = request.POST.get("value_id", "")
    if value_pk:
        if not value_pk.isdigit():
            raise Http404("Valeur inconnue.")
        value = get_object_or_404(IndicatorValue.objects.filter(indicator=indicator), pk=int(value_pk))
        form = forms.IndicatorValueForm(request.POST, instance=value)
        key = ("valeurs", value.pk)
    else:
        form = forms.IndicatorValueForm(request.POST, indicator=indicator)
        key = ("valeurs", f"new-{indicator.pk}")
    if not form.is_valid():
        return _respond(request, action, "indicators", bound={key: form}, status=422)
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
            return _respond(request, action, "indicators", bound={key: form}, status=409)
        return _respond(request, action, "indicators")
    changes = {name: form.cleaned_data[name] for name in form.Meta.fields}
    return _save_versioned(request, action, "indicators", key, form, IndicatorValue, value.pk, changes)


# ---------------------------------------------------------------------------
# Importing a whole plan from the xlsx template (or JSON): upload → preview → confirm


def _may_import(user, slug: str) -> str | None:
    """Why the user may not import this plan; None if they may."""
    plan = Plan.objects.filter(slug=slug).first()
    if plan is None:
        return None if user.is_superuser else "Seul un administrateur de l'installation crée un nouveau plan."
    if not Plan.objects.managed_by(user).filter(pk=plan.pk).exists():
        return f"Seuls les administrateurs et coordinateurs du plan « {slug} » peuvent l'importer."
    return None


def _importer(request: HttpRequest) -> None:
    if not (request.user.is_superuser or Plan.objects.managed_by(request.user).exists()):
        raise PermissionDenied("L'import est réservé aux administrateurs et coordinateurs d'un plan.")


@require_http_methods(["GET", "POST"])
def plan_import(request: HttpRequest) -> HttpResponse:
    _importer(request)
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("fichier")
        if upload is None:
            errors = ["Choisissez un fichier : le modèle Excel (.xlsx) rempli, ou un fichier JSON."]
        elif upload.size > spreadsheet.MAX_BYTES:
            errors = [f"Fichier trop volumineux : {upload.size / 1024 / 1024:.1f} Mo pour 5 Mo au plus."]
        else:
            try:
                data = spreadsheet.read_document(upload.name, upload.read())
            except plan_format.PlanFormatError as exc:
                errors = exc.errors
            else:
                refusal = _may_import(request.user, data["plan"]["slug"])
                if refusal:
                    errors = [refusal]
                else:
                    pending = PlanImport.objects.create(
                        user=request.user,
                        filename=upload.name,
                        data=data,
                        plan_state=_state_of(data["plan"]["slug"]),
                    )
                    return redirect("plan_import_preview", pk=pending.pk)
    status = 422 if errors else 200
    return render(request, "actions/import_form.html", {"errors": errors}, status=status)


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
    context = {"pending": pending, "preview": plan_format.preview(pending.data)}
    return render(request, "actions/import_preview.html", context)


@require_POST
def plan_import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    pending = _pending(request, pk)
    slug = pending.data["plan"]["slug"]
    refusal = _may_import(request.user, slug)
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
            context = {"pending": pending, "preview": plan_format.preview(pending.data), "stale": stale}
            return render(request, "actions/import_preview.html", context, status=409)
        try:
            report = plan_format.import_plan(pending.data, by=request.user, filename=pending.filename)
        except plan_format.PlanFormatError as exc:
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
    plan = get_object_or_404(Plan.objects.visible_to(request.user), slug=slug)
    if not Plan.objects.managed_by(request.user).filter(pk=plan.pk).exists():
        raise PermissionDenied(
            "Seuls les administrateurs et coordinateurs du plan voient ses fiches archivées."
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
    return _xlsx(spreadsheet.workbook_from_data(plan_format.export_plan(plan)), f"{plan.slug}.xlsx")


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
