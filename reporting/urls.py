from django.urls import path

from reporting import document_views, views

urlpatterns = [
    path("tableau-de-bord/", views.plans_dashboard, name="plans_dashboard"),
    path("thematiques/", views.themes, name="themes"),
    path("thematiques/<slug:slug>/", views.theme_fiches, name="theme_fiches"),
    path("plans/<slug:slug>/tableau-de-bord/", views.dashboard, name="dashboard"),
    path("plans/<slug:slug>/communes/<str:insee>/", views.commune_dashboard, name="commune_dashboard"),
    path("plans/<slug:slug>/reunions/", views.meetings, name="meetings"),
    path("plans/<slug:slug>/reunions/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("plans/<slug:slug>/reunions/<int:pk>/modifier/", views.meeting_edit, name="meeting_edit"),
    path("plans/<slug:slug>/reunions/<int:pk>/supprimer/", views.meeting_delete, name="meeting_delete"),
    path("plans/<slug:slug>/decisions/<int:pk>/etat/", views.decision_status, name="decision_status"),
    path("plans/<slug:slug>/decisions/<int:pk>/modifier/", views.decision_edit, name="decision_edit"),
    path("plans/<slug:slug>/decisions/<int:pk>/supprimer/", views.decision_delete, name="decision_delete"),
    path("plans/<slug:slug>/rapports/", views.reports, name="reports"),
    path("plans/<slug:slug>/rapports/demander/", views.report_request, name="report_request"),
    path("plans/<slug:slug>/rapports/<int:pk>/", views.report_status, name="report_status"),
    path("plans/<slug:slug>/rapports/<int:pk>/pdf/", views.report_download, name="report_download"),
    path("plans/<slug:slug>/fiches/<int:number>.pdf", views.fiche_pdf, name="fiche_pdf"),
]

urlpatterns += [
    path("plans/<slug:slug>/export/<slug:what>.<slug:fmt>", views.export, name="export"),
    path("calendrier/adresse/", views.calendar_feed_token, name="calendar_feed_token"),
    # Secret addresses for agendas, which cannot sign in (see CalendarFeedToken).
    path(
        "plans/<slug:slug>/calendrier/<slug:token>.ics", views.plan_calendar_feed, name="plan_calendar_feed"
    ),
    path(
        "plans/<slug:slug>/communes/<str:insee>/calendrier/<slug:token>.ics",
        views.commune_calendar_feed,
        name="commune_calendar_feed",
    ),
]

urlpatterns += [
    path("compte/notifications/", views.reminder_preferences, name="reminder_preferences"),
    # Signed links from the reminder emails: no sign-in (see reporting.reminders).
    path(
        "compte/notifications/desabonnement/<str:token>/",
        views.reminders_unsubscribe,
        name="reminders_unsubscribe",
    ),
]

urlpatterns += [
    path("plans/<slug:slug>/renouveler/", views.plan_renew, name="plan_renew"),
    path("plans/<slug:slug>/reconduction/", views.plan_renewal, name="plan_renewal"),
]

urlpatterns += [
    path(
        "plans/<slug:slug>/fiches/<int:number>/documents/ajouter/",
        document_views.fiche_document_add,
        name="fiche_document_add",
    ),
    path(
        "plans/<slug:slug>/reunions/<int:pk>/documents/ajouter/",
        document_views.meeting_document_add,
        name="meeting_document_add",
    ),
    path("plans/<slug:slug>/documents/<int:pk>/", document_views.document_download, name="document_download"),
    path(
        "plans/<slug:slug>/documents/<int:pk>/supprimer/",
        document_views.document_delete,
        name="document_delete",
    ),
]
