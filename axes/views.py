from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from axes.forms import InviteForm, RoleForm
from axes.models import Finding, Plan, PlanRole, Role
from axes.services import awaits_first_sign_in, invite, link_validity, send_invitation


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
    can_manage = Plan.objects.managed_by(request.user).filter(pk=plan.pk).exists()
    return render(request, "axes/plan_detail.html", {"plan": plan, "axes": axes, "can_manage": can_manage})


def _managed_plan(request: HttpRequest, slug: str) -> Plan:
    """The plan, if the user manages its members: 404 if they may not read it, 403 if only read."""
    plan = get_object_or_404(Plan.objects.visible_to(request.user), slug=slug)
    if not Plan.objects.managed_by(request.user).filter(pk=plan.pk).exists():
        raise PermissionDenied("Seuls les administrateurs et coordinateurs du plan gèrent ses membres.")
    return plan


def _can_grant_admin(user, plan: Plan) -> bool:
    return user.is_superuser or plan.roles.filter(user=user, role=Role.ADMIN).exists()


@require_http_methods(["GET", "POST"])
def plan_members(request: HttpRequest, slug: str) -> HttpResponse:
    plan = _managed_plan(request, slug)
    can_grant_admin = _can_grant_admin(request.user, plan)
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
    plan = _managed_plan(request, slug)
    role = get_object_or_404(plan.roles.select_related("user"), pk=pk)
    can_grant_admin = _can_grant_admin(request.user, plan)
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
        messages.success(request, f"{role.user} est maintenant {role.get_role_display().lower()}.")
    else:
        messages.error(request, "Rôle non reconnu : rien n'a été modifié.")
    return redirect("plan_members", slug=plan.slug)


@require_POST
def plan_member_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    plan, role, _ = _editable_role(request, slug, pk)
    role.delete()
    messages.success(request, f"{role.user} n'a plus accès au plan.")
    return redirect("plan_members", slug=plan.slug)


@require_POST
def plan_member_reinvite(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A new invitation link for someone who has not signed in yet (theirs may have expired)."""
    plan = _managed_plan(request, slug)
    role = get_object_or_404(plan.roles.select_related("user", "plan"), pk=pk)
    if not awaits_first_sign_in(role.user):
        messages.error(request, f"{role.user} a déjà choisi son mot de passe : aucune invitation renvoyée.")
    else:
        send_invitation(role, by=request.user, base_url=f"{request.scheme}://{request.get_host()}")
        messages.success(request, f"Invitation renvoyée à {role.user.email}.")
    return redirect("plan_members", slug=plan.slug)
