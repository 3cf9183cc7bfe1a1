"""Helpers for sandbox tests: directories and an interpreter that a sandbox's unprivileged uid can reach.

pytest's temporary directories live under `/tmp/pytest-of-USER` (mode 0700), which another uid
cannot enter; a worker's state dir is searchable by others (the image makes it 0711). And the
test's own interpreter may live where only its user can go (e.g. under /root).
"""

from __future__ import annotations

import os
import shutil
import site
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.agent import sandbox_mode
from bot.agent.sandbox_uid import blocked_ancestor

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
UID_OK, UID_WHY = sandbox_mode.uid_status()


@contextmanager
def reachable_dir(prefix: str = "orchestra-test-") -> Iterator[Path]:
    """A fresh directory under /tmp that other users may search (0711), removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o711)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _runnable_by_others(path: str) -> bool:
    real = Path(os.path.realpath(path))
    return blocked_ancestor(real) is None and bool(real.stat().st_mode & stat.S_IXOTH)


def python_for_others() -> tuple[str, dict[str, str]] | None:
    """An interpreter of this Python version other uids may run, with the PYTHONPATH that gives it
    this environment's packages (None when there is none)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, shutil.which(version, path="/usr/local/bin:/usr/bin:/bin")):
        if candidate and _runnable_by_others(candidate):
            paths = [p for p in site.getsitepackages() if blocked_ancestor(Path(p)) is None]
            return candidate, {"PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]), *paths])}
    return None
