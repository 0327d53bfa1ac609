"""Lists of fiches, paged: the fiches list (with its filters) and the plan page (by axis).

A plan can hold a thousand fiches: a page draws PER_PAGE of them, and what the list says of
all of them (how many, by status, how many late) is counted in SQL, never by loading them.
"""

from __future__ import annotations

import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q

from actions.models import Action, Status
from axes.models import Plan

PER_PAGE = 50


def _page(queryset, number, count: int | None = None) -> Page:
    paginator = Paginator(queryset, PER_PAGE)
    if count is not None:
        paginator.count = count  # counted already with the figures: no second COUNT(*)
    return paginator.get_page(number)


def fiches_list(plan: Plan, form, page_number, today: datetime.date) -> dict:
    """The context of the fiches list: the page of fiches matching the form's filters, their
    counts by status and late (over every match, not only the page), the plan's total.
    Three queries besides the form's."""
    matching = form.filter(Action.objects.filter(plan=plan).with_deadline(today), today)
    figures = matching.aggregate(
        shown=Count("pk"),
        late=Count("pk", filter=Q(is_late=True)),
        **{status.value: Count("pk", filter=Q(status=status)) for status in Status},
    )
    page = _page(matching.select_related("axis", "plan").order_by("number"), page_number, figures["shown"])
    return {
        "page": page,
        "actions": page.object_list,
        "shown": figures["shown"],
        "total": Action.objects.filter(plan=plan).count(),
        "status_counts": [(status.label, figures[status.value]) for status in Status],
        "late_count": figures["late"],
    }


def plan_page(plan: Plan, page_number) -> dict:
    """The plan page's axes (with their diagnostic), each with `listed_actions`, its fiches on
    one page of the plan's fiches taken in axis then number order. An axis shows where its
    fiches are; an axis without fiches on the first page. Five queries."""
    fiches = Action.objects.filter(plan=plan).with_deadline().select_related("axis", "plan", "objective")
    # Under their objective where the plan has that level (no objective: number order, as ever).
    page = _page(
        fiches.order_by("axis__number", "objective__position", "objective__pk", "number"), page_number
    )
    on_page: dict[int, list] = {}
    for action in page.object_list:
        on_page.setdefault(action.axis_id, []).append(action)
    axes = []
    for axis in plan.axes.prefetch_related("findings").annotate(
        fiches=Count("actions", filter=Q(actions__archived_at=None))
    ):
        if axis.pk in on_page or (not axis.fiches and page.number == 1):
            axis.listed_actions = on_page.get(axis.pk, [])
            axes.append(axis)
    return {"page": page, "axes": axes}
