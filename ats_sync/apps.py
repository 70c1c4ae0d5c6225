from django.apps import AppConfig


class AtsSyncConfig(AppConfig):
    name = "ats_sync"
    verbose_name = "ATS sync"

    def ready(self):
        from . import receivers  # noqa: F401  (subscribes to sequences' announcements)
