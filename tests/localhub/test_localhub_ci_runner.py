"""localhub.ci without a server: runs on a fresh checkout report success, failure with the log
tail, and timeouts; `.localhub/ci.sh` is found at the commit; no server secret reaches the run."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from localhub import ci, gitops
from tests.support.git_repos import git, make_repo


class RecordingSink:
    """A CheckSink that keeps the life cycle of each run."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []
        self.results: dict[int, ci.CiResult] = {}
        self._lock = threading.Lock()

    def ci_queued(self, job: ci.CiJob) -> int:
        with self._lock:
            run_id = len(self.results) + len(self.events) + 1
            self.events.append(("queued", run_id))
            return run_id

    def ci_started(self, run_id: int) -> None:
        with self._lock:
            self.events.append(("in_progress", run_id))

    def ci_completed(self, run_id: int, result: ci.CiResult) -> None:
        with self._lock:
            self.events.append(("completed", run_id))
            self.results[run_id] = result


def bare_with(tmp_path: Path, files: dict[str, str]) -> tuple[Path, str]:
    work = make_repo(tmp_path / "work", files)
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    sha = gitops.rev_parse(bare, "main")
    assert sha
    return bare, sha


def run_one(tmp_path: Path, files: dict[str, str], command: str | None, timeout: float = 30) -> ci.CiResult:
    bare, sha = bare_with(tmp_path, files)
    sink = RecordingSink()
    runner = ci.LocalCI(sink, tmp_path / "ci", timeout=timeout)
    run_id = runner.submit(ci.CiJob(1, bare, sha, "main", command))
    assert run_id is not None
    assert runner.drain(30)
    runner.close()
    assert [e for e, r in sink.events if r == run_id] == ["queued", "in_progress", "completed"]
    return sink.results[run_id]


def test_green_run_sees_the_checked_out_commit(tmp_path: Path) -> None:
    result = run_one(tmp_path, {"app.txt": "hello\n"}, "cat app.txt && git rev-parse HEAD")
    assert result.conclusion == "success" and result.exit_code == 0
    assert "hello" in result.text


def test_red_run_keeps_the_failing_output(tmp_path: Path) -> None:
    result = run_one(tmp_path, {"a": "x"}, "seq 1 500; echo 'assert 1 == 2 FAILED' >&2; exit 3")
    assert result.conclusion == "failure" and result.exit_code == 3
    assert "exit code 3" in result.title
    assert result.text.endswith("assert 1 == 2 FAILED")
    assert result.text.startswith("302\n") and len(result.text.split("\n")) == 200  # the tail only


def test_timeout_kills_the_run(tmp_path: Path) -> None:
    result = run_one(tmp_path, {"a": "x"}, "echo started; sleep 30", timeout=1)
    assert result.conclusion == "timed_out" and result.exit_code is None
    assert "started" in result.text and result.seconds < 20


def test_script_in_the_repo_is_used_when_no_command(tmp_path: Path) -> None:
    result = run_one(tmp_path, {".localhub/ci.sh": "echo from-script; exit 1\n"}, None)
    assert result.conclusion == "failure" and "from-script" in result.text


def test_commit_without_ci_is_not_run(tmp_path: Path) -> None:
    bare, sha = bare_with(tmp_path, {"a": "x"})
    sink = RecordingSink()
    runner = ci.LocalCI(sink, tmp_path / "ci")
    assert runner.submit(ci.CiJob(1, bare, sha, "main", None)) is None
    runner.close()
    assert sink.events == []


def test_run_environment_is_minimal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALHUB_TEST_SECRET", "s3cr3t")
    result = run_one(tmp_path, {"a": "x"}, "env")
    assert "s3cr3t" not in result.text and "CI=true" in result.text


def test_log_tail_bounds_bytes() -> None:
    log = ("x" * 1000 + "\n").encode() * 100
    tail = ci.log_tail(log, lines=200, limit=5000)
    assert len(tail.encode()) <= 5000 and tail.startswith("x") and tail.count("\n") == 3
