"""The sandbox the agent's `run` tool executes commands in: confined cwd, allow-listed env, timeout, bwrap or a uid.

What it guarantees and what it does not is written down in docs/security.md. In short: the
environment is built from an allow-list (no token, key, Redis URL or webhook secret can reach
a command, whatever the parent holds), the command runs in its own session and the whole
process group is killed on timeout, and output is capped. Which isolation comes on top is the
ORCHESTRA_SANDBOX setting (bot/agent/sandbox_mode.py): in bubblewrap the command has no network,
its own PID namespace and a read-only filesystem outside the worktree; a root worker also runs it
as a per-run unprivileged uid (bot/agent/sandbox_uid.py), which cannot read the worker's
environment or key and can write only the worktree it is lent. With neither, commands do not run
unless the setting is `none` (or `best-effort` on one's own machine).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from pydantic import BaseModel

from bot.agent import sandbox_mode, sandbox_uid
from bot.agent.sandbox_mode import DEFAULT_PATH, bwrap_status
from bot.agent.sandbox_uid import UidLease
from bot.errors import SandboxUnavailable

__all__ = ["DEFAULT_PATH", "CommandResult", "Sandbox", "bwrap_status", "sandbox_env"]

#: Names copied from the parent environment; everything else is dropped.
ALLOWED_ENV = ("PATH", "LANG", "LC_ALL", "TERM", "TZ")
#: Extras whose names match this are refused even when passed explicitly.
SECRET_NAME = re.compile(
    r"^(GITHUB_|GH_|ORCHESTRA_|OPENAI_|ANTHROPIC_|REDIS_)|TOKEN|SECRET|PASSWORD|API_KEY|PRIVATE_KEY",
    re.IGNORECASE,
)


class CommandResult(BaseModel):
    """What one sandboxed command did."""

    command: str
    exit_code: int | None
    output: str
    timed_out: bool = False
    duration_s: float = 0.0
    #: Bytes of output dropped by the cap (the middle of the output is dropped, head and tail kept).
    omitted_bytes: int = 0
    #: "bwrap", "bwrap+uid 20003", "uid 20003" or "none (<why>)" (bot/agent/sandbox_mode.py).
    isolation: str = "none"


def sandbox_env(
    home: Path, extra: Mapping[str, str] | None = None, parent: Mapping[str, str] | None = None
) -> dict[str, str]:
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
    """Runs shell commands for one agent run inside `workdir`; `close()` removes its temporary HOME.

    The isolation comes from `mode` (default: the ORCHESTRA_SANDBOX setting, see
    bot/agent/sandbox_mode.py); `use_bwrap=False` is `mode="none"`, `use_bwrap=True` is
    `mode="bwrap"`. SandboxUnavailable when the mode cannot be had here.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        timeout_s: float = 300,
        output_cap: int = 64_000,
        extra_env: Mapping[str, str] | None = None,
        use_bwrap: bool | None = None,
        mode: str | None = None,
    ) -> None:
        self.workdir = workdir.resolve()
        self.timeout_s = timeout_s
        self.output_cap = output_cap
        if mode is None and use_bwrap is not None:
            mode = "bwrap" if use_bwrap else "none"
        self.policy = sandbox_mode.resolve(mode)
        self.uid: int | None = None
        self._lease: UidLease | None = None
        self._owner: tuple[int, int, int] | None = None
        self._git_file = _git_file(self.workdir)
        self.home = Path(tempfile.mkdtemp(prefix="orchestra-home-"))
        self.env = sandbox_env(self.home, extra_env)
        try:
            if self.policy.uid:
                self._lend_to_uid()
            self._layout = self._bwrap_layout() if self.policy.bwrap else []
        except BaseException:
            self.close()
            raise
        self.isolation = self.policy.label(self.uid)

    @property
    def uses_bwrap(self) -> bool:
        return self.policy.bwrap

    def _lend_to_uid(self) -> None:
        """Lease a uid, give it the HOME (with a private TMPDIR) and lend it the worktree.

        The uid must be able to reach both (bubblewrap, which runs as that uid, too). When it
        cannot: SandboxUnavailable, or with `best-effort` the sandbox goes on without the uid.
        """
        for path in (self.workdir, self.home):
            blocked = sandbox_uid.blocked_ancestor(path)
            if blocked is not None:
                why = (
                    f"another uid cannot reach {path}: {blocked} is not searchable by other users "
                    f"(mode {stat.S_IMODE(blocked.stat().st_mode):o})"
                )
                if self.policy.setting != "best-effort":
                    raise SandboxUnavailable(f"agent sandbox: {why}; give it o+x or move that directory")
                self.policy = self.policy.without_uid(why)
                return
        self._lease = UidLease()
        uid = self.uid = self._lease.uid
        tmp = self.home / "tmp"
        tmp.mkdir(mode=0o700)
        # The worktree's top directory stays the worker's (so the worker's git trusts it): git in a command must too.
        (self.home / ".gitconfig").write_text("[safe]\n\tdirectory = *\n")
        for path in (self.home, tmp, self.home / ".gitconfig"):
            os.chown(path, uid, uid, follow_symlinks=False)
        self.env["TMPDIR"] = str(tmp)
        info = self.workdir.lstat()
        self._owner = (info.st_uid, info.st_gid, info.st_mode)
        sandbox_uid.lend(self.workdir, uid)

    def _bwrap_layout(self) -> list[str]:
        """The bwrap arguments between the read-only root and the namespace flags (see `argv`)."""
        layout = ["--tmpfs", "/tmp"]
        for path in _toolchain_paths(self.env):
            if _under(path, "/tmp"):  # a checkout or virtualenv under /tmp would vanish otherwise
                layout += ["--ro-bind", path, path]
        home, work = str(self.home), str(self.workdir)
        layout += ["--bind", home, home, "--bind", work, work]
        if (self.workdir / ".git").exists():  # hooks and config are run by git outside the sandbox
            layout += ["--ro-bind", f"{work}/.git", f"{work}/.git"]
        key = os.path.realpath(os.environ.get("ORCHESTRA_PRIVATE_KEY_PATH") or "/nonexistent")
        if os.path.isfile(key) and not _under(key, "/tmp"):
            layout += ["--ro-bind", "/dev/null", key]
        return layout

    def argv(self, command: str) -> list[str]:
        """The argv that runs `command` with this sandbox's isolation."""
        shell = ["/bin/sh", "-c", command]
        prefix = sandbox_mode.setpriv_argv(self.uid) if self.uid is not None else []
        if not self.uses_bwrap:
            return [*prefix, *shell]
        return [
            *prefix,
            "bwrap",
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            *self._layout,
            "--unshare-net",
            "--unshare-pid",
            "--unshare-ipc",
            "--die-with-parent",
            "--new-session",
            "--chdir",
            str(self.workdir),
            *shell,
        ]

    def run(self, command: str, timeout_s: float | None = None) -> CommandResult:
        """Run `command` with `sh -c` in the worktree; kill its whole process group on timeout."""
        limit = self.timeout_s if timeout_s is None else min(timeout_s, self.timeout_s)
        started = time.monotonic()
        if self.uid is not None:
            sandbox_uid.lend(self.workdir, self.uid)  # what the file tools wrote since the last command
        proc = subprocess.Popen(
            self.argv(command),
            cwd=self.workdir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
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
            if self.uid is not None:
                sandbox_uid.kill_all(self.uid)  # also what left the group (setsid, double fork)
            proc.wait()
        # A grandchild that left the group may hold the pipe open; do not wait on it forever.
        capture.join(timeout=5)
        output, omitted = capture.text()
        if self._restore_git_file():
            output += "\n[sandbox: the command replaced the worktree's .git file; it was restored]"
        return CommandResult(
            command=command,
            exit_code=None if timed_out else proc.returncode,
            output=output,
            timed_out=timed_out,
            duration_s=round(time.monotonic() - started, 3),
            omitted_bytes=omitted,
            isolation=self.isolation,
        )

    def _restore_git_file(self) -> bool:
        """Put back the worktree's `.git` file when a command replaced it; whether it had to."""
        if self._git_file is None:
            return False
        path = self.workdir / ".git"
        with contextlib.suppress(OSError):
            if stat.S_ISREG(path.lstat().st_mode) and path.read_bytes() == self._git_file:
                return False
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        path.write_bytes(self._git_file)
        if self._owner is not None:
            os.chown(path, self._owner[0], self._owner[1])
        return True

    def close(self) -> None:
        """Kill what is left of the uid, give the worktree back, sweep shared directories, remove HOME."""
        if self._lease is not None and self.uid is not None:
            try:
                sandbox_uid.kill_all(self.uid)
                if self._owner is not None:
                    sandbox_uid.reclaim(self.workdir, self.uid, self._owner)
                    self._owner = None
                sandbox_uid.sweep_shared(self.uid)
            finally:
                shutil.rmtree(self.home, ignore_errors=True)
                self._lease.release()
                self._lease = None
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _git_file(workdir: Path) -> bytes | None:
    """The content of the worktree's `.git` when it is a file (a git worktree), else None."""
    path = workdir / ".git"
    try:
        return path.read_bytes() if stat.S_ISREG(path.lstat().st_mode) else None
    except OSError:
        return None


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _toolchain_paths(env: Mapping[str, str]) -> list[str]:
    """The interpreter's prefixes and the PATH directories (real paths), which commands need to see."""
    keep: list[str] = []
    for entry in (sys.prefix, sys.base_prefix, *env.get("PATH", "").split(os.pathsep)):
        path = os.path.realpath(entry) if entry else ""
        if path and os.path.isdir(path) and path not in keep:
            keep.append(path)
    return keep


def _kill_group(pgid: int) -> None:
    """SIGKILL every process left in the command's process group (its session leader's group)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
