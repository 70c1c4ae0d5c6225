"""What `sequences` announces to the apps above it (which it never imports)."""

from django.dispatch import Signal

# A message of a conversation with a prospect was stored: an email we sent (status `sent`), an
# answer from the prospect's side, or the sender's own message in the thread. Sent inside the
# transaction that stored it, so what a receiver writes commits or rolls back with it.
# Arguments: message.
message_recorded = Signal()

# One-off emails were queued to go out now (sent after the transaction that queued them commits,
# through on_commit by the receiver): a dispatch then sends them within seconds rather than at
# the next tick. Arguments: sequence (the one-off email's).
emails_queued = Signal()

# An import of prospects (a mapped file or a paste) was queued; its task starts once the
# transaction that queued it commits (on_commit, by the receiver). Arguments: job.
import_queued = Signal()

# Enrolling all the prospects a filter matches was queued (a job too large for a request); its
# task starts once the transaction that queued it commits. Arguments: job.
enrollment_queued = Signal()
