from django.urls import path

from reporting import views

urlpatterns = [
    path("tableau-de-bord/", views.plans_dashboard, name="plans_dashboard"),
    path("plans/<slug:slug>/tableau-de-bord/", views.dashboard, name="dashboard"),
    path("plans/<slug:slug>/communes/<str:insee>/", views.commune_dashboard, name="commune_dashboard"),
]
