from django.conf import settings
from django.db import models

from outreach import clock
from outreach.crypto import EncryptedTextField
from outreach.tenancy import TenantQuerySet


class Visibility(models.TextChoices):
    """Who in Greenhouse sees what we write on a candidate (Harvest's note visibility)."""

    ADMIN_ONLY = "admin_only", "Admins only (most restricted)"
    PRIVATE = "private", "Private (the writer and admins)"
    PUBLIC = "public", "Public (everyone with access to the candidate, often interviewers)"


class AtsConnection(models.Model):
    """A team's Greenhouse account, and how we write to it."""

    class Api(models.TextChoices):
        V3 = "v3", "Harvest v3 (OAuth client credentials)"
        V1 = "v1", "Harvest v1 API key (legacy, deprecated by Greenhouse)"

    class WhenCandidateMissing(models.TextChoices):
        SKIP = "skip", "Skip the message"
        CREATE_PROSPECT = "create_prospect", "Create a prospect in Greenhouse"

    organization = models.OneToOneField(
        "outreach.Organization", on_delete=models.CASCADE, related_name="+"
    )
    api = models.CharField(max_length=4, choices=Api.choices, default=Api.V3)
    client_id = models.CharField(max_length=200, blank=True)
    client_secret = EncryptedTextField(blank=True)
    api_key = EncryptedTextField(blank=True)
    auto_sync = models.BooleanField(
        default=False, help_text="Write every synced email and reply to Greenhouse on its own."
    )
    visibility = models.CharField(
        max_length=12, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    when_candidate_missing = models.CharField(
        max_length=20, choices=WhenCandidateMissing.choices, default=WhenCandidateMissing.SKIP
    )
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_test_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=clock.now)

    objects = TenantQuerySet.as_manager()

    def __str__(self):
        return f"Greenhouse ({self.get_api_display()})"

    @property
    def has_credentials(self) -> bool:
        if self.api == self.Api.V3:
            return bool(self.client_id and self.client_secret)
        return bool(self.api_key)


class UserMapping(models.Model):
    """Which Greenhouse user one of our users is: notes about their emails are written as them."""

    class Source(models.TextChoices):
        EMAIL = "email", "Found by email"
        MANUAL = "manual", "Set by an admin"

    organization = models.ForeignKey(
        "outreach.Organization", on_delete=models.CASCADE, related_name="+"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="greenhouse_mapping"
    )
    greenhouse_user_id = models.BigIntegerField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.EMAIL)
    checked_at = models.DateTimeField(default=clock.now)

    objects = TenantQuerySet.as_manager()

    def __str__(self):
        return f"{self.user} -> {self.greenhouse_user_id or 'not found'}"


class ActivitySync(models.Model):
    """One message to write to the candidate's activity feed in Greenhouse: an outbox row,
    created in the same transaction as the Message, pushed by the pusher."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SYNCED = "synced", "Synced"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"
        PAUSED = "paused", "Paused"

    organization = models.ForeignKey(
        "outreach.Organization", on_delete=models.CASCADE, related_name="+"
    )
    message = models.OneToOneField(
        "sequences.Message", on_delete=models.CASCADE, related_name="activity_sync"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=clock.now)
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # When the write whose outcome we have not heard began (set just before each write, cleared
    # once its answer came): before writing again, look whether it landed, and trust "not
    # there" only once it could no longer land.
    write_started_at = models.DateTimeField(null=True, blank=True)
    candidate_id = models.BigIntegerField(null=True, blank=True)
    remote_id = models.CharField(max_length=40, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=clock.now)
    synced_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="activity_sync_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["organization", "status"]),
        ]

    def __str__(self):
        return f"{self.message_id}: {self.status}"


class ThreadNotice(models.Model):
    """The note placed in the sender's own copy of a thread (never sent to the candidate) saying
    that the thread is synced to Greenhouse, with a link to pause sync for that candidate."""

    organization = models.ForeignKey(
        "outreach.Organization", on_delete=models.CASCADE, related_name="+"
    )
    mailbox = models.ForeignKey("senders.Mailbox", on_delete=models.CASCADE, related_name="+")
    gmail_thread_id = models.CharField(max_length=40)
    prospect = models.ForeignKey("sequences.Prospect", on_delete=models.CASCADE, related_name="+")
    gmail_message_id = models.CharField(max_length=40, blank=True)
    placed_at = models.DateTimeField(null=True, blank=True)
    pause_used_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=clock.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "gmail_thread_id"], name="one_notice_per_thread"
            )
        ]

    def __str__(self):
        return f"notice in {self.gmail_thread_id}"
