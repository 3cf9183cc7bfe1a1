"""`orchestra worker` and `orchestra serve` check before they start: Redis down (or no forge credentials
for a worker) is one line and exit 2 within the bounded wait, not a process that retries forever."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.doctor import REDIS_WAIT_S

ROOT = Path(__file__).resolve().parents[2]
DOWN = "redis://:s3cret@127.0.0.1:1/0"  # nothing listens on port 1


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ORCHESTRA_", "OPENAI_", "ANTHROPIC_", "REDIS_", "GITHUB_"))
    }
    return env | {
        "PYTHONPATH": str(ROOT),
        "ORCHESTRA_SANDBOX": "best-effort",
        "ORCHESTRA_STATE_DIR": str(tmp_path / "state"),
        **extra,
    }


def _fails(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[str, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot", *argv], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr[-2000:]
    # Besides the service's own JSON log lines (the sandbox it chose), one line: the failure. No traceback.
    lines = [line for line in done.stderr.strip().splitlines() if not line.startswith('{"time": ')]
    assert len(lines) == 1, done.stderr[-2000:]
    return lines[0], elapsed


def test_worker_with_redis_down_exits_2_within_the_bound(tmp_path: Path) -> None:
    line, elapsed = _fails(
        ["worker", "--processes", "2"], _env(tmp_path, ORCHESTRA_REDIS_URL=DOWN, ORCHESTRA_TOKEN="t"), tmp_path
    )
    assert line == (
        f"orchestra: redis: Redis at redis://:***@127.0.0.1:1/0 is unreachable (tried for "
        f"{REDIS_WAIT_S:g}s); start it or fix ORCHESTRA_REDIS_URL"
    )
    # It ends rather than retrying forever; the bound itself is timed in-process below (a fresh Python's
    # start and the sandbox's trial runs come on top here: 3 s alone, up to 18 s more on a loaded machine).
    assert REDIS_WAIT_S <= elapsed < 60


def test_worker_without_forge_credentials_says_so(tmp_path: Path, redis_url: str) -> None:
    line, _ = _fails(["worker", "--burst"], _env(tmp_path, ORCHESTRA_REDIS_URL=redis_url), tmp_path)
    assert line == (
        "orchestra: forge: no forge credentials: set ORCHESTRA_APP_ID and ORCHESTRA_PRIVATE_KEY_PATH "
        "(App), or ORCHESTRA_TOKEN"
    )


def test_serve_with_redis_down_exits_2_before_it_binds(tmp_path: Path) -> None:
    line, elapsed = _fails(
        ["serve", "--port", "0"], _env(tmp_path, ORCHESTRA_REDIS_URL=DOWN, ORCHESTRA_WEBHOOK_SECRET="s"), tmp_path
    )
    assert line.startswith("orchestra: redis: Redis at redis://:***@127.0.0.1:1/0 is unreachable")
    assert REDIS_WAIT_S <= elapsed < 60


@pytest.mark.parametrize("command", [["worker", "--burst"], ["serve", "--port", "0"]])
def test_the_redis_wait_is_bounded(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in _env(
        tmp_path, ORCHESTRA_REDIS_URL=DOWN, ORCHESTRA_TOKEN="t", ORCHESTRA_WEBHOOK_SECRET="s"
    ).items():
        monkeypatch.setenv(name, value)
    started = time.monotonic()
    assert main(command) == 2
    elapsed = time.monotonic() - started
    assert REDIS_WAIT_S <= elapsed < REDIS_WAIT_S + 3
    assert f"is unreachable (tried for {REDIS_WAIT_S:g}s)" in capsys.readouterr().err
