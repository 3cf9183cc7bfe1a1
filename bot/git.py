"""Git for every part of the bot: one bare mirror per repository, its lock, worktrees, the environment, credentials.

The planner (a read-only checkout of the default branch), the workers (a worktree per job),
the agent (status and file listings of its worktree) and local mode (the user's repository)
all run git through `run_git` with `base_env`. Per repository there is one mirror under the
state dir (`mirrors/<owner>__<repo>.git`) with one lock file; every branch is fetched into
`refs/remotes/origin/*` and nothing is ever pruned from under another job.

Mechanical merges: the paths of `union_paths` (changelog-like files) are merged keeping both sides
with a merge driver of ours (`bot/unionmerge.py`): unlike git's built-in `union`, it keeps the blank
line between two changelog entries, and unlike `merge-file --union --diff3` it writes a heading both
sides added only once. The attribute lives in a file under the state dir given to each merge as
`core.attributesFile`, the driver in `-c` options of that one command; nothing is written into the
repository or its configuration.

Credentials never touch disk: each command that talks to the forge gets the `Authorization`
header through `GIT_CONFIG_COUNT/KEY/VALUE` in its own environment (`Forge.git_env()`), and the
remote is a plain URL given on the command line — nothing lands in `.git/config`, a remote URL,
a log line or the agent's sandbox. No global or system git config is read (`GIT_CONFIG_GLOBAL`
is /dev/null) and nothing changes the process's working directory. Concurrent jobs share a
mirror safely: a file lock (fcntl) serialises fetches and worktree bookkeeping; worktrees are
detached, so two jobs on one branch never fight over a checked-out ref. Git runs as plain
subprocesses: each command's environment is explicit, which is what the credential rule needs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot import unionmerge
from bot.errors import GitFailed, GitMissing, PushDeclined

if TYPE_CHECKING:
    from bot.forge.client import Forge

log = logging.getLogger(__name__)

#: Where fetched branches live in the mirror (remote-tracking refs, never checked out).
REMOTE_PREFIX = "refs/remotes/origin/"
GIT_TIMEOUT_S = 600


@dataclass(frozen=True)
class Identity:
    """Who the bot's commits are by."""

    name: str
    email: str


def base_env(identity: Identity | None = None) -> dict[str, str]:
    """A minimal environment for git: no global/system config, no prompts, the bot's identity."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": os.devnull,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
    }
    if identity is not None:
        env |= {
            "GIT_AUTHOR_NAME": identity.name,
            "GIT_AUTHOR_EMAIL": identity.email,
            "GIT_COMMITTER_NAME": identity.name,
            "GIT_COMMITTER_EMAIL": identity.email,
        }
    return env


def run_git(
    args: list[str], *, cwd: Path, env: Mapping[str, str], check: bool = True, timeout: float = GIT_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    """Run one git command; GitFailed (with stderr, never the environment) when `check` and it fails."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise GitFailed(f"`git {args[0]}` timed out after {timeout:g}s") from exc
    except FileNotFoundError as exc:
        raise GitMissing(missing_git_message(env.get("PATH", ""))) from exc
    if check and done.returncode != 0:
        raise GitFailed(
            f"`git {' '.join(_printable(args))}` failed (exit {done.returncode}): {done.stderr.strip()[-1500:]}"
        )
    return done


def missing_git_message(path: str) -> str:
    """The one line said when git cannot be found."""
    return f"git is not installed: no `git` program on PATH ({path or 'empty'}); install git and run again"


