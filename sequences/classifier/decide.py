"""`classify_headers` and `classify`: the decisions, tying the other modules together in the
order below.

Decision order, and why:

1. Delivery reports first. A bounce is automatic too and usually says so (Gmail and Exim put
   `Auto-Submitted: auto-replied` on their bounces), so the auto-reply rules must not see it
   first. The RFC 3464 report decides when there is one (Action failed / delayed / delivered);
   otherwise X-Failed-Recipients, a mail-system sender (mailer-daemon, postmaster, Exchange's
   MicrosoftExchange... address), a bounce subject or an MTA's own wording (Exim, qmail, Postfix,
   Sendmail, Exchange, SES, Yahoo) mark a delivery report, and its text tells a delay ("will be
   retried", "THIS IS A WARNING ONLY") from a failure. A read receipt (RFC 8098 MDN) is an
   automatic message that says nothing about the prospect's intent.
2. Headers: RFC 3834 `Auto-Submitted` other than `no`, `X-Autoreply`, `X-Autorespond` and kin,
   `Precedence: auto_reply`, Exchange's `X-Auto-Response-Suppress: All` together with
   `X-MS-Exchange-Inbox-Rules-Loop` (its out-of-office replies), a no-reply sender. Mail clients
   never set these on what a person writes. `Precedence: bulk/junk/list` alone decides nothing:
   list servers (Google Groups among them) put it on human posts they relay, and a prospect's
   address can be such a group; a real autoresponder that sets it is caught by its other headers
   or its words.
3. The subject: the prefixes that only responders write ("Automatic reply:", "Out of Office:",
   "Abwesenheitsnotiz", "Réponse automatique"...), anchored at the start so that a person's
   "Re: ..." never matches.
4. A null envelope sender (`Return-Path: <>`): RFC 5321 reserves it for notifications; a
   person's mail client never submits with it.
5. The words of the message itself, as a last resort and deliberately strict, because a human
   reply taken for an auto-reply means a follow-up after a reply, the costliest error: only the
   message's own text counts (quoted text, "On ... wrote:" and Outlook "From:/Sent:" blocks,
   forwarded messages and the signature are cut off), it must state the absence or its automatic
   nature ("I am currently out of the office", "this mailbox is not monitored", "your request has
   been received"), every other sentence in it must be the stuff auto-replies are made of, and it
   must hold nothing a person answering us would write ("interested", "let's talk", a question).
   In doubt the answer is `reply`.

An auto-reply's return date comes from the sentences that talk about the absence: the latest date
they name, with yearless dates and weekdays placed after `received_on` (or the Date header).
"""

from __future__ import annotations

from datetime import date, datetime
from email.message import Message

from .auto_replies import _auto_body_reason
from .delivery_reports import _delivery_report
from .headers import (
    HeaderInput,
    _auto_header_reason,
    _auto_subject_reason,
    _Headers,
    _may_be_delivery_report,
)
from .return_dates import _return_date
from .text import _first_part, _own_text, _parse
from .verdicts import AUTO_REPLY, REPLY, Classification


def classify_headers(headers: HeaderInput) -> Classification | None:
    """The decision the headers alone settle, or None when the body is needed.

    Accepts a mapping, (name, value) pairs, Gmail's `payload.headers` list of {"name", "value"}
    dicts or a parsed message. Returns None for anything that may be a delivery report (whether it
    failed, for whom and how permanently is in the body) and for anything that may be a human
    reply (an auto-reply without automatic headers shows itself only in its words). An auto-reply
    settled here has no return date: the date is in the body, which `classify` reads."""
    found = _Headers.of(headers)
    content_type, report_type = found.content_type()
    if content_type == "multipart/report" and report_type == "disposition-notification":
        return Classification(AUTO_REPLY, "read receipt (report-type=disposition-notification)")
    if _may_be_delivery_report(found, content_type):
        return None
    reason = _auto_header_reason(found) or _auto_subject_reason(found.get("subject"))
    return Classification(AUTO_REPLY, reason) if reason else None


def classify(message: Message | bytes | str, *, received_on: date | None = None) -> Classification:
    """The full decision from the raw RFC 822 message (Gmail's "raw" format, base64url-decoded).

    received_on anchors return dates given without a year or as a weekday; without it the
    message's Date header does."""
    parsed = _parse(message)
    found = _Headers.of(parsed)
    if _first_part(parsed, "message/disposition-notification") is not None:
        return Classification(AUTO_REPLY, "read receipt (message/disposition-notification)")
    report = _delivery_report(parsed, found)
    if report is not None:
        return report
    own = _own_text(parsed)
    reason = (
        _auto_header_reason(found)
        or _auto_subject_reason(found.get("subject"))
        or ("Return-Path: <> (null envelope sender)" if found.null_return_path() else None)
        or _auto_body_reason(own)
    )
    if reason is None:
        return Classification(REPLY, "no automatic-reply or delivery-report cue")
    # A datetime (Gmail's internalDate) would not compare with the dates read from the text.
    anchor = received_on.date() if isinstance(received_on, datetime) else received_on
    anchor = anchor or found.date()
    # Responders often put the date in the subject ("Out of office until 20 March").
    dated = f"{found.get('subject')}\n\n{own}"
    return Classification(AUTO_REPLY, reason, return_date=_return_date(dated, anchor))
