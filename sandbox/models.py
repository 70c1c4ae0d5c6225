"""The sandbox's Google: accounts and their mailboxes, OAuth clients and grants, fault switches and
a log of API calls (its Greenhouse lives in `sandbox.greenhouse.models`). Everything lives in the
database because the sandbox is called by several processes (web, worker, tests) and several
threads at once."""

import html

from django.db import models
from django.db.models import Q
from django.utils import timezone

# Imported for its side effect: Django registers the Greenhouse models with this app.
from .greenhouse import models as greenhouse_models  # noqa: F401

# Gmail's limits, per user (Workspace values).
QUOTA_UNITS_PER_MINUTE = 15_000
DAILY_SEND_LIMIT = 2_000

# Labels the sandbox knows; Gmail has more, the product needs these.
INBOX, SENT, UNREAD, TRASH = "INBOX", "SENT", "UNREAD", "TRASH"
SYSTEM_LABELS = (INBOX, SENT, UNREAD, TRASH)


class GoogleAccount(models.Model):
    """A Google account with its Gmail mailbox."""

    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=200, blank=True)
    out_of_office = models.BooleanField(default=False)
    out_of_office_message = models.TextField(
        default="Thank you for your email. I am out of the office with limited access to email."
    )
    # The last history id handed out; Gmail's ids grow with gaps, per mailbox.
    history_id = models.BigIntegerField(default=1000)
    # A startHistoryId below this is outside the kept window: history.list answers 404.
    history_floor = models.BigIntegerField(default=0)
    quota_units_per_minute = models.PositiveIntegerField(default=QUOTA_UNITS_PER_MINUTE)
    daily_send_limit = models.PositiveIntegerField(default=DAILY_SEND_LIMIT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.email

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]


class SendAsAlias(models.Model):
    """A send-as address besides the primary one (which Gmail lists itself)."""

    account = models.ForeignKey(GoogleAccount, on_delete=models.CASCADE, related_name="aliases")
    email = models.EmailField()
    display_name = models.CharField(max_length=200, blank=True)
    verified = models.BooleanField(default=True)

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(fields=["account", "email"], name="sandbox_alias_unique")
        ]

    def __str__(self):
        return self.email


class BouncingDomain(models.Model):
    """Mail to an address on this domain that no sandbox account owns comes back as a DSN."""

    domain = models.CharField(max_length=253, unique=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self):
        return self.domain


class OAuthClient(models.Model):
    """An OAuth client registered in the (sandbox) Cloud console."""

    client_id = models.CharField(max_length=200, unique=True)
    client_secret = models.CharField(max_length=200)
    name = models.CharField(max_length=200, default="outreach")
    # Google accepts only a redirect_uri registered exactly.
    redirect_uris = models.JSONField(default=list)

    class Meta:
        ordering = ["client_id"]

    def __str__(self):
        return self.name


class Grant(models.Model):
    """What an account has allowed one client: the union of the scopes it consented to. Revoking
    it kills every token issued under it, as revoking an app's access does at Google."""

    account = models.ForeignKey(GoogleAccount, on_delete=models.CASCADE, related_name="grants")
    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE, related_name="grants")
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "client"],
                condition=Q(revoked_at__isnull=True),
                name="sandbox_one_live_grant",
            )
        ]

    def __str__(self):
        return f"{self.account_id} -> {self.client_id}"


class AuthorizationCode(models.Model):
    code = models.CharField(max_length=200, unique=True)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="codes")
    scopes = models.JSONField(default=list)
    redirect_uri = models.TextField()
    code_challenge = models.CharField(max_length=200, blank=True)
    code_challenge_method = models.CharField(max_length=10, blank=True)
    issue_refresh_token = models.BooleanField(default=False)
    # OpenID Connect: echoed in the ID token.
    nonce = models.CharField(max_length=500, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"code for grant {self.grant_id}"


class SigningKey(models.Model):
    """The RSA key that signs ID tokens; its public half is served at /oauth2/v3/certs."""

    kid = models.CharField(max_length=64, unique=True)
    private_pem = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.kid


class RefreshToken(models.Model):
    token = models.CharField(max_length=200, unique=True)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="refresh_tokens")
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"refresh token of grant {self.grant_id}"


class AccessToken(models.Model):
    token = models.CharField(max_length=200, unique=True)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="access_tokens")
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"access token of grant {self.grant_id}"


class Thread(models.Model):
    account = models.ForeignKey(GoogleAccount, on_delete=models.CASCADE, related_name="threads")
    # As in Gmail, a thread's id is the id of its first message.
    gmail_id = models.CharField(max_length=32)
    # The subject with Re:/Fwd: prefixes set aside: a message joins only with the same one.
    subject_key = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "gmail_id"], name="sandbox_thread_unique")
        ]

    def __str__(self):
        return self.gmail_id


