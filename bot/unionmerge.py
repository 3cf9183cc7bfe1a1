"""The merge driver of `union_paths`: both sides' lines kept, ours first, what both added alike written once.

git's built-in `union` trims the lines both sides share off the ends of a conflict, so two
changelog entries lose the blank line between them; `merge-file --union --diff3` keeps every line
of both sides, so two tasks that each open the same "Unreleased" heading write it twice. This
driver takes the middle way, per conflict: the lines both sides begin with once, then ours, a
separator, theirs, then the lines both end with once. The separator is the blank line the sides
end with (at most one), so entries stay apart as the file's authors wrote them.

git runs it as `python -m bot.unionmerge %A %O %B` (`bot/git.py`); it writes the result into
%A and exits 0, or exits 1 (a conflict left to the worker) when `git merge-file` itself fails.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

#: Markers longer than any line a changelog has (an RST underline of 7 `=` is common).
MARKER_SIZE = 51
OURS, BASE, SEP, THEIRS = ("<" * MARKER_SIZE, "|" * MARKER_SIZE, "=" * MARKER_SIZE, ">" * MARKER_SIZE)


def _is(line: str, marker: str) -> bool:
    return line.rstrip("\n") == marker or line.startswith(marker + " ")


def _shared_head(ours: list[str], theirs: list[str]) -> int:
    n = 0
    while n < min(len(ours), len(theirs)) and ours[n] == theirs[n]:
        n += 1
    return n


def join_sides(ours: list[str], theirs: list[str]) -> list[str]:
    """One conflict resolved: the shared head once, ours, a blank separator if they end with one, theirs, the tail."""
    head = _shared_head(ours, theirs)
    ours_rest, theirs_rest = ours[head:], theirs[head:]
    tail = _shared_head(ours_rest[::-1], theirs_rest[::-1])
    tail = min(tail, len(ours_rest), len(theirs_rest))
    ours_mid = ours_rest[: len(ours_rest) - tail]
    theirs_mid = theirs_rest[: len(theirs_rest) - tail]
    shared_tail = ours_rest[len(ours_rest) - tail :]
    separator = [shared_tail[0]] if shared_tail and not shared_tail[0].strip() and ours_mid and theirs_mid else []
    if ours_mid and not ours_mid[-1].endswith("\n"):
        ours_mid = [*ours_mid[:-1], ours_mid[-1] + "\n"]
    return [*ours[:head], *ours_mid, *separator, *theirs_mid, *shared_tail]


def resolve(text: str) -> str:
    """`git merge-file -p --diff3` output with MARKER_SIZE markers → every conflict joined (`join_sides`)."""
    out: list[str] = []
    ours: list[str] = []
    theirs: list[str] = []
    section = None  # None outside a conflict, else "ours" / "base" / "theirs"
    for line in text.splitlines(keepends=True):
        if section is None and _is(line, OURS):
            section, ours, theirs = "ours", [], []
        elif section == "ours" and _is(line, BASE):
            section = "base"
        elif section in ("ours", "base") and line.rstrip("\n") == SEP:
            section = "theirs"
        elif section == "theirs" and _is(line, THEIRS):
            out.extend(join_sides(ours, theirs))
            section = None
        elif section == "ours":
            ours.append(line)
        elif section == "theirs":
            theirs.append(line)
        elif section is None:
            out.append(line)
    return "".join(out)


def main(argv: Sequence[str]) -> int:
    current, base, other = argv
    done = subprocess.run(
        ["git", "merge-file", "-p", "--diff3", "--marker-size", str(MARKER_SIZE), current, base, other],
        capture_output=True,
        text=True,
    )
    if done.returncode > 127:  # an error, not a count of conflicts
        sys.stderr.write(done.stderr)
        return 1
    Path(current).write_text(resolve(done.stdout))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
