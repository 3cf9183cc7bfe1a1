"""Git plumbing on bare repositories: mergeability, merge/squash/rebase commits, refs, diffs, checkouts.

Everything here works on a bare repository without a worktree, with real git (2.39+):
`merge-tree --write-tree` decides mergeability and builds merge trees, `commit-tree` makes
commits and `update-ref NEW OLD` moves a branch only if nobody moved it first.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ZERO_SHA = "0" * 40
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class GitOpsError(Exception):
    """A git command failed in a way the caller did not expect."""


class RefConflict(GitOpsError):
    """A compare-and-swap ref update failed: the ref no longer points at the expected commit."""


class NotRebaseable(GitOpsError):
    """The head's commits cannot be replayed onto the base without conflicts."""


@dataclass(frozen=True)
class Identity:
    """Who a commit is by (author or committer)."""

    name: str
    email: str


@dataclass(frozen=True)
class MergeCheck:
    """The outcome of merging head into base: the merged tree, or the conflicted paths."""

    tree: str
    conflicts: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not self.conflicts


@dataclass(frozen=True)
class ChangedFile:
    """One file of a diff, in the shape of GitHub's PR file entry."""

    filename: str
    status: str
    additions: int
    deletions: int
    sha: str | None
    previous_filename: str | None = None
    patch: str | None = None

    @property
    def changes(self) -> int:
        return self.additions + self.deletions


_BASE_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0"}


