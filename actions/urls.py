from django.urls import path

from actions import views

fiche = "plans/<slug:slug>/fiches/<int:number>/"

urlpatterns = [
    path("import/", views.plan_import, name="plan_import"),
    path("import/modele.xlsx", views.import_template, name="import_template"),
    path("import/<int:pk>/", views.plan_import_preview, name="plan_import_preview"),
    path("import/<int:pk>/confirmer/", views.plan_import_confirm, name="plan_import_confirm"),
    path("plans/<slug:slug>/modele.xlsx", views.plan_template, name="plan_template"),
    path("plans/<slug:slug>/fiches/", views.action_list, name="action_list"),
    path("plans/<slug:slug>/fiches/archivees/", views.archived_actions, name="archived_actions"),
    path(
        "plans/<slug:slug>/fiches/archivees/<int:number>/restaurer/",
        views.action_restore,
        name="action_restore",
    ),
    path(fiche, views.action_detail, name="action_detail"),
    path(f"{fiche}statut/", views.action_status, name="action_status"),
    path(f"{fiche}pilotage/", views.action_pilots, name="action_pilots"),
    path(f"{fiche}notes/", views.note_create, name="note_create"),
    path(f"{fiche}thematiques/", views.action_tags, name="action_tags"),
    path(f"{fiche}organisations/", views.organisation_search, name="organisation_search"),
    path(f"{fiche}etapes/<int:pk>/cocher/", views.step_toggle, name="step_toggle"),
    path(f"{fiche}etapes/<int:pk>/deplacer/", views.step_move, name="step_move"),
    path(f"{fiche}indicateurs/<int:pk>/valeurs/", views.indicator_value_save, name="indicator_value_save"),
    path(f"{fiche}<str:section>/", views.item_create, name="item_create"),
    path(f"{fiche}<str:section>/<int:pk>/", views.item_update, name="item_update"),
    path(f"{fiche}<str:section>/<int:pk>/supprimer/", views.item_delete, name="item_delete"),
]
