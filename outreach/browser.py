"""The Chromium the browser tests drive: found on this machine or, for `make test`, provisioned.

Looked for in this order, the first one there wins:

1. `CHROMIUM_PATH`, when set (taken as given; it must be an executable file);
2. `chromium`, `chromium-browser`, `google-chrome`, `google-chrome-stable`, `chrome` on PATH;
3. Google Chrome or Chromium in /Applications (macOS installs them off PATH);
4. Playwright's own Chromium, once downloaded (`python -m playwright install chromium`).

When none is there and provisioning is asked for (`make test` asks; plain `pytest` does not, it
never downloads or installs anything), one is provisioned:

5. Playwright's download, where the network allows it;
6. the distribution's package, `apt-get install chromium`, where apt-get exists and we are root.

When provisioning, a browser is taken only once it has started headless: a download without the
system libraries it needs, or a snap wrapper with no snapd, is passed over for the next one.

    python -m outreach.browser              # the browser the tests will use, or what to install
    python -m outreach.browser --provision  # the same, downloading or installing one if need be
"""

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
WELL_KNOWN = (
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
)
# Where Debian's `chromium` package puts its binary, should PATH not include /usr/bin.
APT_CHROMIUM = "/usr/bin/chromium"

# What the tests launch Chromium with (tests/conftest.py), so the start check below proves the
# same launch. --no-sandbox: CI and containers run as root, where Chromium's sandbox refuses.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Seconds. Playwright's download (well over 100 MB) on a slow line, or an apt install of
# Chromium and its libraries, takes minutes; a hung network must still not hang `make test`.
LOOKUP_TIMEOUT = 60
START_TIMEOUT = 90
DOWNLOAD_TIMEOUT = 900
APT_UPDATE_TIMEOUT = 300
APT_INSTALL_TIMEOUT = 900

# Run in a child interpreter, never in this one: the caller may be a pytest session whose own
# Playwright (pytest-playwright's) owns the event loop, where a second sync_playwright() fails.
_EXECUTABLE_SCRIPT = """
from playwright.sync_api import sync_playwright
with sync_playwright() as playwright:
    print(playwright.chromium.executable_path)
"""
# On failure it exits on one line: the browser's own first complaint (a missing library, say)
# rather than Playwright's page of launch log.
_START_SCRIPT = """
import sys
from playwright.sync_api import sync_playwright
with sync_playwright() as playwright:
    try:
        browser = playwright.chromium.launch(
            executable_path=sys.argv[1], args=sys.argv[2:], headless=True, timeout=60_000
        )
        browser.new_page().set_content("<p>ok</p>")
        browser.close()
    except Exception as error:
        lines = str(error).splitlines() or [type(error).__name__]
        said = [line.split("[err] ", 1)[1] for line in lines if "[err] " in line]
        sys.exit((said or lines)[0])
"""


class NoBrowser(Exception):
    """No usable Chromium; the message is the one line saying what to do about it."""


def find(
    *,
    provision: bool = False,
    well_known: Sequence[str] = WELL_KNOWN,
    starts: Callable[[str], bool] | None = None,
) -> str:
    """The path of the Chromium to drive (steps 1-6 above), or NoBrowser. `starts` checks a
    candidate when provisioning (default: a real headless launch)."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        if _executable(configured):
            return configured
        raise NoBrowser(
            f"CHROMIUM_PATH={configured} is not an executable file: point it at Chromium or "
            "Chrome, or unset it"
        )
    # Only provisioning checks that a browser starts: plain `pytest` stays quick, and a browser
    # that will not start there fails the browser tests with Chromium's own words.
    check = (starts or browser_starts) if provision else (lambda path: True)
    failed: list[str] = []
    for path in _unique(_present(well_known)):
        if check(path):
            return path
        failed.append(path)
    if provision:
        for provisioner in (_playwright_download, _apt_install):
            provisioned = provisioner(failed)
            if provisioned and provisioned not in failed:
                if check(provisioned):
                    return provisioned
                failed.append(provisioned)
    raise NoBrowser(_what_to_install(failed))


def playwright_executable() -> str | None:
    """Where Playwright keeps (or would keep) its own Chromium, whether or not downloaded."""
    if importlib.util.find_spec("playwright") is None:
        return None
    done = _run(
        [sys.executable, "-c", _EXECUTABLE_SCRIPT],
        "Playwright's lookup failed",
        LOOKUP_TIMEOUT,
        quiet=True,
    )
    return (done.stdout.strip() or None) if done else None


def browser_starts(path: str) -> bool:
    """Whether Chromium at `path` starts headless with the tests' arguments and renders a page."""
    if importlib.util.find_spec("playwright") is None:
        return True  # Nothing to check with; the tests cannot run anyway and will say so.
    command = [sys.executable, "-c", _START_SCRIPT, path, *LAUNCH_ARGS]
    return _run(command, f"{path} did not start", START_TIMEOUT) is not None


