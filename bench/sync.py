"""Benchmark of one mailbox-sync cycle over quiet inboxes (not part of CI).

    .venv/bin/python bench/sync.py --sizes 1000 5000 --latency-ms 10

Builds, in a scratch database, a team whose inboxes each watch one open enrollment and have had
nothing new since their last sync; serves the Gmail stand-in (bench/gmail_standin.py, its own
process) answering after `--latency-ms`; starts one real `celery worker` on the sync queue
(--pool=solo: one process, so each inbox's access token, once fetched, is the one a later cycle
uses), and at each size runs beat's tick (`sync_mailboxes`, here in the bench process, through
the real broker) until every inbox has been synced. Prints JSON per size, for the first cycle
(each new inbox's first sync in the worker fetches an access token) and the next, quiet one:
beat-side wall and CPU time of the tick, the Gmail calls the stand-in counted, the worker's
CPU for the cycle, and the cycle's wall time.
"""

import argparse
import json
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from common import (
    Workers,
    enroll_one_each,
    gmail_standin,
    scratch_database,
    seed_team,
    standin_calls,
    standin_environment,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--latency-ms", type=float, default=10)
    args = parser.parse_args()
    with gmail_standin(args.latency_ms) as url:
        environment = {**standin_environment(url), "CELERY_TASK_ALWAYS_EAGER": "0"}
        with scratch_database(**environment) as db_url:
            print(json.dumps(run(args, url, db_url)))


def run(args, url: str, db_url: str) -> dict:
    from django.utils import timezone

    from outreach.celery import app
    from senders.models import Mailbox
    from sequences import tasks

    app.control.purge()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        workers = Workers(1, "sync", db_url, Path(tmp))
        try:
            have = 0
            for size in sorted(args.sizes):
                *sequence, inboxes = seed_team(size - have)
                later = timezone.now() + timedelta(days=3)
                enroll_one_each(*sequence, inboxes, tag=f"s{size}", due=later)
                have = size

                def cycle(size=size) -> dict:
                    calls, cpu = standin_calls(url), workers.cpu_seconds()
                    started = timezone.now()
                    wall, beat_cpu = time.perf_counter(), time.process_time()
                    queued = tasks.sync_mailboxes()
                    beat_wall = time.perf_counter() - wall
                    beat_cpu = time.process_time() - beat_cpu
                    synced = Mailbox.objects.filter(last_synced_at__gte=started)
                    while synced.count() < size:
                        if time.perf_counter() - wall > 60 + size:
                            raise RuntimeError(f"{synced.count()} of {size} synced")
                        time.sleep(0.2)
                    return {
                        "mailboxes_queued": queued,
                        "beat_side_seconds": round(beat_wall, 3),
                        "beat_side_cpu_seconds": round(beat_cpu, 3),
                        "gmail_calls": {
                            k: v - calls.get(k, 0) for k, v in sorted(standin_calls(url).items())
                        },
                        "worker_cpu_seconds": round(workers.cpu_seconds() - cpu, 2),
                        "cycle_wall_seconds": round(time.perf_counter() - wall, 2),
                    }

                results.append({"mailboxes": size, "first_cycle": cycle(), "quiet_cycle": cycle()})
        finally:
            workers.stop()
    return {"latency_ms": args.latency_ms, "sizes": results}


if __name__ == "__main__":
    main()
