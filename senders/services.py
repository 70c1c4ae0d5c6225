"""Writes for mailboxes and delegations. Every send path asks `can_send_as` at the moment of
sending; everything that ends or restores a right to send is announced (senders/signals.py)."""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.timesince import timeuntil

from outreach import clock, permissions, rich_text
from outreach import selectors as org_selectors
from outreach.emails import absolute_url, send_product_email
from outreach.models import Role, User, normalize_email
from outreach.notifications import notify

from . import gmail, mail, signals
from .models import Delegation, DelegationEvent, Mailbox, SendAsAlias

log = logging.getLogger(__name__)

REVIEW_SALT = "senders.delegation.review"
REVIEW_MAX_AGE = timedelta(days=7)


class LinkError(Exception):
    """A review link that cannot be used; the message says why, in the user's words."""


class WrongGoogleAccount(Exception):
    pass


class MailboxRequired(Exception):
    """Approving needs the grantor's own mailbox connected first."""


# Mailboxes ---------------------------------------------------------------------------------------


def check_connectable_address(*, user: User, email: str) -> str:
    email = normalize_email(email)
    domains = org_selectors.organization_domains(user.team)
    if org_selectors.email_domain(email) not in domains:
        raise ValidationError(f"{email} is not on your team's domains ({', '.join(domains)}).")
    taken = Mailbox.objects.filter(email=email).exclude(owner=user).exists()
    if taken:
        raise ValidationError(f"{email} is already connected by someone else on your team.")
    return email


def connect_mailbox(*, user: User, grant: gmail.Grant, expected_email: str) -> Mailbox:
    """Stores a fresh grant for the mailbox `user` asked to connect. The Google account that
    consented must be that very address: anything else is refused and the grant given back."""
    client = gmail.Gmail(gmail.credentials(grant.refresh_token, grant.scopes))
    profile = client.profile()
    if profile.email != normalize_email(expected_email):
        try:
            gmail.revoke(grant.refresh_token)
        except gmail.GmailError:
            log.warning("could not give back a grant for the wrong account")
        raise WrongGoogleAccount(
            f"You chose the Google account {profile.email}, but this connects {expected_email}. "
            f"Try again and pick {expected_email} on Google's page."
        )
    aliases = client.send_as_aliases()
    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().filter(email=profile.email).first()
        if mailbox is not None and mailbox.owner_id != user.pk:
            raise WrongGoogleAccount(f"{profile.email} is already connected by someone else.")
        was_down = mailbox is not None and not mailbox.is_connected
        if mailbox is None:
            mailbox = Mailbox(organization_id=user.team_id, owner=user, email=profile.email)
        mailbox.display_name = mailbox.display_name or user.full_name
        mailbox.refresh_token = grant.refresh_token
        mailbox.scopes = sorted(grant.scopes)
        mailbox.status = Mailbox.Status.CONNECTED
        mailbox.last_error = ""
        mailbox.last_success_at = clock.now()
        mailbox.connected_at = clock.now()
        if not mailbox.history_id:
            mailbox.history_id = profile.cursor
        mailbox.save()
        _store_aliases(mailbox, aliases)
        Delegation.objects.filter(grantor=user, mailbox__isnull=True).update(mailbox=mailbox)
        if was_down:
            for delegation in mailbox.delegations.filter(status=Delegation.Status.APPROVED):
                _event(delegation, DelegationEvent.Kind.RECONNECTED, user)
            signals.mailbox_reconnected.send(sender=Mailbox, mailbox=mailbox)
    return mailbox


def _store_aliases(mailbox: Mailbox, aliases: list[gmail.Alias]) -> None:
    kept = []
    for alias in aliases:
        SendAsAlias.objects.update_or_create(
            mailbox=mailbox,
            email=alias.email,
            defaults={
                "display_name": alias.display_name,
                "is_primary": alias.is_primary,
                "is_default": alias.is_default,
                "verified": alias.verified,
            },
        )
        kept.append(alias.email)
    mailbox.aliases.exclude(email__in=kept).delete()


def missing_scopes(mailbox: Mailbox) -> list[str]:
    return [scope for scope in gmail.MAILBOX_SCOPES if scope not in mailbox.scopes]


def client_for(mailbox: Mailbox) -> mail.MailProvider:
    """The mailbox's provider client (kept per worker); pass any MailError of a call to
    `record_mail_failure`, and its success to `record_mail_success`. Gmail is the one provider
    today: another is chosen here, by the mailbox's provider, and nowhere else."""
    return gmail_for(mailbox)


