"""Replies: what an email from the prospect's side does, whoever noticed it.

store     stored once as an inbound Message: the headers we read, the columns they fill
apply     what it does to the enrollment (a reply stops it, a bounce marks it bounced, an
          auto-reply is noted, a return date defers the next stage)
alerts    who hears of a reply
step      the one classify-record-apply step the sync and the last look share
presend   the last look before a send
sync      the mailbox sync, through Gmail's history
"""

from .store import HEADER_NAMES, own_addresses, record, sender_address, storable_headers
from .sync import SyncResult, mailboxes_to_sync, sync_mailbox
from .verdicts import DEFERRED, NOTED, STOPPED, apply

__all__ = [
    "DEFERRED",
    "HEADER_NAMES",
    "NOTED",
    "STOPPED",
    "SyncResult",
    "apply",
    "mailboxes_to_sync",
    "own_addresses",
    "record",
    "sender_address",
    "storable_headers",
    "sync_mailbox",
]
