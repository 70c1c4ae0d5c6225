from .core import DEBUG
from .env import env

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# json for log shippers (production); text for a developer's terminal.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")

# Loggers that write OAuth secrets below WARNING, held there whatever LOG_LEVEL says:
# - requests_oauthlib: the token request (authorization code, PKCE verifier, the client's Basic
#   header) and Google's answer (access and refresh tokens) at DEBUG; oauthlib alike.
# - google (google-auth): each request's headers (the Bearer access token) and body at DEBUG.
#   Left unconfigured, it also switches its own propagation off, which would hide its warnings.
# - googleapiclient: request URLs (search queries naming candidates) at DEBUG, and with its dump
#   switch request headers and bodies at INFO.
# - urllib3: each request line, query string included, at DEBUG.
# httplib2 is only imported for its response type; it writes no log records.
SECRET_BEARING_LOGGERS = {
    "requests_oauthlib": "WARNING",
    "oauthlib": "WARNING",
    "google": "WARNING",
    "googleapiclient": "WARNING",
    "urllib3": "INFO",
}


def logging_config(level: str, log_format: str) -> dict:
    """The logging configuration for a LOG_LEVEL and LOG_FORMAT."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
            "text": {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            "axes": {"level": "WARNING"},
            # One line per detector on every bounce, otherwise.
            "flufl.bounce": {"level": "WARNING"},
            **{
                name: {"level": pinned, "propagate": True}
                for name, pinned in SECRET_BEARING_LOGGERS.items()
            },
        },
    }


LOGGING = logging_config(LOG_LEVEL, LOG_FORMAT)

SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        environment=env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        # Candidate emails and OAuth tokens must not leave for a third party.
        send_default_pii=False,
    )
