"""Messages as the product writes them for messages.send: RFC 2822, base64url in `raw`."""

import base64
from email.message import EmailMessage
from email.utils import make_msgid


def outgoing(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str = "Hello",
    thread_id: str | None = None,
    in_reply_to: str | None = None,
    message_id: str | None = None,
    **headers: str,
) -> dict:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="outreach.test")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    request = {"raw": base64.urlsafe_b64encode(message.as_bytes()).decode()}
    if thread_id:
        request["threadId"] = thread_id
    return request


def header(resource: dict, name: str) -> str | None:
    """A header's value from a message resource in format full or metadata."""
    for item in resource["payload"]["headers"]:
        if item["name"].lower() == name.lower():
            return item["value"]
    return None
