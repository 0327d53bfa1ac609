from django.contrib import admin

from actions.models import (
    Action,
    ActionPartner,
    Audience,
    CalendarEntry,
    Condition,
    Financing,
    Indicator,
    IndicatorValue,
    Note,
    Step,
    Theme,
)


class StepInline(admin.StackedInline):
    model = Step
    extra = 0
    fields = ["position", "text", "parent", "commune", "done"]
    raw_id_fields = ["commune"]

    def get_formset(self, request, obj=None, **kwargs):
        # Only the fiche's own steps may be chosen as parent.
        self.parent_action = obj
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            action = getattr(self, "parent_action", None)
            kwargs["queryset"] = (
                Step.objects.filter(action=action, parent=None) if action else Step.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class PartnerInline(admin.StackedInline):
    model = ActionPartner
    extra = 0
    raw_id_fields = ["organisation"]


class ConditionInline(admin.StackedInline):
    model = Condition
    extra = 0


class CalendarInline(admin.StackedInline):
    model = CalendarEntry
    extra = 0


class IndicatorInline(admin.StackedInline):
    model = Indicator
    extra = 0
    show_change_link = True


class FinancingInline(admin.StackedInline):
    model = Financing
    extra = 0
    raw_id_fields = ["organisation"]


class NoteInline(admin.StackedInline):
    model = Note
    extra = 0
    fields = ["date", "text", "author", "author_name"]
    raw_id_fields = ["author"]


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "plan", "axis", "pilotage", "status", "progress", "archived_at"]
    list_display_links = ["number", "title"]
    list_filter = ["plan", "status", "archived_at"]
    search_fields = ["title", "fiche_title", "pilotage"]
    list_select_related = ["plan", "axis__plan"]
    raw_id_fields = ["pilots", "objective"]
    inlines = [
        StepInline,
        PartnerInline,
        ConditionInline,
        CalendarInline,
        IndicatorInline,
        FinancingInline,
        NoteInline,
    ]

    def get_queryset(self, request):
        # Archived fiches too: the admin is where anything can be looked at.
        return Action.all_objects.select_related(*self.list_select_related)

    def save_related(self, request, form, formsets, change):
        # Themes and publics through the fiche's own write, which journals them: left to
        # save_m2m(), Django's set() would change them without a line in the fiche's journal.
        tags = {
            name: list(form.cleaned_data.pop(name))
            for name in ("themes", "audiences")
            if name in form.cleaned_data
        }
        super().save_related(request, form, formsets, change)
        if tags:
            form.instance.set_tags(by=request.user, **tags)


class IndicatorValueInline(admin.StackedInline):
    model = IndicatorValue
    extra = 0


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["name", "action", "unit", "baseline", "target"]
    list_select_related = ["action"]
    search_fields = ["name"]
    inlines = [IndicatorValueInline]


@admin.register(Step)
class StepAdmin(admin.ModelAdmin):
    list_display = ["text", "action", "commune", "done"]
    list_filter = ["done", "action__plan"]
    list_select_related = ["action", "commune"]
    search_fields = ["text"]
    raw_id_fields = ["action", "parent", "commune"]


@admin.register(CalendarEntry)
class CalendarEntryAdmin(admin.ModelAdmin):
    list_display = ["label", "description", "start", "end", "action"]
    list_select_related = ["action"]
    search_fields = ["label", "description"]
    raw_id_fields = ["action"]


@admin.register(ActionPartner)
class ActionPartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "organisation", "action"]
    list_select_related = ["action", "organisation"]
    search_fields = ["name", "role"]
    raw_id_fields = ["action", "organisation"]


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    list_display = ["text", "action"]
    list_select_related = ["action"]
    search_fields = ["text"]
    raw_id_fields = ["action"]


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["date", "text", "author_name", "action"]
    list_select_related = ["action"]
    search_fields = ["text", "author_name"]
    raw_id_fields = ["action", "author"]


class TagAdmin(admin.ModelAdmin):
    """The lists an installation administrator manages: the fiches pick their entries."""

    list_display = ["name", "slug", "position"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


admin.site.register(Theme, TagAdmin)
admin.site.register(Audience, TagAdmin)


@admin.register(Financing)
class FinancingAdmin(admin.ModelAdmin):
    list_display = ["funder", "scheme", "year", "planned", "granted", "spent", "action"]
    list_filter = ["year", "action__plan"]
    list_select_related = ["action"]
    search_fields = ["funder", "scheme"]
    raw_id_fields = ["action", "organisation"]
