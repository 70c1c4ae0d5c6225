import os

from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_ready, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach.settings")

app = Celery("outreach")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# A worker's heartbeat, so that the leases of a dead one are taken over at once (workers.py).
@worker_init.connect
def _name_the_worker(sender, **kwargs) -> None:
    from . import workers

    # Before the pool forks: its processes share the name. The pid tells two workers given
    # the same name apart.
    workers.set_node(f"{sender.hostname}/{os.getpid()}")


@worker_ready.connect
def _start_the_heartbeat(**kwargs) -> None:
    from . import workers

    workers.start_heartbeat()


@worker_shutdown.connect
def _stop_the_heartbeat(**kwargs) -> None:
    from . import workers

    workers.stop_heartbeat()


# What a task would otherwise build on its first run in each process: the statements of the hot
# paths (outreach.compiled) and the URL resolver (every email's unsubscribe and tracking
# links), ~0.4 s of CPU. Done where the tasks run: in each child of the prefork pool
# (worker_process_init), and in the worker itself for the solo pool (worker_ready; a prefork
# pool's parent, which runs no task, pays it once for nothing). The statements are kept per
# thread, so a threads pool's threads still compile them on first use.
@worker_process_init.connect
@worker_ready.connect
def _warm_up(**kwargs) -> None:
    from django.urls import get_resolver

    from . import compiled

    get_resolver().reverse_dict  # noqa: B018 - populates the resolver
    compiled.compile_all()
