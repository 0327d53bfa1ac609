from django.contrib import admin

from reporting.models import Decision, Meeting


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
