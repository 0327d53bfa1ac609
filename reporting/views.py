from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe

from actions.models import Action, Audience, Theme
from axes.models import Plan
from axes.permissions import get_plan_for_user
from ctg.middleware import repeatable
from reporting import documents, exports, ics
from reporting.forms import DecisionForm, DecisionStatusForm, MeetingForm, PlansFilterForm
from reporting.models import CalendarFeedToken, Decision, Frequency, ReminderPreference, ReportStatus
from reporting.overview import (
    commune_overview,
    plan_financing_json,
    plan_overview,
    plans_overview,
    readable_plan_ids,
    themed_fiches,
    themed_page,
    themed_totals,
    themes_of,
)
from reporting.reminders import ReminderPreferenceForm, preference_of, user_pk_from_token
from reporting.renewal import RenewalError, RenewalForm, may_renew, renew_plan
from reporting.reports import ReportError, build_report
from reporting.tasks import request_report


@require_GET
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    # The plan, whether the user manages it and their calendar address in one query (the page
    # is read before every COPIL: its queries are counted, see tests/reporting/test_scale_*).
    plan = get_object_or_404(
        Plan.objects.visible_to(request.user).annotate(
            can_manage=Exists(Plan.objects.managed_by(request.user).filter(pk=OuterRef("pk"))),
            feed_token=Subquery(CalendarFeedToken.objects.filter(user=request.user).values("token")[:1]),
            financing_json=plan_financing_json(),
        ),
        slug=slug,
    )
    context = {
        "plan": plan,
        "can_manage": plan.can_manage,
        "o": plan_overview(plan, financing=plan.financing_json or []),
        "communes": plan.communes.order_by("name"),
        "calendar_feed": _feed_link(request, plan.feed_token, "plan_calendar_feed", slug=plan.slug),
    }
    return render(request, "reporting/dashboard.html", context)


@require_GET
def commune_dashboard(request: HttpRequest, slug: str, insee: str) -> HttpResponse:
    plan = get_object_or_404(Plan.objects.visible_to(request.user), slug=slug)
    commune = _commune(plan, insee)
    context = {
        "plan": plan,
        "c": commune_overview(plan, commune),
        "calendar_feed": calendar_feed_link(
            request, "commune_calendar_feed", slug=plan.slug, insee=commune.url_key
        ),
    }
    return render(request, "reporting/commune.html", context)


def _commune(plan: Plan, key: str):
    """One of the plan's communes by its INSEE code, or by "c<id>" when it has none."""
    if key.startswith("c") and key[1:].isdigit():
        return get_object_or_404(plan.communes, pk=int(key[1:]), insee="")
    return get_object_or_404(plan.communes, insee=key)


PLANS_PER_PAGE = 50


@require_GET
def plans_dashboard(request: HttpRequest) -> HttpResponse:
    """Every plan the user may read, side by side (for the CAF, every plan it signed), summed
    up in SQL, filtered, sorted and paged from the query string; the totals cover them all."""
    form = PlansFilterForm(request.GET or None)
    filters = form.filters()
    overview = plans_overview(Plan.objects.visible_to(request.user), **filters)
    page = Paginator(overview.lines, PLANS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "sort": filters["sort"],
        "page": page,
        "lines": page.object_list,
        "totals": overview.totals,
        "filtered": any(value for key, value in filters.items() if key != "sort"),
        # (sort key, heading): a heading with a key sorts by it, and the other way when it does.
        "columns": [
            ("territory", "Territoire"),
            ("", "Période"),
            ("", "Fiches"),
            ("progress", "Avancement global"),
            ("late", "En retard"),
            ("last_copil", "Dernier COPIL"),
        ],
    }
    return render(request, "reporting/plans.html", context)


THEMED_PER_PAGE = 50


@require_GET
def themes(request: HttpRequest) -> HttpResponse:
    """The CAF's fields of action, each with how many fiches of the plans the user may read it
    tags; choosing one (a link, or the form without JavaScript) opens its fiches."""
    chosen = request.GET.get("thematique", "")
    if chosen:
        theme = Theme.objects.filter(slug=chosen).first()
        if theme:
            return redirect(theme)
    return render(request, "reporting/themes.html", {"themes": themes_of(request.user), "chosen": chosen})


