"""Open and click tracking, per sequence: a signed pixel per message, and links rewritten to
signed redirects that only ever lead to the URL they replaced.

The tokens are signed (django.core.signing, one salt per purpose) and never expire: they only
record, and a link in an old email must keep working. A click token carries its URL, so the
redirect goes exactly where the email pointed, and nowhere a forged or edited token could name.

Opens that are not the prospect's:
- The sender's own views: their Sent copy is replaced by one without the pixel and with the
  original links (see `engine.send._replace_sent_copy`); and a request carrying the session of a
  member of the message's organization (someone looking from our app) is not recorded at all.
  Mail clients do not send our session cookie (it is SameSite=Lax, and Gmail's proxy and
  desktop clients have cookie jars of their own), so this catches little beyond our own pages.
- Flagged `automated` (kept for the record, left out of the rates):
  - a fetch within AUTOMATED_WINDOW of sending, or before the send is even recorded: security
    gateways and prefetchers fetch on delivery, and nobody reads that fast;
  - Apple Mail Privacy Protection: Apple's proxy fetches every image once, when the message
    reaches the device, opened or not. Its requests carry the bare user agent "Mozilla/5.0"
    (Apple Mail itself sends a full WebKit one). Apple's proxy egress ranges are published
    online only, and are shared with iCloud Private Relay browsing, so they are not checked;
  - no user agent, or a crawler's or an HTTP library's;
  - after the prospect replied: the sender reading the reply loads the pixel of the quote.
- Counted: Gmail's image proxy ("GoogleImageProxy", and Yahoo's "YahooMailProxy"), which fetch
  when the person opens the message, not on delivery.

What cannot be told apart: an Apple Mail reader with MPP who really opened (Apple's single
prefetch is all we ever see of them); a scanner that waits longer and sends a browser's user
agent; a re-open served from Gmail's image cache (total opens undercount); and the opens of a
BCC recipient or of someone the prospect forwarded to, which count as the prospect's.
"""

import base64
import html
import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.urls import reverse

from outreach import clock
from outreach.emails import absolute_url

from .models import Message, Sequence, TrackingEvent

OPEN_SALT = "sequences.tracking.open"
CLICK_SALT = "sequences.tracking.click"
AUTOMATED_WINDOW = timedelta(seconds=10)
# A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
APPLE_PRIVACY_PROXY_AGENT = "mozilla/5.0"
MACHINE_AGENT_MARKERS = (
    "bot",
    "crawler",
    "spider",
    "headless",
    "python-",
    "curl/",
    "wget/",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww",
    "scanner",
)
# <a ... href="..."> as the sanitizer writes it: double-quoted, with `"` escaped inside.
_LINK_RE = re.compile(r'(<a\b[^>]*?\bhref=")([^"]*)(")', re.IGNORECASE)


# Tokens and URLs ---------------------------------------------------------------------------------


def pixel_url(message_id: int) -> str:
    token = signing.Signer(salt=OPEN_SALT).sign(str(message_id))
    return absolute_url(reverse("sequences:track_open", args=[token]))


def click_url(message_id: int, url: str) -> str:
    token = signing.Signer(salt=CLICK_SALT).sign_object({"m": message_id, "u": url}, compress=True)
    return absolute_url(reverse("sequences:track_click", args=[token]))


def _opened_message_id(token: str) -> int | None:
    try:
        return int(signing.Signer(salt=OPEN_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None


def destination(token: str) -> tuple[int, str] | None:
    """(message id, URL) of a tracked link, or None if `token` is not one we made."""
    try:
        payload = signing.Signer(salt=CLICK_SALT).unsign_object(token)
        message_id, url = int(payload["m"]), str(payload["u"])
    except (signing.BadSignature, ValueError, TypeError, KeyError):
        return None
    # We only ever sign http(s) URLs; anything else is refused even with a good signature.
    return (message_id, url) if _is_web_url(url) else None


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# Instrumenting an email -------------------------------------------------------------------------


def instrument(body_html: str, message: Message, sequence: Sequence) -> str:
    """The HTML part as the prospect gets it: with tracked links if the sequence tracks clicks,
    and the pixel at the end if it tracks opens. Links to this site (the unsubscribe link) stay
    as they are: they are no click on the email's content, and must work whatever blocks
    redirects."""
    if sequence.track_clicks:

        def rewrite(match: re.Match) -> str:
            url = html.unescape(match.group(2)).strip()
            if not _is_web_url(url) or url.startswith(settings.SITE_URL + "/"):
                return match.group(0)
            return match.group(1) + html.escape(click_url(message.pk, url)) + match.group(3)

        body_html = _LINK_RE.sub(rewrite, body_html)
    if sequence.track_opens:
        body_html += (
            f'<img src="{html.escape(pixel_url(message.pk))}" width="1" height="1" alt="" '
            'style="border:0;width:1px;height:1px">'
        )
    return body_html


# Recording -------------------------------------------------------------------------------------


def _is_team_member(viewer, organization_id: int) -> bool:
    return bool(
        viewer is not None
        and viewer.is_authenticated
        and getattr(viewer, "organization_id", None) == organization_id
    )


def _machine_agent(user_agent: str) -> bool:
    agent = user_agent.strip().lower()
    if not agent or agent == APPLE_PRIVACY_PROXY_AGENT:
        return True
    return any(marker in agent for marker in MACHINE_AGENT_MARKERS)


def _too_soon(sent_at: datetime | None, now: datetime) -> bool:
    # Not yet marked sent: fetched while the send itself was still being recorded.
    return sent_at is None or now - sent_at < AUTOMATED_WINDOW


def _target(message_id: int):
    return (
        Message.objects.filter(pk=message_id, direction=Message.Direction.OUTBOUND)
        .values("organization_id", "sent_at", "enrollment__replied_at")
        .first()
    )


def record_open(token: str, *, user_agent: str, viewer=None) -> TrackingEvent | None:
    """Records a fetch of the pixel named by `token`; None when nothing was recorded (a bad
    token, a message that is gone, or a look by the sender's own team)."""
    message_id = _opened_message_id(token)
    if message_id is None:
        return None
    target = _target(message_id)
    if target is None or _is_team_member(viewer, target["organization_id"]):
        return None
    now = clock.now()
    replied_at = target["enrollment__replied_at"]
    automated = (
        _too_soon(target["sent_at"], now)
        or _machine_agent(user_agent)
        or (replied_at is not None and now >= replied_at)
    )
    return TrackingEvent.objects.create(
        message_id=message_id,
        kind=TrackingEvent.Kind.OPEN,
        at=now,
        user_agent=user_agent[:500],
        automated=automated,
    )


def record_click(
    message_id: int, url: str, *, user_agent: str, viewer=None
) -> TrackingEvent | None:
    """Records a click on a tracked link, unless it came from the sender's own team."""
    target = _target(message_id)
    if target is None or _is_team_member(viewer, target["organization_id"]):
        return None
    now = clock.now()
    return TrackingEvent.objects.create(
        message_id=message_id,
        kind=TrackingEvent.Kind.CLICK,
        at=now,
        url=url[:2000],
        user_agent=user_agent[:500],
        # Link scanners of mail gateways follow every link on delivery.
        automated=_too_soon(target["sent_at"], now) or _machine_agent(user_agent),
    )
