from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from axes.models import Plan
from reporting.overview import commune_overview, plan_overview, plans_side_by_side


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
