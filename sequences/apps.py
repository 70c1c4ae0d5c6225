from django.apps import AppConfig


class SequencesConfig(AppConfig):
    name = "sequences"
    verbose_name = "Sequences"

    def ready(self):
        from outreach import health

        from . import (
            engine,
            receivers,  # noqa: F401  (subscribes to senders' and outreach's announcements)
        )

        health.register("sending", engine.health)
