"""The ways into a plan's fiches: the plan's page (its axes and their fiches), "Mes fiches" (what a
contributeur may update, next échéance first) and the search across the plan (fiches, steps,
partners, conditions, notes). Routed in ctg/urls.py. The plan's page lives here, not in axes:
it shows fiches, and axes never imports actions."""

import datetime

from django.db.models import Min, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from actions.listing import plan_page
from actions.models import Action, ActionPartner, Condition, Note, Step
from actions.search import fold, matching
from axes.models import Plan
from axes.permissions import get_plan_for_user
from partners.models import OrganisationKind

SEARCH_LIMIT = 50
NEVER = datetime.date.max


@require_GET
def plan_detail(request: HttpRequest, slug: str) -> HttpResponse:
    plan, access = get_plan_for_user(request.user, slug)
    can_manage = access.can_manage
    # Paged: a plan may hold a thousand fiches (issue 10).
    context = {
        "plan": plan,
        "can_manage": can_manage,
        "partners": plan_partners(plan),
        **plan_page(plan, request.GET.get("page")),
    }
    return render(request, "axes/plan_detail.html", context)


def plan_partners(plan: Plan) -> list:
    """The organisations the plan declares, communes aside (the territory), by kind in the
    order of OrganisationKind, then by name. One query."""
    order = {kind: i for i, kind in enumerate(OrganisationKind.values)}
    partners = plan.partners.exclude(kind=OrganisationKind.COMMUNE)
    return sorted(partners, key=lambda org: (order.get(org.kind, len(order)), org.name))


@require_GET
def my_actions(request: HttpRequest, slug: str) -> HttpResponse:
    """The fiches the user may update and the steps of the communes they represent on this plan,
    the fiche whose next échéance comes first at the top; late ones first of all."""
    plan = get_object_or_404(Plan.objects.visible_to(request.user), slug=slug)
    today = timezone.localdate()
    fiches = Action.objects.filter(plan=plan)
    actions = list(
        fiches.editable_by(request.user)
        .for_listing()
        .annotate(next_due=Min("calendar_entries__end", filter=Q(calendar_entries__end__gte=today)))
    )
    actions.sort(key=lambda a: (not a.is_late, a.next_due or NEVER, a.number))
    # Steps tied to a commune the user represents here (on any fiche), not those of its own
    # fiches, already listed above.
    steps = list(
        Step.objects.editable_by(request.user)
        .filter(
            action__in=fiches,
            commune__isnull=False,
            commune__in=plan.roles.filter(user=request.user).values("organisations"),
        )
        .exclude(action__in=[a.pk for a in actions])
        .select_related("action", "commune")
        .order_by("done", "action__number", "position", "pk")
    )
    # Their fiches, for their échéance and lateness.
    steps_fiches = {
        a.pk: a
        for a in fiches.filter(pk__in={s.action_id for s in steps})
        .with_deadline(today)
        .annotate(next_due=Min("calendar_entries__end", filter=Q(calendar_entries__end__gte=today)))
    }
    for step in steps:
        step.fiche = steps_fiches[step.action_id]
    steps.sort(
        key=lambda s: (s.done, not s.fiche.is_late, s.fiche.next_due or NEVER, s.fiche.number, s.position)
    )
    context = {"plan": plan, "actions": actions, "steps": steps, "today": today}
    return render(request, "actions/my_actions.html", context)


@require_GET
def plan_search(request: HttpRequest, slug: str) -> HttpResponse:
    plan = get_object_or_404(Plan.objects.visible_to(request.user), slug=slug)
    query = request.GET.get("q", "").strip()[:200]
    groups = []
    if fold(query):
        fiches = Action.objects.filter(plan=plan)
        in_plan = {"action__in": fiches}
        groups = [
            (
                "fiches",
                "Fiches-actions",
                "",
                [
                    (a, a.title, a.pilotage)
                    for a in matching(fiches, query, "title", "fiche_title", "pilotage")
                    .select_related("plan")
                    .order_by("number")[:SEARCH_LIMIT]
                ],
            ),
            (
                "etapes",
                "Étapes",
                "etapes",
                [
                    (s.action, s.text, s.commune.name if s.commune else "")
                    for s in matching(Step.objects.filter(**in_plan), query, "text")
                    .select_related("action__plan", "commune")
                    .order_by("action__number", "position", "pk")[:SEARCH_LIMIT]
                ],
            ),
            (
                "partenaires",
                "Partenaires",
                "partenaires",
                [
                    (p.action, p.name, p.role)
                    for p in matching(ActionPartner.objects.filter(**in_plan), query, "name", "role")
                    .select_related("action__plan")
                    .order_by("action__number", "pk")[:SEARCH_LIMIT]
                ],
            ),
            (
                "conditions",
                "Conditions de réussite et moyens",
                "conditions",
                [
                    (c.action, c.text, "")
                    for c in matching(Condition.objects.filter(**in_plan), query, "text")
                    .select_related("action__plan")
                    .order_by("action__number", "pk")[:SEARCH_LIMIT]
                ],
            ),
            (
                "notes",
                "Notes de suivi",
                "notes",
                [
                    (n.action, n.text, n.date)
                    for n in matching(Note.objects.filter(**in_plan), query, "text")
                    .select_related("action__plan")
                    .order_by("-date", "-pk")[:SEARCH_LIMIT]
                ],
            ),
        ]
    context = {
        "plan": plan,
        "search_query": query,
        "groups": groups,
        "total": sum(len(found) for _, _, _, found in groups),
        "limit": SEARCH_LIMIT,
    }
    return render(request, "actions/search.html", context)