@require_GET
def theme_fiches(request: HttpRequest, slug: str) -> HttpResponse:
    """One theme across every plan the user may read (for the CAF's staff: every plan their CAF
    signed; for anyone else, the plans they hold a role on): each fiche with its territory,
    status, progress and financing, paged; the totals cover them all. The same queries for one
    plan as for fifty (tests/reporting/test_theme_view.py)."""
    # The theme, and the plans the user may read in the same query.
    theme = get_object_or_404(Theme.objects.annotate(plan_ids=readable_plan_ids(request.user)), slug=slug)
    audiences = list(Audience.objects.all())
    audience = next((a for a in audiences if a.slug == request.GET.get("public", "")), None)
    fiches = themed_fiches(theme.plan_ids or [], theme.slug, audience_slug=audience.slug if audience else "")
    totals = themed_totals(fiches)
    paginator = Paginator(fiches, THEMED_PER_PAGE)
    paginator.count = totals["fiches"]  # counted with the totals: no second COUNT(*)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = themed_page(page.object_list)
    context = {
        "theme": theme,
        "audiences": audiences,
        "audience": audience,
        "page": page,
        "totals": totals,
    }
    return render(request, "reporting/theme.html", context)


def _plan(request: HttpRequest, slug: str) -> Plan:
    return get_object_or_404(Plan.objects.visible_to(request.user), slug=slug)


@require_GET
def reports(request: HttpRequest, slug: str) -> HttpResponse:
    """The reports of a plan: ask for one, follow it, download it."""
    plan = _plan(request, slug)
    context = {
        "plan": plan,
        "years": range(plan.start_year, plan.end_year + 1),
        "current_year": min(max(timezone.localdate().year, plan.start_year), plan.end_year),
        "recent": plan.reports.defer("pdf").select_related("requested_by")[:10],
        # The evaluation closes a CTG; the next plan starts from here (its administrateurs only).
        "can_renew": may_renew(request.user, plan),
    }
    return render(request, "reporting/reports.html", context)


@repeatable  # asking again after a change must make a new report, however soon
@require_POST
def report_request(request: HttpRequest, slug: str) -> HttpResponse:
    plan = _plan(request, slug)
    try:
        year = int(request.POST["year"]) if request.POST.get("year") else None
        report, queued = request_report(plan, request.POST.get("kind", ""), year=year, user=request.user)
    except (ValueError, ReportError) as exc:
        message = str(exc) if isinstance(exc, ReportError) else "Année invalide."
        messages.error(request, f"{message} Aucun rapport n'a été demandé.")
        return redirect("reports", slug=plan.slug)
    if not queued:
        messages.info(request, "Le plan n'a pas changé depuis ce rapport : le voici.")
    return redirect("report_status", slug=plan.slug, pk=report.pk)


