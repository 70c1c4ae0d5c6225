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

# Reverse proxies in front of the app, each appending to X-Forwarded-For: every throttle below
# counts by the client address they forwarded (outreach/client_ip.py), never by the proxy's.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
RATELIMIT_IP_META_KEY = "outreach.client_ip.client_ip"

# Guessing passwords: after AXES_FAILURE_LIMIT failures for one email from one address, that pair
# is locked out for AXES_COOLOFF_TIME (hours); a correct password does not unlock it early.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
# Log-in ignores case and surrounding spaces: so must the count, or every spelling of one address
# would get guesses of its own.
AXES_USERNAME_CALLABLE = "outreach.views.login_username"
AXES_CLIENT_IP_CALLABLE = "outreach.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Password reset requests and sign-ups, per address and per target email (django-ratelimit syntax).
PASSWORD_RESET_RATE = env.str("PASSWORD_RESET_RATE", default="5/h")
SIGNUP_RATE = env.str("SIGNUP_RATE", default="10/h")
# "Send on behalf of" request emails (asks, invitations, resends): per requester over a rolling
# hour, and per teammate asked (whoever asks) over a rolling day.
DELEGATION_REQUESTS_PER_HOUR = env.int("DELEGATION_REQUESTS_PER_HOUR", default=10)
DELEGATION_REQUESTS_PER_TEAMMATE_PER_DAY = env.int(
    "DELEGATION_REQUESTS_PER_TEAMMATE_PER_DAY", default=5
)

# /healthz tells everyone up or down; its details (each check, the engine's backlog) go to
# signed-in superusers and to a monitor presenting this bearer token. Empty: no token works.
HEALTHZ_TOKEN = env.str("HEALTHZ_TOKEN", default="")

# How long emailed links stay valid.
SIGNUP_CONFIRMATION_MAX_AGE = 60 * 60 * 48
INVITATION_MAX_AGE = 60 * 60 * 24 * 7
# How long a link that confirms a member's new address works, and how often one may be asked.
EMAIL_CHANGE_MAX_AGE = 60 * 60 * 24
EMAIL_CHANGE_RATE = env.str("EMAIL_CHANGE_RATE", default="5/h")