def git_entries(cwd: Path, *args: str, timeout: float = 60) -> list[str] | None:
    """The NUL-separated entries a `-z` git command prints (ls-files, status), or None when git
    cannot answer (not a checkout, git missing, timed out): callers fall back to walking files."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=base_env(), capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return [entry for entry in done.stdout.decode("utf-8", "replace").split("\0") if entry]


def _printable(args: list[str]) -> list[str]:
    return [re.sub(r"://[^/@]*@", "://", a) for a in args]


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive fcntl lock on `path` (created if needed), held for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class Worktree:
    """One job's checkout (detached HEAD) in a temporary directory."""

    def __init__(self, path: Path, mirror: Mirror) -> None:
        self.path = path
        self.mirror = mirror

    def git(self, *args: str, check: bool = True, auth: bool = False) -> subprocess.CompletedProcess[str]:
        env = base_env(self.mirror.identity)
        if auth:
            env |= self.mirror.auth_env()
        return run_git(list(args), cwd=self.path, env=env, check=check)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").stdout.strip()

    def commit_all(self, message: str) -> str | None:
        """Stage everything and commit; the new sha, or None when there was nothing to commit."""
        self.git("add", "-A")
        if self.git("diff", "--cached", "--quiet", check=False).returncode == 0 and not self.merging():
            return None
        self.git("commit", "-q", "--no-verify", "-m", message)
        return self.head()

    def merging(self) -> bool:
        """True while a merge is in progress (MERGE_HEAD exists)."""
        return self.git("rev-parse", "-q", "--verify", "MERGE_HEAD", check=False).returncode == 0

    def merge_head(self) -> str:
        """The commit being merged in (MERGE_HEAD) while a merge is in progress."""
        return self.git("rev-parse", "MERGE_HEAD").stdout.strip()

    def merge(self, ref: str, message: str) -> list[str]:
        """Merge `ref` into HEAD; the conflicted paths (the merge stays in progress), or [] when clean.

        Paths of the mirror's `union_paths` are merged keeping both sides, so they never conflict.
        """
        attributes = self.mirror.merge_attributes()
        extra = ["-c", f"core.attributesFile={attributes}", *UNION_DRIVER_OPTIONS] if attributes else []
        done = self.git(*extra, "merge", "--no-ff", "--no-edit", "-m", message, ref, check=False)
        conflicted = self.conflicted()
        if done.returncode != 0 and not conflicted:
            raise GitFailed(f"`git merge {ref}` failed: {done.stderr.strip()[-1500:] or done.stdout.strip()[-1500:]}")
        return conflicted

    def abort_merge(self) -> None:
        """Give up a merge in progress (the worktree is back at HEAD)."""
        self.git("merge", "--abort", check=False)

    def conflicted(self) -> list[str]:
        out = self.git("diff", "--name-only", "--diff-filter=U").stdout
        return [line for line in out.splitlines() if line.strip()]

    def push(self, branch: str) -> bool:
        """Push HEAD to `branch` (no force); False when the forge rejected it as not a fast-forward."""
        done = self.git(
            "push", "--porcelain", self.mirror.remote_url, f"HEAD:refs/heads/{branch}", check=False, auth=True
        )
        return push_outcome(done, branch) == PUSHED


PUSHED, STALE = "pushed", "stale"


def push_outcome(done: subprocess.CompletedProcess[str], branch: str) -> str:
    """PUSHED, or STALE when the forge refused a push that is not a fast-forward (the branch moved).

    A push the forge declines for another reason (a protected branch, a hook, a ruleset) is
    PushDeclined with the forge's words: fetching and trying again cannot help.
    """
    if done.returncode == 0:
        return PUSHED
    text = f"{done.stdout}\n{done.stderr}"
    if re.search(r"non-fast-forward|fetch first|stale info|\[rejected\]", text):
        return STALE
    if re.search(r"remote rejected|declined|protected branch|\bGH0\d\d\b", text):
        said = [
            line.strip().removeprefix("remote:").strip()
            for line in text.splitlines()
            if line.strip().startswith("remote:") or "rejected" in line
        ]
        reason = " ".join(line for line in said if line) or text.strip()
        raise PushDeclined(f"the forge refused the push to `{branch}`: {reason[-800:]}")
    raise GitFailed(f"push to {branch} failed: {done.stderr.strip()[-1500:]}")


#: The merge driver of `union_paths`: both sides whole, ours first (see the module docstring).
UNION_DRIVER = "orchestra-union"
UNION_DRIVER_OPTIONS = (
    "-c",
    f"merge.{UNION_DRIVER}.name=keep both sides",
    "-c",
    f"merge.{UNION_DRIVER}.driver={shlex.quote(sys.executable)} {shlex.quote(unionmerge.__file__)} %A %O %B",
)


def attributes_text(union_paths: Sequence[str]) -> str:
    """The gitattributes lines that merge `union_paths` keeping both sides."""
    return "".join(f"{pattern} merge={UNION_DRIVER}\n" for pattern in union_paths)


def mirror_path(state_dir: Path, repo: str) -> Path:
    """Where the one bare mirror of `repo` (``owner/name``) lives under `state_dir`."""
    return Path(state_dir) / "mirrors" / (re.sub(r"[^A-Za-z0-9._-]", "__", repo) + ".git")


