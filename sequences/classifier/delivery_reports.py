"""Delivery reports: bounces and delay warnings. An RFC 3464 report decides when there is one
(per-recipient Action and Status); otherwise X-Failed-Recipients, a mail-system sender, a bounce
subject or an MTA's own wording mark a report, its text tells a delay from a failure and its codes
the permanence, and flufl.bounce (GNU Mailman's detectors) or, last, the addresses the notice
names give the failed recipients.

Its own module because it is checked first and decides alone: a bounce is automatic too, so the
auto-reply rules must not see it first."""

from __future__ import annotations

import email
import re
from collections.abc import Iterable
from dataclasses import replace
from email.message import Message
from email.utils import getaddresses

from flufl.bounce import all_failures

from .headers import (
    _NO_REPLY_LOCAL,
    _auto_submitted,
    _bounce_subject,
    _Headers,
    _is_mail_system,
    _local_part,
)
from .text import _body_text, _decoded, _own_parts, _own_text
from .verdicts import AUTO_REPLY, BOUNCE, DELIVERY_DELAY, Classification

# The lookbehind starts a match only where a token starts: no quadratic retries inside long runs.
_EMAIL = re.compile(r"(?<![\w.+'=-])[\w.+'=-]+@[\w-]+(?:\.[\w-]+)+")
_ENHANCED_STATUS = re.compile(r"(?<![\d.])([245])\.\d{1,3}\.\d{1,3}(?![\d.]*\d)")
_SMTP_CODE = re.compile(r"(?<![\w.])([45])[0-5]\d(?=[ :-])")

_COPY_MARKER = re.compile(
    r"^\s*(?:-+\s*this is a copy of the message|-+\s*below this line is a copy of the message"
    r"|-+\s*undelivered message follows"
    r"|-+\s*original message\s*-+|-+\s*returned message\s*-+|original message headers:"
    r"|-+\s*the header of the original message|-+\s*enclosed are the original headers)",
    re.I | re.M,
)
_MTA_DIALECT = re.compile(
    r"this message was created automatically by mail delivery software"
    r"|this is the qmail-send program|this is the mail system at host"
    r"|this is the postfix program at host"
    r"|-{3,}\s*the following addresses had (?:permanent fatal|transient non-fatal) errors"
    r"|this is an automatically generated delivery status notification"
    r"|delivery has failed to these recipients or groups"
    r"|your message (?:to \S+ )?(?:couldn't|could not|can't|cannot) be delivered"
    r"|your message did not reach some or all of the intended recipients"
    r"|sorry, we were unable to deliver your message"
    r"|delivery to the following recipients? (?:failed|has been delayed|was aborted)"
    r"|an error occurred while trying to deliver the mail to the following recipients",
    re.I,
)
_DELAY_CUE = re.compile(
    r"this is a warning only|will be retried|will (?:continue to |keep )?(?:retry|trying)"
    r"|delivery attempts will continue|not yet been delivered"
    r"|still (?:being )?(?:re)?tr(?:ying|ied)"
    r"|this is an advisory-only email|(?:delivery|message) (?:has been|is|was) delayed"
    r"|has been delayed|delayed delivery|no action is required on your part",
    re.I,
)
_FAILURE_CUE = re.compile(
    r"could(?:n't| not) be delivered|could(?:n't| not) deliver|(?:wasn't|was not|were not|weren't)"
    r" delivered|undeliverable|undelivered|delivery (?:has )?failed|failed permanently"
    r"|permanent (?:fatal )?error|(?:unable|wasn't able|was not able) to deliver|did not reach"
    r"|address not found|message not delivered|user unknown|unknown user|no such user"
    r"|mailbox (?:unavailable|not found|is full|full)"
    r"|does(?:n't| not) (?:exist|have an? \w+ account)"
    r"|recipient address rejected|returned to sender|delivery failure|nicht zugestellt"
    r"|unzustellbar|n'a pas pu être remis|non remis|no se pudo entregar|kon niet worden bezorgd"
    r"|non è stato possibile recapitare",
    re.I,
)


