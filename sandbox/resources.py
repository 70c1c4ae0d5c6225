"""Gmail's JSON resources for messages and threads, in the formats messages.get and threads.get
offer (minimal, metadata, full, raw)."""

import base64
from email.message import EmailMessage

from . import rfc822
from .errors import bad_request
from .models import Message, Thread

MESSAGE_FORMATS = ("minimal", "metadata", "full", "raw")
THREAD_FORMATS = ("minimal", "metadata", "full")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def _headers(part: EmailMessage, only: list[str] | None = None) -> list[dict]:
    wanted = {name.lower() for name in only} if only else None
    return [
        {"name": name, "value": str(value).strip()}
        for name, value in part.items()
        if wanted is None or name.lower() in wanted
    ]


def _body_bytes(part: EmailMessage) -> bytes:
    payload = part.get_payload(decode=True)
    if payload is not None:
        return payload
    # message/rfc822 and message/delivery-status carry messages, not bytes: their body is what
    # follows the part's own header block.
    return rfc822.serialize(part).split(b"\r\n\r\n", 1)[-1]


def _part(part: EmailMessage, part_id: str) -> dict:
    resource = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": part.get_filename() or "",
        "headers": _headers(part),
    }
    if part.get_content_maintype() == "multipart":
        resource["body"] = {"size": 0}
        prefix = f"{part_id}." if part_id else ""
        resource["parts"] = [
            _part(child, f"{prefix}{index}") for index, child in enumerate(part.iter_parts())
        ]
    else:
        data = _body_bytes(part)
        resource["body"] = {"size": len(data), "data": b64url(data)}
    return resource


def message_resource(
    message: Message, fmt: str = "full", metadata_headers: list[str] | None = None
) -> dict:
    if fmt not in MESSAGE_FORMATS:
        raise bad_request(f"Invalid value at 'format' ({fmt})")
    raw = bytes(message.raw)
    resource = {
        "id": message.gmail_id,
        "threadId": message.thread.gmail_id,
        "labelIds": list(message.label_ids),
        "snippet": message.snippet,
        "sizeEstimate": len(raw),
        "historyId": str(message.history_id),
        "internalDate": str(int(message.internal_date.timestamp() * 1000)),
    }
    if fmt == "raw":
        resource["raw"] = b64url(raw)
    elif fmt == "metadata":
        parsed = rfc822.parse(raw)
        resource["payload"] = {
            "partId": "",
            "mimeType": parsed.get_content_type(),
            "filename": "",
            "headers": _headers(parsed, metadata_headers),
        }
    elif fmt == "full":
        resource["payload"] = _part(rfc822.parse(raw), "")
    return resource


def thread_resource(
    thread: Thread, fmt: str = "full", metadata_headers: list[str] | None = None
) -> dict:
    if fmt not in THREAD_FORMATS:
        raise bad_request(f"Invalid value at 'format' ({fmt})")
    messages = list(thread.messages.select_related("thread").order_by("internal_date", "pk"))
    return {
        "id": thread.gmail_id,
        "historyId": str(max(message.history_id for message in messages)),
        "messages": [message_resource(message, fmt, metadata_headers) for message in messages],
    }
