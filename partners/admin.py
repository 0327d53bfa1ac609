from django.contrib import admin

from partners.models import Organisation


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "kind", "insee", "parent"]
    list_filter = ["kind"]
    search_fields = ["name", "short_name", "insee"]
    autocomplete_fields = ["parent"]
