from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from outreach import clock
from outreach.tenancy import TenantQuerySet


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private (you and people you share with)"
    SHARED = "shared", "Shared with the team"
    CONFIDENTIAL = "confidential", "Confidential (you, people you share with, admins)"


def weekdays() -> list[int]:
    return [0, 1, 2, 3, 4]


class Sequence(models.Model):
    class Kind(models.TextChoices):
        SEQUENCE = "sequence", "Sequence"
        # One email written for one prospect or a selection, sent once: a sequence of one stage
        # to the engine, so that it takes the very same send path (claim, cap, exactly once,
        # reply watch, ATS sync); never listed among sequences.
        ONE_OFF = "one_off", "One-off email"

    organization = models.ForeignKey(
        "outreach.Organization", on_delete=models.CASCADE, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sequences"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SEQUENCE)
    visibility = models.CharField(
        max_length=20, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    sender_mailbox = models.ForeignKey(
        "senders.Mailbox", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sender_alias = models.ForeignKey(
        "senders.SendAsAlias", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    bcc = models.CharField(
        max_length=500, blank=True, help_text="Copied onto each enrollment when it is created."
    )
    timezone = models.CharField(max_length=64, default="UTC")
    use_prospect_timezone = models.BooleanField(
        default=False, help_text="Send in the prospect's timezone when the prospect has one."
    )
    send_days = models.JSONField(default=weekdays, help_text="Weekdays, 0 = Monday.")
    send_start = models.TimeField(default="09:00")
    send_end = models.TimeField(default="17:00")
    track_opens = models.BooleanField(default=False)
    track_clicks = models.BooleanField(default=False)
    # Every email carries the List-Unsubscribe headers; a visible link is optional, as a
    # recruiter's one-to-one note reads oddly with a newsletter's footer.
    unsubscribe_footer = models.BooleanField(
        default=False, help_text="End each email with a link to stop hearing from us."
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            # The list of one-off emails, newest first, a page at a time.
            models.Index(
                fields=["organization", "kind", "-created_at", "-id"], name="sequence_newest"
            ),
        ]

    def __str__(self):
        return self.name


class SequenceShare(models.Model):
    """A teammate given access to a private or confidential sequence (and editing, if chosen)."""

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    can_edit = models.BooleanField(default=False)

    tenant_field = "sequence__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sequence", "user"], name="share_once")]

    def __str__(self):
        return f"{self.sequence} shared with {self.user}"


class Stage(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        MANUAL = "manual", "Manual task"

    class ManualKind(models.TextChoices):
        LINKEDIN_INMAIL = "linkedin_inmail", "LinkedIn InMail"
        LINKEDIN_CONNECT = "linkedin_connect", "LinkedIn connection request"
        CALL = "call", "Phone call"
        OTHER = "other", "Other"

    class Threading(models.TextChoices):
        SAME_THREAD = "same_thread", "Reply in the same thread"
        NEW_THREAD = "new_thread", "Start a new thread"

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="stages")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.EMAIL)
    delay_days = models.PositiveIntegerField(
        default=0, help_text="Business days after the previous stage."
    )
    subject = models.CharField(max_length=300, blank=True)
    body_html = models.TextField(blank=True)
    body_text = models.TextField(blank=True)
    include_signature = models.BooleanField("Add the sender's signature", default=True)
    threading = models.CharField(
        max_length=20, choices=Threading.choices, default=Threading.SAME_THREAD
    )
    manual_kind = models.CharField(max_length=30, choices=ManualKind.choices, blank=True)
    instructions = models.TextField(blank=True)
    # The library template last loaded into this stage (a one-off email's too): its usage
    # count and reply rate are counted over the stages that carry it.
    template = models.ForeignKey(
        "EmailTemplate", on_delete=models.SET_NULL, null=True, blank=True, related_name="stages"
    )

    tenant_field = "sequence__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["sequence", "position"]
        constraints = [
            # Deferred, so that a reorder can swap positions inside one transaction.
            models.UniqueConstraint(
                fields=["sequence", "position"],
                name="stage_position_unique",
                deferrable=models.Deferrable.DEFERRED,
            ),
        ]

    def __str__(self):
        return f"Stage {self.position + 1}: {self.label}"

    @property
    def label(self) -> str:
        if self.kind == self.Kind.MANUAL:
            return self.get_manual_kind_display() or "Manual task"
        return self.subject or "(same subject, in thread)"

    @property
    def starts_thread(self) -> bool:
        return self.position == 0 or self.threading == self.Threading.NEW_THREAD