def _env(author: Identity | None = None, committer: Identity | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(_BASE_ENV)
    for role, who in (("AUTHOR", author), ("COMMITTER", committer or author)):
        if who is not None:
            env[f"GIT_{role}_NAME"] = who.name
            env[f"GIT_{role}_EMAIL"] = who.email
    return env


def run_git(
    repo: Path, *args: str, ok: tuple[int, ...] = (0,), stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `git -C repo args`; raise GitOpsError unless the exit code is in `ok`."""
    result = subprocess.run(
        ["git", "-C", str(repo), *args], input=stdin, capture_output=True, text=True, env=env or _env()
    )
    if result.returncode not in ok:
        raise GitOpsError(f"git {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def rev_parse(repo: Path, rev: str) -> str | None:
    """The commit sha `rev` names, or None when it names no commit."""
    result = run_git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", ok=(0, 1, 128))
    return result.stdout.strip() if result.returncode == 0 else None


def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    """Whether `ancestor` is reachable from `descendant` (a commit is its own ancestor)."""
    return run_git(repo, "merge-base", "--is-ancestor", ancestor, descendant, ok=(0, 1)).returncode == 0


def merge_base(repo: Path, base: str, head: str) -> str | None:
    """The best common ancestor of two commits, or None for unrelated histories."""
    result = run_git(repo, "merge-base", base, head, ok=(0, 1))
    return result.stdout.strip() or None


def commits_between(repo: Path, base: str, head: str) -> list[str]:
    """Shas of the commits on head that base lacks (`base..head`), oldest first."""
    out = run_git(repo, "rev-list", "--reverse", "--topo-order", f"{base}..{head}").stdout
    return out.split()


def tree_of(repo: Path, commit: str) -> str:
    """The tree sha of a commit."""
    return run_git(repo, "rev-parse", f"{commit}^{{tree}}").stdout.strip()


def check_merge(repo: Path, base: str, head: str) -> MergeCheck:
    """Merge head into base in memory; report the tree or the conflicted files."""
    result = run_git(repo, "merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", base, head, ok=(0, 1))
    fields = result.stdout.split("\0")
    conflicts = tuple(dict.fromkeys(name for name in fields[1:] if name))
    if result.returncode == 1 and not conflicts:
        raise GitOpsError(f"merge-tree reported a conflict without files for {base} {head}")
    return MergeCheck(tree=fields[0].strip(), conflicts=conflicts if result.returncode == 1 else ())


def commit_tree(
    repo: Path, tree: str, parents: list[str], message: str, author: Identity, committer: Identity | None = None
) -> str:
    """Write a commit object for `tree` with `parents`; return its sha."""
    args = ["commit-tree", tree]
    for parent in parents:
        args += ["-p", parent]
    out = run_git(repo, *args, stdin=message, env=_env(author, committer)).stdout
    return out.strip()


def merge_commit(
    repo: Path, base: str, head: str, message: str, author: Identity, committer: Identity | None = None
) -> str:
    """A two-parent merge commit of head into base (GitHub's `merge`); RefConflict-free, no ref moves."""
    check = _clean_merge(repo, base, head)
    return commit_tree(repo, check.tree, [base, head], message, author, committer)


def squash_commit(
    repo: Path, base: str, head: str, message: str, author: Identity, committer: Identity | None = None
) -> str:
    """A one-parent commit on base holding the merged result (GitHub's `squash`)."""
    check = _clean_merge(repo, base, head)
    return commit_tree(repo, check.tree, [base], message, author, committer)


def rebase_commits(repo: Path, base: str, head: str, committer: Identity) -> str:
    """Replay head's non-merge commits onto base one by one (GitHub's `rebase`); return the new tip.

    Each commit C is cherry-picked as the 3-way merge of C^ → base-so-far and C^ → C, computed
    by `merge-tree` on two throw-away commits whose only parent is C^. Authors and messages
    are kept; the committer is `committer`. Raises NotRebaseable on any conflict.
    """
    tip = base
    for sha in _non_merge_commits(repo, base, head):
        parents = run_git(repo, "rev-parse", f"{sha}^@").stdout.split()
        if len(parents) != 1:
            raise NotRebaseable(f"commit {sha} has no parent to replay from")
        ours = commit_tree(repo, tree_of(repo, tip), parents, "rebase: ours", committer)
        theirs = commit_tree(repo, tree_of(repo, sha), parents, "rebase: theirs", committer)
        check = check_merge(repo, ours, theirs)
        if not check.clean:
            raise NotRebaseable(f"commit {sha[:12]} conflicts in {', '.join(check.conflicts)}")
        tip = _recommit(repo, sha, check.tree, tip, committer)
    return tip


def _non_merge_commits(repo: Path, base: str, head: str) -> list[str]:
    out = run_git(repo, "rev-list", "--reverse", "--topo-order", "--no-merges", f"{base}..{head}").stdout
    return out.split()


def _recommit(repo: Path, original: str, tree: str, parent: str, committer: Identity) -> str:
    """Copy `original`'s author, date and message onto a new commit of `tree` on `parent`."""
    fmt = run_git(repo, "show", "-s", "--format=%an%x00%ae%x00%aI%x00%B", original).stdout
    name, email, date, message = fmt.split("\0", 3)
    env = _env(Identity(name, email), committer)
    env["GIT_AUTHOR_DATE"] = date
    return run_git(repo, "commit-tree", tree, "-p", parent, stdin=message, env=env).stdout.strip()


def _clean_merge(repo: Path, base: str, head: str) -> MergeCheck:
    check = check_merge(repo, base, head)
    if not check.clean:
        raise GitOpsError(f"head {head[:12]} conflicts with base {base[:12]}: {', '.join(check.conflicts)}")
    return check


def update_ref(repo: Path, ref: str, new: str, old: str | None) -> None:
    """Point `ref` at `new` only if it still points at `old` (None or ZERO_SHA: must not exist)."""
    result = run_git(repo, "update-ref", ref, new, old or ZERO_SHA, ok=(0, 1, 128))
    if result.returncode != 0:
        raise RefConflict(f"{ref} moved (expected {old or 'no ref'}): {result.stderr.strip()}")


def read_blob(repo: Path, commit: str, path: str) -> bytes | None:
    """The bytes of `path` at `commit`, or None when the file is not there."""
    result = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "blob", f"{commit}:{path}"], capture_output=True, env=_env()
    )
    return result.stdout if result.returncode == 0 else None


_STATUS = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied", "T": "changed"}


def changed_files(repo: Path, base: str, head: str) -> list[ChangedFile]:
    """Files changed on head since it left base (`base...head`), as GitHub lists a PR's files."""
    fork = merge_base(repo, base, head) or EMPTY_TREE
    raw = run_git(repo, "diff", "--raw", "-z", "-M", "--no-abbrev", fork, head).stdout
    numstat = run_git(repo, "diff", "--numstat", "-z", "-M", fork, head).stdout
    patches = _split_patches(run_git(repo, "diff", "-M", "--no-color", fork, head).stdout)
    counts = _parse_numstat(numstat)
    files = []
    for index, (status, sha, path, previous) in enumerate(_parse_raw(raw)):
        added, deleted = counts.get(path, (0, 0))
        files.append(
            ChangedFile(
                filename=path,
                status=_STATUS.get(status, "changed"),
                additions=added,
                deletions=deleted,
                sha=None if status == "D" else sha,
                previous_filename=previous,
                patch=patches[index] if index < len(patches) else None,
            )
        )
    return files


def _parse_raw(raw: str) -> list[tuple[str, str, str, str | None]]:
    """(status letter, new blob sha, path, previous path) from `diff --raw -z`."""
    fields = raw.split("\0")
    entries: list[tuple[str, str, str, str | None]] = []
    i = 0
    while i < len(fields) - 1:
        meta = fields[i].lstrip(":").split()
        status = meta[4][0]
        if status in "RC":
            entries.append((status, meta[3], fields[i + 2], fields[i + 1]))
            i += 3
        else:
            entries.append((status, meta[3], fields[i + 1], None))
            i += 2
    return entries


def _parse_numstat(numstat: str) -> dict[str, tuple[int, int]]:
    """{path: (additions, deletions)} from `diff --numstat -z` (binary files count 0)."""
    fields = numstat.split("\0")
    counts: dict[str, tuple[int, int]] = {}
    i = 0
    while i < len(fields) - 1:
        added, deleted, path = fields[i].split("\t", 2)
        if path == "":  # a rename: the next two fields are the old and the new path
            path = fields[i + 2]
            i += 3
        else:
            i += 1
        counts[path] = (int(added) if added != "-" else 0, int(deleted) if deleted != "-" else 0)
    return counts


def _split_patches(diff: str) -> list[str | None]:
    """Per-file hunks (from the first `@@` line), in diff order; None for files without hunks."""
    patches: list[str | None] = []
    for chunk in re.split(r"^diff --git ", diff, flags=re.MULTILINE)[1:]:
        match = re.search(r"^@@", chunk, flags=re.MULTILINE)
        patches.append(chunk[match.start() :].rstrip("\n") if match else None)
    return patches


def checkout(repo: Path, commit: str, dest: Path) -> Path:
    """A fresh, independent checkout of `commit` at `dest` (detached; objects shared read-only)."""
    if dest.exists():
        shutil.rmtree(dest)
    run_git(repo, "clone", "--quiet", "--shared", "--no-checkout", str(repo), str(dest))
    run_git(dest, "remote", "remove", "origin")
    run_git(dest, "checkout", "--quiet", "--detach", commit)
    return dest
