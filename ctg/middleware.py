import datetime
import hashlib
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme


class PermissionsPolicyMiddleware:
    """Adds the Permissions-Policy header (settings.PERMISSIONS_POLICY): Django has no setting for
    it, and a whole library for one constant header is not worth it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.policy = settings.PERMISSIONS_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Permissions-Policy", self.policy)
        return response


def repeatable(view):
    """Marks a view whose identical POSTs are each meant (asking for a report again after a
    change): SubmitOnceMiddleware lets them all through."""
    view.submit_once = False
    return view


class SubmitOnceMiddleware:
    """The same form sent twice by the same person within a few seconds is applied once.

    With htmx the button is disabled while the request runs; without JavaScript a double click
    sends two identical POSTs, which would create two notes, steps or meetings. The first one
    records a fingerprint of (user, session, address, form content) before the view runs; an
    identical one within WINDOW seconds is answered with the first one's redirect and a French
    message, and never reaches the view. Concurrent duplicates wait on the fingerprint's unique
    index. File uploads are left alone (the import has its own preview and confirmation), and so
    are views marked @repeatable.
    """

    WINDOW = datetime.timedelta(seconds=10)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if (
            request.method != "POST"
            or request.headers.get("HX-Request")
            or not request.user.is_authenticated
            or request.FILES
            or getattr(view_func, "submit_once", True) is False
        ):
            return None
        from partners.models import FormSubmission

        fields = sorted(
            (name, values) for name, values in request.POST.lists() if name != "csrfmiddlewaretoken"
        )
        # Per session: a double click happens in one; signing in again starts afresh.
        session = request.session.session_key or ""
        key = hashlib.sha256(repr((request.user.pk, session, request.path, fields)).encode()).hexdigest()
        now = timezone.now()
        FormSubmission.objects.filter(sent_at__lt=now - self.WINDOW).delete()
        try:
            with transaction.atomic():
                request.form_submission = FormSubmission.objects.create(key=key)
        except IntegrityError:
            first = FormSubmission.objects.filter(key=key).first()
            messages.info(request, "Ce formulaire avait déjà été envoyé : il n'a été enregistré qu'une fois.")
            target = (first.location if first else "") or request.headers.get("Referer") or request.path
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = request.path
            return HttpResponseRedirect(target)
        return None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        submission = getattr(request, "form_submission", None)
        if submission is not None:
            from partners.models import FormSubmission

            if response.status_code in (301, 302, 303) and response.get("Location"):
                FormSubmission.objects.filter(pk=submission.pk).update(location=response["Location"][:500])
            elif response.status_code >= 400:
                # Refused input changes nothing: sending it again (corrected or not) must run.
                FormSubmission.objects.filter(pk=submission.pk).delete()
        return response
