"""The one inbound classifier: is a message that arrived in a thread we started (or from a
prospect's address) a human reply, an automatic reply, a bounce or a delivery delay?

Pure code over the stdlib `email` package and flufl.bounce (GNU Mailman's bounce detectors, used
only to dig failed recipients out of bounces that carry no RFC 3464 report). The sync path calls
`classify_headers` on Gmail's metadata format and `classify` on the raw message; the send path's
pre-send check calls `classify` too, so both paths agree.

The package, by concern (each module imports only those above it):

- `verdicts`: the four kinds and `Classification`.
- `headers`: header decoding, the headers `classify_headers` reads, mail-system and no-reply
  senders, `Auto-Submitted` and kin, bounce and auto-reply subjects.
- `text`: MIME parts, HTML as text, the sender's own text without quotes and signature
  (`own_text`), its sentences.
- `delivery_reports`: RFC 3464 reports, flufl.bounce, MTA wording, permanence.
- `calendar_words`: month and weekday names.
- `auto_replies`: the auto-reply wording of the own text.
- `return_dates`: the date an auto-reply announces the sender is back.
- `decide`: `classify_headers` and `classify`, in the decision order its docstring explains.
- `wording`: a bounce's reason in words, for the pages.

Callers use only what this module exports.
"""

from .decide import classify, classify_headers
from .headers import HEADERS_USED, HeaderInput
from .text import own_text
from .verdicts import AUTO_REPLY, BOUNCE, DELIVERY_DELAY, REPLY, Classification
from .wording import bounce_in_words

__all__ = [
    "AUTO_REPLY",
    "BOUNCE",
    "DELIVERY_DELAY",
    "HEADERS_USED",
    "REPLY",
    "Classification",
    "HeaderInput",
    "bounce_in_words",
    "classify",
    "classify_headers",
    "own_text",
]
