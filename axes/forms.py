import unicodedata

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.db.models import Q

from axes.models import Role
from axes.services import awaits_first_sign_in
from partners.models import Organisation, OrganisationKind


def invitable_organisations(plan, *, is_superuser: bool):
    """The organisations a person may represent on this plan: those the plan names (its
    communes, signatories, pilots, partners). A CAF's staff read every plan their CAF signed
    through their membership of it, which only installation administrators give (admin)."""
    named = Organisation.objects.filter(
        Q(territory_plans=plan)
        | Q(signed_plans=plan)
        | Q(piloted_actions__plan=plan)
        | Q(partnerships__action__plan=plan)
    ).values("pk")
    organisations = Organisation.objects.filter(pk__in=named)
    if not is_superuser:
        organisations = organisations.exclude(kind=OrganisationKind.CAF)
    return organisations.order_by("name")


def role_choices(*, can_grant_admin: bool):
    """A coordinateur manages the team but cannot make administrateurs."""
    return [(value, label) for value, label in Role.choices if can_grant_admin or value != Role.ADMIN]


class InviteForm(forms.Form):
    # 150: the account's identifier is the address, and Django's usernames stop there.
    email = forms.EmailField(label="Adresse électronique", max_length=150)
    first_name = forms.CharField(label="Prénom", max_length=150, required=False)
    last_name = forms.CharField(label="Nom", max_length=150, required=False)
    role = forms.ChoiceField(label="Rôle")
    organisation = forms.ModelChoiceField(
        label="Organisation",
        queryset=Organisation.objects.none(),
        required=False,
        help_text="Celle que la personne représente : un contributeur modifie les fiches qu'elle pilote.",
    )

    def __init__(self, *args, plan, can_grant_admin: bool, is_superuser: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.fields["role"].choices = role_choices(can_grant_admin=can_grant_admin)
        self.fields["organisation"].queryset = invitable_organisations(plan, is_superuser=is_superuser)

    def clean_email(self):
        # Says nothing about accounts elsewhere on the installation: only whether the person is
        # already on this plan, which the members list shows anyway.
        email = self.cleaned_data["email"].strip().lower()
        if self.plan.roles.filter(user__email__iexact=email).exists():
            raise forms.ValidationError(
                "Cette personne a déjà un rôle sur ce plan : modifiez-le dans la liste."
            )
        return email

    def clean(self):
        data = super().clean()
        if data.get("role") == Role.CONTRIBUTOR and not data.get("organisation"):
            self.add_error("organisation", "Un contributeur représente une organisation : choisissez-la.")
        return data


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Rôle")

    def __init__(self, *args, can_grant_admin: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(can_grant_admin=can_grant_admin)


def _same_address(a: str, b: str) -> bool:
    # As Django's PasswordResetForm compares them (Unicode-aware, case-insensitive).
    return unicodedata.normalize("NFKC", a).casefold() == unicodedata.normalize("NFKC", b).casefold()


class InvitedPasswordResetForm(PasswordResetForm):
    """ "Mot de passe oublié" for invited people too: Django's form skips accounts without a
    usable password, which is what an invited person has until they choose one (their link may
    have expired). Accounts whose password was made unusable after they signed in stay skipped."""

    def get_users(self, email):
        User = get_user_model()
        field = User.get_email_field_name()
        users = User._default_manager.filter(**{f"{field}__iexact": email, "is_active": True})
        return (
            user
            for user in users
            if _same_address(email, getattr(user, field))
            and (user.has_usable_password() or awaits_first_sign_in(user))
        )
