"""What ats_sync's services announce to its own task layer (which they never import)."""

from django.dispatch import Signal

# A thread got its first message for the ATS: the sender's mailbox is to get the notice that the
# conversation is synced (placed by a task once the transaction commits). Arguments: notice.
notice_needed = Signal()
