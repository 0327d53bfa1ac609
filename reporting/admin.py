from django.apps import apps
from django.contrib import admin
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult
from import_export.admin import ExportMixin
from import_export.formats import base_formats

from actions.admin import ActionAdmin
from actions.models import Action
from reporting import documents
from reporting.exports import ActionResource
from reporting.models import CalendarFeedToken, Decision, Document, Meeting

# The task queue's section of the admin, in French (its app ships no translation). Names are set
# on the loaded model, not in its Meta nor its fields' declarations, which migrations read: a
# French label must not ask for a migration in a third-party app.
apps.get_app_config("django_tasks_database").verbose_name = "Tâches en arrière-plan (rapports PDF)"
TASK_FIELD_NAMES = {
    "id": "identifiant",
    "status": "état",
    "enqueued_at": "mise en file",
    "started_at": "début",
    "finished_at": "fin",
    "args_kwargs": "paramètres",
    "priority": "priorité",
    "task_path": "tâche",
    "worker_ids": "processus",
    "queue_name": "file",
    "backend_name": "moteur",
    "run_after": "pas avant",
    "return_value": "résultat",
    "exception_class_path": "erreur",
    "traceback": "trace de l'erreur",
}
TASK_STATUSES = {
    "READY": "en attente",
    "RUNNING": "en cours",
    "FAILED": "échouée",
    "SUCCESSFUL": "réussie",
}
task_result = DBTaskResult._meta
task_result.verbose_name, task_result.verbose_name_plural = "tâche", "tâches"
for field in task_result.fields:
    field.verbose_name = TASK_FIELD_NAMES.get(field.name, field.verbose_name)


class TaskStatusFilter(admin.SimpleListFilter):
    title = "état"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            (value, TASK_STATUSES.get(value, label))
            for value, label in task_result.get_field("status").choices
        ]

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskResultAdmin(DBTaskResultAdmin):
    """The queue's own admin (read-only), its columns and states in French."""

    list_display = ["id", "nom_de_la_tache", "etat", "enqueued_at", "started_at", "finished_at", "queue_name"]
    list_filter = [TaskStatusFilter, "queue_name"]

    @admin.display(description="tâche", ordering="task_path")
    def nom_de_la_tache(self, obj):
        return obj.task_name

    @admin.display(description="état", ordering="status")
    def etat(self, obj):
        return TASK_STATUSES.get(obj.status, obj.status)

    @admin.display(description="trace de l'erreur")
    def formatted_traceback(self, obj):
        return super().formatted_traceback(obj)

    @admin.display(description="pas avant")
    def display_run_after(self, obj):
        return super().display_run_after(obj)


# The fiches admin gains the app's export (French columns, formulas made inert). Registered
# here so that actions never imports reporting: apps import downwards only.
admin.site.unregister(Action)


@admin.register(Action)
class ActionExportAdmin(ExportMixin, ActionAdmin):
    export_formats = [base_formats.XLSX, base_formats.ODS, base_formats.CSV]

    def get_export_resource_classes(self, request):
        return [ActionResource]


class DecisionInline(admin.StackedInline):
    model = Decision
    extra = 0
    raw_id_fields = ["actions"]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["__str__", "plan", "instance", "date"]
    list_filter = ["instance", "plan"]
    list_select_related = ["plan"]
    date_hierarchy = "date"
    inlines = [DecisionInline]


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["text", "status", "meeting"]
    list_filter = ["status", "meeting__plan"]
    list_select_related = ["meeting__plan"]
    search_fields = ["text"]
    raw_id_fields = ["actions"]


@admin.register(CalendarFeedToken)
class CalendarFeedTokenAdmin(admin.ModelAdmin):
    """Deleting an address revokes it: the agendas subscribed to it get nothing more."""

    list_display = ["user", "issued_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__last_name"]
    fields = ["user", "issued_at"]
    readonly_fields = ["user", "issued_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    """Documents are added through the app, which checks each file (reporting.documents): here
    they are read and, as a way out of a mistake, deleted with their file."""

    list_display = ["name", "plan", "action", "meeting", "size", "uploaded_at", "uploaded_by_name"]
    list_filter = ["plan"]
    list_select_related = ["plan", "action", "meeting"]
    search_fields = ["name"]
    readonly_fields = [f.name for f in Document._meta.fields]

    def has_add_permission(self, request):
        return False

    def delete_model(self, request, obj):
        documents.delete(obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for document in queryset:
            documents.delete(document, by=request.user)
