"""The address a request came from, the one every throttle counts by (django-axes lock-outs,
django-ratelimit limits).

`TRUSTED_PROXY_COUNT` says how many reverse proxies stand in front of the app, each appending
the address it received the connection from to X-Forwarded-For (nginx's
`$proxy_add_x_forwarded_for`, cloud load balancers). Behind N such proxies the client is the
N-th address from the right: the proxies wrote those, and whatever stands left of them the
client wrote itself. With no proxy, X-Forwarded-For is the client's own word and is ignored.
Other forwarding headers (X-Real-IP, Forwarded...) are never read: a client can send them too,
and our proxies are not asked to overwrite them.
"""

from django.conf import settings
from django.http import HttpRequest
from ipware.ip import get_client_ip


def client_ip(request: HttpRequest) -> str | None:
    """The client's address; None for a request that carries none (one Django builds itself, as
    for a log-in made in code)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        # ipware counts the addresses right of the client's: the proxy nearest to us is
        # REMOTE_ADDR, not in the header. Not strict: a client that sends an X-Forwarded-For of
        # its own (longer than our proxies make it, or not addresses at all) must still count by
        # the address our proxies wrote, not fall back to the proxy's that everyone shares.
        forwarded, _ = get_client_ip(
            request,
            proxy_count=proxies - 1,
            request_header_order=["HTTP_X_FORWARDED_FOR"],
            strict=False,
        )
        if forwarded:
            return forwarded
    # No proxy in front, or a request that did not pass through them all (a probe from inside).
    direct, _ = get_client_ip(request, request_header_order=["REMOTE_ADDR"])
    return direct
