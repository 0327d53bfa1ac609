"""Invited people who have not chosen a password yet: a new link from "mot de passe oublié",
an invitation resent by a manager; and an invite form that tells nothing about other accounts."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from axes.models import PlanRole, Role
from tests.factories import PlanFactory, UserFactory, grant


@pytest.fixture
def coordinator(val_aigo):
    return grant(UserFactory(first_name="Claire", last_name="Dupont"), val_aigo, Role.COORDINATOR)


def invite(client, plan, email, role="reader"):
    return client.post(reverse("plan_members", args=[plan.slug]), {"email": email, "role": role}, follow=True)


def link_in(message) -> str:
    return re.search(r"http://testserver(/compte/nouveau-mot-de-passe/\S+)", message.body).group(1)


NEW_PASSWORD = "Tarn-et-Garonne-2026"


def choose_password(client, link, password=NEW_PASSWORD):
    page = client.get(link, follow=True)
    assert "Choisir un mot de passe" in page.text
    return client.post(page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})


def test_an_invited_person_gets_a_link_from_forgotten_password(client, val_aigo, coordinator):
    client.force_login(coordinator)
    invite(client, val_aigo, "ines@villemur.fr")
    client.logout()
    mail.outbox.clear()
    response = client.post(reverse("password_reset"), {"email": "Ines@Villemur.fr"})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["ines@villemur.fr"]
    assert choose_password(client, link_in(message)).status_code == 302
    assert client.login(username="ines@villemur.fr", password="Tarn-et-Garonne-2026")


def test_forgotten_password_still_skips_accounts_disabled_after_signing_in(client, db):
    user = UserFactory(email="parti@example.org")
    client.force_login(user)  # has signed in once
    client.logout()
    user.set_unusable_password()
    user.save()
    client.post(reverse("password_reset"), {"email": "parti@example.org"})
    assert not mail.outbox
    UserFactory(email="inactif@example.org", is_active=False, password=None)
    client.post(reverse("password_reset"), {"email": "inactif@example.org"})
    assert not mail.outbox


def test_a_manager_resends_the_invitation_until_the_person_signs_in(client, val_aigo, coordinator):
    client.force_login(coordinator)
    invite(client, val_aigo, "ines@villemur.fr")
    role = PlanRole.objects.get(plan=val_aigo, user__email="ines@villemur.fr")
    page = client.get(reverse("plan_members", args=[val_aigo.slug])).text
    assert "Invitation en attente" in page and "Renvoyer l'invitation" in page
    assert "valable 3 jours" in page
    first = link_in(mail.outbox[0])

    response = client.post(reverse("plan_member_reinvite", args=[val_aigo.slug, role.pk]), follow=True)
    assert "Invitation renvoyée à ines@villemur.fr." in response.text
    assert len(mail.outbox) == 2 and mail.outbox[1].to == ["ines@villemur.fr"]
    assert "Choisissez votre mot de passe" in mail.outbox[1].body
    assert "Ce lien est valable 3 jours" in mail.outbox[1].body
    second = link_in(mail.outbox[1])

    client.logout()
    assert choose_password(client, second).status_code == 302
    assert client.login(username="ines@villemur.fr", password="Tarn-et-Garonne-2026")
    # Once used, the password is chosen: the older link no longer works either.
    client.logout()
    assert "Ce lien n'est plus valable" in client.get(first, follow=True).text

    client.force_login(coordinator)
    page = client.get(reverse("plan_members", args=[val_aigo.slug])).text
    assert "Invitation en attente" not in page
    mail.outbox.clear()
    response = client.post(reverse("plan_member_reinvite", args=[val_aigo.slug, role.pk]), follow=True)
    assert "a déjà choisi son mot de passe" in response.text.replace("&#x27;", "'")
    assert not mail.outbox


def test_only_managers_resend_invitations(client, val_aigo, coordinator, reader):
    client.force_login(coordinator)
    invite(client, val_aigo, "ines@villemur.fr")
    role = PlanRole.objects.get(plan=val_aigo, user__email="ines@villemur.fr")
    mail.outbox.clear()
    url = reverse("plan_member_reinvite", args=[val_aigo.slug, role.pk])
    client.force_login(reader)
    assert client.post(url).status_code == 403
    client.force_login(UserFactory())
    assert client.post(url).status_code == 404
    assert client.get(url).status_code == 405
    assert not mail.outbox


def test_a_role_of_another_plan_cannot_be_resent_through_this_one(client, val_aigo, coordinator):
    other = PlanFactory()
    stranger = grant(UserFactory(password=None), other, Role.READER)  # invited, never signed in
    role = PlanRole.objects.get(plan=other, user=stranger)
    client.force_login(coordinator)
    assert client.post(reverse("plan_member_reinvite", args=[val_aigo.slug, role.pk])).status_code == 404
    assert not mail.outbox


@pytest.mark.parametrize(
    "existing",
    [
        None,  # no account at all
        {"username": "elu@bessieres.fr", "email": "elu@bessieres.fr"},  # an account on another plan
        {"username": "elu@bessieres.fr", "email": "ailleurs@example.org"},  # identifier taken
        {"username": "autre", "email": "elu@bessieres.fr"},  # two accounts with the address
    ],
)
def test_the_invite_form_says_the_same_whatever_accounts_exist(client, val_aigo, coordinator, existing):
    if existing:
        grant(UserFactory(**existing), PlanFactory(), Role.ADMIN)
        if existing["username"] == "autre":
            UserFactory(username="autre2", email="Elu@Bessieres.fr")
    client.force_login(coordinator)
    response = invite(client, val_aigo, "elu@bessieres.fr")
    assert response.redirect_chain[-1][1] == 302
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["Invitation envoyée à elu@bessieres.fr."]
    (role,) = PlanRole.objects.filter(plan=val_aigo, user__email__iexact="elu@bessieres.fr")
    assert role.role == Role.READER
    assert len(mail.outbox) == 1


def test_the_invitation_delay_is_the_password_reset_timeout(client, val_aigo, coordinator, settings):
    settings.PASSWORD_RESET_TIMEOUT = 12 * 3600
    client.force_login(coordinator)
    invite(client, val_aigo, "ines@villemur.fr")
    assert "Ce lien est valable 12 heures" in mail.outbox[0].body
    assert get_user_model().objects.get(email="ines@villemur.fr").last_login is None
