"""What keeps a prospect from being emailed from a mailbox, as typed problems with the words the
recruiter reads (as Saleor's checkout/problems.py): one list, used by enrolment, the compose
page and the send path alike, so that each says the same thing the same way.

A problem either blocks the email or is a warning. At send time a blocking one also says what
becomes of the enrollment: it ends (`stops_as`), or waits for the matching fix (`pauses_for`).

A bounced address is only a warning so far (issue 21 decides what a bounce means for later
emails, and whether it blocks them).
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from outreach.models import User
from senders import services as senders
from senders.models import Mailbox

from .models import Enrollment, Prospect


@dataclass(frozen=True)
class Problem(ABC):
    """Blocks the email. Subclasses say why in `message`."""

    # A few words for logs and task results.
    short: ClassVar[str] = "blocked"

    @property
    @abstractmethod
    def message(self) -> str:
        """What the recruiter reads."""

    @property
    def blocks(self) -> bool:
        return True

    # At send time: the status the enrollment ends with, or the cause it is paused for.
    @property
    def stops_as(self) -> str | None:
        return None

    @property
    def pauses_for(self) -> str | None:
        return None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Warning(Problem):
    """Shown beside the prospect; the email may go."""

    @property
    def blocks(self) -> bool:
        return False


# Blocking ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkedDoNotContact(Problem):
    short: ClassVar[str] = "do not contact"
    email: str

    @property
    def message(self) -> str:
        return f"{self.email} is marked do not contact."

    @property
    def stops_as(self) -> str:
        return Enrollment.Status.UNSUBSCRIBED


@dataclass(frozen=True)
class OnDoNotContactList(Problem):
    short: ClassVar[str] = "do not contact"
    email: str
    # The entry that matched (the address, or its domain), where it is known.
    entry: str = ""

    @property
    def message(self) -> str:
        entry = f" ({self.entry})" if self.entry else ""
        return f"{self.email} is on the team's do-not-contact list{entry}."

    @property
    def stops_as(self) -> str:
        return Enrollment.Status.STOPPED


@dataclass(frozen=True)
class MayNotSendAs(Problem):
    short: ClassVar[str] = "not allowed to send as the mailbox"
    sender: str  # "You", or the teammate's name
    mailbox: str
    # At send time: the permission was there at enrolment and is gone.
    no_longer: bool = False

    @property
    def message(self) -> str:
        may = "may no longer" if self.no_longer else "may not"
        return f"{self.sender} {may} send as {self.mailbox}."

    @property
    def pauses_for(self) -> str:
        return Enrollment.PauseCause.DELEGATION_REVOKED


@dataclass(frozen=True)
class MailboxNotConnected(Problem):
    short: ClassVar[str] = "mailbox not connected"
    mailbox: str
    status: str
    status_label: str

    @property
    def message(self) -> str:
        return f"{self.mailbox} is {self.status_label.lower()}."

    @property
    def pauses_for(self) -> str:
        if self.status == Mailbox.Status.DISCONNECTED:
            return Enrollment.PauseCause.MAILBOX_DISCONNECTED
        return Enrollment.PauseCause.MAILBOX_RECONNECT


@dataclass(frozen=True)
class MissingValues(Problem):
    short: ClassVar[str] = "missing values"
    tokens: tuple[str, ...]

    @property
    def message(self) -> str:
        return "No value for " + ", ".join(f"{{{{{token}}}}}" for token in self.tokens) + "."


@dataclass(frozen=True)
class TemplateProblem(Problem):
    """A stage that does not render for this prospect (a token without a value, found at send
    time: the prospect changed since enrolment)."""

    short: ClassVar[str] = "template problem"

    stage_number: int
    error: str

    @property
    def message(self) -> str:
        return f"Stage {self.stage_number}: {self.error}"

    @property
    def pauses_for(self) -> str:
        return Enrollment.PauseCause.MISSING_VALUE


@dataclass(frozen=True)
class AlreadyInSequence(Problem):
    short: ClassVar[str] = "already in the sequence"

    @property
    def message(self) -> str:
        return "Already in this sequence."


# Warnings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveElsewhere(Warning):
    short: ClassVar[str] = "active elsewhere"
    # Each a sequence's name and owner, or "a sequence you cannot see" (said once).
    places: tuple[str, ...]

    @property
    def message(self) -> str:
        return "Also active in " + "; ".join(dict.fromkeys(self.places)) + "."


@dataclass(frozen=True)
class RecentlyEmailed(Warning):
    short: ClassVar[str] = "recently emailed"
    days: int
    by: tuple[str, ...]

    @property
    def message(self) -> str:
        return f"Emailed in the last {self.days} days by " + ", ".join(sorted(self.by)) + "."


@dataclass(frozen=True)
class RecentlyReplied(Warning):
    short: ClassVar[str] = "replied"
    days: int
    # Whom they replied to: a teammate's name, "you", or "a teammate" (a sequence not shown).
    to: tuple[str, ...]

    @property
    def message(self) -> str:
        return f"Replied in the last {self.days} days to " + ", ".join(sorted(self.to)) + "."


@dataclass(frozen=True)
class Bounced(Warning):
    short: ClassVar[str] = "bounced"

    @property
    def message(self) -> str:
        return "An earlier email to this address bounced: this one may not be delivered."


# The checks ------------------------------------------------------------------------------------


def contact_problems(prospect: Prospect, listed_as: str | None) -> list[Problem]:
    """May this person be written to at all? `listed_as`: the do-not-contact entry matching
    their address ("" when matched but unknown), None when none matches."""
    if prospect.do_not_contact:
        return [MarkedDoNotContact(prospect.email)]
    if listed_as is not None:
        return [OnDoNotContactList(prospect.email, listed_as)]
    return []


def sender_problems(sender: User, mailbox: Mailbox, *, you: bool = False) -> list[Problem]:
    """May `sender` send as `mailbox`? `you`: said to the sender themselves (at enrolment),
    else of them (at send time, when it was allowed at enrolment)."""
    if not senders.can_send_as(sender, mailbox):
        return [MayNotSendAs("You" if you else sender.full_name, mailbox.email, no_longer=not you)]
    return []


def mailbox_problems(mailbox: Mailbox) -> list[Problem]:
    if not mailbox.is_connected:
        return [MailboxNotConnected(mailbox.email, mailbox.status, mailbox.get_status_display())]
    return []


def problems_to_send(enrollment: Enrollment, *, on_do_not_contact_list: bool) -> list[Problem]:
    """What keeps the enrollment's next email from going now, checked again at every send:
    permissions and the prospect's wishes may have changed since enrolment.
    `on_do_not_contact_list`: as the send's one query found (see engine.claims)."""
    mailbox, prospect = enrollment.mailbox, enrollment.prospect
    return (
        contact_problems(prospect, "" if on_do_not_contact_list else None)
        + sender_problems(enrollment.enrolled_by, mailbox)
        + mailbox_problems(mailbox)
    )
