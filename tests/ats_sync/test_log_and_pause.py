"""What people see and do about Greenhouse sync: the sync log and its Retry (team admins), the
outbox in Django admin, the prospect page's Greenhouse panel with Pause / Resume, and the pause
link of the notice filed in the sender's thread (signed, expiring, single use)."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ats_sync import services
from ats_sync.models import ActivitySync, AtsConnection, ThreadNotice, UserMapping
from outreach import clock
from sequences.models import Message, Prospect, Visibility
from tests.factories import (
    EnrollmentFactory,
    MailboxFactory,
    ProspectFactory,
    SequenceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

Status = ActivitySync.Status


@pytest.fixture
def mailbox(recruiter):
    return MailboxFactory(owner=recruiter)


@pytest.fixture
def other_mailbox(other_admin):
    return MailboxFactory(owner=other_admin)


def message_for(prospect, mailbox, *, subject="Quick question", direction="outbound", **fields):
    outbound = direction == Message.Direction.OUTBOUND
    return Message.objects.create(
        organization=prospect.organization,
        prospect=prospect,
        mailbox=mailbox,
        direction=direction,
        status=Message.Status.SENT if outbound else "",
        inbound_kind="" if outbound else Message.InboundKind.REPLY,
        from_address=mailbox.email if outbound else prospect.email,
        to_address=prospect.email if outbound else mailbox.email,
        subject=subject,
        gmail_thread_id="thread-1",
        **fields,
    )


def sync_row(mailbox, *, status=Status.FAILED, error="", prospect=None, message=None, **kwargs):
    """An outbox row (and its message) of the mailbox's team."""
    organization = mailbox.organization
    if message is None:
        prospect = prospect or ProspectFactory(organization=organization)
        message = message_for(
            prospect,
            mailbox,
            **{k: kwargs.pop(k) for k in ("subject", "direction", "enrollment") if k in kwargs},
        )
    return ActivitySync.objects.create(
        organization=organization, message=message, status=status, last_error=error, **kwargs
    )


def many_rows(mailbox, count, *, status=Status.FAILED):
    """`count` rows in one go (two inserts), each with its own prospect."""
    organization = mailbox.organization
    prospects = [ProspectFactory(organization=organization) for _ in range(count)]
    messages = Message.objects.bulk_create(
        Message(
            organization=organization,
            prospect=prospect,
            mailbox=mailbox,
            direction=Message.Direction.OUTBOUND,
            status=Message.Status.SENT,
            from_address=mailbox.email,
            to_address=prospect.email,
            subject=f"Hello {n}",
        )
        for n, prospect in enumerate(prospects)
    )
    ActivitySync.objects.bulk_create(
        ActivitySync(organization=organization, message=m, status=status, last_error="Refused.")
        for m in messages
    )


def count_cell(page: str, status: str) -> int:
    found = re.search(rf'data-status="{status}"><a [^>]*>(\d+)</a>', page)
    assert found, f"no count for {status}"
    return int(found.group(1))


# The sync log -----------------------------------------------------------------------------------


