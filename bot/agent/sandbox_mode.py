"""The ORCHESTRA_SANDBOX setting: which isolation the agent's commands get in this process, or why none may run.

| value | commands run |
|---|---|
| `auto` (default) | in bubblewrap when it works, else as a per-run unprivileged uid (needs root), else not at all |
| `bwrap` / `uid` | only that way; not at all when it cannot be used |
| `best-effort` | as `auto`, else unconfined with a warning (default of local mode, the demo, `orchestra agent run`) |
| `none` | unconfined: the explicit opt-in |

A worker running as root always hands commands to an unprivileged uid, inside bubblewrap too: a
command running as root could read whatever root can. docs/security.md says what each mode holds.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.agent.sandbox_uid import blocked_ancestor
from bot.errors import SandboxUnavailable

log = logging.getLogger(__name__)

SETTING = "ORCHESTRA_SANDBOX"
MODES = ("auto", "bwrap", "uid", "best-effort", "none")
DEFAULT = "auto"
#: The setting's default on one's own machine (local mode, the demo, `orchestra agent run`).
LOCAL_DEFAULT = "best-effort"
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
#: The uid the trial runs of a root process use (nobody): any unprivileged uid shows the same.
TRIAL_UID = 65534


@dataclass(frozen=True)
class Isolation:
    """How commands run: in bubblewrap, as a per-run uid, both, or unconfined (`why` says why)."""

    setting: str
    bwrap: bool
    uid: bool
    why: str = ""

    @property
    def confined(self) -> bool:
        return self.bwrap or self.uid

    def label(self, uid: int | None = None) -> str:
        """What a `CommandResult.isolation` says: `bwrap`, `bwrap+uid 20003`, `uid 20003`, `none (…)`, or
        `bwrap (…)` when a root worker's `best-effort` sandbox could not hand the command to another uid."""
        if not self.confined:
            return f"none ({self.why})"
        if not self.uid:
            return f"bwrap ({self.why})" if self.why else "bwrap"
        name = "bwrap+uid" if self.bwrap else "uid"
        return f"{name} {uid}" if uid is not None else name

    def without_uid(self, why: str) -> Isolation:
        """This isolation minus the uid (`best-effort` only), saying why."""
        return Isolation(self.setting, bwrap=self.bwrap, uid=False, why=f"{why}; {SETTING}={self.setting}")


def setpriv_argv(uid: int) -> list[str]:
    """The prefix that runs the rest of an argv as `uid` (and its own gid), no groups, no new privileges."""
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs", "--"]


def _trial(argv: list[str]) -> tuple[bool, str]:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, env={"PATH": DEFAULT_PATH}, cwd="/")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    if done.returncode != 0:
        return False, done.stderr.strip()[:200] or f"exit {done.returncode}"
    return True, ""


