"""The sandbox the agent's `run` tool executes commands in: confined cwd, allow-listed env, timeout, bwrap.

What it guarantees and what it does not is written down in docs/security.md. In short: the
environment is built from an allow-list (no token, key, Redis URL or webhook secret can reach
a command, whatever the parent holds), the command runs in its own session and the whole
process group is killed on timeout, output is capped, and when bubblewrap works here the
command also has no network and sees the filesystem read-only outside the worktree.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from pydantic import BaseModel

#: Names copied from the parent environment; everything else is dropped.
ALLOWED_ENV = ("PATH", "LANG", "LC_ALL", "TERM", "TZ")
#: Extras whose names match this are refused even when passed explicitly.
SECRET_NAME = re.compile(
    r"^(GITHUB_|GH_|ORCHESTRA_|OPENAI_|ANTHROPIC_|REDIS_)|TOKEN|SECRET|PASSWORD|API_KEY|PRIVATE_KEY",
    re.IGNORECASE,
)
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"


class CommandResult(BaseModel):
    """What one sandboxed command did."""

    command: str
    exit_code: int | None
    output: str
    timed_out: bool = False
    duration_s: float = 0.0
    #: Bytes of output dropped by the cap (the middle of the output is dropped, head and tail kept).
    omitted_bytes: int = 0
    #: "bwrap" or "plain (<why bwrap is not used>)".
    isolation: str = "plain"


def sandbox_env(home: Path, extra: Mapping[str, str] | None = None, parent: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment a command gets: allow-listed names from `parent`, HOME, and `extra`.

    Built from nothing, so a secret can only get in through `extra`, which refuses secret-like names.
    """
    source = os.environ if parent is None else parent
    env = {name: source[name] for name in ALLOWED_ENV if source.get(name)}
    env.setdefault("PATH", DEFAULT_PATH)
    env.setdefault("LANG", "C.UTF-8")
    env["HOME"] = str(home)
    for name, value in (extra or {}).items():
        if SECRET_NAME.search(name):
            raise ValueError(f"sandbox: refusing to pass {name!r} into the sandbox (secret-like name)")
        env[name] = value
    return env


@functools.cache
def bwrap_status() -> tuple[bool, str]:
    """Whether bubblewrap works here (one trial run per process) and, if not, why."""
    binary = shutil.which("bwrap")
    if binary is None:
        return False, "bwrap not installed"
    trial = [binary, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
             "--unshare-net", "--unshare-pid", "--die-with-parent", "true"]
    try:
        done = subprocess.run(trial, capture_output=True, text=True, timeout=10, env={"PATH": DEFAULT_PATH})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bwrap unusable: {exc}"
    if done.returncode != 0:
        return False, f"bwrap unusable: {done.stderr.strip()[:200] or f'exit {done.returncode}'}"
    return True, "bwrap"


class _Capture:
    """Reads a pipe to its end, keeping the first and last `cap // 2` bytes."""

    def __init__(self, stream: IO[bytes], cap: int) -> None:
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self._half = max(1, cap // 2)
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[bytes]) -> None:
        for chunk in iter(lambda: os.read(stream.fileno(), 65536), b""):
            self.total += len(chunk)
            room = self._half - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self.tail += chunk
                del self.tail[: max(0, len(self.tail) - self._half)]
        stream.close()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def text(self) -> tuple[str, int]:
        omitted = self.total - len(self.head) - len(self.tail)
        head = self.head.decode("utf-8", "replace")
        tail = self.tail.decode("utf-8", "replace")
        if omitted > 0:
            return f"{head}\n[output truncated: {omitted:,} bytes omitted]\n{tail}", omitted
        return head + tail, 0


class Sandbox:
    """Runs shell commands for one agent run inside `workdir`; `close()` removes its temporary HOME."""

    def __init__(
        self,
        workdir: Path,
        *,
        timeout_s: float = 300,
        output_cap: int = 64_000,
        extra_env: Mapping[str, str] | None = None,
        use_bwrap: bool | None = None,
    ) -> None:
        self.workdir = workdir.resolve()
        self.timeout_s = timeout_s
        self.output_cap = output_cap
        self.home = Path(tempfile.mkdtemp(prefix="orchestra-home-"))
        self.env = sandbox_env(self.home, extra_env)
        works, why = bwrap_status()
        if use_bwrap is False:
            self.isolation = "plain (bwrap disabled)"
        elif works:
            self.isolation = "bwrap"
        else:
            self.isolation = f"plain ({why})"

    @property
    def uses_bwrap(self) -> bool:
        return self.isolation == "bwrap"

    def argv(self, command: str) -> list[str]:
        """The argv that runs `command` with this sandbox's isolation."""
        shell = ["/bin/sh", "-c", command]
        if not self.uses_bwrap:
            return shell
        work, home = str(self.workdir), str(self.home)
        return [
            "bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
            *self._toolchain_binds(), "--bind", home, home, "--bind", work, work,
            "--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent", "--new-session",
            "--chdir", work, *shell,
        ]

    def _toolchain_binds(self) -> list[str]:
        """Read-only binds that re-expose, above the private /tmp, the interpreter and the PATH
        directories that live under /tmp (a checkout or virtualenv there would vanish otherwise)."""
        keep: list[str] = []
        candidates = [sys.prefix, sys.base_prefix, *self.env.get("PATH", "").split(os.pathsep)]
        for entry in candidates:
            path = os.path.realpath(entry) if entry else ""
            if path.startswith("/tmp/") and os.path.isdir(path) and path not in keep:
                keep.append(path)
        return [arg for path in keep for arg in ("--ro-bind", path, path)]

    def run(self, command: str, timeout_s: float | None = None) -> CommandResult:
        """Run `command` with `sh -c` in the worktree; kill its whole process group on timeout."""
        limit = self.timeout_s if timeout_s is None else min(timeout_s, self.timeout_s)
        started = time.monotonic()
        proc = subprocess.Popen(
            self.argv(command), cwd=self.workdir, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        assert proc.stdout is not None
        capture = _Capture(proc.stdout, self.output_cap)
        timed_out = False
        try:
            proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_group(proc.pid)
            proc.wait()
        # A grandchild that left the group may hold the pipe open; do not wait on it forever.
        capture.join(timeout=5)
        output, omitted = capture.text()
        return CommandResult(
            command=command, exit_code=None if timed_out else proc.returncode, output=output,
            timed_out=timed_out, duration_s=round(time.monotonic() - started, 3),
            omitted_bytes=omitted, isolation=self.isolation,
        )

    def close(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _kill_group(pgid: int) -> None:
    """SIGKILL every process left in the command's process group (its session leader's group)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