def test_the_sync_log_is_for_team_admins_only(client, admin_client, recruiter, mailbox):
    row = sync_row(mailbox, error="Refused.")
    assert admin_client.get("/ats/log/").status_code == 200

    client.force_login(recruiter)
    assert client.get("/ats/log/").status_code == 403
    assert client.post("/ats/log/retry/", {"selected": [row.pk]}).status_code == 403
    row.refresh_from_db()
    assert row.status == Status.FAILED

    client.logout()
    response = client.get("/ats/log/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_log_shows_failed_and_skipped_rows_with_their_errors(
    admin_client, mailbox, other_mailbox
):
    failed = sync_row(
        mailbox, error="Rick Recruiter has no Greenhouse user.", subject="Backend role"
    )
    skipped = sync_row(
        mailbox,
        status=Status.SKIPPED,
        error="No Greenhouse candidate has the email x@candidates.example.",
        subject="Platform role",
    )
    sync_row(mailbox, status=Status.SYNCED, subject="Already written")
    sync_row(mailbox, status=Status.PENDING, subject="On its way")
    sync_row(mailbox, status=Status.PAUSED, subject="Held back")
    sync_row(other_mailbox, error="Globex secret error", subject="Globex hire")

    page = admin_client.get("/ats/log/").content.decode()
    for row in (failed, skipped):
        assert row.message.prospect.email in page
        assert row.message.subject in page
        assert row.last_error in page
    assert '<span class="badge">Sent</span>' in page  # the direction
    assert "Already written" not in page and "On its way" not in page and "Held back" not in page
    assert "Globex" not in page
    assert {s: count_cell(page, s) for s in Status.values} == {
        "synced": 1,
        "pending": 1,
        "failed": 1,
        "skipped": 1,
        "paused": 1,
    }

    # Filtered by status.
    synced = admin_client.get("/ats/log/", {"status": "synced"}).content.decode()
    assert "Already written" in synced and "Backend role" not in synced
    both = admin_client.get("/ats/log/", {"status": ["pending", "paused"]}).content.decode()
    assert "On its way" in both and "Held back" in both and "Platform role" not in both


def test_retry_puts_the_selected_rows_of_the_team_back_in_the_queue(
    admin_client, mailbox, other_mailbox
):
    later = clock.now() + timedelta(hours=1)
    failed = sync_row(mailbox, error="Refused.", attempts=4, next_attempt_at=later)
    skipped = sync_row(mailbox, status=Status.SKIPPED, error="No such candidate.")
    synced = sync_row(mailbox, status=Status.SYNCED)
    theirs = sync_row(other_mailbox, error="Refused.")

    response = admin_client.post(
        "/ats/log/retry/",
        {"selected": [failed.pk, skipped.pk, synced.pk, theirs.pk], "next": "/ats/log/"},
    )
    assert response.status_code == 302 and response["Location"] == "/ats/log/"

    for row in (failed, skipped, synced, theirs):
        row.refresh_from_db()
    assert failed.status == skipped.status == Status.PENDING
    assert failed.attempts == 0 and failed.last_error == ""
    assert failed.next_attempt_at <= clock.now()
    assert synced.status == Status.SYNCED
    # Another team's id is ignored.
    assert theirs.status == Status.FAILED and theirs.last_error == "Refused."


def test_a_rows_own_retry_button_retries_that_row_only(admin_client, mailbox):
    first, second = sync_row(mailbox), sync_row(mailbox)
    admin_client.post("/ats/log/retry/", {"selected": [first.pk, second.pk], "one": second.pk})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Status.FAILED, Status.PENDING)


def test_retry_wants_a_csrf_token(admin_user, mailbox):
    row = sync_row(mailbox)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post("/ats/log/retry/", {"selected": [row.pk]}).status_code == 403
    row.refresh_from_db()
    assert row.status == Status.FAILED


def test_the_log_makes_the_same_queries_whatever_the_number_of_rows(
    admin_client, mailbox, django_assert_max_num_queries
):
    many_rows(mailbox, 1)
    admin_client.get("/ats/log/")  # the session's first use
    with CaptureQueriesContext(connection) as one_row:
        assert admin_client.get("/ats/log/").status_code == 200

    many_rows(mailbox, 80)  # more than a page
    with django_assert_max_num_queries(len(one_row.captured_queries)):
        page = admin_client.get("/ats/log/").content.decode()
    assert count_cell(page, "failed") == 81
    assert "Page 1 of 2" in page
    assert "Page 2 of 2" in admin_client.get("/ats/log/", {"page": 2}).content.decode()
    with django_assert_max_num_queries(10):
        admin_client.get("/ats/log/", {"page": 2})


# Django admin -----------------------------------------------------------------------------------


@pytest.fixture
def both_teams(org, other_org, admin_user, mailbox, other_mailbox, other_admin):
    mine = sync_row(mailbox, error="Refused.", subject="Acme subject")
    theirs = sync_row(other_mailbox, error="Globex refusal", subject="Globex subject")
    AtsConnection.objects.create(
        organization=org, client_id="acme-client", client_secret="acme-top-secret"
    )
    AtsConnection.objects.create(
        organization=other_org, client_id="globex-client", client_secret="globex-top-secret"
    )
    UserMapping.objects.create(organization=org, user=admin_user, greenhouse_user_id=101)
    UserMapping.objects.create(organization=other_org, user=other_admin, greenhouse_user_id=202)
    return mine, theirs


