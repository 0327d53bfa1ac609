from django.urls import path

from actions import views

urlpatterns = [
    path("plans/<slug:slug>/fiches/<int:number>/", views.action_detail, name="action_detail"),
]
