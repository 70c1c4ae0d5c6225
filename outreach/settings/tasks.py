"""Celery. Tasks carry ids only (JSON), are acknowledged after they ran so a killed worker's task
is redelivered, and must therefore be idempotent."""

from kombu import Queue

from .core import REDIS_URL
from .env import env

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One task at a time per process: with late acks, prefetched tasks would wait behind a slow send.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A Gmail or Greenhouse call that hangs must not hold a worker for ever; the soft limit lets the
# task record why it stopped.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
# Redis redelivers an unacknowledged task after this; longer than the hard time limit, so a task
# still running is never handed to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 10}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True

# Each kind of work has its own queue, so a backlog of one never delays another: 10,000 mailbox
# syncs after an outage wait behind each other, not in front of a due send. Each queue's
# workers scale on their own (docker-compose.yml: worker-sends, worker-sync, worker). A worker
# started without -Q consumes them all (the tests' and `make test`'s workers do).
QUEUE_SENDS = "sends"  # dispatch and each send: the recruiter's promise of a time
QUEUE_SYNC = "sync"  # reading inboxes for replies and bounces
QUEUE_ATS = "ats"  # activity notes pushed to the ATS
QUEUE_MAIL = "mail"  # the product's own emails (alerts, invitations, delegation links)
QUEUE_DEFAULT = "default"  # the rest: imports, bulk enrolments, manual tasks, sweeps
QUEUES = (QUEUE_SENDS, QUEUE_SYNC, QUEUE_ATS, QUEUE_MAIL, QUEUE_DEFAULT)
CELERY_TASK_QUEUES = [Queue(name) for name in QUEUES]
CELERY_TASK_DEFAULT_QUEUE = QUEUE_DEFAULT
CELERY_TASK_ROUTES = {
    "sequences.tasks.dispatch_due": {"queue": QUEUE_SENDS},
    "sequences.tasks.send_stage": {"queue": QUEUE_SENDS},
    "sequences.tasks.sync_mailboxes": {"queue": QUEUE_SYNC},
    "sequences.tasks.queue_syncs": {"queue": QUEUE_SYNC},
    "sequences.tasks.sync_mailbox": {"queue": QUEUE_SYNC},
    "ats_sync.tasks.*": {"queue": QUEUE_ATS},
    "outreach.tasks.deliver_email": {"queue": QUEUE_MAIL},
    "sequences.tasks.refresh_stats": {"queue": QUEUE_DEFAULT},
}

# Periodic work; later features add their ticks here.
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-stages": {
        "task": "sequences.tasks.dispatch_due",
        "schedule": env.float("DISPATCH_EVERY_SECONDS", default=5.0),
    },
    "sync-mailboxes": {
        "task": "sequences.tasks.sync_mailboxes",
        "schedule": env.float("SYNC_EVERY_SECONDS", default=30.0),
    },
    "open-due-manual-tasks": {
        "task": "sequences.tasks.open_due_tasks",
        "schedule": 60,
    },
    "push-activity-to-the-ats": {
        "task": "ats_sync.tasks.push_due",
        "schedule": env.float("ATS_PUSH_EVERY_SECONDS", default=10.0),
    },
    # Imports and enrolments left with no progress (a lost task, retries spent) go on.
    "sweep-background-jobs": {
        "task": "sequences.tasks.sweep_jobs",
        "schedule": 60,
    },
    # The stats rollups of the days changed since the last run (the stats page would
    # otherwise recompute them on its next load).
    "refresh-stats-rollups": {
        "task": "sequences.tasks.refresh_stats",
        "schedule": env.float("STATS_REFRESH_EVERY_SECONDS", default=60.0),
    },
    "expire-delegation-requests": {
        "task": "senders.tasks.expire_delegation_requests",
        "schedule": 60 * 60,
    },
}

# How long a claim on a row (an enrollment due to send, an ATS row due to push) lasts when its
# holder is lost without a trace; longer than the hard time limit, so that a task still
# running never shares its row with a second one. A worker whose heartbeat (every
# WORKER_HEARTBEAT_SECONDS, three missed beats and it is thought dead) is gone has its claims
# taken over at once.
CLAIM_LEASE_SECONDS = env.int("CLAIM_LEASE_SECONDS", default=300)
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=5.0)

# How long a mailbox's queued sync keeps beat from queuing another (sequences.replies.sync):
# as long as the broker takes to hand a lost task to another worker, so that past it the sync
# is surely lost, not merely waiting behind a backlog that long.
SYNC_QUEUED_SECONDS = env.int(
    "SYNC_QUEUED_SECONDS", default=CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
)

# The first wait before a failed remote call (a Gmail send, a Greenhouse write) is tried again;
# each further failure doubles it.
RETRY_BASE_SECONDS = env.float("RETRY_BASE_SECONDS", default=30.0)

# Seconds of random spread added to each scheduled send, so that a batch enrolled together does
# not leave as one burst at the same second.
SEND_JITTER_SECONDS = env.int("SEND_JITTER_SECONDS", default=300)
