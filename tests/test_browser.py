"""Which Chromium the browser tests drive (outreach/browser.py): the order it is looked for in,
and what provisioning does when there is none. Fake browsers are scripts in a temporary folder
made the whole PATH; Playwright is the real one, pointed at an empty folder of its own."""

import os
from pathlib import Path

import pytest

from outreach import browser


def fake(path: Path, script: str = "exit 0") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Its own PATH: the one under test holds only fakes.
    path.write_text(f"#!/bin/sh\nPATH=/usr/bin:/bin\n{script}\n")
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def bin_dir(tmp_path, monkeypatch) -> Path:
    """A machine with no browser: PATH is one empty folder, CHROMIUM_PATH unset, and
    Playwright's browsers folder empty."""
    path = tmp_path / "bin"
    path.mkdir()
    monkeypatch.setenv("PATH", str(path))
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "ms-playwright"))
    return path


def test_chromium_path_comes_first(bin_dir, tmp_path, monkeypatch):
    fake(bin_dir / "chromium")
    monkeypatch.setenv("CHROMIUM_PATH", fake(tmp_path / "mine" / "chrome"))

    assert browser.find(well_known=()) == str(tmp_path / "mine" / "chrome")


def test_a_chromium_path_that_is_no_executable_stops_the_search(bin_dir, tmp_path, monkeypatch):
    fake(bin_dir / "chromium")
    monkeypatch.setenv("CHROMIUM_PATH", str(tmp_path / "nowhere"))

    with pytest.raises(browser.NoBrowser, match=r"CHROMIUM_PATH=.*nowhere is not an executable"):
        browser.find(well_known=())


@pytest.mark.parametrize(
    ("present", "found"),
    [
        (["chrome", "google-chrome-stable", "chromium"], "chromium"),
        (["chrome", "google-chrome", "chromium-browser"], "chromium-browser"),
        (["chrome", "google-chrome-stable", "google-chrome"], "google-chrome"),
        (["chrome", "google-chrome-stable"], "google-chrome-stable"),
        (["chrome"], "chrome"),
    ],
)
def test_names_on_path_in_order(bin_dir, present, found):
    for name in present:
        fake(bin_dir / name)

    assert browser.find(well_known=()) == str(bin_dir / found)


def test_a_file_on_path_that_is_not_executable_is_no_browser(bin_dir, tmp_path):
    (bin_dir / "chromium").write_text("not a program")
    app = fake(tmp_path / "Applications" / "Chromium")

    assert browser.find(well_known=[app]) == app


def test_well_known_places_after_path(bin_dir, tmp_path):
    app = fake(tmp_path / "Applications" / "Google Chrome")
    assert browser.find(well_known=[str(tmp_path / "absent"), app]) == app

    fake(bin_dir / "google-chrome")
    assert browser.find(well_known=[app]) == str(bin_dir / "google-chrome")


def test_playwrights_own_chromium_once_downloaded(bin_dir):
    downloaded = browser.playwright_executable()
    assert downloaded.startswith(os.environ["PLAYWRIGHT_BROWSERS_PATH"])
    fake(Path(downloaded))

    assert browser.find(well_known=()) == downloaded


def test_nothing_found_is_one_line_saying_what_to_install_and_nothing_is_installed(
    bin_dir, tmp_path
):
    fake(bin_dir / "apt-get", f"touch {tmp_path / 'apt-ran'}")

    with pytest.raises(browser.NoBrowser) as raised:
        browser.find(well_known=(), provision=False)

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("No Chromium found: ")
    assert "apt-get install chromium" in message
    assert "-m playwright install --with-deps chromium" in message
    assert "CHROMIUM_PATH" in message
    assert not (tmp_path / "apt-ran").exists()
    assert not (tmp_path / "ms-playwright").exists()


def test_only_provisioning_checks_that_a_browser_starts(bin_dir):
    fake(bin_dir / "chromium")
    os.symlink(bin_dir / "chromium", bin_dir / "chromium-browser")
    fake(bin_dir / "google-chrome")
    checked = []

    def starts(path):
        checked.append(path)
        return path.endswith("google-chrome")

    assert browser.find(well_known=(), starts=starts) == str(bin_dir / "chromium")
    assert checked == []

    # chromium-browser is chromium under another name: not checked twice.
    assert browser.find(well_known=(), starts=starts, provision=True) == str(
        bin_dir / "google-chrome"
    )
    assert checked == [str(bin_dir / "chromium"), str(bin_dir / "google-chrome")]


@pytest.mark.skipif(os.geteuid() != 0, reason="the apt step is for root only")
def test_when_the_download_fails_root_installs_the_distributions_package(
    bin_dir, tmp_path, monkeypatch
):
    # Playwright's download fails at once: its folder would be under a file. (A download host
    # where nothing listens fails the same way, after five tries.)
    (tmp_path / "a-file").touch()
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "a-file" / "ms-playwright"))
    log = tmp_path / "apt.log"
    fake(
        bin_dir / "apt-get",
        f'echo "$DEBIAN_FRONTEND $*" >> {log}\n'
        f'if [ "$1" = install ]; then printf "#!/bin/sh\\n" > {bin_dir}/chromium; '
        f"chmod +x {bin_dir}/chromium; fi",
    )

    found = browser.find(well_known=(), provision=True, starts=lambda path: True)

    assert found == str(bin_dir / "chromium")
    assert log.read_text().splitlines() == [
        "noninteractive update -qq",
        "noninteractive install -y -qq chromium",
    ]


def test_a_browser_that_does_not_start_fails_the_check(tmp_path):
    assert not browser.browser_starts(fake(tmp_path / "chromium", "exit 1"))
