"""Production: everything in the base settings, hardened, and a refusal to start with any
development convenience still on."""

from django.core.exceptions import ImproperlyConfigured

from . import *  # noqa: F403
from . import DEBUG, FIELD_ENCRYPTION_KEYS, SANDBOX, SECRET_KEY
from .env import DEV_ENCRYPTION_KEY, DEV_SECRET_KEY, env

if SANDBOX:
    raise ImproperlyConfigured("SANDBOX must be off in production: it fakes Google and Greenhouse.")
if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production.")
if not SECRET_KEY or SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY: the development default is public.")
if not FIELD_ENCRYPTION_KEYS or DEV_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "Set FIELD_ENCRYPTION_KEYS to keys of your own: the development key is public."
    )

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# The load balancer probes over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # noqa: F405
