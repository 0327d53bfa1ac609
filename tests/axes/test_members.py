"""Accounts and memberships: invitations by email, roles managed by administrateurs and coordinateurs."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from axes.models import PlanRole, Role
from partners.models import Organisation
from tests.factories import UserFactory, grant


@pytest.fixture
def coordinator(val_aigo):
    return grant(UserFactory(first_name="Claire", last_name="Dupont"), val_aigo, Role.COORDINATOR)


def members_url(plan):
    return reverse("plan_members", args=[plan.slug])


def test_invitation_creates_the_account_and_mails_a_link_to_choose_a_password(client, val_aigo, coordinator):
    client.force_login(coordinator)
    villemur = Organisation.objects.get(name="Villemur-sur-Tarn")
    response = client.post(
        members_url(val_aigo),
        {
            "email": "Referente@Villemur.fr",
            "first_name": "Inès",
            "last_name": "Garcia",
            "role": "contributor",
            "organisation": villemur.pk,
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(email="referente@villemur.fr")
    assert not user.has_usable_password()
    assert PlanRole.objects.get(plan=val_aigo, user=user).role == Role.CONTRIBUTOR
    role = PlanRole.objects.get(plan=val_aigo, user=user)
    assert list(role.organisations.values_list("name", flat=True)) == ["Villemur-sur-Tarn"]
    assert not user.memberships.exists()  # representation is per plan, not installation-wide
    (message,) = mail.outbox
    assert message.to == ["referente@villemur.fr"]
    assert "Claire Dupont vous invite à suivre le plan d'action de la CTG « CC de Val'Aïgo »" in message.body
    assert "avec le rôle « Contribution »" in message.body
    link = re.search(r"http://testserver(/compte/nouveau-mot-de-passe/\S+)", message.body).group(1)
    page = client.get(link, follow=True)
    client.logout()
    page = client.get(link, follow=True)
    assert "Choisir un mot de passe" in page.text
    done = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "Tarn-et-Garonne-2026", "new_password2": "Tarn-et-Garonne-2026"},
    )
    assert done.status_code == 302
    assert client.login(username="referente@villemur.fr", password="Tarn-et-Garonne-2026")
    assert client.get(val_aigo.get_absolute_url()).status_code == 200


def test_inviting_an_existing_account_adds_the_role(client, val_aigo, coordinator):
    existing = UserFactory(email="elu@bessieres.fr")
    client.force_login(coordinator)
    client.post(members_url(val_aigo), {"email": "elu@bessieres.fr", "role": "reader"})
    assert PlanRole.objects.get(plan=val_aigo, user=existing).role == Role.READER
    assert get_user_model().objects.filter(email="elu@bessieres.fr").count() == 1
    assert "Votre compte existant" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "pas-une-adresse", "role": "reader"}, "Saisissez une adresse de courriel valide."),
        (
            {"email": "x@example.org", "role": "contributor"},
            "Un contributeur représente une organisation : choisissez-la.",
        ),
        ({"email": "x@example.org", "role": "admin"}, "Sélectionnez un choix valide."),
        ({"email": "x@example.org", "role": "chef"}, "Sélectionnez un choix valide."),
    ],
)
def test_bad_invitations_are_refused_and_write_nothing(client, val_aigo, coordinator, data, message):
    client.force_login(coordinator)
    users, roles = get_user_model().objects.count(), PlanRole.objects.count()
    response = client.post(members_url(val_aigo), data)
    assert response.status_code == 422
    assert message in response.text.replace("&#x27;", "'")
    assert (get_user_model().objects.count(), PlanRole.objects.count()) == (users, roles)
    assert not mail.outbox


def test_someone_already_on_the_plan(client, val_aigo, coordinator):
    client.force_login(coordinator)
    response = client.post(members_url(val_aigo), {"email": coordinator.email, "role": "reader"})
    assert response.status_code == 422 and "a déjà un rôle sur ce plan" in response.text


def test_administrator_may_grant_administrator(client, val_aigo):
    admin = grant(UserFactory(), val_aigo, Role.ADMIN)
    client.force_login(admin)
    assert client.post(members_url(val_aigo), {"email": "dgs@ccva.fr", "role": "admin"}).status_code == 302
    assert PlanRole.objects.get(user__email="dgs@ccva.fr").role == Role.ADMIN


def test_change_and_remove_roles(client, val_aigo, coordinator):
    reader = grant(UserFactory(), val_aigo, Role.READER)
    admin = grant(UserFactory(), val_aigo, Role.ADMIN)
    client.force_login(coordinator)
    role = PlanRole.objects.get(user=reader)
    assert (
        client.post(
            reverse("plan_member_role", args=[val_aigo.slug, role.pk]), {"role": "coordinator"}
        ).status_code
        == 302
    )
    role.refresh_from_db()
    assert role.role == Role.COORDINATOR
    # A coordinateur cannot touch an administrateur, nor make one, nor remove themselves.
    admin_role = PlanRole.objects.get(user=admin)
    assert client.post(reverse("plan_member_remove", args=[val_aigo.slug, admin_role.pk])).status_code == 403
    assert (
        client.post(reverse("plan_member_role", args=[val_aigo.slug, role.pk]), {"role": "admin"}).status_code
        == 302
    )
    role.refresh_from_db()
    assert role.role == Role.COORDINATOR
    own = PlanRole.objects.get(user=coordinator)
    assert client.post(reverse("plan_member_remove", args=[val_aigo.slug, own.pk])).status_code == 403
    assert client.post(reverse("plan_member_remove", args=[val_aigo.slug, role.pk])).status_code == 302
    assert not PlanRole.objects.filter(user=reader).exists()
    assert PlanRole.objects.filter(user=admin).exists()


@pytest.mark.parametrize(("role", "status"), [("contributor", 403), ("reader", 403), (None, 404)])
def test_only_managers_manage_members(client, val_aigo, role, status):
    user = UserFactory()
    if role:
        grant(user, val_aigo, role, Organisation.objects.get(name="Bessières"))
    target = PlanRole.objects.create(plan=val_aigo, user=UserFactory(), role=Role.READER)
    client.force_login(user)
    roles = PlanRole.objects.count()
    assert client.get(members_url(val_aigo)).status_code == status
    assert (
        client.post(members_url(val_aigo), {"email": "x@example.org", "role": "reader"}).status_code == status
    )
    assert (
        client.post(
            reverse("plan_member_role", args=[val_aigo.slug, target.pk]), {"role": "coordinator"}
        ).status_code
        == status
    )
    assert client.post(reverse("plan_member_remove", args=[val_aigo.slug, target.pk])).status_code == status
    assert PlanRole.objects.count() == roles and not mail.outbox
    target.refresh_from_db()
    assert target.role == Role.READER


def test_password_reset_and_change_are_in_french(client, val_aigo, coordinator):
    assert "Mot de passe oublié" in client.get(reverse("password_reset")).text
    client.post(reverse("password_reset"), {"email": coordinator.email})
    (message,) = mail.outbox
    assert message.subject == "Suivi CTG : choisir un nouveau mot de passe"
    assert "/compte/nouveau-mot-de-passe/" in message.body
    client.force_login(coordinator)
    page = client.get(reverse("password_change"))
    assert "Changer de mot de passe" in page.text and "Ancien mot de passe" in page.text
    bad = client.post(
        reverse("password_change"), {"old_password": "faux", "new_password1": "a", "new_password2": "b"}
    )
    assert bad.status_code == 200 and "Votre ancien mot de passe est incorrect." in bad.text.replace(
        "&#x27;", "'"
    )


def test_plan_page_offers_member_management_to_managers_only(client, val_aigo, coordinator, reader):
    client.force_login(coordinator)
    assert members_url(val_aigo) in client.get(val_aigo.get_absolute_url()).text
    client.force_login(reader)
    assert members_url(val_aigo) not in client.get(val_aigo.get_absolute_url()).text


def test_rows_a_coordinator_may_not_change_show_no_form(client, val_aigo, coordinator):
    admin = grant(UserFactory(), val_aigo, Role.ADMIN)
    reader = grant(UserFactory(), val_aigo, Role.READER)
    client.force_login(coordinator)
    html = client.get(members_url(val_aigo)).text
    for user, editable in [(admin, False), (coordinator, False), (reader, True)]:
        role = PlanRole.objects.get(user=user)
        assert (reverse("plan_member_role", args=[val_aigo.slug, role.pk]) in html) is editable
        assert (reverse("plan_member_remove", args=[val_aigo.slug, role.pk]) in html) is editable


def test_a_coordinator_cannot_tie_people_to_a_caf_nor_to_another_plans_organisations(client, val_aigo):
    from tests.factories import ActionFactory

    other_plan = ActionFactory().plan
    outsider_coordinator = grant(UserFactory(), other_plan, Role.COORDINATOR)
    client.force_login(outsider_coordinator)
    caf = Organisation.objects.get(short_name="CAF", kind="caf")
    bessieres = Organisation.objects.get(name="Bessières")
    for organisation in (caf, bessieres):
        response = client.post(
            members_url(other_plan),
            {"email": "complice@example.org", "role": "reader", "organisation": organisation.pk},
        )
        assert response.status_code == 422 and "Sélectionnez un choix valide" in response.text
    assert not get_user_model().objects.filter(email="complice@example.org").exists()


def test_an_identifier_already_taken_gets_the_next_free_one(client, val_aigo, coordinator):
    """Not an error: that would tell the inviter an account exists elsewhere."""
    UserFactory(username="pris@example.org", email="autre@example.org")
    client.force_login(coordinator)
    response = client.post(members_url(val_aigo), {"email": "pris@example.org", "role": "reader"})
    assert response.status_code == 302
    invited = get_user_model().objects.get(email="pris@example.org")
    assert invited.username == "pris@example.org-2"
    assert "Votre identifiant : pris@example.org-2" in mail.outbox[0].body
    too_long = "a" * 140 + "@example.org"
    response = client.post(members_url(val_aigo), {"email": too_long, "role": "reader"})
    assert response.status_code == 422
