"""Local CI: run a repo's CI command on a fresh checkout of a commit and report it as GitHub Actions would.

The command is the repo's `ci_command` (set at import with `--ci`), else `.localhub/ci.sh` at the
commit. Runs go through a bounded pool; each gets a time limit and a minimal environment
(no localhub tokens or secrets), and reports queued → in_progress → completed to a `CheckSink`
(localhub's Actions layer: a workflow run with one job `ci`, whose check run carries the same id).
A run records each output line with the time it was printed and three steps ("Set up job",
"Run <command>", "Complete job"), from which the job's log is written in GitHub's format.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from localhub import gitops
from localhub.background import Pending

CHECK_NAME = "ci"
SCRIPT_PATH = ".localhub/ci.sh"
#: Branches whose every push runs CI, besides the default branch and PR heads — as a workflow's
#: `on: push: branches: [...]` would (`*` stops at `/`, `**` does not): merge queues' batch branches.
PUSH_BRANCHES = ("orchestra/queue/**",)
TAIL_LINES = 200
TAIL_BYTES = 60_000
MAX_LOG_LINES = 50_000  # lines of output kept for the job log (the last ones)
_PASSED_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")


@dataclass(frozen=True)
class CiJob:
    """One CI run asked for: which repo, which commit, on which branch, for which event."""

    repo_id: int
    git_dir: Path
    head_sha: str
    head_branch: str
    command: str | None  # the repo's `--ci` command; None: use .localhub/ci.sh if present
    event: str = "push"  # push | pull_request | merge_group (the workflow run's `event`)
    actor_id: int | None = None  # who caused the run (the run's `actor`)


@dataclass(frozen=True)
class Step:
    """One step of the job as GitHub lists it (times are epoch seconds)."""

    name: str
    conclusion: str  # success | failure | cancelled | skipped
    started: float
    completed: float


@dataclass(frozen=True)
class CiResult:
    """What a run concluded, the output GitHub would show, and what the job log is made of."""

    conclusion: str  # success | failure | timed_out
    title: str
    summary: str
    text: str
    exit_code: int | None
    seconds: float
    command: str = ""
    steps: tuple[Step, ...] = ()
    output: tuple[tuple[float, str], ...] = ()  # (time printed, line) of the command's output
    setup: tuple[tuple[float, str], ...] = ()  # lines of "Set up job"


class CheckSink(Protocol):
    """Where CI reports its run (implemented by localhub's Actions layer)."""

    def ci_queued(self, job: CiJob) -> int:
        """Create the workflow run, its job and the `ci` check run (queued); return the job id."""

    def ci_started(self, run_id: int) -> None:
        """Mark the job in_progress."""

    def ci_completed(self, run_id: int, result: CiResult) -> None:
        """Mark the job completed with its conclusion, steps, output and log."""


def _glob(pattern: str) -> re.Pattern[str]:
    """A workflow branch filter as a regex: `*` stops at `/`, `**` does not, `?` is one character."""
    return re.compile(
        "".join(
            {"**": ".*", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part))
            for part in re.split(r"(\*\*|\*|\?)", pattern)
        )
    )


def runs_on_push(branch: str, patterns: tuple[str, ...] = PUSH_BRANCHES) -> bool:
    """Whether a push to `branch` runs CI by the push filter (the default branch and PR heads always do)."""
    return any(_glob(pattern).fullmatch(branch) for pattern in patterns)


def log_tail(log: bytes, lines: int = TAIL_LINES, limit: int = TAIL_BYTES) -> str:
    """The last `lines` lines of a log, at most `limit` bytes, decoded leniently."""
    tail = b"\n".join(log.rstrip(b"\n").split(b"\n")[-lines:])
    if len(tail) > limit:
        tail = tail[-limit:]
        tail = tail[tail.find(b"\n") + 1 :] if b"\n" in tail else tail
    return tail.decode("utf-8", errors="replace")


def ci_environment(home: Path, job: CiJob) -> dict[str, str]:
    """A minimal environment: PATH and locale from the server, GitHub Actions-style CI variables."""
    env = {key: os.environ[key] for key in _PASSED_ENV if key in os.environ}
    env.update(
        {
            "HOME": str(home),
            "CI": "true",
            "LOCALHUB_CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_SHA": job.head_sha,
            "GITHUB_REF": f"refs/heads/{job.head_branch}",
            "GITHUB_REF_NAME": job.head_branch,
            "GITHUB_EVENT_NAME": job.event,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
        }
    )
    return env


