from typing import cast

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac

from . import clock
from .tenancy import TenantQuerySet
from .validators import email_list


class Organization(models.Model):
    """A team: the unit of tenancy. Nothing of one organization is visible to another."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    seats = models.PositiveIntegerField(
        default=5, help_text="Admins and recruiters each take a seat; sender-only users do not."
    )
    default_bcc = models.CharField(
        max_length=500,
        blank=True,
        # Django ignores what a validator returns; email_list also normalizes, for clean() and
        # the sequences' BCC lists, and migration 0005 names it.
        validators=[email_list],  # type: ignore[list-item]
        help_text="Copied into each new sequence when it is created (e.g. your ATS's BCC "
        "maildrop address); changing it later does not change existing sequences.",
    )
    recent_contact_days = models.PositiveIntegerField(
        default=30,
        help_text="Enrolling someone a teammate emailed within this many days warns who it was.",
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)

    # Scoping an Organization queryset means keeping the user's own row.
    tenant_field = "pk"
    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        self.default_bcc = email_list(self.default_bcc)


class EmailDomain(models.Model):
    """A domain the organization has proven it holds. Its members, and the mailboxes they send
    from, must be on one of these. A domain belongs to one organization at most."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True)
    verified_at = models.DateTimeField(default=clock.now)
    verified_by = models.ForeignKey(
        "User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["domain"]

    def __str__(self):
        return self.domain


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    RECRUITER = "recruiter", "Recruiter"
    # Lends an inbox (often a hiring manager): takes no seat and signs in only with Google.
    SENDER = "sender", "Sender only"


SEAT_ROLES = (Role.ADMIN, Role.RECRUITER)


class UserManager(BaseUserManager["User"]):
    """Its querysets are TenantQuerySets, as `from_queryset(TenantQuerySet)` would make them:
    spelled out, since mypy's Django plugin cannot type a from_queryset manager of the user model
    in the user model's own module."""

    use_in_migrations = True
    _queryset_class = TenantQuerySet

    def get_queryset(self) -> "TenantQuerySet[User]":
        return cast("TenantQuerySet[User]", super().get_queryset())

    def for_organization(self, organization_id: int) -> "TenantQuerySet[User]":
        return self.get_queryset().for_organization(organization_id)

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra["is_superuser"] = True
        extra.setdefault("role", Role.ADMIN)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


def normalize_email(email: str) -> str:
    return email.strip().lower()


class User(AbstractBaseUser, PermissionsMixin):
    # Stored lower-cased (see save), so the unique index is case-insensitive in effect.
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="members",
        null=True,
        blank=True,
        help_text="Empty only for the operator's superusers.",
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.RECRUITER)
    is_active = models.BooleanField(default=True)
    # Derived: Django admin is for the organization's admins (and the operator's superusers).
    is_staff = models.BooleanField(default=False, editable=False)
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    # Reply alerts: in the app and by email, each switchable.
    notify_replies_in_app = models.BooleanField(default=True)
    notify_replies_by_email = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=clock.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]

    def __str__(self):
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        self.is_staff = self.is_superuser or self.role == Role.ADMIN
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "role" in update_fields:
            kwargs["update_fields"] = {*update_fields, "is_staff"}
        super().save(*args, **kwargs)

    def _get_session_auth_hash(self, secret=None):
        # Django ends a user's sessions when their password changes, through this hash; the
        # email is part of it too, so that a changed address ends every session opened under
        # the old one (whoever changed it, by whatever path).
        return salted_hmac(
            "outreach.User.session_auth_hash",
            f"{self.password}\x00{self.email}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_org_admin(self) -> bool:
        return self.is_active and self.role == Role.ADMIN and self.organization_id is not None

    @property
    def takes_seat(self) -> bool:
        return self.is_active and self.role in SEAT_ROLES

    # For the code only a team's members reach. The operator's superusers have no organization:
    # there, both raise Organization.DoesNotExist, as looking it up would.
    @property
    def team(self) -> Organization:
        if self.organization is None:
            raise Organization.DoesNotExist(f"{self.email} belongs to no team.")
        return self.organization

    @property
    def team_id(self) -> int:
        if self.organization_id is None:
            raise Organization.DoesNotExist(f"{self.email} belongs to no team.")
        return self.organization_id


class Invitation(models.Model):
    """An admin's invitation for a teammate to join; accepted once, through a signed link."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(
        max_length=20,
        choices=[(Role.ADMIN, Role.ADMIN.label), (Role.RECRUITER, Role.RECRUITER.label)],
        default=Role.RECRUITER,
    )
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=clock.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open invitation per address per team; a new one replaces the old.
            models.UniqueConstraint(
                "organization",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
        ]

    def __str__(self):
        return f"Invitation for {self.email}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class Notification(models.Model):
    """Something a user should know (a decision on their request, a mailbox that needs
    reconnecting), shown in the app; most are also emailed."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    message = models.CharField(max_length=500)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "read_at"]),
            # The notifications page, newest first, a page at a time.
            models.Index(fields=["user", "-created_at", "-id"], name="notification_newest"),
        ]

    def __str__(self):
        return self.message
