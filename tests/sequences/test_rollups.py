"""The stats rollups: after a random mix of sends, replies, opens, bounces, unsubscribes and
deletions, the page's figures (read off the rollups) equal a recount from the raw rows, for
every grouping; the rebuild_stats command; a page whose queries do not grow with dirty days."""

import io
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from outreach.models import Role
from sequences import rollups, stats
from sequences.models import (
    Enrollment,
    Message,
    Prospect,
    Stage,
    StatsDirtyDay,
    StatsMonthRollup,
    StatsRollup,
    TrackingEvent,
    Visibility,
)
from tests.factories import (
    EnrollmentFactory,
    MailboxFactory,
    ProspectFactory,
    SequenceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
S = Enrollment.Status


def recount(org, start: date, end: date, group: str) -> dict[tuple, stats.Counts]:
    """The figures as sequences/stats.py defines them, counted in Python from every raw row."""
    sent = list(
        Message.objects.filter(
            organization=org, direction="outbound", status="sent", enrollment__isnull=False
        ).select_related("enrollment__sequence", "stage", "mailbox", "sent_by")
    )
    last = {}
    for m in sorted(sent, key=lambda m: (m.sent_at, m.pk)):
        last[m.enrollment_id] = m.pk
    inbound = defaultdict(set)
    for enrollment_id, kind in Message.objects.filter(
        organization=org, direction="inbound", enrollment__isnull=False
    ).values_list("enrollment_id", "inbound_kind"):
        inbound[enrollment_id].add(kind)
    events = defaultdict(set)
    for message_id, kind, automated in TrackingEvent.objects.filter(
        message__organization=org
    ).values_list("message_id", "kind", "automated"):
        events[message_id].add((kind, automated))
    figures: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for m in sent:
        sequence, e = m.enrollment.sequence, m.enrollment
        if sequence.kind != "sequence" or not start <= m.sent_at.date() <= end:
            continue
        labels = {
            "sequence": (sequence.name,),
            "stage": (
                sequence.name,
                f"Stage {m.stage.position + 1}" if m.stage else "Deleted stage",
            ),
            "sender": (m.mailbox.email,),
            "recruiter": ((m.sent_by.full_name, m.sent_by.email) if m.sent_by else ("Unknown", "")),
        }[group]
        f = figures[labels]
        kinds = {kind for kind, _ in events[m.pk]}
        human = {kind for kind, automated in events[m.pk] if not automated}
        f["sent"] += 1
        f["open_tracked"] += sequence.track_opens or "open" in kinds
        f["opened"] += "open" in human
        f["click_tracked"] += sequence.track_clicks or "click" in kinds
        f["clicked"] += "click" in human
        if last[e.pk] == m.pk:
            replied = e.status == S.REPLIED or "reply" in inbound[e.pk]
            f["replied"] += replied
            f["interested"] += replied and e.sentiment == "interested"
            f["bounced"] += e.status == S.BOUNCED or "bounce" in inbound[e.pk]
            f["unsubscribed"] += e.status == S.UNSUBSCRIBED
    return {labels: stats.Counts(**f) for labels, f in figures.items()}


def read(user, start: date, end: date, group: str) -> dict[tuple, stats.Counts]:
    report = stats.report(user, start=start, end=end, group=group)
    return {row.labels: row.counts for row in report.rows}


class Team:
    """A team's sequences, senders and prospects, and the random things that happen to them."""

    def __init__(self, org, admin, rng: random.Random):
        self.org, self.rng = org, rng
        users = [admin] + [
            UserFactory(organization=org, email=f"r{n}@{org.slug}.example", full_name=f"R {n}")
            for n in range(3)
        ]
        self.users = users
        self.mailboxes = [
            MailboxFactory(owner=u, email=f"box{n}@{org.slug}.example") for n, u in enumerate(users)
        ]
        self.sequences = [
            SequenceFactory(
                owner=users[n % len(users)],
                name=f"Sequence {n}",
                stages=3,
                track_opens=n % 2 == 0,
                track_clicks=n % 3 == 0,
                visibility=Visibility.SHARED,
            )
            for n in range(4)
        ]

    def day(self) -> datetime:
        return datetime(2026, 3, 1, tzinfo=UTC) + timedelta(
            days=self.rng.randrange(31), minutes=self.rng.randrange(24 * 60)
        )

    def enrollments(self):
        return list(Enrollment.objects.filter(organization=self.org).order_by("pk"))

    def sent(self):
        return list(
            Message.objects.filter(
                organization=self.org, direction="outbound", status="sent"
            ).order_by("pk")
        )

    def enroll(self) -> Enrollment:
        sequence = self.rng.choice(self.sequences)
        user = self.rng.choice(self.users)
        return EnrollmentFactory(
            sequence=sequence,
            prospect=ProspectFactory(organization=self.org),
            mailbox=self.rng.choice(self.mailboxes),
            enrolled_by=user,
        )

    def send(self, *, status: str = "sent") -> None:
        enrollments = [e for e in self.enrollments() if self.rng.random() < 0.3]
        enrollment = enrollments[0] if enrollments else self.enroll()
        used = set(
            Message.objects.filter(
                enrollment=enrollment, direction="outbound", status__in=["sending", "sent"]
            ).values_list("stage_id", flat=True)
        )
        free = [s for s in enrollment.sequence.stages.order_by("position") if s.pk not in used]
        if not free:
            enrollment = self.enroll()
            free = list(enrollment.sequence.stages.order_by("position"))
        # Now and then on behalf of a teammate, from another inbox.
        mailbox = self.rng.choice(self.mailboxes) if self.rng.random() < 0.2 else None
        Message.objects.create(
            organization=self.org,
            prospect=enrollment.prospect,
            enrollment=enrollment,
            stage=free[0],
            mailbox=mailbox or enrollment.mailbox,
            sent_by=self.rng.choice(self.users),
            direction="outbound",
            status=status,
            from_address=enrollment.mailbox.email,
            to_address=enrollment.prospect.email,
            sent_at=self.day(),
        )

    def resend(self) -> None:
        """A half-sent email goes out (or fails) later, on another day."""
        sending = Message.objects.filter(organization=self.org, status="sending").first()
        if sending is None:
            return self.send(status="sending")
        Message.objects.filter(pk=sending.pk).update(
            status=self.rng.choice(["sent", "sent", "failed"]), sent_at=self.day()
        )

    def inbound(self, kind: str, status: str) -> None:
        sent = self.sent()
        if not sent:
            return
        message = self.rng.choice(sent)
        if message.enrollment_id is None:
            return
        enrollment = message.enrollment
        Message.objects.create(
            organization=self.org,
            prospect=message.prospect,
            enrollment=enrollment,
            mailbox=message.mailbox,
            direction="inbound",
            inbound_kind=kind,
            from_address=message.to_address,
            to_address=message.from_address,
            sent_at=message.sent_at + timedelta(hours=1),
        )
        # Sometimes the enrollment had already finished and stays so.
        if self.rng.random() < 0.7:
            Enrollment.objects.filter(pk=enrollment.pk).update(status=status)

    def set_enrollment(self, **changes) -> None:
        enrollments = self.enrollments()
        if enrollments:
            enrollment = self.rng.choice(enrollments)
            for name, value in changes.items():
                setattr(enrollment, name, value)
            enrollment.save()

    def track(self, kind: str, automated: bool) -> None:
        sent = self.sent()
        if sent:
            TrackingEvent.objects.create(
                message=self.rng.choice(sent), kind=kind, automated=automated
            )

    def delete(self, model) -> None:
        rows = list(model.objects.filter(**{self.scope(model): self.org}).order_by("pk"))
        if rows:
            self.rng.choice(rows).delete()

    @staticmethod
    def scope(model) -> str:
        return {Stage: "sequence__organization", TrackingEvent: "message__organization"}.get(
            model, "organization"
        )

    def move_day(self) -> None:
        """A bulk update, as a data fix would do: emails of a day moved to another day."""
        sent = self.sent()
        if sent:
            day = self.rng.choice(sent).sent_at.date()
            Message.objects.filter(organization=self.org, sent_at__date=day).update(
                sent_at=self.day()
            )

    def toggle_tracking(self) -> None:
        sequence = self.rng.choice(self.sequences)
        sequence.track_opens = not sequence.track_opens
        sequence.save(update_fields=["track_opens"])

    def step(self) -> None:
        r = self.rng
        action = r.choices(
            [
                lambda: self.send(),
                self.resend,
                lambda: self.inbound("reply", S.REPLIED),
                lambda: self.set_enrollment(sentiment=r.choice(["interested", "not_interested"])),
                lambda: self.track("open", automated=False),
                lambda: self.track("open", automated=True),
                lambda: self.track("click", automated=r.random() < 0.3),
                lambda: self.inbound("bounce", S.BOUNCED),
                lambda: self.set_enrollment(status=S.UNSUBSCRIBED),
                lambda: self.set_enrollment(status=S.FINISHED),
                lambda: self.delete(Message),
                lambda: self.delete(Enrollment),
                lambda: self.delete(Prospect),
                lambda: self.delete(Stage),
                lambda: self.delete(TrackingEvent),
                self.move_day,
                self.toggle_tracking,
            ],
            weights=[30, 4, 8, 4, 8, 3, 4, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1],
        )[0]
        action()


@pytest.mark.parametrize("seed", [1, 2])
def test_rollups_equal_a_recount_after_random_changes(org, admin_user, seed):
    rng = random.Random(seed)
    team = Team(org, admin_user, rng)
    start, end = MARCH
    for n in range(300):
        team.step()
        if n % 37 == 0:
            # The page refreshes a part of the month, the beat task the rest, now and then.
            first = start + timedelta(days=rng.randrange(31))
            read(admin_user, first, min(first + timedelta(days=6), end), "sequence")
        if n % 91 == 0:
            rollups.refresh_dirty()
    assert StatsRollup.objects.filter(organization=org).exists()
    # A whole month (read off the month rollups), days (off the day rollups), and both.
    ranges = [MARCH, (date(2026, 3, 9), date(2026, 3, 15)), (date(2026, 2, 20), date(2026, 4, 2))]
    for group in stats.GROUPINGS:
        for first, last in ranges:
            assert read(admin_user, first, last, group) == recount(org, first, last, group)
    # Nothing was left dirty in the range it read; a rebuild finds the same.
    assert not StatsDirtyDay.objects.filter(organization=org, day__range=MARCH).exists()
    before = read(admin_user, start, end, "stage")
    call_command("rebuild_stats", stdout=io.StringIO())
    assert read(admin_user, start, end, "stage") == before


def test_rebuild_stats_restores_the_rollups_of_one_organization_or_all(org, admin_user, other_org):
    team = Team(org, admin_user, random.Random(3))
    for _ in range(40):
        team.send()
    other_admin = UserFactory(organization=other_org, role=Role.ADMIN, email="admin@globex.example")
    other = Team(other_org, other_admin, random.Random(4))
    for _ in range(10):
        other.send()
    expected = recount(org, *MARCH, "sender")
    assert read(admin_user, *MARCH, "sender") == expected
    read(other_admin, *MARCH, "sender")
    # Rollups lost (a restore without them) or wrong: the command recounts them.
    StatsRollup.objects.all().update(sent=0)
    StatsMonthRollup.objects.all().update(opened=7)
    StatsRollup.objects.filter(organization=other_org).delete()
    StatsMonthRollup.objects.filter(organization=other_org).delete()
    out = io.StringIO()
    call_command("rebuild_stats", organization=org.slug, stdout=out)
    assert f"{org.slug}: " in out.getvalue() and other_org.slug not in out.getvalue()
    assert read(admin_user, *MARCH, "sender") == expected
    assert not StatsRollup.objects.filter(organization=other_org).exists()
    call_command("rebuild_stats", organization=str(other_org.pk), stdout=io.StringIO())
    assert read(other_admin, *MARCH, "sender") == recount(other_org, *MARCH, "sender")
    StatsRollup.objects.all().delete()
    StatsMonthRollup.objects.all().delete()
    call_command("rebuild_stats", stdout=io.StringIO())
    assert read(admin_user, *MARCH, "sender") == expected
    with pytest.raises(CommandError):
        call_command("rebuild_stats", organization="nobody", stdout=io.StringIO())


def test_the_beat_task_leaves_nothing_dirty(org, admin_user):
    team = Team(org, admin_user, random.Random(5))
    for _ in range(40):
        team.send()
    dirty = StatsDirtyDay.objects.filter(organization=org).values("day").distinct().count()
    # More days than one transaction of the task takes.
    assert dirty > rollups.BEAT_DAYS
    assert rollups.refresh_dirty() == dirty
    assert not StatsDirtyDay.objects.exists()
    assert read(admin_user, *MARCH, "stage") == recount(org, *MARCH, "stage")


def test_page_queries_do_not_grow_with_dirty_days_or_rollups(
    org, admin_user, admin_client, django_assert_max_num_queries
):
    team = Team(org, admin_user, random.Random(6))
    counted = []
    for sends in (1, 60):
        for _ in range(sends):
            team.send()
        dirty = StatsDirtyDay.objects.filter(organization=org).values("day").distinct().count()
        assert dirty >= (1 if sends == 1 else 20)
        for group in stats.GROUPINGS:
            with django_assert_max_num_queries(9) as captured:
                response = admin_client.get(
                    "/stats/", {"start": "2026-03-01", "end": "2026-03-31", "group": group}
                )
            assert response.status_code == 200
            counted.append(len(captured))
    assert counted[:4] == counted[4:]
    assert response.context["report"].total.sent == 61
