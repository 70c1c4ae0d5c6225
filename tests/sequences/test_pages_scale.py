"""Pages that do not grow: the sequence list, a sequence page, the outbox, tasks, emails and
notifications run the same queries for 3 rows as for 60 (a page and more), show a page at a
time with Newer / Older links that keep the filters, and show counts the database keeps."""

import html
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from outreach.keyset import PAGE_SIZE
from outreach.models import Notification
from sequences.models import Enrollment, Prospect, Sequence, Task
from tests.factories import MailboxFactory, SequenceFactory, StageFactory

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, PAGE_SIZE + 10
_made = iter(range(10**6))


def enroll_many(sequence, mailbox, n: int, **fields) -> list[Enrollment]:
    """`n` enrollments of new prospects, the newest first a minute apart."""
    now = timezone.now()
    prospects = Prospect.objects.bulk_create(
        Prospect(organization=sequence.organization, email=f"p{next(_made)}@cands.example")
        for _ in range(n)
    )
    fields.setdefault("current_stage", sequence.stages.order_by("position").first())
    fields.setdefault("next_action_at", now + timedelta(hours=1))
    return Enrollment.objects.bulk_create(
        Enrollment(
            organization=sequence.organization,
            sequence=sequence,
            prospect=prospect,
            mailbox=mailbox,
            enrolled_by=sequence.owner,
            created_at=now - timedelta(minutes=next(_made)),
            **fields,
        )
        for prospect in prospects
    )


def link(page: str, rel: str) -> str:
    found = re.search(rf'href="([^"]+)" rel="{rel}"', page)
    return html.unescape(found.group(1)) if found else ""


def same_queries_at_both_sizes(client, url, grow, django_assert_max_num_queries) -> str:
    """The page's queries with SMALL rows, then with LARGE rows: the same. Its large page."""
    with django_assert_max_num_queries(60) as small:
        assert client.get(url).status_code == 200
    grow(LARGE - SMALL)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get(url)
    assert page.status_code == 200
    return page.content.decode()


def rows_in(page: str) -> int:
    return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0].count("<tr>")


def follow_both_ways(client, base: str, first: str, rows=rows_in) -> None:
    """A full first page, Older to the rest, Newer back to a full page."""
    assert rows(first) == PAGE_SIZE and not link(first, "prev")
    older = client.get(base + link(first, "next")).content.decode()
    assert rows(older) == LARGE - PAGE_SIZE and not link(older, "next")
    newer = client.get(base + link(older, "prev")).content.decode()
    assert rows(newer) == PAGE_SIZE


@pytest.fixture
def mailbox(recruiter):
    return MailboxFactory(owner=recruiter)


@pytest.fixture
def sequence(recruiter, mailbox):
    return SequenceFactory(owner=recruiter, name="Backend engineers", sender_mailbox=mailbox)


def test_a_sequence_page_costs_the_same_queries_for_60_enrollments_as_for_3_and_pages_them(
    recruiter_client, sequence, mailbox, django_assert_max_num_queries
):
    newest = enroll_many(sequence, mailbox, SMALL)
    url = f"/sequences/{sequence.pk}/"
    page = same_queries_at_both_sizes(
        recruiter_client,
        url,
        lambda n: enroll_many(sequence, mailbox, n),
        django_assert_max_num_queries,
    )
    assert f"{LARGE} enrolled" in page and f"{LARGE} active" in page
    assert newest[0].prospect.email in page  # newest first
    follow_both_ways(recruiter_client, url, page)


def test_a_sequence_page_filters_by_status_and_by_stage_and_its_pager_keeps_both(
    recruiter_client, sequence, mailbox
):
    first, second = sequence.stages.order_by("position")
    enroll_many(sequence, mailbox, 2, status="finished", current_stage=first)
    paused = enroll_many(sequence, mailbox, LARGE, status="paused", current_stage=second)
    active_second = enroll_many(sequence, mailbox, 1, current_stage=second)
    url = f"/sequences/{sequence.pk}/"

    page = recruiter_client.get(url + "?status=paused").content.decode()
    assert "Paused (60)" in page and "Finished (2)" in page and "Active (1)" in page
    assert f"{LARGE} matches" in page
    assert rows_in(page) == PAGE_SIZE and paused[0].prospect.email in page
    older = link(page, "next")
    assert "status=paused" in older
    rest = recruiter_client.get(url + older).content.decode()
    assert rows_in(rest) == LARGE - PAGE_SIZE
    assert active_second[0].prospect.email not in rest

    page = recruiter_client.get(url + f"?stage={second.pk}&status=active").content.decode()
    assert rows_in(page) == 1 and active_second[0].prospect.email in page
    assert f"Stage 2 ({LARGE + 1})" in page and "Stage 1 (2)" in page
    page = recruiter_client.get(url + f"?stage={first.pk}").content.decode()
    assert rows_in(page) == 2 and "2 matches" in page
    page = recruiter_client.get(url + "?status=bounced").content.decode()
    assert "Nobody matches this filter" in page


def test_a_stage_or_sequence_of_another_team_shows_nothing_of_it(
    recruiter_client, sequence, mailbox, other_admin
):
    theirs = SequenceFactory(owner=other_admin)
    enroll_many(theirs, MailboxFactory(owner=other_admin), 2)
    assert recruiter_client.get(f"/sequences/{theirs.pk}/").status_code == 404
    mine = enroll_many(sequence, mailbox, 1)
    # Their stage is no filter of mine: my page shows mine, unfiltered.
    page = recruiter_client.get(
        f"/sequences/{sequence.pk}/?stage={theirs.stages.first().pk}"
    ).content.decode()
    assert rows_in(page) == 1 and mine[0].prospect.email in page