@functools.cache
def uid_status() -> tuple[bool, str]:
    """Whether commands can be run as another uid here (root, and setpriv from util-linux) and, if not, why."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return (
            False,
            f"uid fallback needs root (the worker runs as uid {os.geteuid() if hasattr(os, 'geteuid') else '?'})",
        )
    if shutil.which("setpriv", path=DEFAULT_PATH) is None:
        return False, "uid fallback needs setpriv (util-linux), which is not installed"
    works, why = _trial([*setpriv_argv(TRIAL_UID), "true"])
    return (True, "uid") if works else (False, f"uid fallback unusable: {why}")


@functools.cache
def bwrap_status() -> tuple[bool, str]:
    """Whether bubblewrap works here (one trial run per process, as the uid commands would use) and, if not, why."""
    binary = shutil.which("bwrap")
    if binary is None:
        return False, "bwrap not installed"
    trial = [
        binary,
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
        "--unshare-net",
        "--unshare-pid",
        "--die-with-parent",
        "true",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and uid_status()[0]:
        trial = [*setpriv_argv(TRIAL_UID), *trial]
    works, why = _trial(trial)
    return (True, "bwrap") if works else (False, f"bwrap unusable: {why}")


def setting(environ: Mapping[str, str] | None = None) -> str:
    """The value of ORCHESTRA_SANDBOX (default `auto`); SandboxUnavailable when it is not one of MODES."""
    value = ((os.environ if environ is None else environ).get(SETTING) or DEFAULT).strip().lower()
    if value not in MODES:
        raise SandboxUnavailable(f"{SETTING}={value!r} is not a sandbox mode; use one of {', '.join(MODES)}")
    return value


def resolve(mode: str | None = None, environ: Mapping[str, str] | None = None) -> Isolation:
    """The isolation `mode` (default: the setting) gives here; SandboxUnavailable when it cannot be had."""
    return _resolve(mode or setting(environ))


@functools.cache
def _resolve(mode: str) -> Isolation:
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    (bwrap_ok, bwrap_why), (uid_ok, uid_why) = bwrap_status(), uid_status()
    if mode == "none":
        chosen = Isolation(mode, bwrap=False, uid=False, why=f"{SETTING}=none")
    elif mode in ("auto", "best-effort", "bwrap") and bwrap_ok and (uid_ok or not root):
        chosen = Isolation(mode, bwrap=True, uid=root)
    elif mode in ("auto", "best-effort", "uid") and uid_ok:
        chosen = Isolation(mode, bwrap=False, uid=True)
    elif mode == "best-effort" and bwrap_ok:  # a root worker without the uid fallback: bubblewrap alone
        chosen = Isolation(mode, bwrap=True, uid=False, why=f"as root: {uid_why}; {SETTING}={mode}")
    else:
        bwrap_reason = "bwrap would run them as root" if bwrap_ok else bwrap_why
        reasons = {"bwrap": [bwrap_reason] + ([uid_why] if bwrap_ok else []), "uid": [uid_why]}.get(
            mode, [bwrap_reason, uid_why]
        )
        if mode != "best-effort":
            raise SandboxUnavailable(
                f"{SETTING}={mode}: agent commands cannot be confined here ({'; '.join(reasons)}); "
                f"see docs/security.md, or set {SETTING}=none to run them unconfined"
            )
        chosen = Isolation(mode, bwrap=False, uid=False, why=f"{'; '.join(reasons)}; {SETTING}=best-effort")
    level = logging.INFO if chosen.confined else logging.WARNING
    log.log(
        level,
        "agent sandbox (%s=%s): %s%s",
        SETTING,
        mode,
        chosen.label(),
        "" if chosen.confined else ": commands run unconfined",
    )
    return chosen


def check_reachable(*directories: Path, mode: str | None = None) -> Isolation:
    """The isolation here, after checking that its uid (if any) can reach files in `directories`.

    A worker checks its worktrees' directory and the temporary directory at start, so a state dir
    under a private directory fails there, once, rather than in every job. SandboxUnavailable.
    """
    chosen = resolve(mode)
    if chosen.uid and chosen.setting != "best-effort":
        for directory in directories:
            blocked = blocked_ancestor(directory / "x")
            if blocked is not None:
                raise SandboxUnavailable(
                    f"{SETTING}={chosen.setting}: the sandbox's uids cannot reach {directory}: {blocked} is not "
                    f"searchable by other users; give it o+x or move that directory"
                )
    return chosen


def prefer_local_default() -> None:
    """On one's own machine: unless ORCHESTRA_SANDBOX is set, fall back to unconfined commands (`best-effort`).

    Set in the process environment, so worker processes this one starts (local mode's `--redis`) inherit it.
    """
    os.environ.setdefault(SETTING, LOCAL_DEFAULT)


def warn_if_unconfined() -> None:
    """Print one line to stderr when agent commands here would run unconfined (or not at all)."""
    try:
        chosen = resolve()
    except SandboxUnavailable as exc:
        print(f"orchestra: {exc}", file=sys.stderr)
        return
    if not chosen.confined:
        print(
            f"orchestra: agent sandbox: {chosen.label()}: agent commands run unconfined on this machine",
            file=sys.stderr,
        )


def reset() -> None:
    """Forget the trial runs and resolutions (tests that change what this process may do)."""
    bwrap_status.cache_clear()
    uid_status.cache_clear()
    _resolve.cache_clear()
