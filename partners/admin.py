from django.contrib import admin

from partners.models import Membership, Organisation, SignInThrottle


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "kind", "insee", "parent"]
    list_filter = ["kind"]
    search_fields = ["name", "short_name", "insee"]
    raw_id_fields = ["parent"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation"]
    list_select_related = ["user", "organisation"]
    search_fields = ["user__username", "user__email", "organisation__name"]
    raw_id_fields = ["user", "organisation"]


@admin.register(SignInThrottle)
class SignInThrottleAdmin(admin.ModelAdmin):
    """Locked accounts and addresses; the action (or deleting the row) unlocks them."""

    list_display = ["key", "failures", "window_start", "locked_until"]
    search_fields = ["key"]
    readonly_fields = ["key", "failures", "window_start", "locked_until"]
    actions = ["unlock"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Débloquer les comptes et adresses sélectionnés")
    def unlock(self, request, queryset):
        count = queryset.delete()[0]
        self.message_user(request, f"{count} blocage(s) levé(s) : la connexion est de nouveau possible.")