@require_GET
def report_status(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The progress of a report; htmx polls the partial until it is ready."""
    plan = _plan(request, slug)
    report = get_object_or_404(plan.reports.defer("pdf"), pk=pk)
    template = "reporting/report_status.html"
    if request.htmx:
        template += "#progress"
    return render(request, template, {"plan": plan, "report": report})


@require_GET
def report_download(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    plan = _plan(request, slug)
    report = get_object_or_404(plan.reports, pk=pk, status=ReportStatus.DONE)
    return _pdf_response(bytes(report.pdf), report.filename)


@require_GET
def fiche_pdf(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """One fiche for a meeting: a page or two, made in the request."""
    plan = _plan(request, slug)
    try:
        report = build_report("fiche", plan, number=number)
    except ReportError as exc:
        raise Http404(str(exc)) from exc
    return _pdf_response(report.pdf, report.filename)


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _managed(request: HttpRequest, slug: str) -> tuple[Plan, bool]:
    plan, access = get_plan_for_user(request.user, slug)
    return plan, access.can_manage


MANAGERS_ONLY = (
    "Seuls les administrateurs et coordinateurs du plan enregistrent les réunions et les décisions."
)


def _meeting(request: HttpRequest, slug: str, pk: int, *, write: bool = False):
    """The meeting and whether the user may change it: 404 if they may not read the plan, 403
    for a write by someone who may only read it."""
    plan, can_manage = _managed(request, slug)
    meeting = get_object_or_404(plan.meetings.prefetch_related(_DECISIONS), pk=pk)
    if write and not can_manage:
        raise PermissionDenied(MANAGERS_ONLY)
    return plan, meeting, can_manage


def _decision(request: HttpRequest, slug: str, pk: int) -> tuple[Plan, Decision]:
    """A decision of the plan, for a write by its administrateurs and coordinateurs."""
    plan, can_manage = _managed(request, slug)
    decision = get_object_or_404(
        Decision.objects.of_plan(plan).select_related("meeting", "status_changed_by"), pk=pk
    )
    if not can_manage:
        raise PermissionDenied(MANAGERS_ONLY)
    return plan, decision


_DECISIONS = Prefetch(
    "decisions", queryset=Decision.objects.select_related("status_changed_by").prefetch_related("actions")
)


def _back(request: HttpRequest, default: str) -> str:
    """Where a plain form returns: the page it was sent from, if it is ours."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@require_http_methods(["GET", "POST"])
def meetings(request: HttpRequest, slug: str) -> HttpResponse:
    """The plan's COPIL, COTECH and working groups; administrateurs and coordinateurs add them."""
    plan, can_manage = _managed(request, slug)
    form = MeetingForm(request.POST or None) if can_manage else None
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied(MANAGERS_ONLY)
        if form.is_valid():
            meeting = form.save(commit=False)
            meeting.plan = plan
            meeting._history_user = request.user
            meeting.save()
            messages.success(request, f"{meeting} enregistré.")
            return redirect("meeting_detail", slug=plan.slug, pk=meeting.pk)
    context = {
        "plan": plan,
        "form": form,
        "can_manage": can_manage,
        "meetings": plan.meetings.prefetch_related("decisions"),
    }
    return render(request, "reporting/meetings.html", context, status=422 if form and form.errors else 200)


@require_http_methods(["GET", "POST"])
def meeting_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    plan, meeting, can_manage = _meeting(request, slug, pk, write=request.method == "POST")
    form = DecisionForm(request.POST or None, plan=plan) if can_manage else None
    if request.method == "POST" and form.is_valid():
        decision = form.save(commit=False)
        decision.meeting = meeting
        decision.status_changed_at, decision.status_changed_by = timezone.now(), request.user
        decision._history_user = request.user
        decision.save()
        form.save_m2m()
        messages.success(request, "Décision enregistrée.")
        return redirect("meeting_detail", slug=plan.slug, pk=meeting.pk)
    context = {
        "plan": plan,
        "meeting": meeting,
        "form": form,
        "can_manage": can_manage,
        "documents": documents.meeting_documents(meeting),
    }
    return render(
        request, "reporting/meeting_detail.html", context, status=422 if form and form.errors else 200
    )


@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    plan, meeting, _ = _meeting(request, slug, pk, write=True)
    form = MeetingForm(request.POST or None, instance=meeting)
    if request.method == "POST" and form.is_valid():
        meeting = form.save(commit=False)
        meeting._history_user = request.user
        meeting.save()
        messages.success(request, f"{meeting} modifié.")
        return redirect("meeting_detail", slug=plan.slug, pk=meeting.pk)
    context = {"plan": plan, "meeting": meeting, "form": form}
    return render(request, "reporting/meeting_form.html", context, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def meeting_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Asks first (a page that works without JavaScript), deletes on POST."""
    plan, meeting, _ = _meeting(request, slug, pk, write=True)
    if request.method == "POST":
        label = str(meeting)
        meeting._history_user = request.user
        for decision in meeting.decisions.all():
            decision._history_user = request.user
            decision.delete()
        documents.delete_files_of(meeting.documents.all())
        meeting.delete()
        messages.success(request, f"{label} supprimé, avec ses décisions et ses documents.")
        return redirect("meetings", slug=plan.slug)
    context = {
        "plan": plan,
        "object": f"la réunion « {meeting} »",
        "consequence": (
            f"Ses {len(meeting.decisions.all())} décision(s) et ses {meeting.documents.count()} "
            "document(s) seront supprimés aussi."
        ),
        "cancel_url": reverse("meeting_detail", kwargs={"slug": plan.slug, "pk": meeting.pk}),
    }
    return render(request, "reporting/confirm_delete.html", context)


@require_POST
def decision_status(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Mark a decision taken, postponed or dropped; htmx swaps the decision in place."""
    plan, decision = _decision(request, slug, pk)
    form = DecisionStatusForm(request.POST)
    if form.is_valid():
        if form.cleaned_data["status"] != decision.status:
            decision.set_status(form.cleaned_data["status"], by=request.user)
    elif not request.htmx:
        messages.error(request, "État inconnu : rien n'a été enregistré.")
    default = reverse("meeting_detail", kwargs={"slug": plan.slug, "pk": decision.meeting_id})
    if request.htmx:
        context = {"plan": plan, "decision": decision, "can_manage": True, "status_form": form}
        return render(request, "includes/decision.html", context, status=200 if form.is_valid() else 422)
    if form.is_valid():
        messages.success(request, f"Décision « {decision} » : {decision.get_status_display().lower()}.")
    return redirect(_back(request, default))


@require_http_methods(["GET", "POST"])
def decision_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    plan, decision = _decision(request, slug, pk)
    form = DecisionForm(request.POST or None, instance=decision, plan=plan)
    if request.method == "POST" and form.is_valid():
        status_changed = "status" in form.changed_data
        decision = form.save(commit=False)
        if status_changed:
            decision.status_changed_at, decision.status_changed_by = timezone.now(), request.user
        decision._history_user = request.user
        decision.save()
        form.save_m2m()
        messages.success(request, "Décision modifiée.")
        return redirect("meeting_detail", slug=plan.slug, pk=decision.meeting_id)
    context = {"plan": plan, "meeting": decision.meeting, "decision": decision, "form": form}
    return render(request, "reporting/decision_form.html", context, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def decision_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    plan, decision = _decision(request, slug, pk)
    meeting_url = reverse("meeting_detail", kwargs={"slug": plan.slug, "pk": decision.meeting_id})
    if request.method == "POST":
        decision._history_user = request.user
        decision.delete()
        messages.success(request, "Décision supprimée.")
        return redirect(meeting_url)
    context = {"plan": plan, "object": f"la décision « {decision} »", "cancel_url": meeting_url}
    return render(request, "reporting/confirm_delete.html", context)


# ---------------------------------------------------------------------------
# Spreadsheet exports


@require_GET
def export(request: HttpRequest, slug: str, what: str, fmt: str) -> HttpResponse:
    """The fiches of the list, with its filters (same query string), or what they hold."""
    plan = _plan(request, slug)
    if what not in exports.EXPORTS or fmt not in exports.FORMATS:
        raise Http404(
            "Cet export n'existe pas : choisissez fiches, etapes, calendrier, partenaires, "
            "notes, indicateurs, financements ou financements-totaux, au format xlsx, ods ou csv."
        )
    today = timezone.localdate()
    file_format = exports.FORMATS[fmt]
    content = file_format.render(exports.dataset(plan, what, request.GET, today))
    response = HttpResponse(content, content_type=file_format.content_type)
    response["Content-Disposition"] = f'attachment; filename="{plan.slug}-{what}-{today:%Y-%m-%d}.{fmt}"'
    return response


# ---------------------------------------------------------------------------
# Calendar feeds: agendas fetch them without a session, the secret address is the key.


def _feed_owner(token: str):
    user = CalendarFeedToken.objects.owner(token)
    if user is None:
        raise Http404("Cette adresse de calendrier n'existe pas ou n'est plus valable.")
    return user


def _ics_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text.encode(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}.ics"'
    response["Cache-Control"] = "private, no-cache"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@login_not_required
@require_safe
def plan_calendar_feed(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    user = _feed_owner(token)
    plan = get_object_or_404(Plan.objects.visible_to(user), slug=slug)
    actions = Action.objects.visible_to(user).filter(plan=plan)
    events = ics.plan_events(plan, actions, request.build_absolute_uri)
    return _ics_response(ics.calendar(f"CTG {plan.territory}", events), f"ctg-{plan.slug}")


@login_not_required
@require_safe
def commune_calendar_feed(request: HttpRequest, slug: str, insee: str, token: str) -> HttpResponse:
    """What concerns one commune: the fiches it pilots, partners or has steps in; the meetings."""
    user = _feed_owner(token)
    plan = get_object_or_404(Plan.objects.visible_to(user), slug=slug)
    commune = _commune(plan, insee)
    actions = Action.objects.visible_to(user).filter(plan=plan).concerning(commune)
    events = ics.plan_events(plan, actions, request.build_absolute_uri)
    name = f"CTG {plan.territory} — {commune.name}"
    return _ics_response(ics.calendar(name, events), f"ctg-{plan.slug}-{commune.url_key}")


@require_POST
def calendar_feed_token(request: HttpRequest) -> HttpResponse:
    """Make the user's secret calendar address, or replace it (`renew`) when it has leaked."""
    renew = request.POST.get("renew") == "1"
    CalendarFeedToken.objects.issue(request.user, renew=renew)
    if renew:
        messages.success(request, "Nouvelle adresse d'abonnement créée : l'ancienne ne fonctionne plus.")
    else:
        messages.success(request, "Votre adresse d'abonnement au calendrier est prête.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("home")
    return redirect(f"{target}#abonnement")


def calendar_feed_link(request: HttpRequest, url_name: str, **kwargs) -> dict | None:
    """The user's feed address for a page, if they asked for one already. One query."""
    feed = CalendarFeedToken.objects.filter(user=request.user).only("token").first()
    return _feed_link(request, feed.token if feed else None, url_name, **kwargs)


def _feed_link(request: HttpRequest, token: str | None, url_name: str, **kwargs) -> dict | None:
    if token is None:
        return None
    url = request.build_absolute_uri(reverse(url_name, kwargs={**kwargs, "token": token}))
    return {"url": url, "webcal": "webcal://" + url.split("://", 1)[1]}


# ---------------------------------------------------------------------------
# Reminders: the account's preferences and the one-click unsubscribe (reporting.reminders)


@require_http_methods(["GET", "POST"])
def reminder_preferences(request: HttpRequest) -> HttpResponse:
    form = ReminderPreferenceForm(request.POST or None, instance=preference_of(request.user))
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Vos préférences de rappel sont enregistrées.")
        return redirect("reminder_preferences")
    return render(
        request, "reporting/reminder_preferences.html", {"form": form}, status=422 if form.errors else 200
    )


@login_not_required
@csrf_exempt  # RFC 8058: mail clients POST the link without any token; it can only unsubscribe
@require_http_methods(["GET", "POST"])
def reminders_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirmation button; POST (the button, or a mail client's one-click
    `List-Unsubscribe=One-Click`) sets the signed user's reminders to "jamais"."""
    user_pk = user_pk_from_token(token)
    user = get_user_model().objects.filter(pk=user_pk).first() if user_pk is not None else None
    if user is None:
        return render(request, "reporting/unsubscribe_invalid.html", status=400)
    if request.method == "POST":
        ReminderPreference.objects.update_or_create(user=user, defaults={"frequency": Frequency.NEVER})
        return render(request, "reporting/unsubscribe.html", {"done": True, "email": user.email})
    return render(request, "reporting/unsubscribe.html", {"done": False, "email": user.email})


# ---------------------------------------------------------------------------
# The next plan (reporting.renewal)


@require_http_methods(["GET", "POST"])
def plan_renew(request: HttpRequest, slug: str) -> HttpResponse:
    """Start the next plan from this one: administrateurs of the plan and superusers only (404
    for those who may not read the plan, 403 for those who may only read it)."""
    plan = _plan(request, slug)
    if not may_renew(request.user, plan):
        if plan.closed_at is not None:
            raise PermissionDenied("Ce plan est clos : il a déjà été renouvelé.")
        raise PermissionDenied("Seuls les administrateurs du plan peuvent le renouveler.")
    actions = list(Action.objects.filter(plan=plan).order_by("number"))
    form = RenewalForm(request.POST or None, plan=plan, actions=actions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            renewal = renew_plan(
                plan,
                slug=data["slug"],
                title=data["title"],
                start_year=data["start_year"],
                end_year=data["end_year"],
                numbers=data["carry"],
                by=request.user,
            )
        except RenewalError as exc:
            raise PermissionDenied(str(exc)) from exc
        messages.success(
            request,
            f"Le plan {renewal.plan.start_year}-{renewal.plan.end_year} est créé avec "
            f"{len(renewal.carried)} fiche(s) poursuivie(s) ; le plan {plan.start_year}-{plan.end_year} "
            "est désormais clos, en lecture seule.",
        )
        return redirect("plan_renewal", slug=renewal.plan.slug)
    context = {"plan": plan, "form": form}
    return render(request, "reporting/renew.html", context, status=422 if form.errors else 200)


@require_GET
def plan_renewal(request: HttpRequest, slug: str) -> HttpResponse:
    """What a renewal carried: each fiche of the new plan and the fiche it carries on."""
    plan = _plan(request, slug)
    fiches = (
        Action.objects.filter(plan=plan, previous__isnull=False)
        .select_related("previous__plan")
        .order_by("number")
    )
    previous_plan = fiches[0].previous.plan if fiches else None
    return render(
        request,
        "reporting/renewal_result.html",
        {"plan": plan, "fiches": fiches, "previous_plan": previous_plan},
    )
