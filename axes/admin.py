from django.contrib import admin

from axes.models import Axis, Finding, Plan


class AxisInline(admin.TabularInline):
    model = Axis
    extra = 0
    fields = ["number", "title", "theme"]
    show_change_link = True


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["territory", "title", "start_year", "end_year", "slug"]
    search_fields = ["territory", "title", "slug"]
    filter_horizontal = ["signatories", "communes"]
    inlines = [AxisInline]


class FindingInline(admin.TabularInline):
    model = Finding
    extra = 0


@admin.register(Axis)
class AxisAdmin(admin.ModelAdmin):
    list_display = ["__str__", "plan", "theme"]
    list_filter = ["plan"]
    search_fields = ["title", "theme"]
    inlines = [FindingInline]
    list_select_related = ["plan"]


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ["text", "kind", "axis"]
    list_filter = ["kind", "axis__plan"]
    search_fields = ["text"]
    list_select_related = ["axis__plan"]
