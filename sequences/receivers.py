"""How sequences reacts to what the apps below it announce: the enrollments concerned pause
with the reason shown, and resume when the cause is gone."""

from django.dispatch import receiver

from outreach.signals import user_deactivated
from senders import signals as senders_signals

from . import services, signals, tasks
from .models import Enrollment


@receiver(senders_signals.delegation_revoked, dispatch_uid="sequences.delegation_revoked")
def pause_on_revoked_delegation(sender, delegation, by, reason, **kwargs):
    if delegation.mailbox is None:
        return
    services.pause_for_mailbox(
        delegation.mailbox,
        Enrollment.PauseCause.DELEGATION_REVOKED,
        f"Sending as {delegation.mailbox.email} was revoked. {reason}",
        sender=delegation.delegate,
    )


@receiver(senders_signals.mailbox_needs_reconnect, dispatch_uid="sequences.mailbox_needs_reconnect")
def pause_on_reconnect_needed(sender, mailbox, reason, **kwargs):
    services.pause_for_mailbox(
        mailbox,
        Enrollment.PauseCause.MAILBOX_RECONNECT,
        f"{mailbox.email} needs reconnecting: {reason}",
    )


@receiver(senders_signals.mailbox_disconnected, dispatch_uid="sequences.mailbox_disconnected")
def pause_on_disconnect(sender, mailbox, by, **kwargs):
    services.pause_for_mailbox(
        mailbox,
        Enrollment.PauseCause.MAILBOX_DISCONNECTED,
        f"{mailbox.email} was disconnected by {by.full_name}.",
    )


@receiver(senders_signals.mailbox_reconnected, dispatch_uid="sequences.mailbox_reconnected")
def resume_on_reconnect(sender, mailbox, **kwargs):
    services.resume_for_mailbox(mailbox)


@receiver(user_deactivated, dispatch_uid="sequences.user_deactivated")
def pause_on_departure(sender, user, by, **kwargs):
    services.pause_for_departure(user)


@receiver(signals.emails_queued, dispatch_uid="sequences.emails_queued")
def dispatch_queued_emails(sender, sequence, **kwargs):
    tasks.dispatch_soon()


@receiver(signals.import_queued, dispatch_uid="sequences.import_queued")
def start_import(sender, job, **kwargs):
    tasks.import_soon(job.pk)


@receiver(signals.enrollment_queued, dispatch_uid="sequences.enrollment_queued")
def start_enrollment(sender, job, **kwargs):
    tasks.enroll_soon(job.pk)