class Tag(models.Model):
    """A team's label for prospects (a role, a source, an event), one name per team in any
    case."""

    organization = models.ForeignKey(
        "outreach.Organization", on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=60)
    created_at = models.DateTimeField(default=clock.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("organization", Lower("name"), name="tag_name_per_org"),
        ]

    def __str__(self):
        return self.name


class Prospect(models.Model):
    organization = models.ForeignKey(
        "outreach.Organization", on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField()
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    company = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    timezone = models.CharField(max_length=64, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    do_not_contact = models.BooleanField(default=False)
    # Set when a delivery to this address failed for good.
    bounced_at = models.DateTimeField(null=True, blank=True)
    ats_candidate_id = models.CharField(max_length=40, blank=True)
    ats_sync_paused = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)
    tags = models.ManyToManyField(Tag, related_name="prospects", blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint("organization", Lower("email"), name="prospect_email_per_org"),
        ]
        # The search's trigram index is SQL of migration 0007 (Django's OpClass of an
        # expression writes SQL PostgreSQL refuses).
        indexes = [
            # The list's order: a page is read off the index, the flags computed for its rows
            # only.
            models.Index(fields=["organization", "email"], name="prospect_list_order"),
        ]

    def __str__(self):
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class Sentiment(models.TextChoices):
    INTERESTED = "interested", "Interested"
    NOT_INTERESTED = "not_interested", "Not interested"
    OTHER = "other", "Other"


class Enrollment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        REPLIED = "replied", "Replied"
        FINISHED = "finished", "Finished"
        STOPPED = "stopped", "Stopped"
        BOUNCED = "bounced", "Bounced"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        FAILED = "failed", "Failed"

    OPEN = (Status.ACTIVE, Status.PAUSED)

    class PauseCause(models.TextChoices):
        """Why an enrollment is paused, so that the matching event resumes only those."""

        BY_USER = "by_user", "Paused by a user"
        SEQUENCE_PAUSED = "sequence_paused", "Sequence paused"
        MISSING_VALUE = "missing_value", "A token has no value"
        DELEGATION_REVOKED = "delegation_revoked", "Sending on behalf was revoked"
        MAILBOX_RECONNECT = "mailbox_reconnect", "The mailbox needs reconnecting"
        MAILBOX_DISCONNECTED = "mailbox_disconnected", "The mailbox was disconnected"
        OWNER_DEACTIVATED = "owner_deactivated", "The sender left the team"

    # What pauses an enrollment because of its sender or their inbox: moving it to another
    # sender (or an admin's hand-over) resolves these.
    SENDER_CAUSES = (
        PauseCause.DELEGATION_REVOKED,
        PauseCause.MAILBOX_RECONNECT,
        PauseCause.MAILBOX_DISCONNECTED,
        PauseCause.OWNER_DEACTIVATED,
    )

    organization = models.ForeignKey(
        "outreach.Organization", on_delete=models.CASCADE, related_name="+"
    )
    # Indexed by the sequence page's orderings below, which lead with it.
    sequence = models.ForeignKey(
        Sequence, on_delete=models.CASCADE, related_name="enrollments", db_index=False
    )
    prospect = models.ForeignKey(Prospect, on_delete=models.CASCADE, related_name="enrollments")
    mailbox = models.ForeignKey("senders.Mailbox", on_delete=models.PROTECT, related_name="+")
    alias = models.ForeignKey(
        "senders.SendAsAlias", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The person sending: the mailbox's owner or a delegate. Checked again at every send.
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    pause_cause = models.CharField(max_length=30, choices=PauseCause.choices, blank=True)
    status_reason = models.CharField(max_length=500, blank=True)
    current_stage = models.ForeignKey(
        Stage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    next_action_at = models.DateTimeField(null=True, blank=True)
    # The dispatcher's lease: which claim may send, until when. An expired lease is claimed again.
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(
        default=0, help_text="Failed tries of the current stage."
    )
    thread_id = models.CharField(max_length=64, blank=True)
    bcc = models.CharField(max_length=500, blank=True)
    last_event = models.CharField(max_length=200, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    sentiment = models.CharField(max_length=20, choices=Sentiment.choices, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["sequence", "prospect"],
                condition=models.Q(status__in=["active", "paused"]),
                name="enrollment_one_open_per_sequence",
            ),
        ]
        indexes = [
            # The prospect list's "status in any sequence" filter and the unsubscribed flag.
            models.Index(fields=["prospect", "status"], name="enrollment_prospect_status"),
            # What the dispatcher scans: due, active enrollments.
            models.Index(
                fields=["next_action_at"],
                condition=models.Q(status="active"),
                name="enrollment_due",
            ),
            # The outbox: what one inbox sends next, soonest first.
            models.Index(
                fields=["mailbox", "next_action_at", "id"],
                condition=models.Q(status="active"),
                name="enrollment_inbox_due",
            ),
            # A sequence page, newest first, whole or by status or by stage (a stage is of one
            # sequence): each page read off one of these in order, however deep.
            models.Index(
                fields=["sequence", "-created_at", "-id"], name="enrollment_sequence_newest"
            ),
            models.Index(
                fields=["sequence", "status", "-created_at", "-id"],
                name="enrollment_status_newest",
            ),
            models.Index(
                fields=["current_stage", "-created_at", "-id"], name="enrollment_stage_newest"
            ),
        ]

    def __str__(self):
        return f"{self.prospect} in {self.sequence}"


class EnrollmentCount(models.Model):
    """How many enrollments of a sequence are at a stage (none: not started or its stage
    deleted) in a status. Kept by triggers on the enrollment table (migration 0012), so that
    every write keeps it exact, a bulk insert, an update of a whole queryset and a delete
    cascading from a prospect or a team alike, and a page reads a few rows of it instead of
    counting a million enrollments. Only counts above zero are kept."""

    organization = models.ForeignKey(
        "outreach.Organization", on_delete=models.CASCADE, related_name="+"
    )
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="+")
    # No foreign key: a stage's deletion moves its enrollments to no stage, and the trigger
    # moves their count with them.
    stage_id = models.BigIntegerField(null=True)
    status = models.CharField(max_length=20, choices=Enrollment.Status.choices)
    n = models.PositiveIntegerField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sequence", "stage_id", "status"],
                nulls_distinct=False,
                name="enrollment_count_key",
            ),
        ]

    def __str__(self):
        return f"{self.n} {self.status} in {self.sequence_id} at stage {self.stage_id}"


