from django.apps import apps
from django.contrib import admin
from import_export.admin import ExportMixin
from import_export.formats import base_formats

from actions.admin import ActionAdmin
from actions.models import Action
from reporting.exports import ActionResource
from reporting.models import CalendarFeedToken, Decision, Meeting

# The task queue's section of the admin, in French (its app ships no translation). Only the
# app's label: changing its models' Meta would ask for a migration in a third-party app.
apps.get_app_config("django_tasks_database").verbose_name = "Tâches en arrière-plan (rapports PDF)"

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
    autocomplete_fields = ["actions"]


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
    autocomplete_fields = ["actions"]


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
