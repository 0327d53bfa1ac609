from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from actions.personal_views import my_actions, plan_detail, plan_search
from axes.forms import InvitedPasswordResetForm
from ctg.health import health
from partners.signin import ThrottledAdminAuthenticationForm, ThrottledAuthenticationForm

# Both sign-in pages count failures and lock (partners.signin).
admin.site.login_form = ThrottledAdminAuthenticationForm
admin.site.site_header = "Administration de Suivi CTG"
admin.site.site_title = "Suivi CTG"
admin.site.index_title = "Administration de l'installation"

# Sign-in and password pages: the only ones open without an account (LoginRequiredMiddleware).
accounts = [
    path(
        "connexion/",
        auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("compte/mot-de-passe/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "compte/mot-de-passe/modifie/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "compte/mot-de-passe-oublie/",
        auth_views.PasswordResetView.as_view(form_class=InvitedPasswordResetForm),
        name="password_reset",
    ),
    path(
        "compte/mot-de-passe-oublie/envoye/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "compte/nouveau-mot-de-passe/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "compte/nouveau-mot-de-passe/enregistre/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("sante/", health, name="health"),
    path("admin/", admin.site.urls),
    *accounts,
    path("", include("axes.urls")),
    path("plans/<slug:slug>/", plan_detail, name="plan_detail"),
    path("plans/<slug:slug>/mes-fiches/", my_actions, name="my_actions"),
    path("plans/<slug:slug>/recherche/", plan_search, name="plan_search"),
    path("", include("actions.urls")),
    path("", include("reporting.urls")),
]