def gmail_for(mailbox: Mailbox) -> gmail.Gmail:
    """The mailbox's Gmail client, for what only Gmail does (its OAuth refresh)."""
    if not mailbox.is_connected:
        raise gmail.GrantRevoked(f"{mailbox.email} is not connected.")
    # Kept while the mailbox is not reconnected (a new grant), keyed by when it was connected.
    # A mailbox loaded without its refresh token reads it here, only when a client is built.
    return gmail.Gmail.for_mailbox(
        mailbox.pk, mailbox.connected_at, lambda: (mailbox.refresh_token, mailbox.scopes)
    )


def record_mail_success(mailbox: Mailbox) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(last_success_at=clock.now())


def record_mail_failure(mailbox: Mailbox, error: mail.MailError) -> None:
    if isinstance(error, gmail.GrantRevoked | gmail.MissingScopes):
        gmail.Gmail.forget(mailbox.pk)
        mark_needs_reconnect(mailbox, str(error))
    else:
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_error=str(error), last_error_at=clock.now()
        )


def check_mailbox(mailbox: Mailbox) -> bool:
    """Refreshes the mailbox's access and reads its profile and aliases; True when it works."""
    try:
        client = gmail_for(mailbox)
        gmail.refresh(client.credentials)
        client.profile()
        aliases = client.send_as_aliases()
    except gmail.GmailError as exc:
        record_mail_failure(mailbox, exc)
        return False
    with transaction.atomic():
        _store_aliases(mailbox, aliases)
        record_mail_success(mailbox)
    return True


@transaction.atomic
def mark_needs_reconnect(mailbox: Mailbox, reason: str) -> None:
    """Google refused the grant: sends stop (announced) and the owner and every delegate hear
    of it, once."""
    mailbox = Mailbox.objects.select_for_update().select_related("owner").get(pk=mailbox.pk)
    mailbox.last_error, mailbox.last_error_at = reason, clock.now()
    if mailbox.status != Mailbox.Status.CONNECTED:
        mailbox.save(update_fields=["last_error", "last_error_at"])
        return
    mailbox.status = Mailbox.Status.NEEDS_RECONNECT
    mailbox.save(update_fields=["status", "last_error", "last_error_at"])
    signals.mailbox_needs_reconnect.send(sender=Mailbox, mailbox=mailbox, reason=reason)
    settings_url = reverse("senders:settings")
    notify(
        mailbox.owner,
        f"Your mailbox {mailbox.email} needs reconnecting: {reason} "
        "Emails from it are paused until you reconnect it.",
        url=settings_url,
        email_subject=f"Reconnect {mailbox.email} to keep your sequences sending",
    )
    for delegation in mailbox.delegations.filter(status=Delegation.Status.APPROVED).select_related(
        "delegate"
    ):
        _event(delegation, DelegationEvent.Kind.RECONNECT_NEEDED, None, reason)
        notify(
            delegation.delegate,
            f"{mailbox.email} needs to be reconnected by {mailbox.owner.full_name}. "
            "Emails you send from it are paused until then.",
            url=settings_url,
            email_subject=f"Sending from {mailbox.email} is paused",
        )


def disconnect_mailbox(*, mailbox: Mailbox, by: User) -> None:
    if mailbox.owner_id != by.pk:
        raise PermissionDenied("Only the mailbox's owner can disconnect it.")
    token = mailbox.refresh_token
    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        mailbox.status = Mailbox.Status.DISCONNECTED
        mailbox.refresh_token = ""
        mailbox.scopes = []
        mailbox.save(update_fields=["status", "refresh_token", "scopes"])
        signals.mailbox_disconnected.send(sender=Mailbox, mailbox=mailbox, by=by)
    if token:
        try:
            gmail.revoke(token)
        except gmail.GmailError:
            # Our copy is gone already, so nothing can use the grant; Google drops unused grants.
            log.warning(
                "revoking a disconnected mailbox's grant failed", extra={"mailbox_id": mailbox.pk}
            )


# Whoever pastes a whole document or an image into a signature gets told, not a 1 MB footer on
# every email; a real signature is a few lines.
SIGNATURE_MAX_BYTES = 10 * 1024


