"""Benchmark of the mailbox sync against the sandbox's Gmail (not part of CI).

    .venv/bin/python bench/replies.py --mailboxes 50 --threads 200 --replies 100

Builds, in a scratch database, `--mailboxes` connected mailboxes each with `--threads` active
enrollments whose first email is in Gmail, serves the sandbox from a separate process, then
prints JSON: Gmail API calls and wall time of one sync cycle over all mailboxes, first quiet,
then after `--replies` candidates answered.
"""

import argparse
import json
import random
import time
from datetime import timedelta

from common import connected_mailbox, scratch_with_sandbox


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mailboxes", type=int, default=50)
    parser.add_argument("--threads", type=int, default=200)
    parser.add_argument("--replies", type=int, default=100)
    args = parser.parse_args()
    with scratch_with_sandbox():
        print(json.dumps(run(args)))


def run(args) -> dict:
    from django.utils import timezone

    from sandbox import control
    from sandbox.models import ApiCall
    from sequences import replies
    from sequences.models import Enrollment, Message, Prospect
    from tests.factories import OrganizationFactory, SequenceFactory, UserFactory

    org = OrganizationFactory(seats=args.mailboxes + 5)
    total = args.mailboxes * args.threads
    answering = set(random.Random(7).sample(range(total), args.replies))
    mailboxes, first_emails = [], {}
    for n in range(args.mailboxes):
        user = UserFactory(organization=org, email=f"sender{n}@{org.slug}.example")
        mailbox = connected_mailbox(org, user)
        sequence = SequenceFactory(owner=user, stages=1)
        stage = sequence.stages.get()
        for i in range(args.threads):
            index = n * args.threads + i
            email = f"p{index}@candidates.example"
            if index in answering:
                control.create_account(email, f"P {index}")
            sent = control.send_as(user.email, to=[email], subject=f"Role {index}", body="Hi")
            prospect = Prospect.objects.create(organization=org, email=email, first_name="P")
            enrollment = Enrollment.objects.create(
                organization=org,
                sequence=sequence,
                prospect=prospect,
                mailbox=mailbox,
                enrolled_by=user,
                current_stage=stage,
                next_action_at=timezone.now() + timedelta(days=3),
                thread_id=sent.thread.gmail_id,
            )
            Message.objects.create(
                organization=org,
                prospect=prospect,
                enrollment=enrollment,
                stage=stage,
                mailbox=mailbox,
                direction="outbound",
                status="sent",
                gmail_message_id=sent.gmail_id,
                gmail_thread_id=sent.thread.gmail_id,
                from_address=user.email,
                to_address=email,
                subject=sent.subject,
                sent_at=timezone.now(),
            )
            if index in answering:
                first_emails[index] = email
        mailbox.history_id = str(control.account(user.email).history_id)
        mailbox.save()
        mailboxes.append(mailbox)

    def cycle() -> dict:
        calls = ApiCall.objects.count()
        started = time.perf_counter()
        for mailbox in mailboxes:
            replies.sync_mailbox(mailbox.pk)
        return {
            "gmail_calls": ApiCall.objects.count() - calls,
            "wall_seconds": round(time.perf_counter() - started, 2),
        }

    cycle()  # warm-up: each worker builds its Gmail clients (one token refresh per mailbox)
    quiet = cycle()
    for email in first_emails.values():
        received = control.messages(email, "INBOX").first()
        control.reply(email, received, "Yes, interested.")
    busy = cycle()
    return {
        "mailboxes": args.mailboxes,
        "active_threads_per_mailbox": args.threads,
        "quiet_cycle": quiet,
        "cycle_with_replies": {
            **busy,
            "replies": args.replies,
            "replied": Enrollment.objects.filter(status="replied").count(),
        },
    }


if __name__ == "__main__":
    main()
