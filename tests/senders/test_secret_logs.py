"""No log level lets an OAuth secret out: the client libraries under the Gmail connection write
token answers, request bodies and Authorization headers at DEBUG, and the logging configuration
holds them above that whatever LOG_LEVEL says."""

import io
import logging
import logging.config

import pytest
from django.conf import settings

from outreach.settings.observability import logging_config
from sandbox.models import AccessToken, AuthorizationCode, RefreshToken
from senders import gmail
from senders.models import Mailbox
from tests.sandbox_fixtures import CLIENT_SECRET
from tests.senders.conftest import connect_gmail


class Everything(logging.Handler):
    """Keeps every record it is handed, at any level."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def connect_and_refresh(google, client, user) -> None:
    """The code exchange of "Connect Gmail", then a token refresh and a call with the new token."""
    # Proof that the capture takes DEBUG records: a logger nobody pinned.
    logging.getLogger("tests.secret_logs").debug("connecting at DEBUG")
    google.control.create_account(user.email, "Rick Recruiter")
    connect_gmail(client, google, user.email)
    mailbox = Mailbox.objects.get(owner=user)
    creds = gmail.credentials(mailbox.refresh_token, mailbox.scopes)
    gmail.refresh(creds)
    gmail.Gmail(creds).profile()


def oauth_secrets() -> list[str]:
    """Every secret the sandbox's Google issued or was shown during the test."""
    found = [
        *RefreshToken.objects.values_list("token", flat=True),
        *AccessToken.objects.values_list("token", flat=True),
        *AuthorizationCode.objects.values_list("code", flat=True),
        CLIENT_SECRET,
    ]
    assert len(found) >= 5  # a refresh token, two access tokens, a code: the flow did run
    return found


def everything_said(records: list[logging.LogRecord]) -> str:
    # The formatted message, and every attribute a formatter may print (args, `extra` fields).
    return "\n".join(f"{record.getMessage()} {record.__dict__!r}" for record in records)


def console_handler() -> logging.Handler:
    return next(h for h in logging.getLogger().handlers if h.get_name() == "console")


@pytest.fixture
def logging_at_debug():
    """The configuration LOG_LEVEL=DEBUG (and LOG_FORMAT=json) gives, applied as Django applies
    it; yields what its handler writes, and every record the root logger sees."""
    stream = console_handler().stream
    logging.config.dictConfig(logging_config("DEBUG", "json"))
    written = io.StringIO()
    console_handler().setStream(written)
    everything = Everything()
    logging.getLogger().addHandler(everything)
    yield written, everything
    logging.getLogger().removeHandler(everything)
    logging.config.dictConfig(settings.LOGGING)
    console_handler().setStream(stream)


def test_debug_logs_carry_no_token_from_connecting_or_refreshing(
    google, recruiter_client, recruiter, caplog
):
    caplog.set_level(logging.DEBUG)
    connect_and_refresh(google, recruiter_client, recruiter)

    said = everything_said(caplog.records)
    assert "connecting at DEBUG" in said
    for secret in oauth_secrets():
        assert secret not in said


def test_the_configuration_for_log_level_debug_writes_no_token(
    google, recruiter_client, recruiter, logging_at_debug
):
    written, everything = logging_at_debug
    connect_and_refresh(google, recruiter_client, recruiter)

    said = written.getvalue() + everything_said(everything.records)
    assert "connecting at DEBUG" in written.getvalue()
    for secret in oauth_secrets():
        assert secret not in said
