"""The sandbox's Python API, keyed by email address: what a test, the demo loader or the sandbox
UI sets up or switches, for Google here and for Greenhouse in `sandbox.greenhouse.control`
(re-exported below). The product never calls it; it reaches the sandbox over HTTP only."""

from django.db import transaction

from . import faults, mail, mailbox, oauth, rfc822
from .greenhouse.control import V1_PERMISSIONS as V1_PERMISSIONS
from .greenhouse.control import V3_SCOPES as V3_SCOPES
from .greenhouse.control import add_note as add_note
from .greenhouse.control import candidate as candidate
from .greenhouse.control import candidate_activity as candidate_activity
from .greenhouse.control import create_candidate as create_candidate
from .greenhouse.control import create_greenhouse_user as create_greenhouse_user
from .greenhouse.control import create_harvest_client as create_harvest_client
from .greenhouse.control import create_harvest_key as create_harvest_key
from .greenhouse.control import greenhouse_user as greenhouse_user
from .greenhouse.control import set_harvest_rate_limit as set_harvest_rate_limit
from .models import (
    AutoReply,
    BouncingDomain,
    FaultRule,
    GoogleAccount,
    Grant,
    Message,
    OAuthClient,
    SendAsAlias,
    Thread,
)


def account(email: str) -> GoogleAccount:
    return GoogleAccount.objects.get(email=email.strip().lower())


def create_account(email: str, display_name: str = "", **fields) -> GoogleAccount:
    """Creates the account, or updates the one that exists (idempotent)."""
    defaults = {"display_name": display_name, **fields} if display_name else fields
    found, _ = GoogleAccount.objects.update_or_create(
        email=email.strip().lower(), defaults=defaults
    )
    return found


def delete_account(email: str) -> None:
    GoogleAccount.objects.filter(email=email.strip().lower()).delete()


def set_out_of_office(email: str, on: bool = True, message: str | None = None) -> GoogleAccount:
    found = account(email)
    found.out_of_office = on
    if message:
        found.out_of_office_message = message
    found.save(update_fields=["out_of_office", "out_of_office_message"])
    if on:
        # Turning the responder on again answers every correspondent anew, as Gmail does.
        AutoReply.objects.filter(account=found).delete()
    return found


def set_limits(
    email: str, *, units_per_minute: int | None = None, daily_send_limit: int | None = None
) -> GoogleAccount:
    found = account(email)
    if units_per_minute is not None:
        found.quota_units_per_minute = units_per_minute
    if daily_send_limit is not None:
        found.daily_send_limit = daily_send_limit
    found.save(update_fields=["quota_units_per_minute", "daily_send_limit"])
    return found


def add_send_as(
    email: str, alias: str, display_name: str = "", verified: bool = True
) -> SendAsAlias:
    found, _ = SendAsAlias.objects.update_or_create(
        account=account(email),
        email=alias.strip().lower(),
        defaults={"display_name": display_name, "verified": verified},
    )
    return found


def mark_bouncing(domain: str, bounces: bool = True) -> None:
    domain = domain.strip().lower().lstrip("@")
    if bounces:
        BouncingDomain.objects.get_or_create(domain=domain)
    else:
        BouncingDomain.objects.filter(domain=domain).delete()


def register_client(
    client_id: str, client_secret: str, redirect_uris: list[str] = (), name: str = "outreach"
) -> OAuthClient:
    """Registers an OAuth client, or adds redirect URIs to it (idempotent)."""
    client, _ = OAuthClient.objects.get_or_create(
        client_id=client_id, defaults={"client_secret": client_secret, "name": name}
    )
    client.client_secret, client.name = client_secret, name
    client.redirect_uris = list(dict.fromkeys([*client.redirect_uris, *redirect_uris]))
    client.save()
    return client


def revoke_grant(email: str, client_id: str | None = None) -> int:
    """Removes the app's access for that account (every client's when none is named): its
    refresh tokens then fail with invalid_grant and its access tokens with 401."""
    grants = Grant.objects.filter(account=account(email))
    if client_id:
        grants = grants.filter(client__client_id=client_id)
    return oauth.revoke_grants(grants)


def expire_history(email: str) -> None:
    """Every history id handed out so far becomes too old: history.list answers 404."""
    with transaction.atomic():
        mailbox.expire_history(mailbox.lock(account(email)))


def fail_next(
    endpoint: str, count: int = 1, status: int = 503, email: str | None = None
) -> FaultRule:
    """The next `count` calls of `endpoint` (a Google method id such as
    "gmail.users.messages.send", "oauth2.token", a Greenhouse endpoint id of
    `sandbox.greenhouse.endpoints` such as "greenhouse.v1.candidates.activity_feed.notes.create",
    or "*") answer `status` (500, 503 or 429). `email` narrows it to one Google account."""
    return faults.fail_next(endpoint, count, status, account(email) if email else None)


def drop_next(endpoint: str, count: int = 1) -> FaultRule:
    """The next `count` calls of a Greenhouse write are committed, then their connection is
    closed without an answer (the client sees a connection error)."""
    return faults.drop_next(endpoint, count)


def add_latency(endpoint: str, ms: int, email: str | None = None) -> FaultRule:
    """Every call of `endpoint` waits `ms` milliseconds until the faults are cleared."""
    return faults.add_latency(endpoint, ms, account(email) if email else None)


def clear_faults() -> None:
    faults.clear()


def send_as(
    email: str,
    *,
    to: list[str],
    subject: str,
    body: str,
    reply_to: Message | None = None,
    cc: list[str] = (),
) -> Message:
    """Sends as that person from Gmail's web UI (a tester playing the candidate): a reply goes
    into the thread of `reply_to` with its In-Reply-To and References."""
    sender = account(email)
    raw = rfc822.compose(
        from_name=sender.display_name,
        from_address=sender.email,
        to=to,
        cc=cc,
        subject=subject,
        body=body,
        in_reply_to=rfc822.parse(bytes(reply_to.raw)) if reply_to else None,
    )
    return mail.send(sender, raw, thread_id=reply_to.thread.gmail_id if reply_to else None)


def receive(email: str, raw: bytes, *, return_path: str = "") -> Message:
    """Delivers a message written elsewhere (any MTA's bounce, any client's auto-reply) into
    that account's INBOX, threaded as Gmail threads incoming mail."""
    return mail.receive(account(email), raw, return_path=return_path)


def reply(email: str, message: Message, body: str) -> Message:
    """Answers `message` (one of that account's) to its sender, as Gmail's Reply button does."""
    parsed = rfc822.parse(bytes(message.raw))
    to = rfc822.addresses(parsed, "Reply-To") or rfc822.addresses(parsed, "From")
    if message.account.email in to:
        # Replying to one's own message goes to its recipients, as Gmail's Reply does.
        to = rfc822.addresses(parsed, "To")
    return send_as(
        email,
        to=to,
        subject=rfc822.reply_subject(message.subject),
        body=body,
        reply_to=message,
    )


def messages(email: str, label: str | None = None):
    """That mailbox's messages, newest first (for assertions and the UI)."""
    found = Message.objects.filter(account=account(email)).select_related("thread", "account")
    if label:
        found = found.filter(label_ids__contains=[label])
    return found.order_by("-internal_date", "-pk")


def thread(email: str, thread_id: str) -> Thread:
    return Thread.objects.get(account=account(email), gmail_id=thread_id)
