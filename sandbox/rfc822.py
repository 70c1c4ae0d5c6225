"""Reading and writing RFC 2822 messages with Python's email package: what Gmail reads from a
message (addresses, subject, references, snippet), what it changes on the way out (From, Message-ID,
Date), and the messages it writes itself (delivery status notifications, vacation replies)."""

import html
import re
import secrets
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, getaddresses, parseaddr

MAILER_DAEMON = "mailer-daemon@googlemail.com"
SNIPPET_LENGTH = 200

_PREFIX = re.compile(r"^\s*((re|fwd?|fw)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_MSG_ID = re.compile(r"<[^<>\s]+>")
_TAG = re.compile(r"<[^>]*>")


def parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)


def serialize(message: Message) -> bytes:
    """Gmail stores and hands back messages with CRLF line ends."""
    return message.as_bytes(policy=policy.SMTP)


def normalize_subject(subject: str) -> str:
    """The subject Gmail compares when threading: without Re:/Fwd: prefixes, case or spacing."""
    return " ".join(_PREFIX.sub("", subject or "").split()).lower()


def header(message: Message, name: str) -> str:
    value = message.get(name)
    return str(value).strip() if value is not None else ""


def addresses(message: Message, *names: str) -> list[str]:
    values = [str(value) for name in names for value in message.get_all(name, [])]
    found = (address.strip().lower() for _, address in getaddresses(values))
    return list(dict.fromkeys(address for address in found if "@" in address))


def sender_address(message: Message) -> str:
    return parseaddr(header(message, "From"))[1].lower()


def referenced_ids(message: Message) -> list[str]:
    text = f"{header(message, 'In-Reply-To')} {header(message, 'References')}"
    return list(dict.fromkeys(_MSG_ID.findall(text)))


def new_message_id() -> str:
    return f"<CA{secrets.token_urlsafe(30)}@mail.gmail.com>"


def text_body(message: EmailMessage) -> str:
    """The text a reader sees: the plain part, else the HTML part without its tags."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        content = part.get_payload(decode=True).decode("utf-8", "replace")
    if part.get_content_type() == "text/html":
        content = html.unescape(_TAG.sub(" ", content))
    return content


def snippet(message: EmailMessage) -> str:
    # Gmail's snippet is HTML-escaped text: a reader of the API sees &#39; for an apostrophe.
    text = " ".join(text_body(message).split())[:SNIPPET_LENGTH]
    return html.escape(text, quote=False).replace('"', "&quot;").replace("'", "&#39;")


def summary(message: EmailMessage) -> dict:
    """The fields the sandbox keeps beside the raw bytes, for search and for its UI."""
    return {
        "rfc822_message_id": header(message, "Message-ID"),
        "subject": header(message, "Subject"),
        "from_header": header(message, "From"),
        "recipients": ", ".join(addresses(message, "To", "Cc", "Bcc")),
        "snippet": snippet(message),
    }


def prepare_outgoing(message: EmailMessage, primary: str, name: str, send_as: set[str]) -> None:
    """What Gmail does to a message it sends: a From that is neither the address nor a verified
    send-as alias becomes the address; a missing Message-ID or Date is added."""
    display, address = parseaddr(header(message, "From"))
    if address.lower() not in send_as:
        del message["From"]
        message["From"] = formataddr((display or name, primary))
    if not header(message, "Message-ID"):
        message["Message-ID"] = new_message_id()
    if not header(message, "Date"):
        message["Date"] = formatdate(localtime=False)


def for_recipient(raw: bytes, recipient: str, return_path: str) -> bytes:
    """The copy delivered to one mailbox: Bcc gone, delivery headers on top."""
    message = parse(raw)
    del message["Bcc"]
    body = serialize(message)
    return (f"Delivered-To: {recipient}\r\nReturn-Path: <{return_path}>\r\n").encode() + body


def is_automatic(message: Message) -> bool:
    """RFC 3834: never answer an automatic message, a list or a bounce."""
    auto = header(message, "Auto-Submitted").lower()
    precedence = header(message, "Precedence").lower()
    return (
        (auto not in ("", "no"))
        or precedence in ("bulk", "junk", "list", "auto_reply")
        or bool(header(message, "List-Id"))
        or header(message, "Return-Path") == "<>"
        or sender_address(message).startswith(("mailer-daemon@", "postmaster@"))
    )


def reply_subject(subject: str) -> str:
    return subject if _PREFIX.match(subject or "") else f"Re: {subject}"


def compose(
    *,
    from_name: str,
    from_address: str,
    to: list[str],
    subject: str,
    body: str,
    cc: list[str] = (),
    in_reply_to: Message | None = None,
    headers: dict | None = None,
) -> bytes:
    """A plain-text message as a mail client writes it; a reply carries In-Reply-To and
    References so that Gmail threads it."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = formataddr((from_name, from_address))
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = new_message_id()
    if in_reply_to is not None:
        parent = header(in_reply_to, "Message-ID")
        message["In-Reply-To"] = parent
        message["References"] = " ".join(
            [*_MSG_ID.findall(header(in_reply_to, "References")), parent]
        )
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return serialize(message)


def build_auto_reply(*, name: str, address: str, text: str, original: Message) -> bytes:
    """A vacation responder's answer, marked as RFC 3834 asks."""
    return compose(
        from_name=name,
        from_address=address,
        to=[sender_address(original)],
        subject=reply_subject(header(original, "Subject")),
        body=text,
        in_reply_to=original,
        headers={"Auto-Submitted": "auto-replied"},
    )


def build_bounce(*, original_raw: bytes, recipient: str, sender: str) -> bytes:
    """An RFC 3464 delivery status notification, worded as Gmail's mailer-daemon words it."""
    original = message_from_bytes(original_raw)
    diagnostic = (
        "550 5.1.1 The email account that you tried to reach does not exist. Please try "
        "double-checking the recipient's email address for typos or unnecessary spaces."
    )
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = formataddr(("Mail Delivery Subsystem", MAILER_DAEMON))
    report["To"] = sender
    report["Subject"] = "Delivery Status Notification (Failure)"
    report["Date"] = formatdate(localtime=False)
    report["Message-ID"] = new_message_id()
    parent = original.get("Message-ID", "").strip()
    if parent:
        report["In-Reply-To"] = parent
        report["References"] = parent
    report["X-Failed-Recipients"] = recipient
    report["Auto-Submitted"] = "auto-replied"
    report.attach(
        MIMEText(
            "\n** Address not found **\n\n"
            f"Your message wasn't delivered to {recipient} because the address couldn't be "
            "found, or is unable to receive mail.\n\n"
            "Learn more here: https://support.google.com/mail/?p=NoSuchUser\n\n"
            f"The response was:\n\n{diagnostic}\n"
        )
    )
    per_message, per_recipient = Message(), Message()
    per_message["Reporting-MTA"] = "dns; googlemail.com"
    per_message["Arrival-Date"] = formatdate(localtime=False)
    per_recipient["Final-Recipient"] = f"rfc822; {recipient}"
    per_recipient["Action"] = "failed"
    per_recipient["Status"] = "5.1.1"
    per_recipient["Remote-MTA"] = f"dns; mx.{recipient.rpartition('@')[2]}"
    per_recipient["Diagnostic-Code"] = f"smtp; {diagnostic}"
    per_recipient["Last-Attempt-Date"] = formatdate(localtime=False)
    status = Message()
    status["Content-Type"] = "message/delivery-status"
    status.set_payload([per_message, per_recipient])
    report.attach(status)
    report.attach(MIMEMessage(original))
    return serialize(report)
