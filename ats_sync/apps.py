from django.apps import AppConfig


class AtsSyncConfig(AppConfig):
    name = "ats_sync"
    verbose_name = "ATS sync"