def _address(value: str) -> str | None:
    """The address of a DSN recipient field ("rfc822; jane@x.example") or a bare one."""
    candidate = value.rpartition(";")[2].strip().strip("<>").strip().lower()
    return candidate if _EMAIL.fullmatch(candidate) else None


def _dsn_fields(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [field for field in payload if isinstance(field, Message)]
    # A report part that the parser left as text (encoded, or message/global-delivery-status).
    blocks = re.split(r"\n\s*\n", _decoded(part).replace("\r\n", "\n"))
    return [email.message_from_string(block.strip() + "\n") for block in blocks if block.strip()]


def _dsn_classification(message: Message) -> Classification | None:
    """RFC 3464: per-recipient Action and Status settle the kind and permanence."""
    outcomes: dict[str, list[tuple[str, str]]] = {"failed": [], "delayed": [], "delivered": []}
    for part in _own_parts(message):
        if part.get_content_type() not in (
            "message/delivery-status",
            "message/global-delivery-status",
        ):
            continue
        for fields in _dsn_fields(part):
            action = str(fields.get("action", "")).strip().lower()
            # opensmtpd writes "error" for "failed"; some MTAs append comments.
            key = next(
                (
                    name
                    for name, prefixes in (
                        ("failed", ("fail", "error")),
                        ("delayed", ("delay",)),
                        ("delivered", ("deliver", "relay", "expand")),
                    )
                    if action.startswith(prefixes)
                ),
                None,
            )
            if key is None:
                continue
            recipient = _address(str(fields.get("original-recipient", ""))) or _address(
                str(fields.get("final-recipient", ""))
            )
            status = _ENHANCED_STATUS.search(str(fields.get("status", "")))
            code = status.group(0) if status else _status_of(str(fields.get("diagnostic-code", "")))
            outcomes[key].append((recipient or "", code))
    if outcomes["failed"]:
        codes = [code for _, code in outcomes["failed"]]
        # An Action: failed without any status is final all the same: the MTA gave up.
        permanent = any(not code or code.startswith("5") for code in codes)
        shown = ", ".join(dict.fromkeys(code for code in codes if code)) or "no status"
        return Classification(
            BOUNCE,
            f"DSN Action: failed ({shown})",
            failed_recipients=_unique(r for r, _ in outcomes["failed"]),
            permanent=permanent,
        )
    if outcomes["delayed"]:
        shown = ", ".join(dict.fromkeys(code for _, code in outcomes["delayed"] if code))
        return Classification(
            DELIVERY_DELAY,
            f"DSN Action: delayed ({shown or 'no status'})",
            failed_recipients=_unique(r for r, _ in outcomes["delayed"]),
        )
    if outcomes["delivered"]:
        return Classification(AUTO_REPLY, "DSN Action: delivered (a success report)")
    return None


def _status_of(text: str) -> str:
    enhanced = _ENHANCED_STATUS.search(text)
    if enhanced:
        return enhanced.group(0)
    smtp = _SMTP_CODE.search(text)
    return smtp.group(0) if smtp else ""


def _unique(addresses: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a.lower().strip(".") for a in addresses if a))


def _notification_text(message: Message) -> str:
    """A bounce's own words, without the copy of the returned message some MTAs paste below."""
    text = _body_text(message)
    marker = _COPY_MARKER.search(text)
    return text[: marker.start()] if marker else text


def _flufl_failures(message: Message) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """flufl.bounce's (temporary, permanent) recipients; a detector that trips over a malformed
    bounce must not stop the sync, so its failure counts as finding nothing."""
    try:
        temporary, permanent = all_failures(message)
    except Exception:
        return (), ()

    def usable(found: frozenset[bytes]) -> tuple[str, ...]:
        decoded = (address.decode("ascii", "replace") for address in found)
        return tuple(sorted(a.lower() for a in decoded if _EMAIL.fullmatch(a)))

    return usable(temporary), usable(permanent)


