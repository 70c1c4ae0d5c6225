"""A bounce's reason in words: "Bounced: DSN Action: failed (5.1.1)", as the classifier and the
lifecycle write it, reads "Bounced: address does not exist". The raw reason stays stored; the
pages show it beside the words (a tooltip, the timeline's detail).

The enhanced status codes are RFC 3463's (and RFC 7505's 5.1.10); a basic SMTP reply code is
read when a report gives no enhanced one."""

import re

PREFIX = "Bounced: "

_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")
_BASIC = re.compile(r"(?<![\w.])([45][0-5]\d)(?![\w.])")

# The common ones, by code.
_EXACT = {
    "5.1.1": "address does not exist",
    "5.1.2": "the address's domain does not exist",
    "5.1.10": "the address's domain accepts no email",
    "5.1.6": "the address has moved",
    "5.2.1": "mailbox disabled",
    "5.2.2": "mailbox full",
    "5.2.3": "the email was too large for the mailbox",
    "5.4.1": "address does not exist",
    "5.7.1": "refused by the recipient's server",
    "5.7.26": "refused by the recipient's server: our domain's authentication did not pass",
}
_BASIC_WORDS = {
    "550": "address does not exist or refused",
    "551": "address does not exist",
    "552": "mailbox full",
    "553": "address not accepted",
    "554": "refused by the recipient's server",
}
TEMPORARY = "temporary delivery problem, not retried"
PERMANENT = "could not be delivered"


def bounce_in_words(text: str) -> str | None:
    """`text` in words if it is a bounce's status or event ("Bounced: ..."), else None."""
    if not text.startswith(PREFIX):
        return None
    return PREFIX + _why(text.removeprefix(PREFIX))


def _why(reason: str) -> str:
    enhanced = _ENHANCED.search(reason)
    if enhanced:
        code = ".".join(enhanced.groups())
        if code in _EXACT:
            return _EXACT[code]
        return TEMPORARY if code.startswith("4") else PERMANENT
    basic = _BASIC.search(reason)
    if basic:
        code = basic.group(1)
        if code.startswith("4"):
            return TEMPORARY
        return _BASIC_WORDS.get(code, PERMANENT)
    return PERMANENT