def test_the_sequence_list_costs_the_same_queries_for_30_sequences_as_for_3_with_their_counts(
    recruiter_client, recruiter, mailbox, django_assert_max_num_queries
):
    def make(n: int) -> None:
        for _ in range(n):
            enroll_many(SequenceFactory(owner=recruiter), mailbox, 2)

    make(SMALL)
    with django_assert_max_num_queries(60) as small:
        recruiter_client.get("/sequences/")
    make(30 - SMALL)
    busy = SequenceFactory(owner=recruiter, name="AAA busy")
    enroll_many(busy, mailbox, 4)
    enroll_many(busy, mailbox, 3, status="replied")
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = recruiter_client.get("/sequences/").content.decode()
    row = page.split("AAA busy", 1)[1].split("</tr>", 1)[0]
    # Stages, active, replied, finished.
    assert re.findall(r"<td>(\d+)</td>", row) == ["2", "4", "3", "0"]


def test_the_outbox_costs_the_same_queries_for_60_due_as_for_3_and_pages_them_soonest_first(
    recruiter_client, sequence, mailbox, recruiter, django_assert_max_num_queries
):
    soonest = enroll_many(sequence, mailbox, 1, next_action_at=timezone.now())
    enroll_many(sequence, mailbox, SMALL - 1)
    page = same_queries_at_both_sizes(
        recruiter_client,
        "/outbox/",
        lambda n: enroll_many(sequence, mailbox, n),
        django_assert_max_num_queries,
    )
    assert page.index(soonest[0].prospect.email) < page.index("</tbody>")
    assert rows_in(page.split("Scheduled", 1)[1]) == PAGE_SIZE
    older = recruiter_client.get("/outbox/" + link(page, "next")).content.decode()
    assert "Sooner" in older and rows_in(older) == LARGE - PAGE_SIZE
    # One inbox chosen: its own.
    other = MailboxFactory(owner=recruiter, email="rick.second@acme.example")
    [theirs] = enroll_many(sequence, other, 1)
    page = recruiter_client.get(f"/outbox/?inbox={other.pk}").content.decode()
    assert rows_in(page) == 1 and theirs.prospect.email in page


def test_the_outbox_of_another_teams_inbox_shows_none_of_it(
    recruiter_client, sequence, mailbox, other_admin
):
    theirs = MailboxFactory(owner=other_admin)
    [their_email] = enroll_many(SequenceFactory(owner=other_admin), theirs, 1)
    [mine] = enroll_many(sequence, mailbox, 1)
    page = recruiter_client.get(f"/outbox/?inbox={theirs.pk}").content.decode()
    assert mine.prospect.email in page and their_email.prospect.email not in page
    assert theirs.email not in page


def test_tasks_cost_the_same_queries_for_60_as_for_3_and_are_paged_soonest_due_first(
    recruiter_client, recruiter, sequence, mailbox, django_assert_max_num_queries
):
    call = StageFactory(
        sequence=sequence, position=2, kind="manual", manual_kind="call", instructions="Call"
    )

    def tasks(n: int) -> None:
        Task.objects.bulk_create(
            Task(
                organization=recruiter.organization,
                enrollment=e,
                stage=call,
                assignee=recruiter,
                due_at=timezone.now() + timedelta(minutes=next(_made)),
            )
            for e in enroll_many(sequence, mailbox, n, current_stage=call)
        )

    tasks(SMALL)
    page = same_queries_at_both_sizes(
        recruiter_client, "/tasks/", tasks, django_assert_max_num_queries
    )
    follow_both_ways(recruiter_client, "/tasks/", page)


def test_emails_cost_the_same_queries_for_60_as_for_3_and_are_paged_newest_first(
    recruiter_client, recruiter, mailbox, django_assert_max_num_queries
):
    def emails(n: int) -> None:
        for _ in range(n):
            email = Sequence.objects.create(
                organization=recruiter.organization,
                owner=recruiter,
                kind="one_off",
                name=f"A role {next(_made)}",
                sender_mailbox=mailbox,
            )
            StageFactory(sequence=email)
            enroll_many(email, mailbox, 1)

    emails(SMALL)
    page = same_queries_at_both_sizes(
        recruiter_client, "/emails/", emails, django_assert_max_num_queries
    )
    follow_both_ways(recruiter_client, "/emails/", page)


def test_notifications_cost_the_same_queries_for_60_as_for_3_and_are_paged_newest_first(
    client, recruiter, django_assert_max_num_queries
):
    client.force_login(recruiter)

    def notify(n: int) -> None:
        Notification.objects.bulk_create(
            Notification(
                organization_id=recruiter.team_id,
                user=recruiter,
                message=f"Alert {next(_made)}",
                created_at=timezone.now() - timedelta(minutes=next(_made)),
            )
            for _ in range(n)
        )

    notify(SMALL)
    page = same_queries_at_both_sizes(
        client, "/notifications/", notify, django_assert_max_num_queries
    )

    def items(page: str) -> int:
        return page.count("<li class=")

    follow_both_ways(client, "/notifications/", page, rows=items)
