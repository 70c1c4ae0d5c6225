"""Open and click tracking: through the real engine and the sandbox's Gmail where sending is
involved, and through the public endpoints as a mail client would fetch them."""

import re
from datetime import timedelta
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sandbox import control
from sandbox.models import ApiCall
from sequences import templating, tracking
from sequences.models import Message, Stage, TrackingEvent
from tests.factories import EnrollmentFactory, ProspectFactory, UserFactory
from tests.sequences.test_sending import CANDIDATE, connect, enroll, inbox, make_sequence, run_due

CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
JOB = "https://jobs.example/platform?team=infra&level=senior"
BODY = (
    f'<p>Hi {{{{first_name}}}}, here is <a href="{JOB}">the role</a> and '
    '<a href="mailto:rick@acme.example">my address</a>.</p>'
)


@pytest.fixture(autouse=True)
def _no_jitter(settings):
    settings.SEND_JITTER_SECONDS = 0


@pytest.fixture
def rick_box(sandbox, recruiter):
    return connect(sandbox, recruiter)


def tracked_sequence(recruiter, mailbox, **settings):
    sequence = make_sequence(
        recruiter, mailbox, **{"track_opens": True, "track_clicks": True, **settings}
    )
    # As the editor stores it: through the sanitizer.
    Stage.objects.filter(sequence=sequence).update(body_html=templating.sanitize_html(BODY))
    return sequence


def html_of(message) -> str:
    parsed = message_from_bytes(bytes(message.raw), policy=policy.default)
    return parsed.get_body(preferencelist=("html",)).get_content()


def header_of(message, name: str) -> str:
    return message_from_bytes(bytes(message.raw), policy=policy.default)[name]


def paths(body: str, prefix: str) -> list[str]:
    return [
        urlsplit(url).path
        for url in re.findall(r'(?:src|href)="(http://testserver/[^"]+)"', body)
        if urlsplit(url).path.startswith(prefix)
    ]


def sent_copies(email):
    """What the sender sees in Sent: trashed messages aside."""
    return [m for m in control.messages(email, "SENT") if "TRASH" not in m.label_ids]


def sent_message(sequence, **fields) -> Message:
    """An outbound message recorded as sent (for the endpoint tests that need no Gmail)."""
    owner = sequence.owner
    prospect = ProspectFactory(organization=owner.organization)
    return Message.objects.create(
        organization=owner.organization,
        prospect=prospect,
        mailbox=sequence.sender_mailbox,
        sent_by=owner,
        direction=Message.Direction.OUTBOUND,
        status=fields.pop("status", Message.Status.SENT),
        from_address=owner.email,
        to_address=prospect.email,
        subject="A platform role",
        sent_at=fields.pop("sent_at", timezone.now() - timedelta(hours=1)),
        **fields,
    )


def pixel_path(message) -> str:
    return urlsplit(tracking.pixel_url(message.pk)).path


# Sending -------------------------------------------------------------------------------------


def test_the_prospect_gets_the_pixel_and_tracked_links_and_the_sender_a_clean_copy(
    sandbox, recruiter, rick_box
):
    control.create_account(CANDIDATE, "Casey Candidate")
    enrollment = enroll(tracked_sequence(recruiter, rick_box), recruiter, rick_box)

    assert run_due() == 1

    [received] = inbox(CANDIDATE)
    prospect_html = html_of(received)
    assert len(paths(prospect_html, "/t/o/")) == 1
    assert len(paths(prospect_html, "/t/c/")) == 1
    assert JOB.replace("&", "&amp;") not in prospect_html
    assert 'href="mailto:rick@acme.example"' in prospect_html  # only web links are wrapped

    [copy] = sent_copies(recruiter.email)
    sender_html = html_of(copy)
    assert "/t/o/" not in sender_html and "/t/c/" not in sender_html
    assert f'href="{JOB.replace("&", "&amp;")}"' in sender_html
    assert header_of(copy, "Message-ID") == header_of(received, "Message-ID")
    assert header_of(copy, "Date") == header_of(received, "Date")
    # The tracked copy went to the trash; the conversation's thread has the clean copy only.
    [trashed] = control.messages(recruiter.email, "TRASH")
    assert "/t/o/" in html_of(trashed)
    assert [
        m.gmail_id for m in control.thread(recruiter.email, copy.thread.gmail_id).messages.all()
    ] == [copy.gmail_id]
    message = Message.objects.get(enrollment=enrollment)
    assert (message.gmail_message_id, message.gmail_thread_id) == (
        copy.gmail_id,
        copy.thread.gmail_id,
    )
    enrollment.refresh_from_db()
    assert enrollment.thread_id == copy.thread.gmail_id
    insert = ApiCall.objects.get(endpoint="gmail.users.messages.insert")
    assert "internalDateSource=dateHeader" in insert.path


