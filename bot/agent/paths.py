"""Path safety for the file tools: every path resolves inside the worktree; protected paths refuse writes."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from bot.errors import SandboxViolation

#: Always refused for writes, whatever the repo config says.
ALWAYS_PROTECTED = (".git", ".git/**")


@cache
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """`**` crosses directories, `*` and `?` do not; a trailing `/` means everything under it."""
    if pattern.endswith("/"):
        pattern += "**"
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def glob_match(relpath: str, pattern: str) -> bool:
    """Whether a worktree-relative POSIX path matches a glob such as `.github/workflows/**` or `*.py`."""
    pattern = pattern.lstrip("/") if pattern.startswith("/") else pattern
    if "/" not in pattern.rstrip("/"):
        # A bare name pattern (`*.lock`) matches at any depth, as in .gitignore.
        return bool(_glob_regex(pattern).match(relpath.rsplit("/", 1)[-1])) or bool(_glob_regex(pattern).match(relpath))
    return bool(_glob_regex(pattern).match(relpath))


class PathGuard:
    """Resolves tool paths against one worktree and enforces the protected globs for writes."""

    def __init__(self, root: Path, protected: Iterable[str] = ()) -> None:
        self.root = root.resolve()
        self.protected = tuple(ALWAYS_PROTECTED) + tuple(protected)

    def resolve(self, raw: str) -> Path:
        """The real path `raw` names; SandboxViolation when it, or a symlink on the way, leaves the worktree."""
        if not isinstance(raw, str) or not raw.strip():
            raise SandboxViolation("a path is required (relative to the repository root)")
        candidate = Path(raw) if os.path.isabs(raw) else self.root / raw
        lexical = Path(os.path.normpath(candidate))
        if not lexical.is_relative_to(self.root):
            raise SandboxViolation(f"{raw!r} is outside the worktree; use paths relative to the repository root")
        real = candidate.resolve()
        if not real.is_relative_to(self.root):
            raise SandboxViolation(f"{raw!r} goes through a symlink that points outside the worktree")
        return real

    def relative(self, path: Path) -> str:
        rel = path.relative_to(self.root).as_posix()
        return rel or "."

    def check_writable(self, raw: str) -> Path:
        """Resolve `raw` for writing; SandboxViolation when it (or the lexical path) is protected."""
        real = self.resolve(raw)
        candidate = Path(raw) if os.path.isabs(raw) else self.root / raw
        lexical_rel = Path(os.path.normpath(candidate)).relative_to(self.root).as_posix()
        for rel in {self.relative(real), lexical_rel}:
            for pattern in self.protected:
                if glob_match(rel, pattern):
                    raise SandboxViolation(
                        f"{rel!r} is protected (matches {pattern!r}); it may not be written by an agent"
                    )
        return real
