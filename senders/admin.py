from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from outreach.admin import ReadOnlyTenantInline, TenantAdmin

from . import gmail
from .models import Delegation, DelegationEvent, Mailbox, SendAsAlias


class SendAsAliasInline(ReadOnlyTenantInline):
    model = SendAsAlias
    fields = ("email", "display_name", "is_primary", "is_default", "verified")


@admin.register(Mailbox)
class MailboxAdmin(TenantAdmin):
    list_display = (
        "email",
        "owner",
        "status",
        "last_success_at",
        "last_error_at",
        "daily_send_cap",
    )
    list_filter = ("status",)
    search_fields = ("email", "owner__email")
    # The refresh token is never shown, not even encrypted.
    fields = (
        "email",
        "owner",
        "display_name",
        "status",
        "permissions",
        "last_success_at",
        "last_error",
        "last_error_at",
        "history_id",
        "connected_at",
        "daily_send_cap",
    )
    readonly_fields = (
        "email",
        "owner",
        "status",
        "permissions",
        "last_success_at",
        "last_error",
        "last_error_at",
        "history_id",
        "connected_at",
    )
    inlines = [SendAsAliasInline]

    @admin.display(description="Permissions")
    def permissions(self, mailbox: Mailbox) -> str:
        """The granted scopes in words, each with Google's name for it."""
        return (
            format_html_join(
                mark_safe("<br>"),
                '{} <span class="help">({})</span>',
                ((gmail.scope_label(scope), scope) for scope in mailbox.scopes),
            )
            or "none"
        )

    def has_add_permission(self, request):
        return False  # mailboxes are connected through Google by their owner


class DelegationEventInline(ReadOnlyTenantInline):
    model = DelegationEvent
    fields = ("at", "kind", "actor", "note")


@admin.register(Delegation)
class DelegationAdmin(TenantAdmin):
    """The audit trail of who may send as whom; decisions are the two people's own."""

    list_display = ("delegate", "grantor", "mailbox", "status", "requested_at", "decided_at")
    list_filter = ("status",)
    search_fields = ("delegate__email", "grantor__email")
    inlines = [DelegationEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
