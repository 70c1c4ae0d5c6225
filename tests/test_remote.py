"""The HTTP session every provider module uses reads the environment's proxy settings as requests
does, only once per host."""

import pytest
import requests

from outreach import remote

URLS = ("https://gmail.googleapis.com/gmail/v1/users/me", "http://127.0.0.1:8025/x", "https://a.b/")


@pytest.fixture
def environment(monkeypatch):
    remote._environment_settings.clear()  # read under this test's environment
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corp.pem")
    yield
    remote._environment_settings.clear()


@pytest.mark.parametrize("url", URLS)
def test_a_host_gets_the_proxy_and_ca_bundle_requests_would_give_it(environment, url):
    expected = requests.Session().merge_environment_settings(url, {}, None, None, None)
    session = remote.session()
    assert session.merge_environment_settings(url, {}, None, None, None) == expected
    # And the same from what was kept.
    assert session.merge_environment_settings(url, {}, None, None, None) == expected


def test_proxies_a_caller_changes_do_not_change_the_next_requests(environment):
    session = remote.session()
    first = session.merge_environment_settings(URLS[0], {}, None, None, None)
    assert first["proxies"]["https"] == "http://proxy.corp.example:3128"
    first["proxies"]["https"] = "http://elsewhere.example"
    again = session.merge_environment_settings(URLS[0], {}, None, None, None)
    assert again["proxies"]["https"] == "http://proxy.corp.example:3128"
    assert again["verify"] == "/etc/ssl/corp.pem"


def test_a_request_through_the_session_honours_no_proxy(environment, live_server):
    # 127.0.0.1 is in NO_PROXY: the request reaches the server itself, not the proxy.
    answer = remote.session().get(f"{live_server.url}/healthz", timeout=5)
    assert answer.status_code in (200, 503)