def _addresses_in_notice(notice: str, found: _Headers) -> tuple[str, ...]:
    """Last resort for dialects no detector knows: the addresses the notice names, less the
    report's own correspondents and mail-system mailboxes."""
    own = {
        address.lower()
        for _, address in getaddresses(
            found.get_all("from")
            + found.get_all("to")
            + found.get_all("cc")
            + found.get_all("delivered-to")
            + found.get_all("reply-to")
        )
    }
    return _unique(
        address
        for address in _EMAIL.findall(notice)
        if address.lower() not in own
        and not _is_mail_system("", address)
        and not _NO_REPLY_LOCAL.match(_local_part(address))
    )


def _permanence(notice: str, permanent_found: bool) -> tuple[bool, str]:
    enhanced = {match.group(1) for match in _ENHANCED_STATUS.finditer(notice)}
    smtp = {match.group(1) for match in _SMTP_CODE.finditer(notice)}
    for classes, label in ((enhanced, "enhanced status"), (smtp, "SMTP reply code")):
        if "5" in classes:
            return True, f"{label} 5xx"
        if "4" in classes:
            return False, f"{label} 4xx only"
    lowered = notice.lower()
    if "permanent" in lowered or permanent_found:
        return True, "permanent failure"
    if re.search(r"temporar|transient|retry timeout exceeded", lowered):
        return False, "temporary failure"
    return True, "the mail system gave up"


def _delivery_report(message: Message, found: _Headers) -> Classification | None:
    failed_header = _unique(
        address for _, address in getaddresses(found.get_all("x-failed-recipients"))
    )
    dsn = _dsn_classification(message)
    if dsn is not None:
        # A report whose recipient fields could not be read still has the Exim/Gmail header.
        if dsn.kind == BOUNCE and not dsn.failed_recipients:
            return replace(dsn, failed_recipients=failed_header)
        return dsn
    notice = _notification_text(message)
    subject_kind = _bounce_subject(found.get("subject"))
    mail_system = _is_mail_system(*found.sender())
    # An MTA's wording alone could be a person quoting it: it counts on an automatic message.
    automatic = found.null_return_path() or _auto_submitted(found)
    dialect = _MTA_DIALECT.search(_own_text(message)) if automatic else None
    if not (failed_header or mail_system or subject_kind or dialect):
        return None
    if failed_header:
        evidence = "X-Failed-Recipients"
    elif subject_kind:
        evidence = f"subject {found.get('subject')!r}"
    elif mail_system:
        evidence = f"sender {found.sender()[1] or found.sender()[0]}"
    else:
        assert dialect is not None  # the return above: one of the four cues holds
        evidence = f"MTA wording {dialect.group(0)!r}"
    temporary, permanent = _flufl_failures(message)
    delayed = subject_kind == DELIVERY_DELAY or bool(_DELAY_CUE.search(notice))
    if delayed and not failed_header and not permanent and subject_kind != BOUNCE:
        return Classification(
            DELIVERY_DELAY,
            f"delivery delay warning ({evidence})",
            failed_recipients=temporary or _addresses_in_notice(notice, found),
        )
    failed = (
        failed_header
        or permanent
        or subject_kind == BOUNCE
        or _FAILURE_CUE.search(notice)
        or _ENHANCED_STATUS.search(notice)
        or _SMTP_CODE.search(notice)
    )
    if not failed:
        return Classification(
            AUTO_REPLY, f"mail-system notice without a failure report ({evidence})"
        )
    is_permanent, why = _permanence(notice, bool(permanent))
    return Classification(
        BOUNCE,
        f"delivery failure ({evidence}; {why})",
        failed_recipients=failed_header
        or permanent
        or temporary
        or _addresses_in_notice(notice, found),
        permanent=is_permanent,
    )