class Task(models.Model):
    """A manual stage that came due: someone has to do it, then mark it done or skipped."""

    class Status(models.TextChoices):
        OPEN = "open", "To do"
        DONE = "done", "Done"
        SKIPPED = "skipped", "Skipped"

    organization = models.ForeignKey(
        "outreach.Organization", on_delete=models.CASCADE, related_name="+"
    )
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="tasks")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tasks"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    due_at = models.DateTimeField(default=clock.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "stage"], name="one_task_per_stage"),
        ]
        indexes = [
            # A recruiter's open tasks, soonest due first: the tasks page, a page at a time.
            models.Index(
                fields=["assignee", "due_at", "id"],
                condition=models.Q(status="open"),
                name="task_open_due",
            ),
            # A sequence's open tasks, found by its stages.
            models.Index(
                fields=["stage", "due_at"],
                condition=models.Q(status="open"),
                name="task_open_stage",
            ),
        ]

    def __str__(self):
        return f"{self.stage.label} for {self.enrollment.prospect}"


class Message(models.Model):
    """One email to or from a prospect, as Gmail has it."""

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", "Sent"
        INBOUND = "inbound", "Received"

    class Status(models.TextChoices):
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    class InboundKind(models.TextChoices):
        REPLY = "reply", "Reply"
        AUTO_REPLY = "auto_reply", "Auto-reply"
        BOUNCE = "bounce", "Bounce"

    organization = models.ForeignKey(
        "outreach.Organization", on_delete=models.CASCADE, related_name="+"
    )
    prospect = models.ForeignKey(Prospect, on_delete=models.CASCADE, related_name="messages")
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    stage = models.ForeignKey(
        Stage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    mailbox = models.ForeignKey("senders.Mailbox", on_delete=models.PROTECT, related_name="+")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    direction = models.CharField(max_length=10, choices=Direction.choices)
    status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    inbound_kind = models.CharField(max_length=12, choices=InboundKind.choices, blank=True)
    gmail_message_id = models.CharField(max_length=64, blank=True)
    gmail_thread_id = models.CharField(max_length=64, blank=True)
    rfc822_message_id = models.CharField(max_length=300, blank=True)
    from_address = models.CharField(max_length=300)
    to_address = models.CharField(max_length=300)
    subject = models.CharField(max_length=500, blank=True)
    body_text = models.TextField(blank=True)
    error = models.TextField(blank=True)
    # The mailbox's history id just before the Gmail call: where to look after a crash.
    history_id_before = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The replies page, newest first: its page is read off this index in order.
            models.Index(
                fields=["organization", "-sent_at", "-id"],
                condition=models.Q(direction="inbound", inbound_kind="reply"),
                name="message_replies_newest",
            ),
            models.Index(fields=["prospect", "-created_at"]),
            models.Index(fields=["mailbox", "direction", "created_at"]),
        ]
        constraints = [
            # The database itself refuses a second email for the same stage of an enrollment.
            models.UniqueConstraint(
                fields=["enrollment", "stage"],
                condition=models.Q(direction="outbound", status__in=["sending", "sent"]),
                name="one_email_per_stage",
            ),
        ]

    def __str__(self):
        return self.subject or "(no subject)"

    @property
    def gmail_url(self) -> str:
        return f"https://mail.google.com/mail/u/{self.mailbox.email}/#all/{self.gmail_message_id}"


