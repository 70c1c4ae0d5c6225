"""The email as it goes out: the stage rendered for the prospect, threaded after our earlier email,
with its unsubscribe link and tracking, as RFC 5322 bytes."""

import functools
import html
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from email.charset import QP, Charset
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import make_msgid

from outreach import mail_headers

from .. import (
    eligibility,
    rendering,
    templating,
    tracking,
    unsubscribe,
)
from ..models import Enrollment, Message
from .checks import act_on
from .claims import ClaimedEnrollment


def _previous_in_thread(enrollment: Enrollment) -> Message | None:
    if not enrollment.thread_id:
        return None
    return (
        enrollment.messages.filter(
            direction=Message.Direction.OUTBOUND,
            status=Message.Status.SENT,
            gmail_thread_id=enrollment.thread_id,
        )
        .order_by("-sent_at")
        .first()
    )


def _references(enrollment: Enrollment) -> list[str]:
    return list(
        enrollment.messages.filter(gmail_thread_id=enrollment.thread_id)
        .exclude(rfc822_message_id="")
        .order_by("created_at")
        .values_list("rfc822_message_id", flat=True)
    )


# UTF-8 bodies in quoted-printable: ASCII text stays readable in "Show original".
_BODY_CHARSET = Charset("utf-8")


_BODY_CHARSET.body_encoding = QP


def build_mime(
    *,
    enrollment: Enrollment,
    rendered: templating.RenderedEmail,
    subject: str,
    message_id: str,
    references: list[str],
    unsubscribe_url: str = "",
    date: str = "",
) -> bytes:
    mailbox, alias = enrollment.mailbox, enrollment.alias
    address = alias.email if alias else mailbox.email
    name = (alias.display_name if alias else "") or mailbox.display_name or mailbox.owner.full_name
    # The email package's older API (compat32) writes the same RFC 5322 message as EmailMessage
    # at a sixth of the CPU: it does not parse back every header it is given. Non-ASCII display
    # names and subjects become RFC 2047 encoded words either way.
    # A random boundary of our own spares the generator its search of the body for a safe one.
    email = MIMEMultipart("alternative", boundary=f"=_outreach_{secrets.token_hex(16)}")
    # Every value through mail_headers: a line break in a display name, a subject or an id read
    # from a reply would start a header of its own (a Bcc) or make the email unsendable.
    email["From"] = mail_headers.address(name, address)
    email["To"] = mail_headers.address("", enrollment.prospect.email)
    if enrollment.bcc:
        email["Bcc"] = mail_headers.header_text(enrollment.bcc)
    email["Subject"] = mail_headers.header_text(subject)
    email["Message-ID"] = mail_headers.header_text(message_id)
    if date:
        email["Date"] = mail_headers.header_text(date)
    if references:
        references = [mail_headers.header_text(reference) for reference in references]
        email["In-Reply-To"] = references[-1]
        email["References"] = " ".join(references)
    if unsubscribe_url:
        # RFC 8058: a mail client may POST "List-Unsubscribe=One-Click" to the https URI.
        email["List-Unsubscribe"] = f"<{mail_headers.header_text(unsubscribe_url)}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # A Charset object is what the email package itself passes here (typeshed says str).
    email.attach(MIMEText(rendered.text, "plain", _BODY_CHARSET))  # type: ignore[arg-type]
    email.attach(MIMEText(rendered.html, "html", _BODY_CHARSET))  # type: ignore[arg-type]
    return email.as_bytes()


def _thread_subject(subject: str) -> str:
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


@dataclass(frozen=True)
class Draft:
    """The stage as this prospect will get it, before anything is recorded."""

    rendered: templating.RenderedEmail
    subject: str
    references: list[str]
    thread_id: str
    message_id: str


@dataclass(frozen=True)
class Outgoing:
    raw: bytes
    # With tracking: builds the sender's own copy, without it, from (Message-ID, Date).
    sent_copy: Callable[[str, str], bytes] | None = None


def _continuing(
    enrollment: Enrollment, rendered: templating.RenderedEmail
) -> templating.RenderedEmail:
    earlier = (
        enrollment.messages.filter(direction=Message.Direction.OUTBOUND, status=Message.Status.SENT)
        .select_related("sent_by")
        .order_by("-sent_at")
        .first()
    )
    if earlier is None or earlier.sent_at is None:
        return rendered
    who = earlier.sent_by.full_name if earlier.sent_by else earlier.from_address
    line = (
        f"Following up on the email {who} sent you on {earlier.sent_at:%B} {earlier.sent_at.day}."
    )
    return replace(
        rendered,
        subject=rendered.subject or earlier.subject,
        html=f"<p>{html.escape(line)}</p>{rendered.html}",
        text=f"{line}\n\n{rendered.text}",
    )


def draft(enrollment: ClaimedEnrollment) -> Draft:
    """Renders the stage; a token without a value pauses the enrollment (Skip)."""
    stage = enrollment.current_stage
    assert stage is not None, "a claimed enrollment has its email stage (engine.claims)"
    try:
        rendered = rendering.render_stage(
            stage, enrollment.prospect, enrollment.mailbox, enrollment.alias
        )
    except templating.TemplateError as error:
        act_on(enrollment, eligibility.TemplateProblem(stage.position + 1, str(error)))
    previous = None if stage.starts_thread else _previous_in_thread(enrollment)
    if previous is None and not stage.starts_thread and enrollment.has_sent:
        # Moved to another sender: the follow-up starts a thread in the new inbox, under the
        # conversation's subject and with a first line that says whose email it follows.
        rendered = _continuing(enrollment, rendered)
    return Draft(
        rendered=rendered,
        subject=_thread_subject(previous.subject) if previous else rendered.subject,
        references=_references(enrollment) if previous else [],
        thread_id=previous.gmail_thread_id if previous else "",
        message_id=make_msgid(domain=enrollment.mailbox.email.partition("@")[2]),
    )


def outgoing(enrollment: Enrollment, message: Message, draft: Draft) -> Outgoing:
    """The MIME of the recorded email, with its unsubscribe link and tracking."""
    rendered, sequence = draft.rendered, enrollment.sequence
    unsubscribe_url = unsubscribe.url_for(message.pk)
    if sequence.unsubscribe_footer:
        rendered = unsubscribe.with_footer(rendered, unsubscribe_url)
    build = functools.partial(
        build_mime,
        enrollment=enrollment,
        subject=draft.subject,
        references=draft.references,
        unsubscribe_url=unsubscribe_url,
    )
    tracked_html = tracking.instrument(rendered.html, message, sequence)
    raw = build(rendered=replace(rendered, html=tracked_html), message_id=draft.message_id)
    if tracked_html == rendered.html:
        return Outgoing(raw)
    return Outgoing(
        raw,
        sent_copy=lambda kept_id, date: build(rendered=rendered, message_id=kept_id, date=date),
    )
