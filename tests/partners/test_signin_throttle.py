"""Password guessing: an account (and an address) is locked after repeated failures, on the
site's sign-in page and on the admin's, until it expires or an administrator unlocks it."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from partners.models import SignInThrottle
from tests.factories import UserFactory

PASSWORD = "motdepasse-de-test"
LOCKED = (
    "Trop de tentatives de connexion : réessayez dans 15 minutes ou demandez à un administrateur "
    "de débloquer le compte."
)

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, *, url=None, ip="203.0.113.7"):
    return client.post(url or reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_sixty_wrong_passwords_then_the_right_one_is_refused(client):
    UserFactory(username="claire")
    for _ in range(60):
        response = sign_in(client, "claire", "au-hasard")
        assert response.status_code == 200 and not is_signed_in(client)
    response = sign_in(client, "claire", PASSWORD)
    assert not is_signed_in(client)
    assert LOCKED in response.content.decode().replace("&#x27;", "'")
    # The lock is one row per account and per address, whatever the number of tries.
    assert SignInThrottle.objects.count() == 2


def test_the_lock_falls_at_the_fifth_failure_and_says_so(client):
    UserFactory(username="claire")
    for _ in range(4):
        page = sign_in(client, "claire", "au-hasard").content.decode()
        assert "Identifiant ou mot de passe incorrect." in page and "Trop de tentatives" not in page
    page = sign_in(client, "claire", "au-hasard").content.decode()
    assert "Trop de tentatives de connexion" in page
    assert not is_signed_in(client)


def test_a_successful_sign_in_resets_the_count(client):
    UserFactory(username="claire")
    for _ in range(4):
        sign_in(client, "claire", "au-hasard")
    assert sign_in(client, "claire", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        sign_in(client, "claire", "au-hasard")
    assert sign_in(client, "claire", PASSWORD).status_code == 302 and is_signed_in(client)


def test_case_does_not_dodge_the_lock(client):
    UserFactory(username="claire")
    for variant in ["Claire", "CLAIRE", "claire", "cLaire", "ClAiRe"]:
        sign_in(client, variant, "au-hasard")
    sign_in(client, "claire", PASSWORD)
    assert not is_signed_in(client)


def test_an_address_guessing_many_accounts_is_locked(client):
    UserFactory(username="claire")
    for n in range(20):
        sign_in(client, f"inconnu{n}", "au-hasard", ip="198.51.100.9")
    sign_in(client, "claire", PASSWORD, ip="198.51.100.9")
    assert not is_signed_in(client)
    # Claire herself, from her own address, is not locked out.
    assert sign_in(client, "claire", PASSWORD, ip="192.0.2.44").status_code == 302


def test_the_admin_sign_in_is_throttled_too(client):
    UserFactory(username="admin", is_staff=True, is_superuser=True)
    url = reverse("admin:login")
    for _ in range(60):
        sign_in(client, "admin", "au-hasard", url=url)
    response = sign_in(client, "admin", PASSWORD, url=url)
    assert response.status_code == 200 and not is_signed_in(client)
    assert "Trop de tentatives de connexion" in response.content.decode()


def test_a_lock_on_the_admin_holds_on_the_site(client):
    UserFactory(username="admin", is_staff=True)
    for _ in range(5):
        sign_in(client, "admin", "au-hasard", url=reverse("admin:login"))
    sign_in(client, "admin", PASSWORD)
    assert not is_signed_in(client)


def test_unlock_account_command(client):
    UserFactory(username="claire")
    for _ in range(10):
        sign_in(client, "claire", "au-hasard")
    call_command("unlock_account", "claire", ip=["203.0.113.7"])
    assert not SignInThrottle.objects.exists()
    assert sign_in(client, "claire", PASSWORD).status_code == 302 and is_signed_in(client)


def test_administrators_unlock_from_the_admin(client):
    UserFactory(username="claire")
    for _ in range(10):
        sign_in(client, "claire", "au-hasard")
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    locks = SignInThrottle.objects.order_by("key")
    assert [lock.key for lock in locks] == ["ip:203.0.113.7", "user:claire"]
    response = client.post(
        reverse("admin:partners_signinthrottle_changelist"),
        {"action": "unlock", "_selected_action": [lock.pk for lock in locks]},
        follow=True,
    )
    assert "2 blocage(s) levé(s)" in response.content.decode()
    client.logout()
    assert sign_in(client, "claire", PASSWORD).status_code == 302
