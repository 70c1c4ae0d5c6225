"""The Outreach stats page: every figure on a dataset built by hand, the date range, the hiding of
confidential sequences, the CSV, and a number of queries that does not grow with the data."""

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import Client

from outreach.models import Role
from sequences import stats, unsubscribe
from sequences.models import Enrollment, Message, SequenceShare, TrackingEvent, Visibility
from tests.factories import (
    EnrollmentFactory,
    MailboxFactory,
    ProspectFactory,
    SequenceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 31)}
MARCH_PARAMS = {"start": "2026-03-01", "end": "2026-03-31"}


def at(day: int, hour: int = 10, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def email(enrollment, position, sent_at, *, mailbox=None, sent_by=None, status="sent"):
    return Message.objects.create(
        organization=enrollment.organization,
        prospect=enrollment.prospect,
        enrollment=enrollment,
        stage=enrollment.sequence.stages.get(position=position),
        mailbox=mailbox or enrollment.mailbox,
        sent_by=sent_by or enrollment.enrolled_by,
        direction=Message.Direction.OUTBOUND,
        status=status,
        from_address=(mailbox or enrollment.mailbox).email,
        to_address=enrollment.prospect.email,
        sent_at=sent_at,
    )


def inbound(enrollment, kind, sent_at):
    return Message.objects.create(
        organization=enrollment.organization,
        prospect=enrollment.prospect,
        enrollment=enrollment,
        mailbox=enrollment.mailbox,
        direction=Message.Direction.INBOUND,
        inbound_kind=kind,
        from_address=enrollment.prospect.email,
        to_address=enrollment.mailbox.email,
        sent_at=sent_at,
    )


def event(message, kind, *, automated=False):
    TrackingEvent.objects.create(message=message, kind=kind, automated=automated)


def enroll(sequence, *, status="active", sentiment="", mailbox=None):
    return EnrollmentFactory(
        sequence=sequence,
        prospect=ProspectFactory(organization=sequence.organization),
        mailbox=mailbox or sequence.sender_mailbox,
        enrolled_by=sequence.owner,
        status=status,
        sentiment=sentiment,
    )


@pytest.fixture
def tess(org):
    return UserFactory(
        organization=org, role=Role.RECRUITER, email="tess@acme.example", full_name="Tess Teammate"
    )


@pytest.fixture
def data(org, recruiter, tess, admin_user, other_admin):
    """Two senders (Rick's and Tess's inboxes), three sequences: Backend (Rick's, tracked),
    Frontend (Tess's, not tracked), Exec search (Tess's, confidential)."""
    rick_box, tess_box = MailboxFactory(owner=recruiter), MailboxFactory(owner=tess)
    backend = SequenceFactory(
        owner=recruiter,
        name="Backend",
        visibility=Visibility.SHARED,
        sender_mailbox=rick_box,
        track_opens=True,
        track_clicks=True,
    )
    frontend = SequenceFactory(
        owner=tess, name="Frontend", visibility=Visibility.SHARED, sender_mailbox=tess_box, stages=1
    )
    secret = SequenceFactory(
        owner=tess,
        name="Exec search",
        visibility=Visibility.CONFIDENTIAL,
        sender_mailbox=tess_box,
        stages=1,
    )
    S = Enrollment.Status

    # Backend. a1: replied after stage 2, interested; stage 1 opened twice by a person, stage 2
    # only by a machine.
    a1 = enroll(backend, status=S.REPLIED, sentiment="interested")
    a1s0, a1s1 = email(a1, 0, at(2)), email(a1, 1, at(5))
    event(a1s0, "open")
    event(a1s0, "open")
    event(a1s1, "open", automated=True)
    inbound(a1, "reply", at(6))
    # a2: bounced; sent by Rick from Tess's inbox (on her behalf); clicked by a person.
    a2 = enroll(backend, status=S.BOUNCED)
    a2s0 = email(a2, 0, at(3), mailbox=tess_box, sent_by=recruiter)
    event(a2s0, "click")
    # a3: finished, then a reply came (the enrollment stays finished); a scanner clicked.
    a3 = enroll(backend, status=S.FINISHED)
    email(a3, 0, at(3))
    a3s1 = email(a3, 1, at(8))
    event(a3s1, "click", automated=True)
    inbound(a3, "reply", at(9))
    # a4: unsubscribed.
    email(enroll(backend, status=S.UNSUBSCRIBED), 0, at(4))
    # a5: still going; opened and clicked by a person; a failed and a half-sent email don't count.
    a5 = enroll(backend)
    a5s0 = email(a5, 0, at(4))
    event(a5s0, "open")
    event(a5s0, "click")
    email(a5, 1, at(7), status="failed")
    email(a5, 1, at(7, hour=11), status="sending")
    # a6: finished, then a bounce came back.
    a6 = enroll(backend, status=S.FINISHED)
    email(a6, 0, at(1, hour=0))
    inbound(a6, "bounce", at(1, hour=1))
    # a7: stage 1 in February (out of range), stage 2 in range, then an interested reply.
    a7 = enroll(backend, status=S.REPLIED, sentiment="interested")
    email(a7, 0, at(27, month=2))
    email(a7, 1, at(31, hour=23))
    # a8: stage 1 in range, stage 2 on April 1st (out of range), then a reply: it goes with stage 2.
    a8 = enroll(backend, status=S.REPLIED)
    email(a8, 0, at(20))
    email(a8, 1, at(1, month=4))
    # A one-off email, outside any sequence.
    Message.objects.create(
        organization=org,
        prospect=a8.prospect,
        mailbox=rick_box,
        sent_by=recruiter,
        direction="outbound",
        status="sent",
        from_address=rick_box.email,
        to_address=a8.prospect.email,
        sent_at=at(10),
    )

    # Frontend (no tracking). b1: replied, not interested. b2: an open recorded while tracking
    # was on, since switched off: that email counts as tracked.
    email(enroll(frontend, status=S.REPLIED, sentiment="not_interested"), 0, at(10))
    event(email(enroll(frontend), 0, at(11)), "open")

    # Exec search (confidential): one email, replied.
    email(enroll(secret, status=S.REPLIED), 0, at(12))

    # Another team's email in the same days counts nowhere here.
    theirs = SequenceFactory(owner=other_admin, visibility=Visibility.SHARED)
    email(enroll(theirs, status=S.REPLIED, mailbox=MailboxFactory(owner=other_admin)), 0, at(5))
    return {"backend": backend, "frontend": frontend, "secret": secret}


def by_label(report):
    return {row.label: row.counts for row in report.rows}


def test_every_metric_by_sequence(data, admin_user):
    rows = by_label(stats.report(admin_user, **MARCH, group="sequence"))

    assert rows == {
        "Backend": stats.Counts(
            sent=10,
            bounced=2,
            open_tracked=10,
            opened=2,
            click_tracked=10,
            clicked=2,
            replied=3,
            interested=2,
            unsubscribed=1,
        ),
        "Frontend": stats.Counts(sent=2, open_tracked=1, opened=1, replied=1),
        "Exec search": stats.Counts(sent=1, replied=1),
    }


def test_rates(data, admin_user):
    report = stats.report(admin_user, **MARCH, group="sequence")
    rates = {row.label: [cell.rate_text for cell in row.counts.cells] for row in report.rows}

    # Bounced, opened, clicked, replied, interested, unsubscribed.
    assert rates["Backend"] == ["20.0%", "20.0%", "20.0%", "30.0%", "20.0%", "10.0%"]
    # Opens: 1 of the 1 email that carried tracking; clicks: none tracked.
    assert rates["Frontend"] == ["0.0%", "100.0%", "—", "50.0%", "0.0%", "0.0%"]
    assert rates["Exec search"][1:3] == ["—", "—"]
    total = report.total
    assert (total.sent, total.replied, total.open_tracked, total.opened) == (13, 5, 11, 3)
    assert [cell.rate_text for cell in total.cells][1] == "27.3%"


def test_by_stage(data, admin_user):
    rows = by_label(stats.report(admin_user, **MARCH, group="stage"))

    assert {label: (c.sent, c.replied, c.bounced) for label, c in rows.items()} == {
        "Backend · Stage 1": (7, 0, 2),
        "Backend · Stage 2": (3, 3, 0),
        "Exec search · Stage 1": (1, 1, 0),
        "Frontend · Stage 1": (2, 1, 0),
    }
    # In each sequence's order, as a funnel reads.
    assert list(rows) == sorted(rows)


def test_a_deleted_stage_keeps_its_emails_under_their_sequence(data, admin_user):
    data["frontend"].stages.get().delete()

    rows = by_label(stats.report(admin_user, **MARCH, group="stage"))

    assert rows["Frontend · Deleted stage"].sent == 2


def test_by_sender_and_by_recruiter(data, admin_user, recruiter, tess):
    senders = by_label(stats.report(admin_user, **MARCH, group="sender"))
    recruiters = by_label(stats.report(admin_user, **MARCH, group="recruiter"))

    # Rick's email from Tess's inbox (a2) counts for her inbox and for him.
    assert {label: (c.sent, c.bounced) for label, c in senders.items()} == {
        "rick@acme.example": (9, 1),
        "tess@acme.example": (4, 1),
    }
    assert {label: (c.sent, c.replied, c.bounced) for label, c in recruiters.items()} == {
        "Rick Recruiter · rick@acme.example": (10, 3, 2),
        "Tess Teammate · tess@acme.example": (3, 2, 0),
    }


def test_date_range_includes_both_days_and_moves_attributions(data, admin_user):
    # March 1st only: a6's email at midnight and its bounce.
    first = by_label(
        stats.report(admin_user, start=date(2026, 3, 1), end=date(2026, 3, 1), group="sequence")
    )
    assert first == {"Backend": stats.Counts(sent=1, bounced=1, open_tracked=1, click_tracked=1)}

    # Into April: a8's reply comes with its stage 2 email, sent on April 1st.
    april = stats.report(
        admin_user, start=date(2026, 3, 31), end=date(2026, 4, 1), group="sequence"
    )
    assert by_label(april)["Backend"].sent == 2
    assert by_label(april)["Backend"].replied == 2  # a7 (March 31st, 23:00) and a8

    assert (
        stats.report(
            admin_user, start=date(2026, 5, 1), end=date(2026, 5, 31), group="sequence"
        ).rows
        == []
    )


def test_confidential_sequences_count_only_for_those_who_may_see_them(
    data, admin_user, recruiter, tess
):
    for viewer, sees in ((admin_user, True), (tess, True), (recruiter, False)):
        report = stats.report(viewer, **MARCH, group="sequence")
        assert ("Exec search" in by_label(report)) is sees
        assert report.total.sent == (13 if sees else 12)
        # Nor through another grouping: Tess's inbox sent it.
        senders = by_label(stats.report(viewer, **MARCH, group="sender"))
        assert senders["tess@acme.example"].sent == (4 if sees else 3)

    SequenceShare.objects.create(sequence=data["secret"], user=recruiter)
    assert "Exec search" in by_label(stats.report(recruiter, **MARCH, group="sequence"))


def test_page(data, recruiter_client):
    response = recruiter_client.get("/stats/", {**MARCH_PARAMS, "group": "stage"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Backend" in html and "Exec search" not in html
    assert "<svg" in html and 'class="chart-bar"' in html
    # A rate with no tracked email.
    assert "—" in html
    assert 'href="/stats/export.csv?start=2026-03-01&amp;end=2026-03-31&amp;group=stage"' in html


def test_page_escapes_names_in_the_table_and_the_charts(data, admin_client):
    data["backend"].name = '<script>alert("x")</script>'
    data["backend"].save()

    html = admin_client.get("/stats/", MARCH_PARAMS).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html


def test_default_range_is_the_last_30_days(data, admin_client):
    with time_machine.travel(datetime(2026, 3, 31, 12, tzinfo=UTC), tick=False):
        response = admin_client.get("/stats/")

    report = response.context["report"]
    assert (report.start, report.end, report.grouping.name) == (
        date(2026, 3, 2),
        date(2026, 3, 31),
        "sequence",
    )
    # a6 (March 1st) is out; everything else in March is in.
    assert report.total.sent == 12


def test_invalid_parameters_fall_back_to_the_defaults(data, admin_client):
    with time_machine.travel(datetime(2026, 3, 31, 12, tzinfo=UTC), tick=False):
        response = admin_client.get(
            "/stats/", {"start": "2026-03-20", "end": "2026-03-01", "group": "nonsense"}
        )

    assert response.status_code == 200
    report = response.context["report"]
    assert (report.start, report.grouping.name) == (date(2026, 3, 2), "sequence")
    assert "The start date must not be after the end date." in response.content.decode()


def test_csv_export(data, recruiter_client):
    data["frontend"].name = '=HYPERLINK("http://evil.example")'
    data["frontend"].save()

    response = recruiter_client.get("/stats/export.csv", {**MARCH_PARAMS, "group": "sequence"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="outreach-stats-by-sequence-2026-03-01-to-2026-03-31.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "Sequence",
        "Sent",
        "Bounced",
        "Bounced rate",
        "Opened",
        "Opened rate",
        "Clicked",
        "Clicked rate",
        "Replied",
        "Replied rate",
        "Interested",
        "Interested rate",
        "Unsubscribed",
        "Unsubscribed rate",
    ]
    assert rows[1] == [
        "Backend", "10", "2", "0.2000", "2", "0.2000", "2", "0.2000", "3", "0.3000", "2", "0.2000",
        "1", "0.1000",
    ]  # fmt: skip
    # Not a formula in a spreadsheet; no rate where nothing was tracked.
    assert rows[2][:8] == [
        '\'=HYPERLINK("http://evil.example")',
        "2",
        "0",
        "0.0000",
        "1",
        "1.0000",
        "0",
        "",
    ]
    # The confidential sequence is not in the recruiter's export.
    assert rows[3][:3] == ["Total", "12", "2"]
    assert len(rows) == 4


def test_csv_has_the_grouping_columns(data, admin_client):
    response = admin_client.get("/stats/export.csv", {**MARCH_PARAMS, "group": "recruiter"})

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Recruiter", "Email", "Sent"]
    assert rows[1][:3] == ["Rick Recruiter", "rick@acme.example", "10"]
    assert rows[-1][:3] == ["Total", "", "13"]


def test_needs_login(client):
    assert client.get("/stats/").status_code == 302
    assert client.get("/stats/export.csv").status_code == 302


def test_queries_do_not_grow_with_the_data(
    org, recruiter, admin_user, admin_client, django_assert_max_num_queries
):
    mailbox = MailboxFactory(owner=recruiter)
    counted = []

    def add_enrollments(n):
        for _ in range(n):
            sequence = SequenceFactory(owner=recruiter, sender_mailbox=mailbox, track_opens=True)
            enrollment = enroll(sequence, status=Enrollment.Status.REPLIED)
            message = email(enrollment, 0, at(2))
            event(message, "open")
            email(enrollment, 1, at(3))

    for n in (1, 20):
        add_enrollments(n)
        for group in stats.GROUPINGS:
            # The page layout (3), the session and user (2), and the report (3 or 4: the
            # organization's lock, its dirty days, their recompute if any, the read).
            with django_assert_max_num_queries(9) as captured:
                response = admin_client.get("/stats/", {**MARCH_PARAMS, "group": group})
            assert response.status_code == 200
            counted.append(len(captured))
        with django_assert_max_num_queries(6) as captured:
            admin_client.get("/stats/export.csv", MARCH_PARAMS)
        counted.append(len(captured))
    assert counted[:5] == counted[5:]
    assert response.context["report"].total.sent == 42


@pytest.mark.parametrize(
    "params",
    [
        # Python's last day: the day after it, where the range ends, does not exist.
        {"end": "9999-12-31"},
        # The default range before it would start before Python's first day.
        {"end": "0001-01-05"},
        {"start": "0001-01-01", "end": "9999-12-31"},
    ],
)
@pytest.mark.parametrize("path", ["/stats/", "/stats/export.csv"])
def test_a_day_out_of_range_gives_the_default_range_and_says_why(admin_client, path, params):
    with time_machine.travel(datetime(2026, 3, 31, 12, tzinfo=UTC), tick=False):
        response = admin_client.get(path, params)

    assert response.status_code == 200
    if path == "/stats/":
        report = response.context["report"]
        assert (report.start, report.end) == (date(2026, 3, 2), date(2026, 3, 31))
        assert "Choose a day from 1 January 2000 to 31 December 2099." in response.text
    else:
        assert "2026-03-02-to-2026-03-31.csv" in response["Content-Disposition"]


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-02-30"},
        {"start": "99999-01-01"},
        {"end": "\x00"},
        {"start": "2026-03-01T00:00", "end": "x" * 10_000},
        {"group": "<script>"},
    ],
)
def test_malformed_parameters_give_the_default_range(admin_client, params):
    with time_machine.travel(datetime(2026, 3, 31, 12, tzinfo=UTC), tick=False):
        page = admin_client.get("/stats/", params)
        export = admin_client.get("/stats/export.csv", params)

    assert (page.status_code, export.status_code) == (200, 200)
    report = page.context["report"]
    assert (report.start, report.end, report.grouping.name) == (
        date(2026, 3, 2),
        date(2026, 3, 31),
        "sequence",
    )
    assert "<script>" not in page.text


def test_an_unsubscribe_after_the_sequence_finished_still_counts(recruiter, recruiter_client):
    rick_box = MailboxFactory(owner=recruiter)
    backend = SequenceFactory(
        owner=recruiter, name="Backend", visibility=Visibility.SHARED, sender_mailbox=rick_box
    )
    finished = enroll(backend, status=Enrollment.Status.FINISHED)
    email(finished, 0, at(2))
    last = email(finished, 1, at(5))
    other = enroll(backend, status=Enrollment.Status.FINISHED)
    email(other, 0, at(3))
    path = unsubscribe.url_for(last.pk).removeprefix("http://testserver")

    # Weeks after the last stage, the prospect uses the link in that email.
    assert Client().post(path).status_code == 200

    finished.refresh_from_db()
    assert finished.status == Enrollment.Status.UNSUBSCRIBED
    assert "unsubscribed after the sequence finished" in finished.last_event
    [row] = stats.report(recruiter, **MARCH, group="sequence").rows
    assert row.counts.unsubscribed == 1 and row.counts.sent == 3
    page = recruiter_client.get("/stats/", MARCH_PARAMS).content.decode()
    [cells] = re.findall(r"<td>Backend</td>(.*?)</tr>", page, re.S)
    assert re.findall(r'<td class="num">(\d+)', cells) == ["3", "0", "0", "0", "0", "0", "1"]
    # The other prospect's finished enrollment is left as it was; a second POST changes nothing.
    other.refresh_from_db()
    assert other.status == Enrollment.Status.FINISHED
    assert Client().post(path).status_code == 200
    [row] = stats.report(recruiter, **MARCH, group="sequence").rows
    assert row.counts.unsubscribed == 1
