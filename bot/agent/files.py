"""The file tools' work: read, write, edit by exact search/replace, list and grep, inside one worktree."""

from __future__ import annotations

import os
import re
from pathlib import Path

from bot.agent.paths import PathGuard, glob_match
from bot.git import git_entries


class ToolFailure(Exception):
    """A tool could not do what was asked; the message goes back to the model as the tool result."""


#: Files bigger than this are not searched by grep.
GREP_MAX_FILE_BYTES = 1_000_000
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache", ".tox"}


def truncate(text: str, limit: int, *, keep_tail: bool = False) -> str:
    """`text` cut to about `limit` characters, with a note saying how much was dropped."""
    if len(text) <= limit:
        return text
    if keep_tail:
        half = limit // 2
        dropped = len(text) - 2 * half
        return f"{text[:half]}\n[output truncated: {dropped:,} characters omitted]\n{text[-half:]}"
    return f"{text[:limit]}\n[output truncated: {len(text) - limit:,} more characters]"


def _read_text(path: Path, shown: str) -> str:
    if not path.exists():
        raise ToolFailure(f"{shown}: no such file; use list_files to see what exists")
    if path.is_dir():
        raise ToolFailure(f"{shown} is a directory; use list_files")
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        raise ToolFailure(f"{shown} is a binary file ({len(data):,} bytes); it cannot be shown as text")
    return data.decode("utf-8", "replace")


class FileTools:
    """Implementations of the file tools over one `PathGuard`; paths written are remembered."""

    def __init__(self, guard: PathGuard, *, max_listed: int = 200, max_matches: int = 100) -> None:
        self.guard = guard
        self.max_listed = max_listed
        self.max_matches = max_matches
        self.written: set[str] = set()

    def read_file(self, path: str, start_line: int | None = None, end_line: int | None = None) -> str:
        real = self.guard.resolve(path)
        lines = _read_text(real, path).splitlines()
        start = max(1, int(start_line or 1))
        end = min(len(lines), int(end_line or len(lines)))
        if lines and start > len(lines):
            raise ToolFailure(f"{path} has {len(lines)} lines; start_line {start} is past the end")
        width = len(str(end))
        body = "\n".join(f"{n:>{width}}\t{lines[n - 1]}" for n in range(start, end + 1))
        header = f"{self.guard.relative(real)} (lines {start}-{end} of {len(lines)})"
        return f"{header}\n{body}" if lines else f"{header}\n(empty file)"

    def write_file(self, path: str, content: str) -> str:
        real = self.guard.check_writable(path)
        if real.is_dir():
            raise ToolFailure(f"{path} is a directory")
        real.parent.mkdir(parents=True, exist_ok=True)
        existed = real.exists()
        real.write_text(content)
        rel = self.guard.relative(real)
        self.written.add(rel)
        verb = "overwrote" if existed else "created"
        lines = content.count("\n") + (0 if content.endswith("\n") else 1)
        return f"{verb} {rel} ({lines} lines, {len(content.encode()):,} bytes)"

    def edit_file(self, path: str, old_string: str, new_string: str) -> str:
        real = self.guard.check_writable(path)
        if not old_string:
            raise ToolFailure("old_string is empty; give the exact text to replace (use write_file to create a file)")
        text = _read_text(real, path)
        count = text.count(old_string)
        if count == 0:
            raise ToolFailure(
                f"old_string was not found in {path}; read the file again and copy the exact text, "
                "whitespace and indentation included"
            )
        if count > 1:
            lines = _match_lines(text, old_string)
            raise ToolFailure(
                f"old_string matches {count} places in {path} (lines {', '.join(map(str, lines))}); "
                "include more surrounding lines so that it matches exactly one"
            )
        real.write_text(text.replace(old_string, new_string, 1))
        rel = self.guard.relative(real)
        self.written.add(rel)
        line = text[: text.index(old_string)].count("\n") + 1
        old_lines, new_lines = old_string.count("\n") + 1, new_string.count("\n") + 1
        return f"edited {rel} at line {line}: replaced {old_lines} line(s) with {new_lines}"

    def list_files(self, path: str = ".", pattern: str | None = None) -> str:
        base = self.guard.resolve(path or ".")
        if not base.is_dir():
            raise ToolFailure(f"{path} is not a directory")
        names = [n for n in self._files(base) if not pattern or glob_match(n, pattern)]
        shown = names[: self.max_listed]
        more = len(names) - len(shown)
        tail = f"\n[{more:,} more files not shown; narrow the path or pattern]" if more > 0 else ""
        return ("\n".join(shown) or "(no files)") + tail

    def grep(self, pattern: str, path: str = ".", glob: str | None = None, ignore_case: bool = False) -> str:
        try:
            regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
        except re.error as exc:
            raise ToolFailure(f"invalid regular expression {pattern!r}: {exc}") from exc
        base = self.guard.resolve(path or ".")
        files = [base] if base.is_file() else [self.guard.root / n for n in self._files(base)]
        hits: list[str] = []
        total = 0
        for file in files:
            rel = self.guard.relative(file)
            if glob and not glob_match(rel, glob):
                continue
            if file.is_symlink() or not file.is_file() or file.stat().st_size > GREP_MAX_FILE_BYTES:
                continue
            data = file.read_bytes()
            if b"\0" in data[:8192]:
                continue
            for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
                if regex.search(line):
                    total += 1
                    if len(hits) < self.max_matches:
                        hits.append(f"{rel}:{number}: {line[:300]}")
        if not hits:
            return f"no matches for {pattern!r}"
        more = (
            f"\n[{total - len(hits):,} more matches not shown; narrow the pattern or path]" if total > len(hits) else ""
        )
        return "\n".join(hits) + more

    def _files(self, base: Path) -> list[str]:
        """Worktree-relative files under `base`: git's view (ignored files hidden) when it is a repo."""
        rel_base = self.guard.relative(base)
        listed = _git_files(self.guard.root, rel_base)
        if listed is None:
            listed = _walk(self.guard.root, base)
        return sorted(n for n in listed if (self.guard.root / n).exists() or (self.guard.root / n).is_symlink())


def _match_lines(text: str, needle: str) -> list[int]:
    lines, start = [], 0
    while (found := text.find(needle, start)) != -1:
        lines.append(text[:found].count("\n") + 1)
        start = found + 1
    return lines


def _git_files(root: Path, rel_base: str) -> list[str] | None:
    if not (root / ".git").exists():
        return None
    entries = git_entries(
        root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", rel_base, timeout=30
    )
    return None if entries is None else sorted(set(entries))


def _walk(root: Path, base: Path) -> list[str]:
    found: list[str] = []
    for here, dirs, names in os.walk(base):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        found.extend(Path(here, n).relative_to(root).as_posix() for n in names)
    return found