def set_signature(*, mailbox: Mailbox, by: User, signature_html: str) -> rich_text.Cleaned:
    """Cleans and keeps the signature that ends every email sent from `mailbox`, by its owner and
    by teammates sending on their behalf; empty for none. Returns what the cleaning removed.

    Tokens are refused rather than rendered: the signature is the owner's, the same on every
    email, and added after the body's tokens are filled in. The prospect's values have no place
    in it, and the sender's are the owner's own name and address, which they can type; a token
    would only add a way for the email to fail at send time."""
    if mailbox.owner_id != by.pk:
        raise PermissionDenied("Only the mailbox's owner can change its signature.")
    if len(signature_html.encode("utf-8", "surrogatepass")) > SIGNATURE_MAX_BYTES:
        raise ValidationError(
            f"This signature is too long: keep it under {SIGNATURE_MAX_BYTES // 1024} KB "
            "(images can't be part of it)."
        )
    cleaned = rich_text.clean(signature_html)
    if "{{" in cleaned.html:
        raise ValidationError(
            "A signature can't hold tokens such as {{first_name}}: write it as it should read."
        )
    mailbox.signature_html = cleaned.html if rich_text.has_text(cleaned.html) else ""
    mailbox.save(update_fields=["signature_html"])
    return cleaned


# Delegations -------------------------------------------------------------------------------------


def can_send_as(user: User, mailbox: Mailbox) -> bool:
    """May `user` send from `mailbox` right now? The owner may; so may the holder of an approved
    delegation from the owner. Asked at every send, not only when enrolling."""
    if not user.is_active or user.organization_id != mailbox.organization_id:
        return False
    if mailbox.owner_id == user.pk:
        return True
    return Delegation.objects.filter(
        delegate=user,
        grantor_id=mailbox.owner_id,
        grantor__is_active=True,
        mailbox=mailbox,
        status=Delegation.Status.APPROVED,
    ).exists()


def _event(delegation: Delegation, kind: str, actor: User | None, note: str = "") -> None:
    DelegationEvent.objects.create(delegation=delegation, kind=kind, actor=actor, note=note[:500])


def review_url(delegation: Delegation) -> str:
    token = signing.dumps(
        {"d": delegation.pk, "s": delegation.request_sent_at.timestamp()}, salt=REVIEW_SALT
    )
    return absolute_url(reverse("senders:review", args=[token]))


def _send_request_email(delegation: Delegation) -> None:
    template = (
        "delegation_request" if delegation.grantor.has_usable_password() else "sender_invitation"
    )
    send_product_email(
        to=delegation.grantor.email,
        template=template,
        context={
            "delegation": delegation,
            "grantor": delegation.grantor,
            "delegate": delegation.delegate,
            "url": review_url(delegation),
            "days": REVIEW_MAX_AGE.days,
            "settings_url": absolute_url(reverse("senders:settings")),
        },
    )


def _check_teammate_address(requester: User, email: str) -> str:
    # Sending from a teammate's inbox (and so asking for it) is a recruiter's.
    permissions.require(requester, permissions.Access.RECRUITER)
    email = normalize_email(email)
    if email == requester.email:
        raise ValidationError(
            "That is your own address: connect your own mailbox instead of asking for access."
        )
    domains = org_selectors.organization_domains(requester.team)
    if org_selectors.email_domain(email) not in domains:
        raise ValidationError(
            f"{email} is not on your team's domains ({', '.join(domains)}): only teammates can "
            "let you send from their inbox."
        )
    return email


@transaction.atomic
def request_delegation(*, requester: User, grantor_email: str) -> Delegation:
    email = _check_teammate_address(requester, grantor_email)
    grantor = User.objects.filter(
        organization_id=requester.team_id, email=email, is_active=True
    ).first()
    if grantor is None:
        raise ValidationError(
            f"{email} is not a member of {requester.team.name}. Invite them to lend their "
            "inbox instead."
        )
    return _open_delegation(requester, grantor)


@transaction.atomic
def invite_sender(*, inviter: User, full_name: str, email: str) -> Delegation:
    """A colleague with no account: they get a sender-only account (no password, no seat) and a
    request to connect their inbox for `inviter`."""
    email = _check_teammate_address(inviter, email)
    if User.objects.filter(email=email).exists():
        raise ValidationError(
            f"{email} already has an account: ask for access with + Add account instead."
        )
    grantor = User.objects.create_user(
        email=email,
        full_name=full_name,
        organization=inviter.organization,
        role=Role.SENDER,
    )
    return _open_delegation(inviter, grantor)


def _open_delegation(requester: User, grantor: User) -> Delegation:
    existing = Delegation.objects.filter(
        grantor=grantor, delegate=requester, status__in=Delegation.OPEN
    ).first()
    if existing is not None:
        raise ValidationError(
            f"You are already authorized to send as {grantor.email}."
            if existing.status == Delegation.Status.APPROVED
            else f"You already asked {grantor.email}; use Resend request if the email got lost."
        )
    _check_request_emails(requester, grantor)
    delegation = Delegation.objects.create(
        organization_id=requester.team_id,
        grantor=grantor,
        delegate=requester,
        mailbox=grantor.mailboxes.filter(status=Mailbox.Status.CONNECTED).first(),
    )
    _event(delegation, DelegationEvent.Kind.REQUESTED, requester)
    _send_request_email(delegation)
    return delegation