def test_a_follow_up_and_its_clean_copy_join_the_conversation(sandbox, recruiter, rick_box):
    control.create_account(CANDIDATE, "Casey Candidate")
    enrollment = enroll(tracked_sequence(recruiter, rick_box), recruiter, rick_box)
    run_due()
    run_due()

    copies = sent_copies(recruiter.email)
    assert len(copies) == 2
    assert len({m.thread_id for m in copies}) == 1
    assert all("/t/o/" not in html_of(m) for m in copies)
    received = inbox(CANDIDATE)
    assert len(received) == 2 and len({m.thread_id for m in received}) == 1
    assert all(len(paths(html_of(m), "/t/o/")) == 1 for m in received)
    assert set(enrollment.messages.values_list("gmail_thread_id", flat=True)) == {
        copies[0].thread.gmail_id
    }


def test_without_tracking_the_sent_copy_stays_as_gmail_made_it(sandbox, recruiter, rick_box):
    control.create_account(CANDIDATE, "Casey Candidate")
    enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    run_due()

    [copy] = control.messages(recruiter.email, "SENT")
    assert "TRASH" not in copy.label_ids
    assert "/t/" not in html_of(copy) and "/t/" not in html_of(inbox(CANDIDATE)[0])
    assert not ApiCall.objects.filter(
        endpoint__in=["gmail.users.messages.insert", "gmail.users.messages.trash"]
    ).exists()


def test_when_the_sent_copy_cannot_be_trashed_the_sender_still_sees_one_copy(
    sandbox, recruiter, rick_box
):
    control.create_account(CANDIDATE, "Casey Candidate")
    enrollment = enroll(tracked_sequence(recruiter, rick_box), recruiter, rick_box)
    control.fail_next("gmail.users.messages.trash", 1, status=500)

    run_due()

    [kept] = sent_copies(recruiter.email)
    message = Message.objects.get(enrollment=enrollment)
    assert message.status == "sent" and message.gmail_message_id == kept.gmail_id
    assert len(inbox(CANDIDATE)) == 1


def test_tracking_adds_no_query_to_a_send(sandbox, recruiter, rick_box):
    for name in ("warm", "plain", "tracked"):
        control.create_account(f"{name}@candidates.example", name)
    one = {"kinds": ("email",)}
    enroll(
        make_sequence(recruiter, rick_box, **one), recruiter, rick_box, "warm@candidates.example"
    )
    run_due()
    counts = {}
    for name, sequence in (
        ("plain", make_sequence(recruiter, rick_box, **one)),
        ("tracked", tracked_sequence(recruiter, rick_box, **one)),
    ):
        enroll(sequence, recruiter, rick_box, f"{name}@candidates.example")
        with CaptureQueriesContext(connection) as queries:
            assert run_due() == 1
        counts[name] = len(queries)
    assert counts["tracked"] == counts["plain"]


# The sender's own views ------------------------------------------------------------------------


def test_the_sender_viewing_their_own_message_is_not_an_open(sandbox, client, recruiter, rick_box):
    control.create_account(CANDIDATE, "Casey Candidate")
    enroll(tracked_sequence(recruiter, rick_box), recruiter, rick_box)
    run_due()
    later = timezone.now() + timedelta(minutes=5)

    # Gmail shows the sender their Sent copy, loading its images through its proxy: there is no
    # pixel in it to load.
    [copy] = sent_copies(recruiter.email)
    with time_machine.travel(later):
        for path in paths(html_of(copy), "/"):
            client.get(path, HTTP_USER_AGENT=GMAIL_PROXY)
    # Nor does the sender count when they fetch the prospect's pixel from our app's session.
    [pixel] = paths(html_of(inbox(CANDIDATE)[0]), "/t/o/")
    client.force_login(recruiter)
    with time_machine.travel(later):
        assert client.get(pixel, HTTP_USER_AGENT=CHROME).status_code == 200
    assert not TrackingEvent.objects.exists()

    # The prospect's own open does count.
    client.logout()
    with time_machine.travel(later):
        client.get(pixel, HTTP_USER_AGENT=GMAIL_PROXY)
    assert TrackingEvent.objects.get().automated is False


