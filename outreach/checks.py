from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from . import crypto


@register()
def encryption_keys_check(app_configs, **kwargs):
    try:
        crypto.encrypt("check")
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="outreach.E001")]
    return []


@register()
def claim_lease_check(app_configs, **kwargs):
    if settings.CLAIM_LEASE_SECONDS <= settings.CELERY_TASK_TIME_LIMIT:
        return [
            Error(
                "CLAIM_LEASE_SECONDS must be longer than CELERY_TASK_TIME_LIMIT: a task still "
                "running would otherwise share its row with the next claim.",
                id="outreach.E002",
            )
        ]
    return []
