"""The sandbox's Greenhouse: users, candidates with their activity feed, Harvest credentials (v1
API keys, v3 OAuth clients and their access tokens) and the rate-limit windows of those
credentials. Imported by `sandbox.models`, so these are models of the `sandbox` app."""

from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

# Greenhouse documents "typically 50" requests per 10 seconds per credential.
DEFAULT_RATE_LIMIT = 50
# Created by this app's migration 0002; every Greenhouse object takes its id from it.
ID_SEQUENCE = "sandbox_greenhouse_id"


def next_id() -> int:
    """Greenhouse ids are large integers unique across object types; one Postgres sequence gives
    ids that grow in creation order even while a test freezes the clock."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [ID_SEQUENCE])
        return cursor.fetchone()[0]


def _id_field():
    return models.BigIntegerField(primary_key=True, default=next_id, editable=False)


class GreenhouseUser(models.Model):
    """A Greenhouse user: the person a write is made on behalf of (v1 On-Behalf-Of, v3 `sub`)."""

    id = _id_field()
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    # Blank only for the service account Greenhouse creates with each v3 credential.
    primary_email = models.EmailField(blank=True)
    # Lower-cased, as `primary_email` (see sandbox.greenhouse.control).
    other_emails = models.JSONField(default=list, blank=True)
    employee_id = models.CharField(max_length=100, blank=True)
    site_admin = models.BooleanField(default=False)
    disabled = models.BooleanField(default=False)
    service_account = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["primary_email"],
                condition=~Q(primary_email=""),
                name="sandbox_gh_user_email_unique",
            )
        ]

    def __str__(self):
        return self.primary_email or self.name

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def emails(self) -> list[str]:
        return [e for e in [self.primary_email, *self.other_emails] if e]


class GreenhouseCandidate(models.Model):
    """A candidate or prospect. Greenhouse does not stop two candidates sharing an email address,
    and neither does the sandbox: a retried create makes a duplicate, as it would there."""

    id = _id_field()
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    company = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    is_private = models.BooleanField(default=False)
    can_email = models.BooleanField(default=True)
    # [{"value": "a@b.example", "type": "personal" | "work" | "other"}], as Harvest shows them.
    email_addresses = models.JSONField(default=list, blank=True)
    # The same addresses lower-cased: Harvest's email filter ignores case.
    email_index = models.JSONField(default=list, editable=False)
    tags = models.JSONField(default=list, blank=True)
    # The person's one application: a prospect application (no job) or a candidate one.
    is_prospect = models.BooleanField(default=False)
    application_id = models.BigIntegerField(default=next_id, unique=True, editable=False)
    recruiter = models.ForeignKey(
        GreenhouseUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    last_activity = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    def save(self, *args, **kwargs):
        self.email_index = [address["value"].lower() for address in self.email_addresses]
        super().save(*args, **kwargs)

    @property
    def emails(self) -> list[str]:
        return [address["value"] for address in self.email_addresses]


class ActivityKind(models.TextChoices):
    NOTE = "note"
    EMAIL = "email"
    # System events ("moved into stage..."); Harvest lists them, the product only reads them.
    ACTIVITY = "activity"


class Visibility(models.TextChoices):
    ADMIN_ONLY = "admin_only"
    PRIVATE = "private"
    PUBLIC = "public"


class ActivityEntry(models.Model):
    """One item of a candidate's activity feed: a note, a logged email or a system activity."""

    id = _id_field()
    candidate = models.ForeignKey(
        GreenhouseCandidate, on_delete=models.CASCADE, related_name="activity"
    )
    kind = models.CharField(max_length=10, choices=ActivityKind.choices)
    user = models.ForeignKey(
        GreenhouseUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.TextField(blank=True)
    body = models.TextField(blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, blank=True)
    to_address = models.TextField(blank=True)
    from_address = models.TextField(blank=True)
    cc = models.JSONField(default=list, blank=True)
    # The candidate's application it was written on, when a v3 client named one.
    application_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["candidate", "-created_at"])]

    def __str__(self):
        return f"{self.kind} {self.id} on {self.candidate_id}"


class HarvestApiKey(models.Model):
    """A Harvest v1 API key (Basic auth, key as username). Greenhouse grants each key endpoint by
    endpoint; `permissions` holds the sandbox endpoint ids this key may call."""

    key = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200, default="outreach")
    permissions = models.JSONField(default=list)
    rate_limit = models.PositiveIntegerField(default=DEFAULT_RATE_LIMIT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.name


class HarvestOAuthClient(models.Model):
    """A Harvest v3 OAuth credential (client credentials grant). A token minted without `sub`
    acts as the service account Greenhouse attaches to the credential."""

    client_id = models.CharField(max_length=200, unique=True)
    client_secret = models.CharField(max_length=200)
    name = models.CharField(max_length=200, default="outreach")
    scopes = models.JSONField(default=list)
    service_account = models.OneToOneField(
        GreenhouseUser, on_delete=models.PROTECT, related_name="oauth_client"
    )
    rate_limit = models.PositiveIntegerField(default=DEFAULT_RATE_LIMIT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.client_id


class HarvestAccessToken(models.Model):
    """A v3 Bearer token. Only its SHA-256 is kept: the token itself is a long JWT."""

    token_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(HarvestOAuthClient, on_delete=models.CASCADE, related_name="tokens")
    user = models.ForeignKey(GreenhouseUser, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"token of {self.client_id} for user {self.user_id}"


class RateLimitWindow(models.Model):
    """Requests one credential made in one 10-second window ("key:<pk>" or "client:<pk>")."""

    credential = models.CharField(max_length=50)
    window_start = models.DateTimeField()
    requests = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "window_start"], name="sandbox_gh_rate_window"
            )
        ]

    def __str__(self):
        return f"{self.credential} {self.window_start:%H:%M:%S} {self.requests}"
