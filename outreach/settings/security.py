from csp.constants import NONCE, NONE, SELF

from .env import DEV_ENCRYPTION_KEY, env

# Secrets at rest (OAuth refresh tokens, ATS keys): the first key encrypts, every key decrypts, so a
# new key goes first and `manage.py reencrypt_secrets` moves the stored values over to it.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[DEV_ENCRYPTION_KEY])

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Scripts and styles come from our own vendored files; the rare inline script carries the
# request's nonce. Django admin still writes a few style attributes, hence unsafe-inline for
# styles only (a style cannot run code). form-action is left open on purpose: the Google consent
# redirect after "Connect Gmail" is a form submission that ends on Google's host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Guessing passwords: after AXES_FAILURE_LIMIT failures for one email from one address, that pair
# is locked out for AXES_COOLOFF_TIME (hours); a correct password does not unlock it early.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

# Password reset requests per address and per target email (django-ratelimit syntax).
PASSWORD_RESET_RATE = env.str("PASSWORD_RESET_RATE", default="5/h")
SIGNUP_RATE = env.str("SIGNUP_RATE", default="10/h")

# How long emailed links stay valid.
SIGNUP_CONFIRMATION_MAX_AGE = 60 * 60 * 48
INVITATION_MAX_AGE = 60 * 60 * 24 * 7
