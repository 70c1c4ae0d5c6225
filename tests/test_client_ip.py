"""The client address every throttle counts by, with and without proxies in front."""

import pytest
from django.test import RequestFactory

from outreach.client_ip import client_ip

PROXY = "10.0.0.2"


def request_from(remote_addr: str, forwarded_for: str | None = None):
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **headers)


@pytest.mark.parametrize("forged", ["198.51.100.9", "198.51.100.9, 203.0.113.5", "garbage"])
def test_without_a_proxy_the_forwarded_header_is_the_clients_own_word_and_ignored(settings, forged):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request_from("192.0.2.10", forged)) == "192.0.2.10"


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "client"),
    [
        # The proxy appended the address it received the connection from.
        (1, "192.0.2.10", "192.0.2.10"),
        # The client sent a header of its own: the proxy's entry is still the right-most.
        (1, "198.51.100.9, 192.0.2.10", "192.0.2.10"),
        (1, "198.51.100.9, 203.0.113.5, 192.0.2.10", "192.0.2.10"),
        (1, "not-an-address, 192.0.2.10", "192.0.2.10"),
        # Two proxies: the outer one wrote the client, the inner one the outer one.
        (2, "198.51.100.9, 192.0.2.10, 10.0.0.7", "192.0.2.10"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_behind_trusted_proxies_the_client_is_the_address_the_outermost_one_wrote(
    settings, proxies, forwarded_for, client
):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_ip(request_from(PROXY, forwarded_for)) == client


def test_a_request_that_did_not_pass_through_the_proxies_counts_by_its_own_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_from("10.0.0.9")) == "10.0.0.9"


def test_a_request_django_built_itself_has_no_client_address(settings):
    request = RequestFactory().get("/")
    del request.META["REMOTE_ADDR"]
    assert client_ip(request) is None
