"""What senders does when the apps below it announce something."""

from django.dispatch import receiver

from outreach.signals import user_deactivated

from . import services


@receiver(user_deactivated, dispatch_uid="senders.user_deactivated")
def revoke_delegations_of_deactivated_user(sender, user, by, **kwargs):
    services.revoke_all_for(user, f"{user.full_name} was deactivated.")
