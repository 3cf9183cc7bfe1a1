"""The uid side of the sandbox: a per-run unprivileged uid, the worktree lent to it, and what it leaves behind.

A root worker leases one uid of ORCHESTRA_SANDBOX_UIDS (default 20000-20063) per sandbox, with an
fcntl lock in ORCHESTRA_SANDBOX_LOCK_DIR, so no two sandboxes sharing that directory (the workers
of one machine, or of one state volume) use the same uid at once. The worktree is lent to the uid
for the run: its entries are chowned to it and its top directory becomes group-writable for it
(sticky, so the worker-owned `.git` file can be neither replaced nor removed). After every command
each process of the uid is killed; at the end the worktree is given back, and what the uid left in
the world-writable directories is removed. Nothing here follows a symlink, and a file with more
than one hard link is never handed over (it could be a file outside the worktree).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import signal
import stat
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

from bot.errors import SandboxUnavailable

log = logging.getLogger(__name__)

UIDS_SETTING = "ORCHESTRA_SANDBOX_UIDS"
DEFAULT_UIDS = "20000-20063"
LOCK_DIR_SETTING = "ORCHESTRA_SANDBOX_LOCK_DIR"
DEFAULT_LOCK_DIR = "/run/orchestra-sandbox"
#: World-writable places a command may leave files in (each swept after a run, two levels deep).
SHARED_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/dev/mqueue")
KILL_DEADLINE_S = 10.0


def uid_range(environ: Mapping[str, str] | None = None) -> range:
    """The uids ORCHESTRA_SANDBOX_UIDS names (`FIRST-LAST`, both included, all above 999)."""
    text = (os.environ if environ is None else environ).get(UIDS_SETTING) or DEFAULT_UIDS
    first, sep, last = text.partition("-")
    try:
        span = range(int(first), int(last or first) + 1)
    except ValueError:
        raise SandboxUnavailable(f"{UIDS_SETTING}={text!r}: expected FIRST-LAST, e.g. {DEFAULT_UIDS}") from None
    if not span or span.start < 1000 or span.stop > 65535:
        raise SandboxUnavailable(f"{UIDS_SETTING}={text!r}: the uids must lie within 1000-65534")
    return span


class UidLease:
    """One uid of the range, held (by an fcntl lock) until `release()`."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        lock_dir = Path(env.get(LOCK_DIR_SETTING) or DEFAULT_LOCK_DIR)
        _private_dir(lock_dir)
        self.uid, self._handle = _lease(lock_dir, uid_range(env))

    def release(self) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
        self._handle.close()


def _private_dir(path: Path) -> None:
    """Create `path` (0700) or check that an existing one belongs to this user and no one else may write it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise SandboxUnavailable(
            f"{LOCK_DIR_SETTING}: {path} must be a directory of uid {os.geteuid()} that no one else can write"
        )


def _lease(lock_dir: Path, uids: range) -> tuple[int, IO[str]]:
    for uid in uids:
        handle = open(lock_dir / f"{uid}.lock", "a+")  # noqa: SIM115 (held until release)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        leftovers = kill_all(uid)  # a sandbox of a worker that died: its uid is free, its processes are not
        if leftovers:
            log.warning("sandbox uid %d: killed %d processes left by an earlier run", uid, leftovers)
        return uid, handle
    raise SandboxUnavailable(
        f"all {len(uids)} sandbox uids ({uids.start}-{uids.stop - 1}) are in use; widen {UIDS_SETTING}"
    )


def processes_of(uid: int) -> list[int]:
    """Live (not zombie) processes whose real, effective, saved or filesystem uid is `uid`."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(entry.path, "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if str(uid) in fields.get("Uid", "").split() and not fields.get("State", "").strip().startswith(("Z", "X")):
            found.append(int(entry.name))
    return found


def kill_all(uid: int) -> int:
    """SIGKILL every process of `uid` until none is left; how many were killed."""
    killed: set[int] = set()
    deadline = time.monotonic() + KILL_DEADLINE_S
    while pids := processes_of(uid):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
        if time.monotonic() > deadline:
            raise SandboxUnavailable(f"sandbox uid {uid}: processes {pids[:5]} survive SIGKILL")
        time.sleep(0.01)  # the kernel needs a moment to tear the killed processes down
    return len(killed)


def _entries(top: Path) -> Iterator[tuple[str, os.stat_result]]:
    """Every entry below `top` (not `top/.git`, never through a symlink), with its lstat."""
    for dirpath, dirnames, filenames in os.walk(top):
        if dirpath == str(top):
            dirnames[:] = [d for d in dirnames if d != ".git"]
            filenames = [f for f in filenames if f != ".git"]
        for name in (*dirnames, *filenames):
            path = os.path.join(dirpath, name)
            with contextlib.suppress(FileNotFoundError):
                yield path, os.lstat(path)


def lend(top: Path, uid: int) -> None:
    """Give `uid` write access to the worktree `top` (entries it does not own yet are chowned to it)."""
    info = top.lstat()
    os.chown(top, info.st_uid, uid)
    os.chmod(top, 0o1770)  # group `uid` may add and remove its own entries; `.git` stays the worker's
    for path, entry in _entries(top):
        if entry.st_uid == uid:
            continue
        if not stat.S_ISDIR(entry.st_mode) and not stat.S_ISLNK(entry.st_mode) and entry.st_nlink > 1:
            continue  # a hard link may be a file outside the worktree
        os.chown(path, uid, uid, follow_symlinks=False)


def reclaim(top: Path, uid: int, owner: tuple[int, int, int]) -> None:
    """Give the worktree back: entries of `uid` to the worker (`owner` = uid, gid, mode of `top` before)."""
    for path, entry in _entries(top):
        if entry.st_uid == uid or entry.st_gid == uid:
            os.chown(path, owner[0], owner[1], follow_symlinks=False)
    os.chown(top, owner[0], owner[1])
    os.chmod(top, stat.S_IMODE(owner[2]))


def sweep_shared(uid: int, places: tuple[str, ...] = SHARED_DIRS) -> list[str]:
    """Remove what `uid` left in the world-writable directories (two levels deep); the paths removed."""
    removed: list[str] = []
    pending = [(place, 0) for place in places]
    while pending:
        directory, depth = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if info.st_uid == uid:
                _remove(entry.path, info)
                removed.append(entry.path)
            elif stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_IWOTH and depth < 1:
                pending.append((entry.path, depth + 1))
    return removed


def _remove(path: str, info: os.stat_result) -> None:
    with contextlib.suppress(OSError):
        if stat.S_ISDIR(info.st_mode):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)


def blocked_ancestor(path: Path) -> Path | None:
    """The first directory on the way to `path` that other users may not search (no o+x), if any."""
    current = Path("/")
    for part in path.resolve().parts[1:]:
        try:
            mode = current.stat().st_mode
        except OSError:
            return current
        if not mode & stat.S_IXOTH:
            return current
        current = current / part
    return None
