from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

from outreach import clock
from outreach.crypto import EncryptedTextField
from outreach.tenancy import TenantQuerySet


class Mailbox(models.Model):
    """A Gmail account connected through OAuth. Its owner sends from it; so may delegates with
    an approved Delegation."""

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"
        DISCONNECTED = "disconnected", "Disconnected"

    organization = models.ForeignKey(
        "outreach.Organization", on_delete=models.CASCADE, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mailboxes"
    )
    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=200, blank=True)
    # Cleaned as an email body is (outreach.rich_text), and without tokens; only the owner sets it.
    signature_html = models.TextField(blank=True)
    provider = models.CharField(max_length=20, default="gmail", editable=False)
    refresh_token = EncryptedTextField(blank=True)
    scopes = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONNECTED)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    history_id = models.CharField(max_length=32, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # Set when beat queues a sync of this inbox, cleared when that sync ends: a tick while it
    # is still queued or running (a long backlog) queues no second one. Past it, the sync is
    # taken as lost and queued again.
    sync_queued_until = models.DateTimeField(null=True, blank=True)
    # Below Google's 2,000 a day for Workspace (over a rolling 24 hours): hitting Google's limit
    # locks the person out of sending from their own inbox for up to a day.
    daily_send_cap = models.PositiveIntegerField(
        default=150,
        validators=[MaxValueValidator(2000)],
        help_text="Sequence emails over a rolling 24 hours (Gmail allows 2,000 at most).",
    )
    # Seconds between two sequence emails from this inbox: a burst looks like spam to filters.
    send_spacing_seconds = models.PositiveIntegerField(default=20)
    connected_at = models.DateTimeField(default=clock.now)

    objects = TenantQuerySet.as_manager()

    # Not columns: as the sender settings page finds them for its list, the permissions it lacks
    # (in words), and those it has (in words, with Google's name for each).
    missing: list[str]
    permissions: list[tuple[str, str]]

    class Meta:
        ordering = ["email"]
        verbose_name_plural = "mailboxes"

    def __str__(self):
        return self.email

    @property
    def is_connected(self) -> bool:
        return self.status == self.Status.CONNECTED


class SendAsAlias(models.Model):
    """A From address Gmail lets this mailbox use (its settings.sendAs list)."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="aliases")
    email = models.EmailField()
    display_name = models.CharField(max_length=200, blank=True)
    is_primary = models.BooleanField(default=False)
    is_default = models.BooleanField(default=False)
    # Gmail rewrites an unverified From to the primary address: only verified ones are offered.
    verified = models.BooleanField(default=False)

    tenant_field = "mailbox__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-is_primary", "email"]
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "email"], name="alias_unique_per_mailbox")
        ]
        verbose_name_plural = "send-as aliases"

    def __str__(self):
        return f"{self.display_name} <{self.email}>" if self.display_name else self.email


class Delegation(models.Model):
    """Send on behalf of: the grantor lets the delegate send from the grantor's mailbox."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Authorized"
        REJECTED = "rejected", "Rejected"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    OPEN = (Status.PENDING, Status.APPROVED)

    organization = models.ForeignKey(
        "outreach.Organization", on_delete=models.CASCADE, related_name="+"
    )
    grantor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations_granted"
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations_held"
    )
    # The grantor's mailbox, known once the grantor has connected one.
    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="delegations"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(default=clock.now)
    request_sent_at = models.DateTimeField(default=clock.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["grantor", "delegate"],
                condition=models.Q(status__in=["pending", "approved"]),
                name="delegation_one_open_per_pair",
            ),
            models.CheckConstraint(
                condition=~models.Q(grantor=models.F("delegate")), name="delegation_not_to_self"
            ),
        ]

    def __str__(self):
        return f"{self.delegate} may send as {self.grantor} ({self.get_status_display()})"


class DelegationEvent(models.Model):
    """The audit trail: who did what to a delegation, and when."""

    class Kind(models.TextChoices):
        REQUESTED = "requested", "Requested"
        RESENT = "resent", "Request resent"
        APPROVED = "approved", "Authorized"
        REJECTED = "rejected", "Rejected"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"
        RECONNECT_NEEDED = "reconnect_needed", "Mailbox needs reconnecting"
        RECONNECTED = "reconnected", "Mailbox reconnected"

    delegation = models.ForeignKey(Delegation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=clock.now)

    tenant_field = "delegation__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"
