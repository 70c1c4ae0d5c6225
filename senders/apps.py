from django.apps import AppConfig


class SendersConfig(AppConfig):
    name = "senders"
    verbose_name = "Mailboxes and delegations"

    def ready(self):
        from . import receivers  # noqa: F401  (subscribes to outreach's announcements)