class Origin(models.TextChoices):
    SENT = "sent", "Sent by this account"
    RECEIVED = "received", "Delivered to this account"
    INSERTED = "inserted", "Inserted through messages.insert"


class Message(models.Model):
    account = models.ForeignKey(GoogleAccount, on_delete=models.CASCADE, related_name="messages")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    gmail_id = models.CharField(max_length=32)
    origin = models.CharField(max_length=10, choices=Origin.choices)
    raw = models.BinaryField()
    label_ids = models.JSONField(default=list)
    internal_date = models.DateTimeField(default=timezone.now)
    # The last history record that touched this message.
    history_id = models.BigIntegerField()
    # Parsed once from raw, for search and for the UI.
    rfc822_message_id = models.CharField(max_length=998, blank=True, db_index=True)
    subject = models.TextField(blank=True)
    from_header = models.TextField(blank=True)
    recipients = models.TextField(blank=True, help_text="To, Cc and Bcc, comma-separated.")
    snippet = models.TextField(blank=True)

    class Meta:
        ordering = ["internal_date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "gmail_id"], name="sandbox_message_unique")
        ]
        indexes = [models.Index(fields=["account", "-internal_date"])]

    def __str__(self):
        return f"{self.account.email} {self.gmail_id} {self.subject!r}"

    @property
    def is_unread(self) -> bool:
        return UNREAD in self.label_ids

    @property
    def snippet_text(self) -> str:
        """The snippet as a reader sees it (Gmail's snippet is HTML-escaped)."""
        return html.unescape(self.snippet)


class HistoryKind(models.TextChoices):
    MESSAGE_ADDED = "messageAdded"
    MESSAGE_DELETED = "messageDeleted"
    LABEL_ADDED = "labelAdded"
    LABEL_REMOVED = "labelRemoved"


class HistoryRecord(models.Model):
    account = models.ForeignKey(GoogleAccount, on_delete=models.CASCADE, related_name="history")
    history_id = models.BigIntegerField()
    kind = models.CharField(max_length=20, choices=HistoryKind.choices)
    # Ids, not a foreign key: a deleted message keeps its records.
    message_gmail_id = models.CharField(max_length=32)
    thread_gmail_id = models.CharField(max_length=32)
    # The message's labels after the change, and the labels the change added or removed.
    message_label_ids = models.JSONField(default=list)
    changed_label_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["history_id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "history_id"], name="sandbox_history_unique")
        ]

    def __str__(self):
        return f"{self.history_id} {self.kind} {self.message_gmail_id}"


class AutoReply(models.Model):
    """An out-of-office answer already sent: it goes once per sender while OOO stays on."""

    account = models.ForeignKey(GoogleAccount, on_delete=models.CASCADE, related_name="+")
    correspondent = models.EmailField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "correspondent"], name="sandbox_auto_reply_once"
            )
        ]

    def __str__(self):
        return self.correspondent


class QuotaUsage(models.Model):
    """Quota units one account used in one minute."""

    account = models.ForeignKey(GoogleAccount, on_delete=models.CASCADE, related_name="+")
    window_start = models.DateTimeField()
    units = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "window_start"], name="sandbox_quota_window")
        ]

    def __str__(self):
        return f"{self.window_start:%H:%M} {self.units}"


class FaultRule(models.Model):
    """A switch set by a test or in the UI: fail the next `remaining` calls of an endpoint with
    `status`, drop the connection of its next `remaining` writes once they are committed
    (`drop_connection`), or delay every call by `latency_ms` until cleared."""

    endpoint = models.CharField(
        max_length=100, help_text='A Google method id, a Greenhouse endpoint id, or "*".'
    )
    account = models.ForeignKey(
        GoogleAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="faults"
    )
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    drop_connection = models.BooleanField(default=False)
    remaining = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        failure = "drop" if self.drop_connection else self.status or ""
        return f"{self.endpoint} {failure} x{self.remaining} +{self.latency_ms}ms"


class ApiCall(models.Model):
    """One call to the sandbox's Google or Greenhouse endpoints, for the UI's log."""

    created_at = models.DateTimeField(default=timezone.now)
    endpoint = models.CharField(max_length=100)
    http_method = models.CharField(max_length=10)
    path = models.TextField()
    status = models.PositiveSmallIntegerField()
    account_email = models.EmailField(blank=True)
    client_id = models.CharField(max_length=200, blank=True)
    units = models.PositiveIntegerField(default=0)
    # The call was carried out but its answer never sent: a fault dropped the connection.
    dropped = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.endpoint} {self.status}"
