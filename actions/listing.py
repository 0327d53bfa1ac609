"""Lists of fiches, paged: the fiches list (with its filters) and the plan page (by axis).

A plan can hold a thousand fiches: a page draws PER_PAGE of them, and what the list says of
all of them (how many, by status, how many late) is counted in SQL, never by loading them.
"""

from __future__ import annotations

import datetime
import functools

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from actions import prepared
from actions.forms import DUE_SOON_DAYS, apply_filters
from actions.models import Action, Status
from actions.prepared import Prepared
from axes.models import Plan

PER_PAGE = 50


def _page(queryset, number, count: int | None = None) -> Page:
    paginator = Paginator(queryset, PER_PAGE)
    if count is not None:
        paginator.count = count  # counted already with the figures: no second COUNT(*)
    return paginator.get_page(number)


# ---------------------------------------------------------------------------
# The fiches list: the plan (with its total), the counts over every match, then the page when
# something matches, each compiled once per process (actions/prepared.py) and run with the
# request's values. (The page and the counts in one query, with window functions, cost SQLite
# more than both: it sorts every matching row whole before cutting the page.)


def _readable_plan(user, slug):
    fiches = Action.objects.filter(plan=OuterRef("pk")).order_by().values("plan").annotate(n=Count("pk"))
    return (
        Plan.objects.visible_to(user)
        .filter(slug=slug)
        .order_by()
        .annotate(fiche_total=Coalesce(Subquery(fiches.values("n")), 0))
    )


_PLAN = {
    superuser: Prepared(_readable_plan, user=prepared.stand_in_user(superuser=superuser), slug=prepared.TEXT)
    for superuser in (False, True)
}


def readable_plan(user, slug: str) -> Plan:
    """The plan of the fiches list if the user may read it (`Plan.objects.visible_to`; 404
    otherwise), with `fiche_total`, its number of fiches. One query."""
    if not user.is_authenticated:
        raise Http404("Plan introuvable.")
    found = _PLAN[user.is_superuser].run(user=user, slug=slug)
    if not found:
        raise Http404("Plan introuvable.")
    return found[0]


# Stand-ins of the list's values (actions/prepared.py): values no request sends, each its own.
_STAND_INS = {
    "plan": prepared.OBJECT_ID,
    "today": prepared.DAY,
    "until": datetime.date(1901, 4, 5),
    "axis": prepared.NUMBER,
    "status": "\x1fstatus\x1f",
    "pilot": 2_147_000_411,
    "partner": 2_147_000_412,
    "commune": 2_147_000_413,
    "theme": "\x1ftheme\x1f",
    "audience": "\x1faudience\x1f",
}
_BY_STATUS = {status.value: Count("pk", filter=Q(status=status)) for status in Status}


def _matching(plan, today, until, **filters):
    return apply_filters(Action.objects.filter(plan=plan).with_deadline(today), filters, today, until)


def _counts(**values):
    """How many fiches match, how many of them are late, how many in each status
    (ActionQuerySet.figures): one row (the plan's), none when nothing matches."""
    return _matching(**values).figures(values["today"], by="plan", **_BY_STATUS)


def _page_of_fiches(limit=None, offset=0, **values):
    fiches = _matching(**values).select_related("axis").order_by("number")
    return fiches if limit is None else fiches[offset : offset + limit]


_QUERIES: dict[tuple, Prepared] = {}


def _run(kind, filters: dict, **values) -> list:
    """The counts or a page of the fiches matching `filters`, their SQL compiled once for each
    combination of filters given (actions/prepared.py)."""
    build = _counts if kind == "counts" else _page_of_fiches
    values.update(filters)
    if "q" in filters:  # as many words as typed, folded (actions/search.py): through the ORM
        return list(build(**values))
    shape = (kind, *sorted(filters))
    query = _QUERIES.get(shape)
    if query is None:
        # "En retard" and "échéance dans les 3 mois" have no value: the SQL says them.
        flags = {name: True for name in ("late", "due_soon") if name in filters}
        stand_ins = {
            name: _STAND_INS[name] for name in ("plan", "today", "until", *filters) if name not in flags
        }
        kind_of_query = Prepared if kind == "counts" else prepared.PagedPrepared
        query = _QUERIES.setdefault(shape, kind_of_query(functools.partial(build, **flags), **stand_ins))
    for name in ("late", "due_soon"):
        values.pop(name, None)
    return query.run(**values)


def fiches_list(plan: Plan, form, page_number, today: datetime.date) -> dict:
    """The context of the fiches list: the page of fiches matching the form's filters, their
    counts by status and late (over every match, not only the page), the plan's total (`plan`
    comes from `readable_plan`). Two queries besides the form's; one when nothing matches."""
    filters = form.filters()
    values = {"plan": plan.pk, "today": today, "until": today + datetime.timedelta(days=DUE_SOON_DAYS)}
    counts = (_run("counts", filters, **values) or [dict.fromkeys(["fiches", "late", *_BY_STATUS], 0)])[0]
    paginator = Paginator((), PER_PAGE)
    paginator.count = counts["fiches"]  # counted already with the figures: no COUNT(*)
    try:  # as Paginator.get_page
        number = paginator.validate_number(page_number)
    except PageNotAnInteger:
        number = 1
    except EmptyPage:
        number = paginator.num_pages
    rows = []
    if counts["fiches"]:
        rows = _run("page", filters, **values, limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
    for action in rows:
        action.plan = plan
    return {
        "page": Page(rows, number, paginator),
        "actions": rows,
        "shown": counts["fiches"],
        "total": plan.fiche_total,
        "status_counts": [(status.label, counts[status.value]) for status in Status],
        "late_count": counts["late"],
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
