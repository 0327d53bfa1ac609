from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from axes.models import Finding, Plan


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    plans = list(Plan.objects.visible_to(request.user))
    if len(plans) == 1:
        return redirect(plans[0])
    return render(request, "axes/home.html", {"plans": plans})


@require_GET
def plan_detail(request: HttpRequest, slug: str) -> HttpResponse:
    # Imported here: reporting → actions → axes is the direction of dependencies, and the plan
    # page is the one place where axes needs its fiches.
    from actions.models import Action

    plan = get_object_or_404(Plan.objects.visible_to(request.user), slug=slug)
    axes = plan.axes.prefetch_related(
        Prefetch("findings", queryset=Finding.objects.all()),
        Prefetch("actions", queryset=Action.objects.for_listing(), to_attr="listed_actions"),
    )
    return render(request, "axes/plan_detail.html", {"plan": plan, "axes": axes})