class EnrollmentEvent(models.Model):
    """An enrollment's timeline: queued, sent, retried, paused, failed, and why."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=clock.now)
    text = models.CharField(max_length=500)
    message = models.ForeignKey(
        "Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    tenant_field = "enrollment__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return self.text


class TrackingEvent(models.Model):
    """An open (the pixel was fetched) or a click (a tracked link was followed) of a message."""

    class Kind(models.TextChoices):
        OPEN = "open", "Open"
        CLICK = "click", "Click"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="tracking_events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField(default=clock.now)
    url = models.URLField(max_length=2000, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    # Fetched by a machine (a prefetching privacy proxy, a scanner, within seconds of sending):
    # kept for the record, left out of the rates.
    automated = models.BooleanField(default=False)

    tenant_field = "message__organization"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["at"]
        indexes = [models.Index(fields=["message", "kind"])]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class LibraryVisibility(models.TextChoices):
    """Who sees a template or a snippet of the team's library (the values are sequences')."""

    PRIVATE = Visibility.PRIVATE.value, "Private (only you)"
    SHARED = Visibility.SHARED.value, "Shared with the team"


class LibraryEntry(models.Model):
    """What templates and snippets share: the team's, someone's, private or shared."""

    organization = models.ForeignKey(
        "outreach.Organization", on_delete=models.CASCADE, related_name="+"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    body_html = models.TextField()
    visibility = models.CharField(
        max_length=20, choices=LibraryVisibility.choices, default=LibraryVisibility.PRIVATE
    )
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name


class EmailTemplate(LibraryEntry):
    """A subject and body a recruiter loads into a stage or a one-off email, then adapts."""

    subject = models.CharField(max_length=300, blank=True)


class Snippet(LibraryEntry):
    """A passage (a signature, a paragraph about the team) inserted where the writer is."""


class DoNotContact(models.Model):
    """An organization's do-not-contact list: an email address, or a whole domain."""

    organization = models.ForeignKey(
        "outreach.Organization", on_delete=models.CASCADE, related_name="+"
    )
    value = models.CharField(
        max_length=254, help_text="An email address, or a domain such as example.com."
    )
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["value"]
        constraints = [
            models.UniqueConstraint("organization", Lower("value"), name="dnc_once_per_org"),
        ]
        verbose_name = "do-not-contact entry"
        verbose_name_plural = "do-not-contact list"

    def __str__(self):
        return self.value


class BackgroundJob(models.Model):
    """What a job a worker does in batches has (an import, an enrolment): its team and who
    started it, its status (of QUEUED, RUNNING, DONE, FAILED at least), why it failed, and when
    its progress last moved (the sweeper takes up a job under way that has not moved)."""

    organization = models.ForeignKey(
        "outreach.Organization", on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=10)
    failure = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def under_way(self) -> bool:
        return self.status in ("queued", "running")


class ImportJob(BackgroundJob):
    """A CSV file or a pasted list being imported into prospects, in the background: the file is
    kept here (not on a disk a worker may not share) until its last row is in, and the progress
    is saved after each batch, so a task run again or after a crash goes on from there."""

    class Source(models.TextChoices):
        FILE = "file", "CSV file"
        PASTE = "paste", "Pasted list"

    class Status(models.TextChoices):
        MAPPING = "mapping", "Waiting for its columns"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    # The mapping form posts it back: an upload is found by its own token, and only by its user.
    token = models.CharField(max_length=32, unique=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.FILE)
    file_name = models.CharField(max_length=255, blank=True)
    content = models.BinaryField(default=bytes)
    header = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.MAPPING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.get_source_display()} {self.file_name} ({self.get_status_display()})"


