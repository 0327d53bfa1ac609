from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from axes.forms import InviteForm, RoleForm
from axes.models import Plan, PlanRole, Role
from axes.permissions import PlanAccess, get_plan_for_user
from axes.services import awaits_first_sign_in, invite, link_validity, send_invitation


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Where each role starts (also right after signing in): the élu and the CAF on the
    dashboard, a contributeur on "Mes fiches", coordination on the plan page; someone who
    follows several plans on the list of them (the CAF's staff on their overview)."""
    user = request.user
    plans = list(Plan.objects.visible_to(user))
    roles = {role.plan_id: role.role for role in PlanRole.objects.filter(user=user)}
    if len(plans) == 1 and not user.is_superuser:
        plan = plans[0]
        role = roles.get(plan.pk)
        if role in (None, Role.READER):  # None: a CAF's staff, reading every plan it signed
            return redirect("dashboard", slug=plan.slug)
        if role == Role.CONTRIBUTOR:
            return redirect("my_actions", slug=plan.slug)
        return redirect(plan)
    if len(plans) == 1:
        return redirect(plans[0])
    if plans and not roles and not user.is_superuser:
        # Reads these plans only as a CAF's staff: their overview says more than a list.
        return redirect("plans_dashboard")
    return render(request, "axes/home.html", {"plans": plans})


def _managed_plan(request: HttpRequest, slug: str) -> tuple[Plan, PlanAccess]:
    """The plan, if the user manages its members: 404 if they may not read it, 403 if only read."""
    return get_plan_for_user(
        request.user, slug, manage="Seuls les administrateurs et coordinateurs du plan gèrent ses membres."
    )


@require_http_methods(["GET", "POST"])
def plan_members(request: HttpRequest, slug: str) -> HttpResponse:
    plan, access = _managed_plan(request, slug)
    can_grant_admin = access.can_administer
    form = InviteForm(
        request.POST or None,
        plan=plan,
        can_grant_admin=can_grant_admin,
        is_superuser=request.user.is_superuser,
    )
    if request.method == "POST" and form.is_valid():
        user, _ = invite(
            plan,
            **form.cleaned_data,
            by=request.user,
            base_url=f"{request.scheme}://{request.get_host()}",
        )
        # The same words whether the account existed or not: nothing disclosed about others.
        messages.success(request, f"Invitation envoyée à {user.email}.")
        return redirect("plan_members", slug=plan.slug)
    roles = plan.roles.select_related("user").prefetch_related("organisations")
    context = {
        "plan": plan,
        "form": form,
        "roles": [
            (
                role,
                RoleForm(
                    initial={"role": role.role}, can_grant_admin=can_grant_admin, auto_id=f"role-{role.pk}-%s"
                )
                if _refusal(request.user, role, can_grant_admin) is None
                else None,
                awaits_first_sign_in(role.user),
            )
            for role in roles
        ],
        "can_grant_admin": can_grant_admin,
        "link_validity": link_validity(),
    }
    return render(request, "axes/plan_members.html", context, status=422 if form.errors else 200)


def _refusal(user, role: PlanRole, can_grant_admin: bool) -> str | None:
    """Why `user`, a manager of the plan, may not change or remove this role; None if they may."""
    if role.user_id == user.pk:
        return "Vous ne pouvez pas modifier ni retirer votre propre rôle."
    if role.role == Role.ADMIN and not can_grant_admin:
        return "Seul un administrateur modifie le rôle d'un administrateur."
    return None


def _editable_role(request: HttpRequest, slug: str, pk: int) -> tuple[Plan, PlanRole, bool]:
    plan, access = _managed_plan(request, slug)
    role = get_object_or_404(plan.roles.select_related("user"), pk=pk)
    can_grant_admin = access.can_administer
    refusal = _refusal(request.user, role, can_grant_admin)
    if refusal:
        raise PermissionDenied(refusal)
    return plan, role, can_grant_admin


@require_POST
def plan_member_role(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    plan, role, can_grant_admin = _editable_role(request, slug, pk)
    form = RoleForm(request.POST, can_grant_admin=can_grant_admin)
    if form.is_valid():
        role.role = form.cleaned_data["role"]
        role.save()
        messages.success(request, f"{role.user} a maintenant le rôle « {role.get_role_display()} ».")
    else:
        messages.error(request, "Rôle non reconnu : rien n'a été modifié.")
    return redirect("plan_members", slug=plan.slug)


@require_http_methods(["GET", "POST"])
def plan_member_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Asks first (a page, so it works without JavaScript), removes on POST."""
    plan, role, _ = _editable_role(request, slug, pk)
    if request.method == "POST":
        role.delete()
        messages.success(request, f"{role.user} n'a plus accès au plan.")
        return redirect("plan_members", slug=plan.slug)
    return render(request, "axes/plan_member_remove.html", {"plan": plan, "role": role})


@require_POST
def plan_member_reinvite(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A new invitation link for someone who has not signed in yet (theirs may have expired)."""
    plan, _ = _managed_plan(request, slug)
    role = get_object_or_404(plan.roles.select_related("user", "plan"), pk=pk)
    if not awaits_first_sign_in(role.user):
        messages.error(request, f"{role.user} a déjà choisi son mot de passe : aucune invitation renvoyée.")
    else:
        send_invitation(role, by=request.user, base_url=f"{request.scheme}://{request.get_host()}")
        messages.success(request, f"Invitation renvoyée à {role.user.email}.")
    return redirect("plan_members", slug=plan.slug)


# ---------------------------------------------------------------------------
# The legal pages: public, the operator's details from settings (CTG_OPERATOR_*).


def _operator() -> dict:
    return {
        "name": settings.CTG_OPERATOR_NAME,
        "address": settings.CTG_OPERATOR_ADDRESS,
        "email": settings.CTG_OPERATOR_EMAIL,
        "director": settings.CTG_PUBLICATION_DIRECTOR,
        "dpo_email": settings.CTG_DPO_EMAIL or settings.CTG_OPERATOR_EMAIL,
        "host_name": settings.CTG_HOST_NAME,
        "host_address": settings.CTG_HOST_ADDRESS,
        "audit_date": settings.CTG_ACCESSIBILITY_AUDIT_DATE,
    }


@login_not_required
@require_GET
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "legal/accessibility.html", {"operator": _operator()})


@login_not_required
@require_GET
def legal_notice(request: HttpRequest) -> HttpResponse:
    return render(request, "legal/legal_notice.html", {"operator": _operator()})


@login_not_required
@require_GET
def personal_data(request: HttpRequest) -> HttpResponse:
    context = {"operator": _operator(), "lockout_minutes": settings.SIGNIN_LOCKOUT_MINUTES}
    return render(request, "legal/personal_data.html", context)
