"""Headless Chromium for page tests: a screenshot of a URL (PNG path) or its DOM after load.

    from tests.support.browser import Browser

    def test_page(browser: Browser, localhub) -> None:      # skipped when Chromium is absent
        png = browser.screenshot(localhub.url + "/", width=1000, height=800)
        assert distinct_colours(png) > 8                     # not a blank page
        assert "<table>" in browser.dom(localhub.url + "/")

`browser` (fixture) writes its PNGs into the test's tmp_path; `requires_chromium` is the skip
mark for tests that call `screenshot`/`dump_dom` directly. Each call starts Chromium once with a
fresh profile, `--no-sandbox` when running as root, and a host resolver that maps every name
except localhost to nothing, so a page can only reach this machine. Install Chromium with
`apt-get install chromium` (Debian; `.ci/run` does it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 60.0
_QUIET = (  # no update checks, sync, pings or name lookups beyond loopback
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-pings",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--mute-audio",
    "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
)


class BrowserFailed(RuntimeError):
    """Chromium exited with an error, timed out, or wrote no screenshot."""


def chromium() -> str | None:
    """The Chromium executable on PATH (CHROMIUM overrides), or None."""
    override = os.environ.get("CHROMIUM")
    if override:
        return shutil.which(override)
    return next((path for path in map(shutil.which, NAMES) if path), None)


requires_chromium = pytest.mark.skipif(
    chromium() is None, reason="Chromium is not installed (apt-get install chromium)"
)


def _run(url: str, action: list[str], width: int, height: int, timeout: float) -> str:
    exe = chromium()
    if exe is None:
        raise BrowserFailed("Chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [
            exe,
            "--headless",
            "--disable-gpu",
            "--hide-scrollbars",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            *_QUIET,
            *action,
            url,
        ]
        if os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise BrowserFailed(f"Chromium did not finish loading {url} within {timeout:.0f}s") from None
    if done.returncode != 0:
        raise BrowserFailed(f"Chromium failed on {url} (exit {done.returncode}): {_errors(done.stderr)}")
    return done.stdout


def _errors(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if "dbus" not in line.lower() and line.strip()]
    return " | ".join(lines[-5:]) or "no error output"


def screenshot(url: str, out: Path, width: int = 1280, height: int = 1024, timeout: float = TIMEOUT) -> Path:
    """Load `url` in a `width`×`height` window and write a PNG of the viewport to `out`."""
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    _run(url, [f"--screenshot={out}"], width, height, timeout)
    if not out.is_file() or out.stat().st_size == 0:
        raise BrowserFailed(f"Chromium wrote no screenshot of {url} to {out}")
    return out


def dump_dom(url: str, width: int = 1280, height: int = 1024, timeout: float = TIMEOUT) -> str:
    """The document of `url` as serialised by Chromium after load (scripts, if any, have run)."""
    return _run(url, ["--dump-dom"], width, height, timeout)


def distinct_colours(png: Path, limit: int = 1 << 16) -> int:
    """How many different RGB colours the image has (counted up to `limit`)."""
    from PIL import Image

    with Image.open(png) as image:
        colours = image.convert("RGB").getcolors(maxcolors=limit)
    return limit if colours is None else len(colours)


def dominant_share(png: Path) -> float:
    """The share of pixels having the most frequent colour (1.0: one flat colour, a blank page)."""
    from PIL import Image

    with Image.open(png) as image:
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=rgb.width * rgb.height) or []
        return max(count for count, _ in colours) / (rgb.width * rgb.height)


@dataclass
class Browser:
    """Screenshots into `directory`, numbered in call order; `dom(url)` is `dump_dom`."""

    directory: Path
    taken: int = 0

    def screenshot(self, url: str, name: str | None = None, width: int = 1280, height: int = 1024) -> Path:
        self.taken += 1
        return screenshot(url, self.directory / (name or f"screenshot-{self.taken}.png"), width, height)

    def dom(self, url: str) -> str:
        return dump_dom(url)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    """Headless Chromium writing into tmp_path/screenshots; skips the test when Chromium is absent."""
    if chromium() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    yield Browser(tmp_path / "screenshots")
