"""The app's URLs plus a trivial page: the same-process baseline of bench/workspace.py.

The trivial page goes through the whole middleware stack like any other page, sign-in
included (LoginRequiredMiddleware), so what it costs is what every request pays before
the view's own work: sessions, authentication, CSRF, messages, htmx, history.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [
    path("bench/trivial/", trivial, name="bench_trivial"),
    path("", include("ctg.urls")),
]
