from django.contrib import admin

from outreach.admin import ReadOnlyTenantInline, TenantAdmin

from .models import Enrollment, Prospect, Sequence, Stage


class StageInline(ReadOnlyTenantInline):
    model = Stage
    fields = ("position", "kind", "delay_days", "subject", "manual_kind")


@admin.register(Sequence)
class SequenceAdmin(TenantAdmin):
    """For the record and for support; recruiters edit sequences in the app."""

    list_display = ("name", "owner", "visibility", "sender_mailbox", "archived_at")
    list_filter = ("visibility",)
    search_fields = ("name",)
    fields = ("name", "owner", "visibility", "sender_mailbox", "bcc", "timezone", "archived_at")
    readonly_fields = fields
    inlines = [StageInline]

    def has_add_permission(self, request):
        return False


@admin.register(Prospect)
class ProspectAdmin(TenantAdmin):
    list_display = ("email", "first_name", "last_name", "company", "do_not_contact")
    list_filter = ("do_not_contact",)
    search_fields = ("email", "first_name", "last_name", "company")
    fields = (
        "email",
        "first_name",
        "last_name",
        "company",
        "title",
        "timezone",
        "custom_fields",
        "do_not_contact",
        "ats_candidate_id",
        "ats_sync_paused",
    )


@admin.register(Enrollment)
class EnrollmentAdmin(TenantAdmin):
    list_display = ("prospect", "sequence", "mailbox", "status", "next_action_at")
    list_filter = ("status",)
    search_fields = ("prospect__email", "sequence__name")
    fields = (
        "prospect",
        "sequence",
        "mailbox",
        "enrolled_by",
        "status",
        "status_reason",
        "current_stage",
        "next_action_at",
        "last_event",
        "last_event_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
