"""What `senders` announces; `sequences` subscribes to pause and resume enrollments, so that
`senders` never imports it. Each is sent inside the transaction that made the change."""

from django.dispatch import Signal

# kwargs: mailbox, reason. Sends from the mailbox must stop until it is reconnected.
mailbox_needs_reconnect = Signal()
# kwargs: mailbox, by. The owner disconnected it (the grant is revoked at Google).
mailbox_disconnected = Signal()
# kwargs: mailbox. Connected again after needing a reconnect or being disconnected.
mailbox_reconnected = Signal()
# kwargs: delegation, by, reason. The delegate may no longer send from the mailbox.
delegation_revoked = Signal()
# kwargs: delegation, by.
delegation_approved = Signal()
