from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from axes.models import Plan
from reporting.forms import DecisionForm, MeetingForm
from reporting.models import ReportStatus
from reporting.overview import commune_overview, plan_overview, plans_side_by_side
from reporting.reports import ReportError, build_report, request_report


@require_GET
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    plan = get_object_or_404(Plan.objects.visible_to(request.user), slug=slug)
    context = {"plan": plan, "o": plan_overview(plan), "communes": plan.communes.order_by("name")}
    return render(request, "reporting/dashboard.html", context)


@require_GET
def commune_dashboard(request: HttpRequest, slug: str, insee: str) -> HttpResponse:
    plan = get_object_or_404(Plan.objects.visible_to(request.user), slug=slug)
    commune = get_object_or_404(plan.communes, insee=insee)
    return render(request, "reporting/commune.html", {"plan": plan, "c": commune_overview(plan, commune)})


@require_GET
def plans_dashboard(request: HttpRequest) -> HttpResponse:
    """Every plan the user may read, side by side: for the CAF, every plan it signed."""
    lines = plans_side_by_side(Plan.objects.visible_to(request.user).order_by("territory"))
    return render(request, "reporting/plans.html", {"lines": lines})


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
    }
    return render(request, "reporting/reports.html", context)


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
    plan = _plan(request, slug)
    return plan, Plan.objects.managed_by(request.user).filter(pk=plan.pk).exists()


@require_http_methods(["GET", "POST"])
def meetings(request: HttpRequest, slug: str) -> HttpResponse:
    """The plan's COPIL, COTECH and working groups; administrateurs and coordinateurs add them."""
    plan, can_manage = _managed(request, slug)
    form = MeetingForm(request.POST or None) if can_manage else None
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied(
                "Seuls les administrateurs et coordinateurs du plan enregistrent les réunions."
            )
        if form.is_valid():
            meeting = form.save(commit=False)
            meeting.plan = plan
            meeting.save()
            messages.success(request, f"{meeting} enregistré.")
            return redirect("meeting_detail", slug=plan.slug, pk=meeting.pk)
    context = {
        "plan": plan,
        "form": form,
        "can_manage": can_manage,
        "meetings": plan.meetings.prefetch_related("decisions__actions"),
    }
    return render(request, "reporting/meetings.html", context, status=422 if form and form.errors else 200)


@require_http_methods(["GET", "POST"])
def meeting_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    plan, can_manage = _managed(request, slug)
    meeting = get_object_or_404(plan.meetings.prefetch_related("decisions__actions"), pk=pk)
    form = DecisionForm(request.POST or None, plan=plan) if can_manage else None
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied(
                "Seuls les administrateurs et coordinateurs du plan enregistrent les décisions."
            )
        if form.is_valid():
            decision = form.save(commit=False)
            decision.meeting = meeting
            decision.save()
            form.save_m2m()
            messages.success(request, "Décision enregistrée.")
            return redirect("meeting_detail", slug=plan.slug, pk=meeting.pk)
    context = {"plan": plan, "meeting": meeting, "form": form, "can_manage": can_manage}
    return render(
        request, "reporting/meeting_detail.html", context, status=422 if form and form.errors else 200
    )
