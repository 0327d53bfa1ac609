"""Writes across several models: inviting someone onto a plan."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from axes.models import Plan, PlanRole, Role


def awaits_first_sign_in(user) -> bool:
    """Invited and never signed in: no password chosen yet. Such a person may ask for a new
    link ("mot de passe oublié") and be invited again."""
    return user.last_login is None and not user.has_usable_password()


def link_validity() -> str:
    """How long an invitation or password link stays valid, in words (PASSWORD_RESET_TIMEOUT)."""
    seconds = settings.PASSWORD_RESET_TIMEOUT
    if seconds % 86400 == 0:
        days = seconds // 86400
        return f"{days} jour{'s' if days > 1 else ''}"
    hours = max(1, seconds // 3600)
    return f"{hours} heure{'s' if hours > 1 else ''}"


def _free_username(email: str) -> str:
    """The address is the identifier, unless an account already holds it as its identifier with
    another address: then the next free `address-2`, `address-3`… (said in the invitation)."""
    User = get_user_model()
    username, n = email, 1
    while User.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{email[: 150 - len(str(n)) - 1]}-{n}"
    return username


@transaction.atomic
def invite(plan: Plan, *, email, role, organisation=None, first_name="", last_name="", by, base_url: str):
    """Give the person with this email a role on the plan, creating their account if needed,
    and send them a link to choose their password (a new account has none).

    Whatever the installation holds under this address, the inviter is told the same thing: the
    form must not disclose who has an account elsewhere."""
    User = get_user_model()
    # Several accounts with one address (made by hand in the admin): they all belong to whoever
    # reads that mailbox; the one used most recently gets the role.
    user = (
        User.objects.filter(email__iexact=email).order_by(F("last_login").desc(nulls_last=True), "pk").first()
    )
    created = user is None
    if created:
        user = User(username=_free_username(email), email=email, first_name=first_name, last_name=last_name)
        user.set_unusable_password()
        user.save()
    plan_role = PlanRole.objects.create(plan=plan, user=user, role=role)
    if organisation:
        plan_role.organisations.add(organisation)
    send_invitation(plan_role, by=by, base_url=base_url)
    return user, created


def send_invitation(plan_role: PlanRole, *, by, base_url: str) -> None:
    """The invitation mail, with a fresh link (valid PASSWORD_RESET_TIMEOUT): sent on invitation,
    and again when a manager resends it to someone who has not signed in yet."""
    user, plan = plan_role.user, plan_role.plan
    link = base_url + reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    inviter = by.get_full_name() or by.get_username()
    account = (
        f"Choisissez votre mot de passe pour activer votre compte :\n{link}\n"
        f"Votre identifiant : {user.get_username()}\n"
        if awaits_first_sign_in(user)
        else f"Votre compte existant ({user.get_username()}) y a désormais accès.\n"
        f"Mot de passe oublié ? {link}\n"
    )
    send_mail(
        subject=f"Suivi CTG : invitation au plan {plan.territory}",
        message=(
            f"Bonjour,\n\n{inviter} vous invite à suivre le plan d'action de la CTG « {plan.territory} » "
            f"dans Suivi CTG, avec le rôle « {Role(plan_role.role).label} ».\n\n{account}\n"
            f"Ce lien est valable {link_validity()} ; passé ce délai, demandez-en un autre depuis "
            "« Mot de passe oublié ? » sur la page de connexion.\n\nSuivi CTG\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )
