from django.contrib import admin

from axes.models import Axis, Finding, Objective, Plan, PlanRole


class AxisInline(admin.StackedInline):
    model = Axis
    extra = 0
    fields = ["number", "title", "theme"]
    show_change_link = True


class PlanRoleInline(admin.StackedInline):
    model = PlanRole
    extra = 0
    raw_id_fields = ["user", "organisations"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["territory", "title", "start_year", "end_year", "slug"]
    search_fields = ["territory", "title", "slug"]
    raw_id_fields = ["signatories", "communes"]
    inlines = [AxisInline, PlanRoleInline]


@admin.register(PlanRole)
class PlanRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "plan", "role"]
    list_filter = ["role", "plan"]
    list_select_related = ["user", "plan"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user", "organisations"]


class FindingInline(admin.StackedInline):
    model = Finding
    extra = 0


class ObjectiveInline(admin.TabularInline):
    model = Objective
    extra = 0
    fields = ["position", "code", "title"]


@admin.register(Axis)
class AxisAdmin(admin.ModelAdmin):
    list_display = ["__str__", "plan", "theme"]
    list_filter = ["plan"]
    search_fields = ["title", "theme"]
    inlines = [ObjectiveInline, FindingInline]
    list_select_related = ["plan"]


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ["text", "kind", "axis"]
    list_filter = ["kind", "axis__plan"]
    search_fields = ["text"]
    list_select_related = ["axis__plan"]


@admin.register(Objective)
class ObjectiveAdmin(admin.ModelAdmin):
    list_display = ["__str__", "axis"]
    list_filter = ["axis__plan"]
    search_fields = ["code", "title", "axis__title"]
    list_select_related = ["axis__plan"]
