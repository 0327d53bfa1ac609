"""Writes across several models: inviting someone onto a plan."""

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from axes.models import Plan, PlanRole, Role


@transaction.atomic
def invite(plan: Plan, *, email, role, organisation=None, first_name="", last_name="", by, base_url: str):
    """Give the person with this email a role on the plan, creating their account if needed,
    and send them a link to choose their password (a new account has none)."""
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User(username=email, email=email, first_name=first_name, last_name=last_name)
        user.set_unusable_password()
        user.save()
    plan_role = PlanRole.objects.create(plan=plan, user=user, role=role)
    if organisation:
        plan_role.organisations.add(organisation)
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
        if created
        else f"Votre compte existant ({user.get_username()}) y a désormais accès.\n"
        f"Mot de passe oublié ? {link}\n"
    )
    send_mail(
        subject=f"Suivi CTG : invitation au plan {plan.territory}",
        message=(
            f"Bonjour,\n\n{inviter} vous invite à suivre le plan d'action de la CTG « {plan.territory} » "
            f"dans Suivi CTG, en tant que {Role(role).label.lower()}.\n\n{account}\nSuivi CTG\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )
    return user, created
