"""What the classifier answers: the four kinds of inbound message and the Classification that
carries one with its reason and what follows from it (failed recipients, permanence, return date).

The bottom of the package: every other module may import it, it imports none of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

REPLY = "reply"
AUTO_REPLY = "auto_reply"
BOUNCE = "bounce"
DELIVERY_DELAY = "delivery_delay"


@dataclass(frozen=True)
class Classification:
    """`kind` is one of REPLY, AUTO_REPLY, BOUNCE, DELIVERY_DELAY. Only a reply stops a sequence;
    a bounce marks the enrollment bounced; an auto-reply and a delivery delay are recorded.

    failed_recipients: for a bounce the addresses that failed, for a delivery delay those still
    being retried (lowercased; empty when the report does not say). permanent: a bounce whose
    status is 5.x.x (or that gives no status at all: the mail system gave up). return_date: the
    last day of the absence an auto-reply announces; the sequence waits until after it."""

    kind: str
    reason: str
    failed_recipients: tuple[str, ...] = ()
    permanent: bool = False
    return_date: date | None = None
