"""Greenhouse sync in Django admin: the outbox for the record (read-only, with Retry), the
connection without its secrets, and who each teammate is in Greenhouse. Every class derives from
TenantAdmin: a team admin sees their own team's rows only."""

from django.contrib import admin, messages

from outreach import clock
from outreach.admin import ReadOnly, TenantAdmin

from . import selectors, services
from .models import ActivitySync, AtsConnection, UserMapping


@admin.register(ActivitySync)
class ActivitySyncAdmin(ReadOnly, TenantAdmin):
    """The outbox rows as they are: nothing is edited, added or deleted here (a row is the
    proof a message was or will be written); failed and skipped ones can be retried."""

    change_list_template = "ats_sync/log_admin_change_list.html"
    list_display = (
        "prospect_email",
        "subject",
        "direction",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "synced_at",
    )
    list_filter = ("status",)
    list_select_related = ("message__prospect",)
    search_fields = ("message__prospect__email", "message__subject", "last_error")
    fields = (
        "message",
        "status",
        "attempts",
        "next_attempt_at",
        "write_started_at",
        "candidate_id",
        "remote_id",
        "last_error",
        "created_at",
        "synced_at",
    )
    readonly_fields = fields
    actions = ["retry"]

    @admin.display(description="Prospect", ordering="message__prospect__email")
    def prospect_email(self, row):
        return row.message.prospect.email

    @admin.display(description="Subject")
    def subject(self, row):
        return row.message.subject or "(no subject)"

    @admin.display(description="Direction")
    def direction(self, row):
        return row.message.get_direction_display()

    @admin.action(description="Retry the selected failed or skipped rows", permissions=["view"])
    def retry(self, request, queryset):
        # Per organization: a row only ever moves within its own team (an org admin's queryset
        # holds only theirs; the operator's may span teams).
        selected, retried = 0, 0
        by_organization: dict[int, list[int]] = {}
        for pk, organization_id in queryset.values_list("pk", "organization_id"):
            by_organization.setdefault(organization_id, []).append(pk)
            selected += 1
        for organization_id, ids in by_organization.items():
            retried += services.retry(organization_id=organization_id, ids=ids)
        self.message_user(
            request,
            f"{retried} row{'s' if retried != 1 else ''} queued for Greenhouse again"
            + (" (only failed and skipped rows are retried)." if retried < selected else "."),
            messages.SUCCESS if retried else messages.WARNING,
        )

    def changelist_view(self, request, extra_context=None):
        counts = selectors.status_counts(self.get_queryset(request))
        labels = dict(ActivitySync.Status.choices)
        return super().changelist_view(
            request,
            {
                **(extra_context or {}),
                "status_counts": [
                    {"status": status, "label": labels[status], "count": count}
                    for status, count in counts.items()
                ],
            },
        )


@admin.register(AtsConnection)
class AtsConnectionAdmin(ReadOnly, TenantAdmin):
    """For the record: credentials and settings are changed on the ATS settings page, and the
    client secret and API key are never shown, here or anywhere."""

    list_display = ("__str__", "credentials", "auto_sync", "visibility", "last_tested_at")
    fields = (
        "api",
        "client_id",
        "credentials",
        "auto_sync",
        "visibility",
        "when_candidate_missing",
        "last_tested_at",
        "last_test_error",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description="Credentials")
    def credentials(self, connection):
        return "set" if connection.has_credentials else "missing"


@admin.register(UserMapping)
class UserMappingAdmin(TenantAdmin):
    """Which Greenhouse user each teammate's notes are written as. An admin may correct the id
    here; it is then theirs (never looked up by email again)."""

    list_display = ("user", "greenhouse_user_id", "source", "checked_at")
    list_filter = ("source",)
    list_select_related = ("user",)
    search_fields = ("user__email", "user__full_name")
    fields = ("user", "greenhouse_user_id", "source", "checked_at")
    readonly_fields = ("user", "source", "checked_at")

    def has_add_permission(self, request):
        # A mapping is made for a user when their first note is written, or on the ATS settings
        # page.
        return False

    def save_model(self, request, obj, form, change):
        if change and "greenhouse_user_id" in form.changed_data:
            obj.source = UserMapping.Source.MANUAL
            obj.checked_at = clock.now()
        super().save_model(request, obj, form, change)