# The pixel -------------------------------------------------------------------------------------


def test_a_fetch_of_the_pixel_is_an_open(client, sequence):
    message = sent_message(sequence)

    response = client.get(pixel_path(message), HTTP_USER_AGENT=CHROME)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content == tracking.PIXEL
    assert "no-store" in response["Cache-Control"]
    event = TrackingEvent.objects.get()
    assert (event.message, event.kind, event.automated) == (message, "open", False)
    assert event.user_agent == CHROME
    assert not response.cookies


@pytest.mark.parametrize(
    ("user_agent", "automated"),
    [
        (GMAIL_PROXY, False),
        ("Mozilla/5.0", True),  # Apple Mail Privacy Protection's prefetch
        ("", True),
        ("python-requests/2.32", True),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", True),
    ],
)
def test_who_fetched_the_pixel_decides_whether_it_counts(client, sequence, user_agent, automated):
    message = sent_message(sequence)
    client.get(pixel_path(message), HTTP_USER_AGENT=user_agent)
    assert TrackingEvent.objects.get().automated is automated


def test_a_fetch_within_seconds_of_sending_is_flagged(client, sequence):
    just_sent = sent_message(sequence, sent_at=timezone.now() - timedelta(seconds=3))
    still_sending = sent_message(sequence, sent_at=None, status=Message.Status.SENDING)

    client.get(pixel_path(just_sent), HTTP_USER_AGENT=GMAIL_PROXY)
    client.get(pixel_path(still_sending), HTTP_USER_AGENT=CHROME)

    assert list(TrackingEvent.objects.values_list("automated", flat=True)) == [True, True]


def test_a_fetch_after_the_prospect_replied_is_flagged(client, sequence, recruiter):
    enrollment = EnrollmentFactory(
        sequence=sequence, replied_at=timezone.now() - timedelta(minutes=5)
    )
    message = sent_message(sequence, enrollment=enrollment)
    client.get(pixel_path(message), HTTP_USER_AGENT=GMAIL_PROXY)
    assert TrackingEvent.objects.get().automated is True


@pytest.mark.parametrize(
    "path",
    [
        "/t/o/not-a-token.gif",
        "/t/o/1:forged.gif",
        # A good signature for another purpose (an unsubscribe link) is no pixel.
        "/t/o/{unsubscribe}.gif",
        # The pixel of a message that is gone.
        "/t/o/{missing}.gif",
    ],
)
def test_a_bad_pixel_token_gets_the_same_pixel_and_records_nothing(client, sequence, path):
    message = sent_message(sequence)
    path = path.format(
        unsubscribe=signing.Signer(salt="sequences.unsubscribe").sign(str(message.pk)),
        missing=signing.Signer(salt=tracking.OPEN_SALT).sign(str(message.pk + 1000)),
    )
    good = client.get(pixel_path(message), HTTP_USER_AGENT=CHROME)
    TrackingEvent.objects.all().delete()

    response = client.get(path, HTTP_USER_AGENT=CHROME)

    assert response.status_code == 200
    assert response.content == good.content
    assert response["Cache-Control"] == good["Cache-Control"]
    assert not TrackingEvent.objects.exists()


def test_a_fetch_from_another_team_member_is_not_recorded_but_one_from_another_team_is(
    client, sequence, other_admin
):
    message = sent_message(sequence)
    teammate = UserFactory(organization=sequence.organization)
    client.force_login(teammate)
    client.get(pixel_path(message), HTTP_USER_AGENT=CHROME)
    assert not TrackingEvent.objects.exists()
    client.force_login(other_admin)
    client.get(pixel_path(message), HTTP_USER_AGENT=CHROME)
    assert TrackingEvent.objects.count() == 1