class ImportRowError(models.Model):
    """A row of an import that was not imported, with its values as read and why."""

    tenant_field = "job__organization"

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField()
    values = models.JSONField(default=list)
    problem = models.TextField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["job", "row"]
        indexes = [models.Index(fields=["job", "row"], name="import_error_by_row")]

    def __str__(self):
        return f"Row {self.row}: {self.problem}"


class EnrollJob(BackgroundJob):
    """Enrolling all the prospects a list's filter matches, in the background: the filter is
    kept as the list's query string and read again by each run, the prospects are taken in the
    order of their ids from where the last batch stopped, and what was enrolled and refused (by
    reason, with a few emails) is saved after each batch, so a run again or after a crash goes
    on from there."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Enrolling"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="+")
    filter_query = models.TextField()
    mailbox = models.ForeignKey("senders.Mailbox", on_delete=models.CASCADE, related_name="+")
    alias = models.ForeignKey(
        "senders.SendAsAlias", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    start_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    # The prospects matching when it was queued go up to this id: one added since is not in it.
    last_prospect_id = models.BigIntegerField(default=0)
    # Where the next batch starts: the prospects up to this id were checked.
    checked_up_to = models.BigIntegerField(default=0)
    checked = models.PositiveIntegerField(default=0)
    enrolled = models.PositiveIntegerField(default=0)
    # [{"why": ..., "count": ..., "examples": [email, ...]}, ...]: services.RefusedFor.
    refused = models.JSONField(default=list)

    class Meta(BackgroundJob.Meta):
        indexes = [models.Index(fields=["status", "updated_at"], name="enroll_job_by_status")]

    def __str__(self):
        return f"Enrolling in {self.sequence_id} ({self.get_status_display()})"


class StatsCounters(models.Model):
    """The stats page's figures for one UTC day (or month) x sequence x stage x sender x
    recruiter, as sequences/stats.py defines them, recomputed from the raw rows by
    sequences/rollups.py.

    The references carry no database constraint and cascade nothing: a deleted stage, sequence
    or user marks its days dirty (the triggers of migration 0012), and the day is recomputed
    from what remains."""

    organization = models.ForeignKey(
        "outreach.Organization", on_delete=models.CASCADE, related_name="+"
    )
    sequence = models.ForeignKey(
        Sequence, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    stage = models.ForeignKey(
        Stage, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    mailbox = models.ForeignKey(
        "senders.Mailbox", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    sent = models.IntegerField(default=0)
    bounced = models.IntegerField(default=0)
    # Emails with any open (or click) event, automated or not: they carried the pixel (or the
    # links), so they count in the rate's denominator even if their sequence tracks no more.
    open_evented = models.IntegerField(default=0)
    opened = models.IntegerField(default=0)
    click_evented = models.IntegerField(default=0)
    clicked = models.IntegerField(default=0)
    replied = models.IntegerField(default=0)
    interested = models.IntegerField(default=0)
    unsubscribed = models.IntegerField(default=0)

    class Meta:
        abstract = True


class StatsRollup(StatsCounters):
    day = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["organization", "day"], name="statsrollup_org_day")]

    def __str__(self):
        return f"{self.day}: {self.sent} sent"


class StatsMonthRollup(StatsCounters):
    """The sum of a calendar month's StatsRollup rows, kept by adding what each recompute
    changed: a range of a year reads a dozen months' rows, not 365 days'."""

    month = models.DateField()  # its first day

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month", "sequence", "stage", "mailbox", "sent_by"],
                nulls_distinct=False,
                name="statsmonthrollup_one_per_group",
            )
        ]

    def __str__(self):
        return f"{self.month:%B %Y}: {self.sent} sent"


class StatsDirtyDay(models.Model):
    """A UTC day of an organization whose rollups no longer match the raw rows, written by the
    database's triggers (migration 0012) in the transaction that changed them. Append-only: a
    change committed while the day is being recomputed leaves a row of its own behind."""

    # No constraint: the triggers also write while an organization's rows are being deleted.
    organization = models.ForeignKey(
        "outreach.Organization", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    day = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["organization", "day"], name="statsdirtyday_org_day")]

    def __str__(self):
        return f"{self.day} of organization {self.organization_id}"
