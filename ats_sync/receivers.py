"""How ats_sync reacts to what the apps below it announce."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from outreach import clock
from sequences import signals as sequences_signals

from . import services, signals, tasks
from .models import AtsConnection


@receiver(sequences_signals.message_recorded, dispatch_uid="ats_sync.message_recorded")
def queue_for_greenhouse(sender, message, **kwargs):
    services.record_message(message)


@receiver(post_save, sender=AtsConnection, dispatch_uid="ats_sync.connection_saved")
@receiver(post_delete, sender=AtsConnection, dispatch_uid="ats_sync.connection_deleted")
def forget_auto_sync(sender, instance, **kwargs):
    services.forget_auto_sync(instance.organization_id)
    # Again once committed: a read in between may have cached the value being replaced.
    transaction.on_commit(lambda: services.forget_auto_sync(instance.organization_id))
    saved = "created" in kwargs  # post_save, not post_delete
    if saved and instance.auto_sync:
        # Other processes may hold "off" a few seconds more: what they store from now on is
        # queued once that has passed.
        tasks.queue_missed_later(instance.organization_id, clock.now())


@receiver(signals.notice_needed, dispatch_uid="ats_sync.notice_needed")
def place_thread_notice(sender, notice, **kwargs):
    tasks.place_notice_on_commit(notice.pk)
