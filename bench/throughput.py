"""Benchmark of sending with real workers that scale out (not part of CI).

    .venv/bin/python bench/throughput.py --mailboxes 1000 --messages 200 --latency-ms 100

Builds, in a scratch database, a team with `--mailboxes` connected inboxes, serves a Gmail
stand-in (bench/gmail_standin.py, its own process) answering every call after `--latency-ms`,
then for N = 1, 2, 4 real `celery worker` processes on the sends queue (each --pool=solo: one
process sending one email at a time, as --concurrency=1 of the prefork pool but without its
parent process), enrolls `--messages` prospects due now (one per inbox, inboxes not used by an
earlier N), dispatches them as beat does, and waits until all are sent. Prints JSON per N:
sends per second; our CPU ms per message (the worker processes' CPU, read from /proc, less the
CPU spent inside the Gmail calls, measured in the workers); SQL queries per message (counted
in the workers and in the dispatcher); Gmail calls per message as the stand-in counted them;
and the ratio of throughput at 4 workers to 1. Each N starts fresh workers, so each inbox's
first send in a worker also fetches an access token.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

from common import (
    Meter,
    Workers,
    enroll_one_each,
    gmail_standin,
    scratch_database,
    seed_team,
    standin_calls,
    standin_environment,
)

WORKER_COUNTS = (1, 2, 4)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mailboxes", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=200, help="sent at each N")
    parser.add_argument("--latency-ms", type=float, default=100)
    args = parser.parse_args()
    assert args.messages * len(WORKER_COUNTS) <= args.mailboxes, "one email per inbox"
    with gmail_standin(args.latency_ms) as url:
        environment = {
            **standin_environment(url),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "SEND_JITTER_SECONDS": "0",
            # All are claimed at once; the last waits its turn far longer than a send takes.
            "CLAIM_LEASE_SECONDS": "3600",
        }
        with scratch_database(**environment) as db_url:
            print(json.dumps(run(args, url, db_url)))


def run(args, url: str, db_url: str) -> dict:
    from django.utils import timezone

    from outreach.celery import app
    from sequences import tasks
    from sequences.models import Message

    team = seed_team(args.mailboxes)
    *sequence, inboxes = team
    dispatcher = Meter()
    dispatcher.install()
    app.control.purge()
    results = {}
    for round_, workers_count in enumerate(WORKER_COUNTS):
        used = inboxes[round_ * args.messages : (round_ + 1) * args.messages]
        ids = enroll_one_each(*sequence, used, tag=f"n{workers_count}", due=timezone.now())
        with tempfile.TemporaryDirectory() as tmp:
            workers = Workers(workers_count, "sends", db_url, Path(tmp))
            calls, cpu = standin_calls(url), workers.cpu_seconds()
            dispatched_queries = dispatcher.queries
            started = time.perf_counter()
            while tasks.dispatch_due():  # as beat's ticks, back to back
                pass
            dispatch_queries = dispatcher.queries - dispatched_queries
            sent = Message.objects.filter(enrollment_id__in=ids, status="sent")
            while (done := sent.count()) < len(ids):
                if time.perf_counter() - started > 60 + len(ids) * 2:
                    workers.stop()
                    raise RuntimeError(f"only {done} of {len(ids)} sent")
                time.sleep(0.1)
            wall = time.perf_counter() - started
            worker_cpu = workers.cpu_seconds() - cpu
            calls = {k: v - calls.get(k, 0) for k, v in standin_calls(url).items()}
            counted = workers.stop()
        n = len(ids)
        results[workers_count] = {
            "workers": workers_count,
            "messages": n,
            "wall_seconds": round(wall, 2),
            "sends_per_second": round(n / wall, 2),
            "cpu_ms_per_message_outside_gmail": round(
                (worker_cpu - counted["gmail_cpu"]) * 1000 / n, 2
            ),
            "worker_cpu_ms_per_message_total": round(worker_cpu * 1000 / n, 2),
            "sql_queries_per_message": round((counted["queries"] + dispatch_queries) / n, 2),
            "sql_queries_per_message_in_workers": round(counted["queries"] / n, 2),
            "gmail_calls_per_message": {k: round(v / n, 2) for k, v in sorted(calls.items())},
        }
    return {
        "mailboxes": args.mailboxes,
        "latency_ms": args.latency_ms,
        "runs": list(results.values()),
        "throughput_ratio_4_to_1": round(
            results[4]["sends_per_second"] / results[1]["sends_per_second"], 2
        ),
    }


if __name__ == "__main__":
    main()
