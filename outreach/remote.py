"""Calls to the services we write to (Gmail, Greenhouse): the HTTP session every provider module
uses, and the one rule for a write whose answer we did not hear.

Once per attempt of ours. When a connection closes, resets or times out after a request was
written, the server may have carried it out: whoever resends it then may write twice. So nothing
below us resends. The session retries only what cannot change anything: a read (GET, HEAD), or a
connection that was never made. A write goes out once, and if its answer is lost the caller
hears so (`never_sent` tells the two apart), to look for it in the provider's own record before
any new attempt. httplib2, which google-api-python-client uses unless given another transport,
resends any request, POST included, when the connection closes without an answer: it is not used.

"Not found" means "never landed" only once the attempt can no longer land (`WriteWindow`).
"""

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError
from urllib3.util.retry import Retry

READS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_RETRIES = 2


def _retry_reads_only() -> Retry:
    # urllib3 retries a connection that failed to open whatever the method (nothing was sent),
    # and an answer lost after sending only for the methods allowed here.
    return Retry(
        total=READ_RETRIES,
        connect=READ_RETRIES,
        read=READ_RETRIES,
        status=0,
        other=0,
        redirect=0,
        allowed_methods=READS,
        backoff_factor=0.2,
        raise_on_status=False,
        raise_on_redirect=False,
    )


def mount(session: requests.Session) -> requests.Session:
    """Gives `session` (a plain one, or google-auth's AuthorizedSession) the rule above."""
    adapter = HTTPAdapter(max_retries=_retry_reads_only())
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class EnvironmentReadOnce(requests.Session):
    """A session that reads the proxy and CA-bundle variables once per process and host. requests
    reads them on every request, walking all of os.environ three times over: a fifth of a
    worker's CPU for each email sent. A running process's environment does not change, so the
    settings for a host (and for the same session and per-request settings) are kept, by every
    session of the process: a worker makes a session for each mailbox it meets."""

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        parts = urlsplit(url)
        key = (
            parts.scheme,
            parts.netloc,
            frozenset((proxies or {}).items()),
            frozenset(self.proxies.items()),
            (stream, verify, cert, self.stream, self.verify, self.cert, self.trust_env),
        )
        merged: Any = _environment_settings.get(key)
        if merged is None:
            merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
            if len(_environment_settings) < 256:  # a process calls a handful of hosts
                _environment_settings[key] = merged
        # Callers may change the proxies they are given; the kept ones stay as read.
        return {**merged, "proxies": dict(merged["proxies"])}


_environment_settings: dict[tuple, Any] = {}


def session() -> requests.Session:
    return mount(EnvironmentReadOnce())


def never_sent(error: requests.RequestException) -> bool:
    """Whether the request surely never reached the server (no connection could be made), as
    opposed to an answer lost after it was written (a timeout, a close, a reset)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError):
        cause = error.args[0] if error.args else None
        return isinstance(getattr(cause, "reason", cause), NewConnectionError)
    return False


# A write whose outcome we did not hear ------------------------------------------------------------


@dataclass(frozen=True)
class WriteWindow:
    """How long after we recorded an attempt its write may still land at the provider: we start
    the call within `start_within` of recording it (or give the attempt up), we stop waiting for
    the answer after `timeout`, and the provider may still carry out a request it received for
    `margin` after that. How long Google's and Greenhouse's servers keep working on a request
    whose client hung up is not published: `margin` is our assumption, and a generous one."""

    start_within: timedelta
    timeout: timedelta
    margin: timedelta

    def settled_at(self, recorded_at: datetime) -> datetime:
        return recorded_at + self.start_within + self.timeout + self.margin


class Outcome(enum.Enum):
    LANDED = "landed"
    NEVER_LANDED = "never landed"
    MAY_STILL_LAND = "may still land"


def outcome(*, found: bool, recorded_at: datetime, window: WriteWindow, now: datetime) -> Outcome:
    """What a look for an earlier attempt in the provider's record means. Found, it landed. Not
    found, it never will only once it is too old to still be on its way; before that, the
    caller waits until `window.settled_at(recorded_at)` and looks again, and never writes."""
    if found:
        return Outcome.LANDED
    if now < window.settled_at(recorded_at):
        return Outcome.MAY_STILL_LAND
    return Outcome.NEVER_LANDED