# Steps 2-4 -------------------------------------------------------------------------------------


def _present(well_known: Sequence[str]) -> Iterator[str]:
    # A generator: the Playwright lookup (a child interpreter, about a second) runs only when
    # nothing on PATH or in the well-known places answered.
    for name in NAMES:
        path = shutil.which(name)
        if path:
            yield path
    yield from (path for path in well_known if _executable(path))
    path = playwright_executable()
    if path and _executable(path):
        yield path


def _unique(paths: Iterator[str]) -> Iterator[str]:
    # chromium and chromium-browser are often one binary under two names: checked once.
    seen: set[str] = set()
    for path in paths:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            yield path


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


# Steps 5 and 6 ---------------------------------------------------------------------------------


def _playwright_download(failed: list[str]) -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return None
    path = playwright_executable()
    if path in failed:
        return None  # Downloaded already, and it did not start: downloading again will not help.
    _say("No Chromium here yet: downloading Playwright's (playwright install chromium)...")
    # --no-shell: the tests launch this full Chromium (headless), never the separate shell.
    command = [sys.executable, "-m", "playwright", "install", "--no-shell", "chromium"]
    if _run(command, "the download failed", DOWNLOAD_TIMEOUT) is None:
        return None
    path = playwright_executable()
    return path if path and _executable(path) else None


def _apt_install(failed: list[str]) -> str | None:
    if getattr(os, "geteuid", lambda: -1)() != 0 or shutil.which("apt-get") is None:
        return None
    _say("No Chromium here yet: installing the distribution's (apt-get install chromium)...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Update first: fresh images (Docker's python:3.11-slim) ship without package lists.
    update = ["apt-get", "update", "-qq"]
    if _run(update, "apt-get update failed", APT_UPDATE_TIMEOUT, env=env) is None:
        return None
    install = ["apt-get", "install", "-y", "-qq", "chromium"]
    if _run(install, "apt-get install failed", APT_INSTALL_TIMEOUT, env=env) is None:
        return None
    path = shutil.which("chromium") or APT_CHROMIUM
    return path if _executable(path) else None


# Plumbing --------------------------------------------------------------------------------------


def _run(
    command: list[str],
    failure: str,
    timeout: float,
    *,
    env: dict[str, str] | None = None,
    quiet: bool = False,
) -> subprocess.CompletedProcess[str] | None:
    """The finished command when it exited 0; else None, having said `failure` and why in one
    line (unless quiet). On timeout its whole process group goes: `playwright install`
    downloads from a Node child that would otherwise outlive the Python one."""
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,
        )
    except OSError as error:
        if not quiet:
            _say(f"  {failure}: {error}")
        return None
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        if not quiet:
            _say(f"  {failure}: no result after {timeout:.0f} s, stopped")
        return None
    if process.returncode != 0:
        if not quiet:
            _say(f"  {failure}: exit {process.returncode}{_reason(stderr + stdout)}")
        return None
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _reason(output: str) -> str:
    # Playwright's and apt's first error line ("Error: getaddrinfo ENOTFOUND ...", "E: Unable to
    # locate package chromium") says more than their last; else the last line there is. Their
    # stderr comes first: Playwright's stdout ends on a summary ("Error: Failed to download").
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("Error:", "E:"))]
    reason = errors[0] if errors else lines[-1] if lines else ""
    return f": {reason}" if reason else ""


def _what_to_install(failed: list[str]) -> str:
    # The interpreter running this (the project's .venv under `make test`), short when local.
    inside = sys.executable.startswith(os.getcwd() + os.sep)
    python = os.path.relpath(sys.executable) if inside else sys.executable
    tried = f" ({', '.join(failed)} did not start)" if failed else ""
    return (
        f"No Chromium found{tried}: install Chromium or Google Chrome (Debian/Ubuntu: "
        f"apt-get install chromium), or run {python} -m playwright install --with-deps chromium, "
        "or set CHROMIUM_PATH"
    )


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: Sequence[str]) -> int:
    try:
        print(find(provision="--provision" in argv))
    except NoBrowser as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
