"""Profile of sending in this process (eager tasks), for finding where our CPU per email goes
(not part of CI).

    .venv/bin/python bench/profile_send.py --messages 300 [--top 40] [--dump send.prof]

Builds the throughput bench's team in a scratch database, serves its Gmail stand-in with no
latency, and runs beat's dispatch with tasks run eagerly under cProfile (of CPU time, which
the profiler itself about triples). Prints JSON: CPU ms per email in all and inside the Gmail
calls, SQL queries per email, then the profile's top functions by cumulative and by own time
(to stderr).
"""

import argparse
import cProfile
import io
import json
import pstats
import sys
import time

from common import (
    Meter,
    enroll_one_each,
    gmail_standin,
    scratch_database,
    seed_team,
    standin_environment,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--dump", help="also write the profile there (for pstats)")
    args = parser.parse_args()
    with gmail_standin(0) as url:
        environment = {
            **standin_environment(url),
            "SEND_JITTER_SECONDS": "0",
            "CLAIM_LEASE_SECONDS": "3600",
        }
        with scratch_database(**environment):
            print(json.dumps(run(args)))


def run(args) -> dict:
    from django.utils import timezone

    from sequences import tasks
    from sequences.models import Message

    *sequence, inboxes = seed_team(args.messages + 10)
    # A first email sent outside the profile: imports and first-use caches are not per email.
    enroll_one_each(*sequence, inboxes[-10:], tag="warm", due=timezone.now())
    while tasks.dispatch_due():
        pass
    ids = enroll_one_each(*sequence, inboxes[: args.messages], tag="run", due=timezone.now())
    meter = Meter()
    meter.install()
    profile = cProfile.Profile(time.process_time)
    cpu = time.process_time()
    profile.enable()
    while tasks.dispatch_due():
        pass
    profile.disable()
    cpu = time.process_time() - cpu
    n = Message.objects.filter(enrollment_id__in=ids, status="sent").count()
    assert n == args.messages, n
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(order).print_stats(args.top)
        print(out.getvalue(), file=sys.stderr)
    if args.dump:
        profile.dump_stats(args.dump)
    return {
        "messages": n,
        "cpu_ms_per_message": round(cpu * 1000 / n, 2),
        "gmail_cpu_ms_per_message": round(meter.gmail_cpu * 1000 / n, 2),
        "cpu_ms_per_message_outside_gmail": round((cpu - meter.gmail_cpu) * 1000 / n, 2),
        "sql_queries_per_message": round(meter.queries / n, 2),
        "gmail_calls_per_message": round(meter.gmail_calls / n, 2),
    }


if __name__ == "__main__":
    main()