@transaction.atomic
def resend_request(*, delegation: Delegation, by: User) -> Delegation:
    permissions.require(by, permissions.Access.RECRUITER)
    if delegation.delegate_id != by.pk:
        raise PermissionDenied("Only the person who asked can resend the request.")
    _check_request_emails(by, delegation.grantor)
    delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
    if delegation.status not in (Delegation.Status.PENDING, Delegation.Status.EXPIRED):
        raise ValidationError("This request was already answered.")
    # A new link; the previous one stops working, and the seven days start again.
    delegation.status = Delegation.Status.PENDING
    delegation.request_sent_at = clock.now()
    delegation.save(update_fields=["status", "request_sent_at"])
    _event(delegation, DelegationEvent.Kind.RESENT, by)
    _send_request_email(delegation)
    return delegation


def _check_request_emails(requester: User, grantor: User) -> None:
    """Refuses a request email (an ask, an invitation, a resend) over the limits: so many per
    requester an hour, so many to one teammate a day, whoever asks. Nobody can flood a
    colleague's inbox, nor the team's through one account."""
    # Both people's rows, in id order as every caller takes them (then the delegation's): two
    # requests at once wait for each other instead of passing on the same count.
    list(
        User.objects.select_for_update()
        .filter(pk__in=[requester.pk, grantor.pk])
        .order_by("pk")
        .values_list("pk")
    )
    sent = DelegationEvent.objects.filter(
        kind__in=[DelegationEvent.Kind.REQUESTED, DelegationEvent.Kind.RESENT]
    )
    _refuse_over_limit(
        sent.filter(actor=requester),
        settings.DELEGATION_REQUESTS_PER_HOUR,
        timedelta(hours=1),
        lambda count: f"You have sent {count} access requests in the last hour.",
    )
    _refuse_over_limit(
        sent.filter(delegation__grantor=grantor),
        settings.DELEGATION_REQUESTS_PER_TEAMMATE_PER_DAY,
        timedelta(days=1),
        lambda count: (
            f"{grantor.email} has been sent {count} access requests in the last 24 hours."
        ),
    )


def _refuse_over_limit(events, limit: int, window: timedelta, said: Callable[[int], str]) -> None:
    now = clock.now()
    recent = list(events.filter(at__gt=now - window).order_by("-at").values_list("at", flat=True))
    if len(recent) < limit:
        return
    # A new email may go once the limit-th latest leaves the window (said in whole minutes).
    free_at = max(recent[limit - 1] + window, now + timedelta(minutes=1))
    raise ValidationError(
        f"{said(len(recent))} You can send another in {timeuntil(free_at, now, depth=1)}.",
        code="throttled",
    )


def delegation_for_review(token: str) -> Delegation:
    """The delegation a review link is for, while it can still be decided."""
    try:
        payload = signing.loads(token, salt=REVIEW_SALT)
    except signing.BadSignature as exc:
        raise LinkError("This link is not valid.") from exc
    delegation = (
        Delegation.objects.select_related("grantor", "delegate", "organization", "mailbox")
        .filter(pk=payload["d"])
        .first()
    )
    if delegation is None or payload["s"] != delegation.request_sent_at.timestamp():
        raise LinkError("This link was replaced by a newer request email. Use the latest one.")
    if delegation.status == Delegation.Status.PENDING and _is_stale(delegation):
        expire_delegation(delegation)
        delegation.refresh_from_db()
    if delegation.status != Delegation.Status.PENDING:
        raise LinkError(
            {
                Delegation.Status.APPROVED: "This request was already authorized.",
                Delegation.Status.REJECTED: "This request was already rejected.",
                Delegation.Status.REVOKED: "This request was withdrawn or revoked.",
                Delegation.Status.EXPIRED: (
                    f"This request expired after {REVIEW_MAX_AGE.days} days. "
                    f"Ask {delegation.delegate.full_name} to send it again."
                ),
            }[Delegation.Status(delegation.status)]
        )
    return delegation


def _is_stale(delegation: Delegation) -> bool:
    return delegation.request_sent_at < clock.now() - REVIEW_MAX_AGE