@pytest.mark.parametrize(
    "url",
    [
        "/admin/ats_sync/activitysync/",
        "/admin/ats_sync/atsconnection/",
        "/admin/ats_sync/usermapping/",
    ],
)
def test_team_admins_see_only_their_teams_sync_rows_in_admin(admin_client, both_teams, url):
    response = admin_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "globex" not in page.lower()


def test_the_admin_outbox_lists_rows_with_counts_and_is_read_only(
    admin_client, both_teams, mailbox, django_assert_max_num_queries
):
    mine, theirs = both_teams
    page = admin_client.get("/admin/ats_sync/activitysync/").content.decode()
    assert mine.message.prospect.email in page and "Acme subject" in page
    assert count_cell(page, "failed") == 1 and count_cell(page, "synced") == 0
    many_rows(mailbox, 40, status=Status.SYNCED)
    with django_assert_max_num_queries(10):  # the list joins each row's message and prospect
        page = admin_client.get("/admin/ats_sync/activitysync/").content.decode()
    assert count_cell(page, "synced") == 40
    assert "/admin/ats_sync/activitysync/add/" not in page

    change = admin_client.get(f"/admin/ats_sync/activitysync/{mine.pk}/change/")
    assert change.status_code == 200 and 'name="status"' not in change.content.decode()
    assert admin_client.get(f"/admin/ats_sync/activitysync/{theirs.pk}/change/").status_code == 404
    assert admin_client.post(f"/admin/ats_sync/activitysync/{mine.pk}/delete/").status_code == 403
    assert ActivitySync.objects.filter(pk=mine.pk).exists()


