"""The mail-provider seam: what the engine, the mailbox sync and the ATS notice ask of a
mailbox's provider, in words that are not Gmail's. `senders/gmail.py` is the first
implementation; another provider (Microsoft 365) is one more module implementing MailProvider,
picked by `senders.services.client_for`, with no change to the engine.

Words used here:
- a message and a thread carry the provider's own ids;
- a cursor marks a point in the mailbox's history (Gmail's historyId); `added_since(cursor)`
  lists what arrived after it, in order, and gives the next cursor;
- labels are the provider's labels or folders, of which INBOX, SENT and TRASH mean what Gmail
  means by them.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from outreach import remote

INBOX = "INBOX"
SENT = "SENT"
TRASH = "TRASH"


# Errors: the message of each is safe to show ------------------------------------------------


class MailError(Exception):
    """A call to the provider (or its OAuth) that failed."""

    # Whether a write that failed so may have been carried out all the same (its answer lost).
    may_have_landed = False


class GrantRevoked(MailError):
    """The refresh token no longer works (revoked, password changed, unused too long)."""


class MissingScopes(MailError):
    """The grant lacks a scope the call needs."""


class RateLimited(MailError):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(MailError):
    """The provider answered 5xx, or its answer was lost (a timeout, a closed or reset
    connection): try again later, after looking for what the call may have done."""

    may_have_landed = True


class NotReached(Unavailable):
    """No connection to the provider could be made: the call was never carried out."""

    may_have_landed = False


class NotFound(MailError):
    """No such message or thread; or, for `added_since`, a cursor the provider no longer
    keeps (a full resync follows)."""


class AuthorizationDenied(MailError):
    """The person pressed Deny (or the provider refused the request) on the consent page."""


# What calls answer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    refresh_token: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class Profile:
    email: str
    # Where the mailbox's history stands now.
    cursor: str


@dataclass(frozen=True)
class Alias:
    email: str
    display_name: str
    is_primary: bool
    is_default: bool
    verified: bool


@dataclass(frozen=True)
class Sent:
    id: str
    thread_id: str


@dataclass(frozen=True)
class MessageHeaders:
    id: str
    thread_id: str
    # When the provider received or stored it.
    internal_date_ms: int
    label_ids: tuple[str, ...]
    headers: dict[str, str]  # lower-cased names
    snippet: str = ""


@dataclass(frozen=True)
class Capabilities:
    """Where providers differ, so that callers ask rather than assume."""

    # The sender's copy in Sent is displayed through the same image proxy as the prospect's,
    # so that a tracked copy would count the sender's looks: a clean copy replaces it.
    replaces_tracked_sent_copy: bool
    # A message can be filed in the mailbox without being sent (the ATS sync notice).
    inserts_messages: bool
    # Send-as addresses can be listed with whether each is verified.
    lists_send_as_aliases: bool


class MailProvider(Protocol):
    """One connected mailbox's provider. Each write goes out once per call (no resend by the
    HTTP layer); a lost answer raises an error whose `may_have_landed` is True, and the caller
    looks (find_sent) before trying again."""

    capabilities: Capabilities

    def profile(self) -> Profile: ...

    def send_window(self) -> remote.WriteWindow:
        """How long an email recorded as `sending` may still reach the provider."""
        ...

    def send(self, raw: bytes, thread_id: str = "") -> Sent:
        """Sends RFC 5322 bytes, into `thread_id` when given; answers the ids it got."""
        ...

    def insert(self, raw: bytes, thread_id: str = "", label_ids: tuple[str, ...] = (SENT,)) -> Sent:
        """Files a message in this mailbox only (nothing is sent)."""
        ...

    def trash(self, message_id: str) -> None: ...

    def headers(self, message_id: str, names: tuple[str, ...] | list[str]) -> MessageHeaders: ...

    def raw(self, message_id: str) -> bytes: ...

    def thread(self, thread_id: str, names: tuple[str, ...] | list[str]) -> list[MessageHeaders]:
        """The thread's messages, oldest first, with the named headers."""
        ...

    def messages_from(self, sender: str, since: datetime, limit: int) -> list[tuple[str, str]]:
        """(message id, thread id) of messages from `sender` received since `since`."""
        ...

    def added_since(self, cursor: str) -> tuple[list[str], str]:
        """Ids of messages added since `cursor`, oldest first, and the cursor now; NotFound
        when the provider no longer keeps that history."""
        ...

    def find_sent(self, rfc822_message_id: str, cursor: str) -> MessageHeaders | None:
        """Our email with that Message-ID, if the mailbox has it in Sent; `cursor`: read just
        before it was handed over."""
        ...

    def send_as_aliases(self) -> list[Alias]: ...