class _LineReader:
    """Reads a pipe in a thread, stamping each line with the time it arrived (the last lines kept)."""

    def __init__(self, pipe: IO[bytes]) -> None:
        self.lines: deque[tuple[float, bytes]] = deque(maxlen=MAX_LOG_LINES)
        self._fd = pipe.fileno()
        self._thread = threading.Thread(target=self._read, name="localhub-ci-output", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        pending = b""
        while True:
            chunk = os.read(self._fd, 65536)
            if not chunk:
                break
            stamp = time.time()
            pending += chunk
            *complete, pending = pending.split(b"\n")
            self.lines.extend((stamp, line) for line in complete)
        if pending:
            self.lines.append((time.time(), pending))

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


def run_command(
    argv: list[str], cwd: Path, env: dict[str, str], timeout: float
) -> tuple[int | None, list[tuple[float, bytes]]]:
    """Run `argv` in its own process group; (exit code or None on timeout, stamped output lines)."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert proc.stdout is not None
    reader = _LineReader(proc.stdout)
    try:
        code: int | None = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        code = None
    finally:
        _kill_group(proc)
    reader.join(timeout=5)  # the group is gone, so the pipe closes (unless something escaped it)
    return code, list(reader.lines)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """End what the run left behind (its whole process group), then reap the leader."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _describe(job: CiJob, code: int | None, timeout: float, seconds: float) -> tuple[str, str, str]:
    """(conclusion, output title, summary) of a finished command."""
    shown = job.command or SCRIPT_PATH
    if code is None:
        conclusion, title = "timed_out", f"CI timed out after {timeout:g}s"
    elif code == 0:
        conclusion, title = "success", "CI passed"
    else:
        conclusion, title = "failure", f"CI failed (exit code {code})"
    summary = f"`{shown}` on {job.head_sha[:12]} ({job.head_branch}): {conclusion} in {seconds:.1f}s."
    return conclusion, title, summary


def execute(job: CiJob, workdir: Path, timeout: float) -> CiResult:
    """Check out `job.head_sha` under `workdir`, run the CI command there, describe the outcome."""
    started = time.time()
    setup = [(started, "Runner name: 'localhub'"), (started, f"Checking out {job.head_sha}")]
    checkout = gitops.checkout(job.git_dir, job.head_sha, workdir / "src")
    home = workdir / "home"
    home.mkdir()
    set_up = time.time()
    setup.append((set_up, f"HEAD is now at {job.head_sha[:7]}"))
    argv = ["bash", "-c", job.command] if job.command else ["bash", SCRIPT_PATH]
    code, lines = run_command(argv, checkout, ci_environment(home, job), timeout)
    finished = time.time()
    conclusion, title, summary = _describe(job, code, timeout, finished - started)
    command = job.command or f"bash {SCRIPT_PATH}"
    steps = (
        Step("Set up job", "success", started, set_up),
        Step(
            f"Run {command.strip().splitlines()[0] if command.strip() else command}",
            "success" if code == 0 else "failure",
            set_up,
            finished,
        ),
        Step("Complete job", "success", finished, time.time()),
    )
    raw = b"\n".join(line for _, line in lines)
    output = tuple((stamp, line.decode("utf-8", errors="replace")) for stamp, line in lines)
    return CiResult(
        conclusion, title, summary, log_tail(raw), code, finished - started, command, steps, output, tuple(setup)
    )


def failed_to_start(job: CiJob, error: Exception) -> CiResult:
    """The result of a run whose checkout (or start) failed: "Set up job" failed."""
    now = time.time()
    return CiResult(
        "failure",
        "CI could not start",
        str(error),
        "",
        None,
        0.0,
        job.command or SCRIPT_PATH,
        (Step("Set up job", "failure", now, now),),
        (),
        ((now, str(error)),),
    )


@dataclass
class LocalCI:
    """A bounded pool of CI runs; `drain()` waits until none is queued or running."""

    sink: CheckSink
    workdir: Path
    concurrency: int = 2
    timeout: float = 600.0
    on_finished: list[Callable[[CiJob, CiResult], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir)
        self._pool = ThreadPoolExecutor(max_workers=max(1, self.concurrency), thread_name_prefix="localhub-ci")
        self._pending = Pending()

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
            result = failed_to_start(job, exc)
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