class Mirror:
    """The bare mirror of one repository under the state dir, and detached worktrees made from it."""

    def __init__(
        self,
        state_dir: Path,
        repo: str,
        remote_url: str,
        auth_env: Callable[[], Mapping[str, str]],
        identity: Identity | None = None,
        union_paths: Sequence[str] = (),
    ) -> None:
        self.repo = repo
        self.remote_url = remote_url
        self.auth_env = auth_env
        self.identity = identity
        self.union_paths = tuple(union_paths)
        self.path = mirror_path(state_dir, repo)
        self.lock_path = self.path.with_suffix(".lock")
        self.worktrees_dir = Path(state_dir) / "worktrees"
        self.attributes_dir = Path(state_dir) / "merge-attributes"

    @classmethod
    def of(
        cls, forge: Forge, state_dir: Path, identity: Identity | None = None, union_paths: Sequence[str] = ()
    ) -> Mirror:
        """The mirror of the forge's repository, fetched with the forge's credentials."""
        return cls(state_dir, forge.repo_full_name, forge.git_remote_url(), forge.git_env, identity, union_paths)

    def merge_attributes(self) -> Path | None:
        """The attributes file that makes `union_paths` merge keeping both sides (None without any).

        Named by its content, so jobs with other settings never rewrite a file another job reads.
        """
        if not self.union_paths:
            return None
        text = attributes_text(self.union_paths)
        path = self.attributes_dir / f"{hashlib.sha256(text.encode()).hexdigest()[:16]}.gitattributes"
        if not path.exists():
            self.attributes_dir.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(text)
            temporary.replace(path)
        return path

    def _git(self, *args: str, auth: bool = False, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = base_env(self.identity) | (dict(self.auth_env()) if auth else {})
        return run_git(list(args), cwd=self.path, env=env, check=check)

    def fetch(self) -> None:
        """Create the mirror on first use, then fetch every branch into `refs/remotes/origin/*`."""
        with file_lock(self.lock_path):
            if not (self.path / "HEAD").exists():
                self.path.mkdir(parents=True, exist_ok=True)
                self._git("init", "-q", "--bare")
            self._git(
                "fetch", "-q", "--prune", "--no-tags", self.remote_url, f"+refs/heads/*:{REMOTE_PREFIX}*", auth=True
            )

    def sha(self, branch: str) -> str | None:
        """The fetched tip of `branch`, or None when the forge has no such branch (or nothing was fetched yet)."""
        if not (self.path / "HEAD").exists():
            return None
        done = self._git("rev-parse", "-q", "--verify", f"{REMOTE_PREFIX}{branch}^{{commit}}", check=False)
        return done.stdout.strip() if done.returncode == 0 else None

    def log_messages(self, since: str, until: str, limit: int = 20) -> list[str]:
        """Subject and body of the commits in `since..until` (first parent only), newest first."""
        done = self._git("log", "--first-parent", f"-n{limit}", "--format=%s%n%n%b%x00", f"{since}..{until}")
        return [m.strip() for m in done.stdout.split("\0") if m.strip()]

    def merge_base(self, a: str, b: str) -> str | None:
        done = self._git("merge-base", a, b, check=False)
        return done.stdout.strip() if done.returncode == 0 else None

    def has(self, sha: str) -> bool:
        """True when the mirror holds commit `sha`."""
        return self._git("cat-file", "-e", f"{sha}^{{commit}}", check=False).returncode == 0

    def committed_at(self, sha: str) -> int:
        """When commit `sha` was made (its committer time, epoch seconds)."""
        return int(self._git("log", "-1", "--format=%ct", sha).stdout.strip())

    def commit(self, sha: str) -> tuple[list[str], str]:
        """A commit's parents and message."""
        parents = self._git("rev-list", "--parents", "-n1", sha).stdout.split()[1:]
        return parents, self._git("log", "-1", "--format=%B", sha).stdout

    def diffstat(self, since: str, until: str) -> str:
        """`git diff --stat since..until` (what changed between two commits, file by file)."""
        return self._git("diff", "--stat=100", f"{since}..{until}").stdout.rstrip()

    def commit_tree(self, tree_of: str, parents: Sequence[str], message: str) -> str:
        """A new commit with the tree of `tree_of`, these parents (in order) and `message`."""
        args = ["commit-tree", f"{tree_of}^{{tree}}"]
        for parent in parents:
            args += ["-p", parent]
        return self._git(*args, "-m", message).stdout.strip()

    def push_commit(self, sha: str, branch: str, *, force: bool = False) -> str:
        """Push commit `sha` to `branch` on the forge: PUSHED, or STALE when the branch moved (no force).

        PushDeclined when the forge declines it for another reason (a protected branch).
        """
        spec = f"{'+' if force else ''}{sha}:refs/heads/{branch}"
        done = self._git("push", "--porcelain", self.remote_url, spec, auth=True, check=False)
        return push_outcome(done, branch)

    @contextlib.contextmanager
    def checkout(self, branch: str) -> Iterator[Path]:
        """A fresh, detached, read-only-by-convention checkout of `branch` as the forge has it now."""
        self.fetch()
        with self.worktree(REMOTE_PREFIX + branch) as worktree:
            yield worktree.path

    @contextlib.contextmanager
    def worktree(self, start: str) -> Iterator[Worktree]:
        """A detached worktree at `start` (a sha or a ref) in a fresh temp dir, removed afterwards."""
        self.worktrees_dir.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix="wt-", dir=self.worktrees_dir))
        with file_lock(self.lock_path):
            self._git("worktree", "add", "-q", "--detach", str(path), start)
        try:
            yield Worktree(path, self)
        finally:
            with file_lock(self.lock_path):
                self._git("worktree", "remove", "--force", str(path), check=False)
                shutil.rmtree(path, ignore_errors=True)
                self._git("worktree", "prune", check=False)
