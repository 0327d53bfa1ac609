"""Sign-in throttling: the site's login and the admin's share these forms.

django-axes would do this, but its app label clashes with our app `axes`; the few lines below
count failures in the database (shared by every gunicorn worker) through the forms, so no
signal or authentication backend is involved.
"""

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from partners.models import SignInThrottle

LOCKED_MESSAGE = (
    "Trop de tentatives de connexion : réessayez dans {minutes} minutes ou demandez à un "
    "administrateur de débloquer le compte."
)


def client_ip(request: HttpRequest | None) -> str:
    """The visitor's address. Behind the reverse proxy (production), REMOTE_ADDR is the proxy's
    own: CLIENT_IP_HEADER names the header it sets, and its last value is the one it added."""
    if request is None:
        return ""
    header = settings.CLIENT_IP_HEADER
    if header and request.META.get(header):
        return request.META[header].split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


class ThrottledSignInMixin:
    """Refuses a locked account or address before any password is checked, counts failures,
    and clears the account's count on success."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = client_ip(self.request)
        keys = [SignInThrottle.user_key(username)] + ([SignInThrottle.ip_key(ip)] if ip else [])
        if SignInThrottle.objects.locked(keys).exists():
            raise self.locked_error()
        try:
            cleaned_data = super().clean()
        except ValidationError:
            # Only a wrong identifier or password counts, not a refusal of a right one
            # (a non-staff account on the admin's login).
            if self.user_cache is None and username:
                rows = [SignInThrottle.objects.record_failure(keys[0], limit=settings.SIGNIN_MAX_FAILURES)]
                if ip:
                    rows.append(
                        SignInThrottle.objects.record_failure(keys[1], limit=settings.SIGNIN_IP_MAX_FAILURES)
                    )
                if any(row.locked_until for row in rows):
                    raise self.locked_error() from None
            raise
        SignInThrottle.objects.unlock([keys[0]])
        return cleaned_data

    @property
    def is_locked(self) -> bool:
        """For the template: the refusal is the lock, not a wrong password."""
        return any(error.code == "locked" for error in self.errors.as_data().get("__all__", []))

    def locked_error(self) -> ValidationError:
        return ValidationError(LOCKED_MESSAGE.format(minutes=settings.SIGNIN_LOCKOUT_MINUTES), code="locked")


class ThrottledAuthenticationForm(ThrottledSignInMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledSignInMixin, AdminAuthenticationForm):
    pass
