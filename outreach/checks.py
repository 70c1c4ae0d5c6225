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
