"""Celery. Tasks carry ids only (JSON), are acknowledged after they ran so a killed worker's task
is redelivered, and must therefore be idempotent."""

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
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
# Redis redelivers an unacknowledged task after this; longer than the hard time limit, so a task
# still running is never handed to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 10}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True

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
    "expire-delegation-requests": {
        "task": "senders.tasks.expire_delegation_requests",
        "schedule": 60 * 60,
    },
}

# Seconds of random spread added to each scheduled send, so that a batch enrolled together does
# not leave as one burst at the same second.
SEND_JITTER_SECONDS = env.int("SEND_JITTER_SECONDS", default=300)
