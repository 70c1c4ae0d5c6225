from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = "Organizations and users"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
