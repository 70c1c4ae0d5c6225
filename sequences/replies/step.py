"""The one step every message from the prospect's side goes through, whoever found it (the
mailbox sync, or the last look before a send): classified, recorded, acted on. Recording and
acting share a transaction: a reply stored but not acted on would be skipped by the next sync as
already known, and its sequence would go on."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from senders import mail
from senders.models import Mailbox

from .. import classifier
from ..models import Enrollment, Message
from . import store, verdicts


@dataclass(frozen=True)
class Taken:
    verdict: classifier.Classification
    message: Message
    # verdicts.STOPPED, DEFERRED or NOTED
    outcome: str

    @property
    def stops_the_send(self) -> bool:
        """A reply or a bounce makes the next email pointless; so does anything that stopped or
        deferred the enrollment."""
        return self.verdict.kind in (classifier.REPLY, classifier.BOUNCE) or (
            self.outcome != verdicts.NOTED
        )


def classify(client: mail.MailProvider, item: mail.MessageHeaders) -> classifier.Classification:
    """From the headers when they suffice; else from the full message, which tells what
    headers cannot: a bounce's recipient, an auto-reply's return date."""
    verdict = classifier.classify_headers(list(item.headers.items()))
    if verdict is None or verdict.kind == classifier.AUTO_REPLY:
        verdict = classifier.classify(client.raw(item.id))
    return verdict


def take_in(
    client: mail.MailProvider,
    mailbox: Mailbox,
    enrollment: Enrollment,
    item: mail.MessageHeaders,
    *,
    then: Callable[[Taken], None] | None = None,
) -> Taken:
    """Classifies `item`, records it and acts on it for `enrollment`; `then` runs in the same
    transaction (the last look closes its unsent email there)."""
    verdict = classify(client, item)
    with transaction.atomic():
        message = store.record(
            mailbox=mailbox,
            enrollment=enrollment,
            prospect=enrollment.prospect,
            item=item,
            verdict=verdict,
        )
        taken = Taken(verdict, message, verdicts.apply(enrollment, message, verdict))
        if then is not None:
            then(taken)
    return taken
