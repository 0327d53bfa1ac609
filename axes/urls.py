from django.urls import path

from axes import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accessibilite/", views.accessibility, name="accessibility"),
    path("mentions-legales/", views.legal_notice, name="legal_notice"),
    path("donnees-personnelles/", views.personal_data, name="personal_data"),
    path("plans/<slug:slug>/membres/", views.plan_members, name="plan_members"),
    path("plans/<slug:slug>/membres/<int:pk>/role/", views.plan_member_role, name="plan_member_role"),
    path("plans/<slug:slug>/membres/<int:pk>/retirer/", views.plan_member_remove, name="plan_member_remove"),
    path(
        "plans/<slug:slug>/membres/<int:pk>/renvoyer/",
        views.plan_member_reinvite,
        name="plan_member_reinvite",
    ),
]
