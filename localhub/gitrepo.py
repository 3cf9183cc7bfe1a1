"""Read and change a bare git repository by running git (no global config is read or written)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

ZERO_SHA = "0" * 40
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0"}


class GitFailed(RuntimeError):
    """A git command failed (stderr is the message)."""


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: list[str]
    author_name: str
    author_email: str
    author_date: str
    committer_name: str
    committer_email: str
    committer_date: str
    message: str


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    type: str  # blob, tree, commit
    sha: str
    size: int
    path: str


def git_env() -> dict[str, str]:
    return {**os.environ, **GIT_ENV}


class BareRepo:
    """One bare repository under the state dir."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def run(self, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
        result = subprocess.run(["git", *args], cwd=self.path, env=git_env(), input=input, capture_output=True)
        if check and result.returncode != 0:
            raise GitFailed(f"git {' '.join(args)}: {result.stderr.decode(errors='replace').strip()}")
        return result.stdout

    def text(self, *args: str, check: bool = True) -> str:
        return self.run(*args, check=check).decode(errors="replace")

    def init(self, default_branch: str) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self.run("init", "-q", "--bare", "-b", default_branch)
        self.run("config", "http.receivepack", "true")
        self.run("config", "uploadpack.allowAnySHA1InWant", "true")

    def refs(self, prefix: str = "refs/") -> dict[str, str]:
        out = self.text("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        pairs = (line.split(" ", 1) for line in out.splitlines() if line)
        return {ref: sha for ref, sha in pairs}

    def branches(self) -> dict[str, str]:
        return {ref.removeprefix("refs/heads/"): sha for ref, sha in self.refs("refs/heads/").items()}

    def resolve(self, rev: str) -> str | None:
        """The commit sha of a branch, tag or sha (None if unknown)."""
        out = self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        return out.decode().strip() or None

    def commit(self, sha: str) -> CommitInfo:
        fmt = "%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"
        fields = self.text("show", "-s", f"--format={fmt}", sha).split("\x00")
        return CommitInfo(
            fields[0],
            fields[1],
            fields[2].split(),
            fields[3],
            fields[4],
            _utc(fields[5]),
            fields[6],
            fields[7],
            _utc(fields[8]),
            fields[9].rstrip("\n"),
        )

    def log(self, old: str, new: str, limit: int = 20) -> list[CommitInfo]:
        """Commits in `new` not in `old`, oldest first (as a push event lists them)."""
        spec = new if old == ZERO_SHA else f"{old}..{new}"
        shas = self.text("rev-list", "--reverse", f"--max-count={limit}", spec).split()
        return [self.commit(s) for s in shas]

    def changed_files(self, sha: str) -> dict[str, list[str]]:
        """added/removed/modified paths of a commit against its first parent."""
        out = self.text("diff-tree", "--no-commit-id", "-r", "--name-status", "--root", sha)
        changes: dict[str, list[str]] = {"added": [], "removed": [], "modified": []}
        for line in out.splitlines():
            status, _, path = line.partition("\t")
            key = {"A": "added", "D": "removed"}.get(status[:1], "modified")
            changes[key].append(path.split("\t")[-1])
        return changes

    def entry(self, rev: str, path: str) -> TreeEntry | None:
        if not path:
            tree = self.text("rev-parse", f"{rev}^{{tree}}").strip()
            return TreeEntry("040000", "tree", tree, 0, "")
        out = self.text("ls-tree", "-l", rev, "--", path, check=False).strip()
        return _parse_entry(out) if out else None

    def list_tree(self, rev: str, path: str) -> list[TreeEntry]:
        spec = f"{rev}:{path}" if path else rev
        prefix = f"{path}/" if path else ""
        out = self.text("ls-tree", "-l", spec)
        return [_parse_entry(line, prefix) for line in out.splitlines() if line]

    def blob(self, sha: str) -> bytes:
        return self.run("cat-file", "blob", sha)

    def is_ancestor(self, old: str, new: str) -> bool:
        result = subprocess.run(
            ["git", "merge-base", "--is-ancestor", old, new], cwd=self.path, env=git_env(), capture_output=True
        )
        return result.returncode == 0

    def update_ref(self, ref: str, new: str, old: str | None = None) -> None:
        self.run("update-ref", ref, new, *([old] if old else []))

    def delete_ref(self, ref: str) -> None:
        self.run("update-ref", "-d", ref)


def _parse_entry(line: str, prefix: str = "") -> TreeEntry:
    meta, _, path = line.partition("\t")
    mode, kind, sha, size = meta.split()
    return TreeEntry(mode, kind, sha, int(size) if size.isdigit() else 0, prefix + path)


def _utc(iso: str) -> str:
    """git's strict ISO date (with offset) as GitHub's `...Z` UTC form."""
    from datetime import UTC, datetime

    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
