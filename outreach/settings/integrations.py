"""Base URLs of every external API. Production points at Google and Greenhouse; SANDBOX=1 points
at the local stand-ins, which speak the same protocols."""

from .core import SANDBOX
from .env import env

SANDBOX_URL = env.str("SANDBOX_URL", default="http://127.0.0.1:8001").rstrip("/")

if SANDBOX:
    # The sandbox is one host that serves each API at the path its real host uses.
    _google_accounts = _google_oauth = SANDBOX_URL
    _gmail = f"{SANDBOX_URL}/"
    _greenhouse = f"{SANDBOX_URL}/harvest/v1"
    _greenhouse_v3 = f"{SANDBOX_URL}/harvest/v3"
    _greenhouse_auth = f"{SANDBOX_URL}/greenhouse-auth/token"
else:
    _google_accounts = "https://accounts.google.com"
    _google_oauth = "https://oauth2.googleapis.com"
    _gmail = "https://gmail.googleapis.com/"
    _greenhouse = "https://harvest.greenhouse.io/v1"
    _greenhouse_v3 = "https://harvest.greenhouse.io/v3"
    _greenhouse_auth = "https://auth.greenhouse.io/token"

# With the sandbox, a client it registers for itself (load_sandbox_demo); real ones come from
# Google Cloud Console.
GOOGLE_OAUTH_CLIENT_ID = env.str(
    "GOOGLE_OAUTH_CLIENT_ID", default="outreach-dev.apps.googleusercontent.com" if SANDBOX else ""
)
GOOGLE_OAUTH_CLIENT_SECRET = env.str(
    "GOOGLE_OAUTH_CLIENT_SECRET", default="outreach-dev-secret" if SANDBOX else ""
)
GOOGLE_AUTH_URI = env.str("GOOGLE_AUTH_URI", default=f"{_google_accounts}/o/oauth2/auth")
GOOGLE_TOKEN_URI = env.str("GOOGLE_TOKEN_URI", default=f"{_google_oauth}/token")
GOOGLE_REVOKE_URI = env.str("GOOGLE_REVOKE_URI", default=f"{_google_oauth}/revoke")
# google-api-python-client appends "gmail/v1/users/..." to this.
GMAIL_API_ENDPOINT = env.str("GMAIL_API_ENDPOINT", default=_gmail)

# Harvest v1 (API keys, legacy) and v3 (OAuth client credentials).
GREENHOUSE_API_URL = env.str("GREENHOUSE_API_URL", default=_greenhouse).rstrip("/")
GREENHOUSE_API_V3_URL = env.str("GREENHOUSE_API_V3_URL", default=_greenhouse_v3).rstrip("/")
GREENHOUSE_TOKEN_URL = env.str("GREENHOUSE_TOKEN_URL", default=_greenhouse_auth)

# How long we wait for an answer (seconds). A write left unanswered so may still land: it is
# looked for before any new attempt, and "not found" is trusted only once it could no longer
# land (outreach.remote.WriteWindow): within SEND_START_WITHIN_SECONDS the engine makes the
# call or gives the attempt up, and the provider may still carry out a request for
# WRITE_LANDING_MARGIN_SECONDS after we stopped waiting (our assumption; neither Google nor
# Greenhouse says).
GMAIL_TIMEOUT_SECONDS = env.float("GMAIL_TIMEOUT_SECONDS", default=30.0)
GREENHOUSE_TIMEOUT_SECONDS = env.float("GREENHOUSE_TIMEOUT_SECONDS", default=30.0)
SEND_START_WITHIN_SECONDS = env.float("SEND_START_WITHIN_SECONDS", default=30.0)
WRITE_LANDING_MARGIN_SECONDS = env.float("WRITE_LANDING_MARGIN_SECONDS", default=120.0)
