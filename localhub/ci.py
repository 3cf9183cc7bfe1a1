"""Local CI: run a repo's CI command on a fresh checkout of a pushed commit and report a `ci` check run.

The command is the repo's `ci_command` (set at import with `--ci`), else `.localhub/ci.sh` at the
commit. Runs go through a bounded pool; each gets a time limit and a minimal environment
(no localhub tokens or secrets), and reports queued → in_progress → completed to a `CheckSink`
(the checks store), as GitHub Actions would: a check suite per commit and a check run `ci`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from localhub import gitops
from localhub.background import Pending

CHECK_NAME = "ci"
SCRIPT_PATH = ".localhub/ci.sh"
TAIL_LINES = 200
TAIL_BYTES = 60_000
_PASSED_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")


@dataclass(frozen=True)
class CiJob:
    """One CI run asked for: which repo, which commit, on which branch."""

    repo_id: int
    git_dir: Path
    head_sha: str
    head_branch: str
    command: str | None  # the repo's `--ci` command; None: use .localhub/ci.sh if present


@dataclass(frozen=True)
class CiResult:
    """What a run concluded and the output GitHub would show."""

    conclusion: str  # success | failure | timed_out
    title: str
    summary: str
    text: str
    exit_code: int | None
    seconds: float


class CheckSink(Protocol):
    """Where CI reports its check run (implemented by the checks store)."""

    def ci_queued(self, job: CiJob) -> int:
        """Create the suite and the `ci` run (status queued); return the run id."""

    def ci_started(self, run_id: int) -> None:
        """Mark the run in_progress."""

    def ci_completed(self, run_id: int, result: CiResult) -> None:
        """Mark the run completed with its conclusion and output."""


def log_tail(log: bytes, lines: int = TAIL_LINES, limit: int = TAIL_BYTES) -> str:
    """The last `lines` lines of a log, at most `limit` bytes, decoded leniently."""
    tail = b"\n".join(log.rstrip(b"\n").split(b"\n")[-lines:])
    if len(tail) > limit:
        tail = tail[-limit:]
        tail = tail[tail.find(b"\n") + 1:] if b"\n" in tail else tail
    return tail.decode("utf-8", errors="replace")


def ci_environment(home: Path, job: CiJob) -> dict[str, str]:
    """A minimal environment: PATH and locale from the server, GitHub Actions-style CI variables."""
    env = {key: os.environ[key] for key in _PASSED_ENV if key in os.environ}
    env.update({
        "HOME": str(home), "CI": "true", "LOCALHUB_CI": "true",
        "GITHUB_SHA": job.head_sha, "GITHUB_REF": f"refs/heads/{job.head_branch}",
        "GITHUB_REF_NAME": job.head_branch,
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
    })
    return env


def run_command(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[int | None, bytes]:
    """Run `argv` in its own process group; (exit code or None on timeout, combined output)."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            _kill_group(proc)
        log.seek(0)
        return code, log.read()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """End what the run left behind (its whole process group), then reap the leader."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def execute(job: CiJob, workdir: Path, timeout: float) -> CiResult:
    """Check out `job.head_sha` under `workdir`, run the CI command there, describe the outcome."""
    started = time.monotonic()
    checkout = gitops.checkout(job.git_dir, job.head_sha, workdir / "src")
    home = workdir / "home"
    home.mkdir()
    argv = ["bash", "-c", job.command] if job.command else ["bash", SCRIPT_PATH]
    code, log = run_command(argv, checkout, ci_environment(home, job), timeout)
    seconds = time.monotonic() - started
    shown = job.command or SCRIPT_PATH
    if code is None:
        conclusion, title = "timed_out", f"CI timed out after {timeout:g}s"
    elif code == 0:
        conclusion, title = "success", "CI passed"
    else:
        conclusion, title = "failure", f"CI failed (exit code {code})"
    summary = f"`{shown}` on {job.head_sha[:12]} ({job.head_branch}): {conclusion} in {seconds:.1f}s."
    return CiResult(conclusion, title, summary, log_tail(log), code, seconds)


class LocalCI:
    """A bounded pool of CI runs; `drain()` waits until none is queued or running."""

    def __init__(self, sink: CheckSink, workdir: Path, concurrency: int = 2, timeout: float = 600.0) -> None:
        self.sink = sink
        self.workdir = Path(workdir)
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="localhub-ci")
        self._pending = Pending()
        self.on_finished: list[Callable[[CiJob, CiResult], None]] = []

    @staticmethod
    def wants(job: CiJob) -> bool:
        """Whether the commit has CI at all (a repo command or `.localhub/ci.sh`)."""
        return bool(job.command) or gitops.read_blob(job.git_dir, job.head_sha, SCRIPT_PATH) is not None

    def submit(self, job: CiJob) -> int | None:
        """Queue a run for `job` (reported as queued now); None when the commit has no CI."""
        if not self.wants(job):
            return None
        run_id = self.sink.ci_queued(job)
        self._pending.submit(self._pool, self._run, job, run_id)
        return run_id

    def _run(self, job: CiJob, run_id: int) -> None:
        self.sink.ci_started(run_id)
        self.workdir.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix=f"run{run_id}-", dir=self.workdir))
        try:
            result = execute(job, workdir, self.timeout)
        except (gitops.GitOpsError, OSError) as exc:
            result = CiResult("failure", "CI could not start", str(exc), "", None, 0.0)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        self.sink.ci_completed(run_id, result)
        for callback in self.on_finished:
            callback(job, result)

    def drain(self, timeout: float = 60.0) -> bool:
        """Wait until no run is queued or running; True if that happened within `timeout`."""
        return self._pending.drain(timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