@transaction.atomic
def expire_delegation(delegation: Delegation) -> None:
    updated = Delegation.objects.filter(pk=delegation.pk, status=Delegation.Status.PENDING).update(
        status=Delegation.Status.EXPIRED
    )
    if updated:
        _event(delegation, DelegationEvent.Kind.EXPIRED, None)


def expire_stale_requests() -> int:
    stale = Delegation.objects.filter(
        status=Delegation.Status.PENDING, request_sent_at__lt=clock.now() - REVIEW_MAX_AGE
    )
    count = 0
    for delegation in stale:
        expire_delegation(delegation)
        count += 1
    return count


def _lock_pending(delegation: Delegation, by: User) -> Delegation:
    delegation = (
        Delegation.objects.select_for_update(of=("self",))
        .select_related("grantor", "delegate")
        .get(pk=delegation.pk)
    )
    if delegation.grantor_id != by.pk:
        raise PermissionDenied(f"Only {delegation.grantor.email} can decide this request.")
    if delegation.status != Delegation.Status.PENDING:
        raise ValidationError(f"This request is {delegation.get_status_display().lower()} already.")
    return delegation


@transaction.atomic
def approve_delegation(*, delegation: Delegation, by: User) -> Delegation:
    delegation = _lock_pending(delegation, by)
    mailbox = by.mailboxes.filter(status=Mailbox.Status.CONNECTED).first()
    if mailbox is None:
        raise MailboxRequired("Connect your Gmail inbox to authorize this request.")
    delegation.mailbox = mailbox
    delegation.status = Delegation.Status.APPROVED
    delegation.decided_at, delegation.decided_by = clock.now(), by
    delegation.save(update_fields=["mailbox", "status", "decided_at", "decided_by"])
    _event(delegation, DelegationEvent.Kind.APPROVED, by)
    signals.delegation_approved.send(sender=Delegation, delegation=delegation, by=by)
    notify(
        delegation.delegate,
        f"{by.full_name} authorized you to send from {mailbox.email}.",
        url=reverse("senders:settings"),
        email_subject=f"You can now send from {mailbox.email}",
    )
    return delegation


@transaction.atomic
def reject_delegation(*, delegation: Delegation, by: User) -> Delegation:
    delegation = _lock_pending(delegation, by)
    delegation.status = Delegation.Status.REJECTED
    delegation.decided_at, delegation.decided_by = clock.now(), by
    delegation.save(update_fields=["status", "decided_at", "decided_by"])
    _event(delegation, DelegationEvent.Kind.REJECTED, by)
    notify(
        delegation.delegate,
        f"{by.full_name} declined your request to send from {by.email}.",
        url=reverse("senders:settings"),
        email_subject=f"{by.full_name} declined your request",
    )
    return delegation


@transaction.atomic
def revoke_delegation(*, delegation: Delegation, by: User | None, reason: str = "") -> Delegation:
    """Ends a delegation now; `by` is the grantor or the delegate (None: the system)."""
    delegation = (
        Delegation.objects.select_for_update(of=("self",))
        .select_related("grantor", "delegate", "mailbox")
        .get(pk=delegation.pk)
    )
    if by is not None and by.pk not in (delegation.grantor_id, delegation.delegate_id):
        raise PermissionDenied("Only the two people concerned can revoke this.")
    if delegation.status not in Delegation.OPEN:
        return delegation
    was_approved = delegation.status == Delegation.Status.APPROVED
    delegation.status = Delegation.Status.REVOKED
    delegation.decided_at, delegation.decided_by = clock.now(), by
    delegation.save(update_fields=["status", "decided_at", "decided_by"])
    reason = reason or (f"Revoked by {by.full_name}." if by else "Revoked.")
    _event(delegation, DelegationEvent.Kind.REVOKED, by, reason)
    if was_approved:
        signals.delegation_revoked.send(
            sender=Delegation, delegation=delegation, by=by, reason=reason
        )
    other = (
        delegation.delegate if by is None or by.pk == delegation.grantor_id else delegation.grantor
    )
    address = delegation.mailbox.email if delegation.mailbox else delegation.grantor.email
    notify(
        other,
        f"Sending as {address} for {delegation.delegate.full_name} has ended. {reason}",
        url=reverse("senders:settings"),
        email_subject=f"Sending as {address} has ended",
    )
    return delegation


def revoke_all_for(user: User, reason: str) -> None:
    """Ends every delegation to or from `user` (they left the team)."""
    for delegation in Delegation.objects.filter(status__in=Delegation.OPEN).filter(
        Q(grantor=user) | Q(delegate=user)
    ):
        revoke_delegation(delegation=delegation, by=None, reason=reason)
