"""The product's Celery app, with the benchmarks' Meter installed in the worker (`celery -A
probe worker`, from bench/common.Workers): it counts what this worker's tasks cost, and writes
the counts out as the worker stops."""

import json
import os
from pathlib import Path

from celery import signals
from common import Meter

from outreach.celery import app

__all__ = ["app"]

meter = Meter()
_out = Path(os.environ["BENCH_PROBE_DIR"])


@signals.worker_ready.connect
def _install(**_) -> None:
    # Solo pool: the tasks run on this thread, whose connection the meter wraps.
    meter.install()
    (_out / f"{os.getpid()}.ready").touch()


@signals.worker_shutdown.connect
def _report(**_) -> None:
    (_out / f"{os.getpid()}.json").write_text(json.dumps(meter.as_dict()))