def test_the_admin_retry_action_moves_only_the_teams_rows(admin_client, both_teams):
    mine, theirs = both_teams
    response = admin_client.post(
        "/admin/ats_sync/activitysync/",
        {"action": "retry", "index": 0, "_selected_action": [mine.pk, theirs.pk]},
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == Status.PENDING
    assert theirs.status == Status.FAILED


def test_the_admin_never_shows_the_greenhouse_secrets(admin_client, both_teams, org):
    connection = AtsConnection.objects.get(organization=org)
    for url in (
        "/admin/ats_sync/atsconnection/",
        f"/admin/ats_sync/atsconnection/{connection.pk}/change/",
    ):
        page = admin_client.get(url).content.decode()
        assert "acme-top-secret" not in page
        assert 'name="client_secret"' not in page and 'name="api_key"' not in page
    assert "acme-client" in page


def test_a_mapping_corrected_in_admin_is_the_admins(admin_client, both_teams, admin_user):
    mapping = UserMapping.objects.get(user=admin_user)
    response = admin_client.post(
        f"/admin/ats_sync/usermapping/{mapping.pk}/change/", {"greenhouse_user_id": "303"}
    )
    assert response.status_code == 302
    mapping.refresh_from_db()
    assert (mapping.greenhouse_user_id, mapping.source) == (303, UserMapping.Source.MANUAL)


# The prospect page's Greenhouse panel -----------------------------------------------------------


def test_the_prospect_page_shows_the_candidate_and_each_messages_sync(
    recruiter_client, org, mailbox
):
    prospect = ProspectFactory(organization=org, ats_candidate_id="4242")
    sync_row(mailbox, prospect=prospect, error="Greenhouse said: locked.", subject="First touch")
    sync_row(
        mailbox,
        prospect=prospect,
        status=Status.SYNCED,
        subject="Re: First touch",
        direction="inbound",
        synced_at=clock.now(),
    )
    page = recruiter_client.get(f"/prospects/{prospect.pk}/").content.decode()
    assert "Greenhouse candidate 4242" in page
    assert "Greenhouse said: locked." in page
    assert "Failed" in page and "Synced" in page
    assert f'action="/ats/prospects/{prospect.pk}/sync/"' in page
    assert "Pause sync" in page and "Resume sync" not in page


def test_the_panel_leaves_out_confidential_messages_the_viewer_may_not_see(
    recruiter_client, org, mailbox
):
    prospect = ProspectFactory(organization=org)
    owner = UserFactory(organization=org)
    confidential = SequenceFactory(owner=owner, visibility=Visibility.CONFIDENTIAL)
    hidden = EnrollmentFactory(sequence=confidential, prospect=prospect)
    sync_row(
        hidden.mailbox,
        prospect=prospect,
        enrollment=hidden,
        subject="The CTO role, quietly",
        error="Quiet refusal",
    )
    page = recruiter_client.get(f"/prospects/{prospect.pk}/").content.decode()
    assert "The CTO role, quietly" not in page and "Quiet refusal" not in page


def test_the_prospect_page_makes_the_same_queries_whatever_the_number_of_messages(
    recruiter_client, org, mailbox, django_assert_max_num_queries
):
    prospect = ProspectFactory(organization=org)
    sync_row(mailbox, prospect=prospect)
    recruiter_client.get(f"/prospects/{prospect.pk}/")  # the session's first use
    with CaptureQueriesContext(connection) as one:
        recruiter_client.get(f"/prospects/{prospect.pk}/")
    for n in range(30):
        sync_row(mailbox, prospect=prospect, subject=f"Follow-up {n}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = recruiter_client.get(f"/prospects/{prospect.pk}/").content.decode()
    assert "Follow-up 29" in page


def test_pause_and_resume_from_the_prospect_page(recruiter_client, org, mailbox):
    prospect = ProspectFactory(organization=org)
    pending = sync_row(mailbox, prospect=prospect, status=Status.PENDING)
    failed = sync_row(mailbox, prospect=prospect, error="Refused.")
    elsewhere = sync_row(mailbox, status=Status.PENDING)  # another candidate's

    response = recruiter_client.post(
        f"/ats/prospects/{prospect.pk}/sync/", {"action": "pause"}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/prospects/{prospect.pk}/"
    page = response.content.decode()
    assert "Sync paused" in page and "Resume sync" in page
    prospect.refresh_from_db()
    assert prospect.ats_sync_paused
    for row in (pending, failed, elsewhere):
        row.refresh_from_db()
    assert (pending.status, failed.status, elsewhere.status) == (
        Status.PAUSED,
        Status.FAILED,
        Status.PENDING,
    )

    recruiter_client.post(f"/ats/prospects/{prospect.pk}/sync/", {"action": "resume"})
    prospect.refresh_from_db()
    pending.refresh_from_db()
    assert not prospect.ats_sync_paused
    assert pending.status == Status.PENDING and pending.last_error == ""


def test_prospect_sync_of_another_team_is_not_found(client, other_admin, org, mailbox):
    prospect = ProspectFactory(organization=org)
    row = sync_row(mailbox, prospect=prospect, status=Status.PENDING)
    client.force_login(other_admin)
    response = client.post(f"/ats/prospects/{prospect.pk}/sync/", {"action": "pause"})
    assert response.status_code == 404
    prospect.refresh_from_db()
    row.refresh_from_db()
    assert not prospect.ats_sync_paused and row.status == Status.PENDING


def test_prospect_sync_wants_a_known_action_and_a_post(recruiter_client, org):
    prospect = ProspectFactory(organization=org)
    url = f"/ats/prospects/{prospect.pk}/sync/"
    assert recruiter_client.post(url, {"action": "delete"}).status_code == 400
    assert recruiter_client.get(url).status_code == 405


# The pause link in the sender's thread ----------------------------------------------------------


@pytest.fixture
def notice(org, mailbox):
    prospect = ProspectFactory(organization=org, email="casey@candidates.example")
    return ThreadNotice.objects.create(
        organization=org, mailbox=mailbox, gmail_thread_id="thread-1", prospect=prospect
    )


def link_path(notice) -> str:
    return urlsplit(services.pause_link(notice)).path


def test_the_pause_link_asks_then_pauses_once(client, notice, mailbox):
    prospect = notice.prospect
    pending = sync_row(mailbox, prospect=prospect, status=Status.PENDING)
    path = link_path(notice)

    # GET only asks: mail scanners open links.
    response = client.get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Stop writing casey@candidates.example's emails to Greenhouse?" in page
    assert 'method="post"' in page and "csrfmiddlewaretoken" in page
    prospect.refresh_from_db()
    pending.refresh_from_db()
    assert not prospect.ats_sync_paused and pending.status == Status.PENDING

    response = client.post(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Greenhouse sync paused" in page
    assert f'href="/prospects/{prospect.pk}/"' in page  # where to resume
    prospect.refresh_from_db()
    pending.refresh_from_db()
    notice.refresh_from_db()
    assert prospect.ats_sync_paused and notice.pause_used_at is not None
    assert pending.status == Status.PAUSED
    # The pusher leaves paused rows alone.
    assert services.push_due() == 0

    # A second use.
    for response in (client.post(path), client.get(path)):
        assert response.status_code == 410
        assert "This link was already used" in response.content.decode()


def test_the_pusher_claims_no_paused_row(mailbox):
    sync_row(mailbox, status=Status.PAUSED, next_attempt_at=clock.now() - timedelta(hours=1))
    assert services.push_due() == 0
    assert ActivitySync.objects.get().status == Status.PAUSED


def test_the_pause_link_keeps_its_csrf_check(notice):
    path = link_path(notice)
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(path).status_code == 403
    notice.prospect.refresh_from_db()
    assert not notice.prospect.ats_sync_paused

    strict.get(path)
    response = strict.post(path, {"csrfmiddlewaretoken": strict.cookies["csrftoken"].value})
    assert response.status_code == 200
    notice.prospect.refresh_from_db()
    assert notice.prospect.ats_sync_paused


def test_a_tampered_or_forged_pause_link_is_refused(client, notice, org, mailbox):
    other = ThreadNotice.objects.create(
        organization=org,
        mailbox=mailbox,
        gmail_thread_id="thread-2",
        prospect=ProspectFactory(organization=org),
    )
    token = link_path(notice).rstrip("/").rsplit("/", 1)[1]
    rest = token.split(":", 1)[1]
    signed, signature = token.rsplit(":", 1)
    other_payload = link_path(other).rstrip("/").rsplit("/", 1)[1].split(":", 1)[0]
    forged_tokens = [
        # The other notice's payload under this one's signature.
        f"{other_payload}:{rest}",
        # One character of the signature changed.
        f"{signed}:{'A' if signature[0] != 'A' else 'B'}{signature[1:]}",
        # Signed with a key that is not ours, or for another purpose.
        signing.TimestampSigner(key="not-our-secret", salt=services.PAUSE_SALT).sign_object(
            {"notice": other.pk}
        ),
        signing.TimestampSigner(salt="sequences.unsubscribe").sign_object({"notice": other.pk}),
        "garbage",
    ]
    for forged in forged_tokens:
        for method in (client.get, client.post):
            response = method(f"/ats/pause/{forged}/")
            assert response.status_code == 404, forged
            assert "This link cannot be used" in response.content.decode()
    assert not ThreadNotice.objects.filter(pause_used_at__isnull=False).exists()
    assert not Prospect.objects.filter(ats_sync_paused=True).exists()


def test_an_expired_pause_link_is_refused(client, notice):
    path = link_path(notice)
    with time_machine.travel(clock.now() + services.PAUSE_LINK_MAX_AGE - timedelta(days=1)):
        assert client.get(path).status_code == 200
    with time_machine.travel(clock.now() + services.PAUSE_LINK_MAX_AGE + timedelta(days=1)):
        for response in (client.get(path), client.post(path)):
            assert response.status_code == 404
            assert "expired" in response.content.decode()
    notice.refresh_from_db()
    notice.prospect.refresh_from_db()
    assert notice.pause_used_at is None and not notice.prospect.ats_sync_paused
