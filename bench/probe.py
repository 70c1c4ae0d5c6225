"""The product's Celery app, with the benchmarks' Meter installed in the worker (`celery -A
probe worker`, from bench/common.Workers): it counts what this worker's tasks cost, and writes
the counts out as the worker stops."""

import cProfile
import json
import os
import time
from pathlib import Path

from celery import signals
from common import Meter

from outreach.celery import app

__all__ = ["app"]

meter = Meter()
_out = Path(os.environ["BENCH_PROBE_DIR"])
# BENCH_PROFILE=1: the worker's CPU profile from ready to shutdown, into the probe directory.
_profile = cProfile.Profile(time.process_time) if os.environ.get("BENCH_PROFILE") else None


@signals.worker_ready.connect
def _install(**_) -> None:
    # Solo pool: the tasks run on this thread, whose connection the meter wraps.
    meter.install()
    if _profile is not None:
        _profile.enable()
    (_out / f"{os.getpid()}.ready").touch()


@signals.worker_shutdown.connect
def _report(**_) -> None:
    if _profile is not None:
        _profile.disable()
        _profile.dump_stats(os.environ["BENCH_PROFILE"])
    (_out / f"{os.getpid()}.json").write_text(json.dumps(meter.as_dict()))
