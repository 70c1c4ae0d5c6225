"""What `outreach` announces to the apps above it (they subscribe; outreach never imports them)."""

from django.dispatch import Signal

# Sent inside the transaction that deactivated the user: kwargs `user`, `by`. Subscribers stop
# what that person had running (their sequences, their mailbox's sends).
user_deactivated = Signal()