# Clicks ------------------------------------------------------------------------------------------


def click_path(message, url=JOB) -> str:
    return urlsplit(tracking.click_url(message.pk, url)).path


def test_a_tracked_link_goes_to_the_original_url_and_records_the_click(client, sequence):
    message = sent_message(sequence)

    response = client.get(click_path(message), HTTP_USER_AGENT=CHROME)

    assert response.status_code == 302
    assert response["Location"] == JOB
    assert response["Referrer-Policy"] == "no-referrer"
    event = TrackingEvent.objects.get()
    assert (event.kind, event.url, event.automated) == ("click", JOB, False)


def test_the_links_of_a_sent_email_lead_where_the_email_pointed(
    sandbox, client, recruiter, rick_box
):
    control.create_account(CANDIDATE, "Casey Candidate")
    enroll(tracked_sequence(recruiter, rick_box), recruiter, rick_box)
    run_due()
    [link] = paths(html_of(inbox(CANDIDATE)[0]), "/t/c/")

    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        response = client.get(link, HTTP_USER_AGENT=CHROME)

    assert response["Location"] == JOB
    assert TrackingEvent.objects.get(kind="click").automated is False


def test_the_click_redirect_refuses_urls_that_were_not_in_the_message(client, sequence):
    message = sent_message(sequence)
    good = click_path(message)
    token = good.removeprefix("/t/c/").removesuffix("/")
    value, _, signature = token.rpartition(":")
    forged_payload = signing.Signer(salt="elsewhere").sign_object(
        {"m": message.pk, "u": "https://evil.example/"}, compress=True
    )
    refused = [
        # Another URL, signed by someone without our key (or for another purpose).
        f"/t/c/{forged_payload}/",
        # The message's own signature on a payload naming another URL.
        f"/t/c/{forged_payload.rpartition(':')[0]}:{signature}/",
        # The real token, altered.
        f"/t/c/{value[:-2]}xx:{signature}/",
        "/t/c/https:%2F%2Fevil.example/",
    ]
    for path in refused:
        response = client.get(path, HTTP_USER_AGENT=CHROME)
        assert response.status_code == 404, path
        assert "evil.example" not in response.get("Location", "")
    # A query string cannot steer the redirect either.
    response = client.get(good + "?u=https://evil.example/&next=https://evil.example/")
    assert response["Location"] == JOB
    assert TrackingEvent.objects.count() == 1


def test_even_a_validly_signed_non_web_url_is_refused(client, sequence):
    message = sent_message(sequence)
    assert client.get(click_path(message, "javascript:alert(1)")).status_code == 404


def test_a_head_request_or_a_scanner_does_not_count_as_a_click(client, sequence):
    message = sent_message(sequence)
    assert client.head(click_path(message))["Location"] == JOB
    assert not TrackingEvent.objects.exists()
    just_sent = sent_message(sequence, sent_at=timezone.now() - timedelta(seconds=2))
    client.get(click_path(just_sent), HTTP_USER_AGENT=CHROME)
    assert TrackingEvent.objects.get().automated is True


# Instrumenting ------------------------------------------------------------------


def test_instrument_wraps_web_links_only_and_keeps_the_rest(sequence, settings):
    sequence.track_clicks, sequence.track_opens = True, False
    message = sent_message(sequence)
    body = (
        '<p><a href="https://a.example/x?y=1&amp;z=2" rel="noopener noreferrer">A</a> '
        '<a href="mailto:x@a.example">mail</a> '
        f'<a href="{settings.SITE_URL}/u/token/">unsubscribe</a></p>'
    )

    result = tracking.instrument(body, message, sequence)

    [tracked] = re.findall(r'href="(http://testserver/t/c/[^"]+)"', result)
    token = urlsplit(tracked.replace("&amp;", "&")).path.split("/")[3]
    assert tracking.destination(token) == (message.pk, "https://a.example/x?y=1&z=2")
    assert 'href="mailto:x@a.example"' in result
    assert f'href="{settings.SITE_URL}/u/token/"' in result
    assert "<img" not in result
    sequence.track_clicks = False
    assert tracking.instrument(body, message, sequence) == body
