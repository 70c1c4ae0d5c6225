"""Which Celery workers are alive, and which leases each holds, so that the work of a worker
known to be dead is taken over at once instead of when its leases run out.

- Each worker's main process writes a heartbeat key in Redis every WORKER_HEARTBEAT_SECONDS,
  expiring after three missed beats, and lists itself among the workers.
- A task working under a lease (a claim token on a row) says so once its claim is checked
  (`hold`), and again when it is done (`release`). A lease is recorded twice: under the worker
  (what it holds) and under the row (who holds it now, expiring with the lease), so that an
  entry left by a killed process whose task another worker picked up is never taken for the
  other worker's.
- `orphaned(kind)` lists the leases held by workers whose heartbeat is gone; the caller hands
  them out again and `forget`s them.

A worker is only thought dead: it may be alive with its heartbeat stalled. Taking its lease
over is still safe, because a holder writes only under the row's lock and only while its token
is the current one: the new lease stops the old holder at its next write, and an email it had
already handed to Gmail is found by the reconciliation before anything is sent again.

All of this is best effort: with Redis unreachable, leases simply run out as they would
without it. Celery's own heartbeats travel as events, which nothing reads unless a monitor
runs: they cannot serve here.
"""

import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime

import redis
from django.conf import settings
from django.db import models

log = logging.getLogger(__name__)

WORKERS = "outreach:workers"
MISSED_BEATS = 3

# This process's worker ("node@host/pid"), set in the worker's main process before its pool
# forks, so that the pool's processes share it; empty outside a worker (web, tests inline).
_node = ""
_stop = threading.Event()
_client: redis.Redis | None = None
_client_pid = 0


@dataclass(frozen=True)
class Orphan:
    worker: str
    kind: str
    pk: int
    token: str


def _redis() -> redis.Redis:
    global _client, _client_pid
    # A connection is never shared across a fork.
    if _client is None or _client_pid != os.getpid():
        _client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        _client_pid = os.getpid()
    return _client


def _alive_key(worker: str) -> str:
    return f"outreach:worker:{worker}:alive"


def _holds_key(worker: str) -> str:
    return f"outreach:worker:{worker}:holds"


def _holder_key(field: str) -> str:
    return f"outreach:holder:{field}"


def _text(value: bytes | str) -> str:
    # The client does not decode responses: its values are bytes.
    return value.decode() if isinstance(value, bytes) else value


# The worker's side -------------------------------------------------------------------------------


def set_node(name: str) -> None:
    global _node
    _node = name


def beat() -> None:
    ttl = max(1, round(settings.WORKER_HEARTBEAT_SECONDS * MISSED_BEATS))
    with _redis().pipeline() as pipe:
        pipe.sadd(WORKERS, _node)
        pipe.set(_alive_key(_node), 1, ex=ttl)
        pipe.execute()


def start_heartbeat() -> None:
    """Beats now and then every WORKER_HEARTBEAT_SECONDS from a thread of this process."""
    _stop.clear()
    _beat_safely()
    threading.Thread(target=_beat_until_stopped, name="outreach-heartbeat", daemon=True).start()


def _beat_until_stopped() -> None:
    while not _stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
        _beat_safely()


def _beat_safely() -> None:
    try:
        beat()
    except redis.RedisError as error:
        log.warning("worker heartbeat not written: %s", error)


def stop_heartbeat() -> None:
    """A worker shutting down warmly has finished its tasks and given back the ones it had not
    started: nothing of it needs taking over."""
    _stop.set()
    try:
        with _redis().pipeline() as pipe:
            pipe.delete(_alive_key(_node), _holds_key(_node))
            pipe.srem(WORKERS, _node)
            pipe.execute()
    except redis.RedisError as error:
        log.warning("worker heartbeat not cleared: %s", error)


def hold(kind: str, leases: dict[int, str], seconds: float) -> None:
    """This worker holds these leases ({pk: token}) of `kind` for up to `seconds`."""
    if not _node or not leases:
        return
    try:
        with _redis().pipeline() as pipe:
            for pk, token in leases.items():
                field = f"{kind}:{pk}"
                pipe.set(_holder_key(field), f"{_node} {token}", ex=max(1, round(seconds)))
                pipe.sadd(_holds_key(_node), field)
            pipe.execute()
    except redis.RedisError as error:
        log.warning("lease not registered: %s", error)


def release(kind: str, *pks: int) -> None:
    if not _node or not pks:
        return
    try:
        _redis().srem(_holds_key(_node), *(f"{kind}:{pk}" for pk in pks))
    except redis.RedisError as error:
        log.warning("lease not released: %s", error)


# The taker's side --------------------------------------------------------------------------------


def dead_workers() -> list[str]:
    client = _redis()
    workers = sorted(_text(member) for member in client.smembers(WORKERS))
    with client.pipeline() as pipe:
        for worker in workers:
            pipe.exists(_alive_key(worker))
        alive = pipe.execute()
    return [worker for worker, beating in zip(workers, alive, strict=True) if not beating]


def orphaned(kind: str) -> list[Orphan]:
    """The leases of `kind` still held by workers whose heartbeat is gone."""
    try:
        client = _redis()
        found: list[Orphan] = []
        for worker in dead_workers():
            fields = [_text(f) for f in client.smembers(_holds_key(worker))]
            if not fields:
                client.srem(WORKERS, worker)
                continue
            mine = [f for f in fields if f.partition(":")[0] == kind]
            holders = client.mget([_holder_key(f) for f in mine]) if mine else []
            for field, holder in zip(mine, holders, strict=True):
                name, _, token = _text(holder or b"").rpartition(" ")
                if name == worker:
                    found.append(Orphan(worker, kind, int(field.partition(":")[2]), token))
                else:
                    # Picked up by another worker since, or its lease ran out.
                    client.srem(_holds_key(worker), field)
        return found
    except redis.RedisError as error:
        log.warning("could not look for the leases of dead workers: %s", error)
        return []


def take_over(kind: str, model: type[models.Model], now: datetime) -> int:
    """Ends now the leases of `kind` whose worker is dead, on rows of `model` (which keeps its
    lease in `claim_token` and `claimed_until`), unless they moved on meanwhile; returns how
    many. The caller's next claim picks those rows up."""
    orphans = orphaned(kind)
    for orphan in orphans:
        model._default_manager.filter(
            pk=orphan.pk, claim_token=orphan.token, claimed_until__gt=now
        ).update(claimed_until=now)
    if orphans:
        log.warning(
            "took over the leases of dead workers",
            extra={
                "kind": kind,
                "leases": len(orphans),
                "workers": sorted({o.worker for o in orphans}),
            },
        )
    forget(orphans)
    return len(orphans)


def forget(orphans: list[Orphan]) -> None:
    try:
        with _redis().pipeline() as pipe:
            for orphan in orphans:
                field = f"{orphan.kind}:{orphan.pk}"
                pipe.srem(_holds_key(orphan.worker), field)
                pipe.delete(_holder_key(field))
            pipe.execute()
    except redis.RedisError as error:
        log.warning("could not forget the leases taken over: %s", error)
