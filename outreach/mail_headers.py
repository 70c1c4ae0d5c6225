"""Every header value the product writes into an email (sequence and one-off emails, the ATS
thread notice, product emails) goes through here.

A display name or a subject comes from people: a name typed at sign-up or invitation, a display
name Gmail hands us, a prospect's reply subject. A line break in one ends the header and starts
another, or makes the email package refuse the message, which then never goes out. Here every line
break (and every other control character) becomes a space, so the value stays one header.
"""

import re
from email.utils import formataddr

# C0 and C1 controls (CR, LF, NEL, the form and file separators Python's splitlines() breaks at)
# and the Unicode line and paragraph separators.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def header_text(value: str) -> str:
    """`value` on one line: control characters become spaces, runs of spaces one space, and the
    ends are trimmed. For a subject, a Message-ID, a URL between angle brackets."""
    return " ".join(_CONTROL_RE.sub(" ", value).split())


def address(name: str, email: str) -> str:
    """A From or To value: `"Name" <email>`, or the bare address without a name. A non-ASCII name
    is encoded as RFC 2047 UTF-8 words. The address loses any space or line break outright: none
    belongs in one, and a space left in could let a lenient reader take "x@y Bcc: z@w" for more
    than one recipient."""
    return formataddr((header_text(name), "".join(header_text(email).split())), charset="utf-8")
