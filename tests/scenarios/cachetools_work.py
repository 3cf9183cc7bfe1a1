"""What each task of the cachetools scenario changes, and the CI fixes its scripted agents know.

A `Contribution` is a task's own files plus its two lines in the shared spots (a changelog entry and a
re-export). The shared-spot edits are computed from the files as the worker reads them (`changelog_edit`,
`all_edit`, `export_edit`), so a task that starts after others landed adds its lines after theirs, and
a re-run on a checkout that already has them changes nothing. A `Fix` is what a CI fixer (or an
adaptive conflict resolver) applies when a failing output shows its signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.scenarios import cachetools_code as code
from tests.scenarios.cachetools_plan import CHANGELOG, INIT, UNRELEASED

Call = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Contribution:
    """One task's change: its files, its re-export, its names in `__all__`, its changelog entry."""

    key: str
    files: dict[str, str]
    export: str
    public: tuple[str, ...]
    entry: str
    deviations: tuple[str, ...] = ()

    def file_calls(self) -> list[Call]:
        return [("write_file", {"path": path, "content": text}) for path, text in self.files.items()]


def _plain(key: str, module: str, source: str, tests: str, entry: str) -> Contribution:
    return Contribution(
        key,
        {f"src/cachetools/{module}.py": source, f"tests/test_{module}.py": tests},
        f"from .{module} import {module}",
        (module,),
        entry,
    )


CONTRIBUTIONS: dict[str, Contribution] = {
    "evict": _plain(
        "evict",
        "evict",
        code.EVICT,
        code.TEST_EVICT,
        "Add ``evict()`` to evict entries by a cache's own eviction policy.",
    ),
    "peek": _plain(
        "peek", "peek", code.PEEK, code.TEST_PEEK, "Add ``peek()`` to read a cached value without counting it as a use."
    ),
    "invalidate": _plain(
        "invalidate",
        "invalidate",
        code.INVALIDATE,
        code.TEST_INVALIDATE,
        "Add ``invalidate()`` to remove the entries whose keys match a condition.",
    ),
    "warm": _plain("warm", "warm", code.WARM, code.TEST_WARM, "Add ``warm()`` to fill a cache ahead of use."),
    "size-info": Contribution(
        "size-info",
        {"src/cachetools/sizeinfo.py": code.SIZEINFO_FIRST, "tests/test_sizeinfo.py": code.TEST_SIZEINFO},
        "from .sizeinfo import CacheInfo, size_info",
        ("size_info",),
        "Add ``size_info()`` to report how full a cache is.",
    ),
    "spill": Contribution(
        "spill",
        {
            "src/cachetools/spill.py": code.SPILL,
            "tests/test_spill.py": code.TEST_SPILL,
            "src/cachetools/evict.py": code.EVICT_PAIRS,
            "tests/test_evict.py": code.TEST_EVICT_PAIRS,
        },
        "from .spill import spill",
        ("spill",),
        "Add ``spill()`` to move evicted entries into a second-level cache; ``evict()`` now returns "
        "the evicted ``(key, value)`` pairs instead of their number.",
    ),
    "trim": _plain("trim", "trim", code.TRIM, code.TEST_TRIM, "Add ``trim()`` to shrink a cache to a given size."),
    "frozenkey": _plain(
        "frozenkey",
        "frozenkey",
        code.FROZENKEY,
        code.TEST_FROZENKEY,
        "Add ``frozenkey()``, a key function for unhashable arguments.",
    ),
    "ignorekey": _plain(
        "ignorekey",
        "ignorekey",
        code.IGNOREKEY,
        code.TEST_IGNOREKEY,
        "Add ``ignorekey()`` to leave keyword arguments out of cache keys.",
    ),
}


@dataclass(frozen=True)
class Fix:
    """A repair a scripted agent applies when the failing output matches `signature`."""

    signature: str
    cause: str
    reads: tuple[str, ...]
    calls: tuple[Call, ...]
    deviations: tuple[str, ...] = field(default=())

    def matches(self, text: str) -> bool:
        return re.search(self.signature, text) is not None


RENAME_SIZE_INFO = Fix(
    signature=r"type object 'CacheInfo' has no attribute '_make_info'",
    cause="the result type of `size_info()` was named `CacheInfo` and re-exported at the end of "
    "`src/cachetools/__init__.py`, which rebound upstream's `cachetools.CacheInfo`: every decorator "
    "with `info=True` (`@cached`, `@cachedmethod`, all of `cachetools.func`) then failed. Renamed it "
    "`SizeInfo`.",
    reads=("src/cachetools/sizeinfo.py",),
    calls=(
        ("write_file", {"path": "src/cachetools/sizeinfo.py", "content": code.SIZEINFO}),
        (
            "edit_file",
            {
                "path": INIT,
                "old_string": "from .sizeinfo import CacheInfo, size_info\n",
                "new_string": "from .sizeinfo import SizeInfo, size_info\n",
            },
        ),
    ),
)

_TRIM_EDIT: Call = (
    "edit_file",
    {
        "path": "src/cachetools/trim.py",
        "old_string": "        evicted += evict(cache)\n",
        "new_string": "        evicted += len(evict(cache))\n",
    },
)
_EVICT_RETURNS_PAIRS = r"unsupported operand type\(s\) for \+=: 'int' and 'list'"

ADAPT_TRIM = Fix(
    signature=_EVICT_RETURNS_PAIRS,
    cause="`evict()` now returns the evicted `(key, value)` pairs (changed by `spill`), and `trim()` added "
    "its result to a count. `trim()` now counts the pairs.",
    reads=("src/cachetools/trim.py", "src/cachetools/evict.py"),
    calls=(_TRIM_EDIT,),
)

#: `spill` merged after `trim` landed: the caller of the function it changed is its to adapt.
ADAPT_CALLER = Fix(
    signature=_EVICT_RETURNS_PAIRS,
    cause="this PR changes `evict()` to return the evicted pairs, and `trim()`, which landed meanwhile, "
    "added its result to a count. Adapted the caller: `trim()` now counts the pairs.",
    reads=("src/cachetools/trim.py",),
    calls=(_TRIM_EDIT,),
    deviations=(
        "Changed `src/cachetools/trim.py` (another task's landed file) to follow the new return value of `evict()`.",
    ),
)

FIXES: dict[str, tuple[Fix, ...]] = {"size-info": (RENAME_SIZE_INFO,), "trim": (ADAPT_TRIM,), "spill": (ADAPT_CALLER,)}


def find_fix(key: str, text: str) -> Fix | None:
    """The first fix of task `key` whose signature is in `text`."""
    return next((fix for fix in FIXES.get(key, ()) if fix.matches(text)), None)


# -- the shared spots ---------------------------------------------------------------------------
HEADING = f"{UNRELEASED}\n{'=' * len(UNRELEASED)}\n\n"


def changelog_edit(head: str, entry: str) -> dict[str, str] | None:
    """`edit_file` arguments putting `- entry` at the top of the unreleased section (made if missing).

    `head` is the changelog's first lines as read; None when the entry is already there.
    """
    line = f"- {entry}\n"
    if line in head:
        return None
    if head.startswith(HEADING):
        return {"path": CHANGELOG, "old_string": HEADING, "new_string": HEADING + line + "\n"}
    first = head.splitlines(keepends=True)[0]
    return {"path": CHANGELOG, "old_string": first, "new_string": HEADING + line + "\n\n" + first}


def all_edit(head: str, names: tuple[str, ...]) -> dict[str, str] | None:
    """`edit_file` arguments appending `names` at the end of the `__all__` tuple found in `head`."""
    missing = [name for name in names if f'    "{name}",\n' not in head]
    if not missing:
        return None
    start = head.index("__all__ = (\n")
    end = head.index("\n)\n", start) + 1
    last = head[head.rindex("\n", start, end - 1) + 1 : end]
    added = "".join(f'    "{name}",\n' for name in missing)
    return {"path": INIT, "old_string": last + ")\n", "new_string": last + added + ")\n"}


def export_edit(tail: str, line: str) -> dict[str, str] | None:
    """`edit_file` arguments appending `line` after the last lines of `__init__.py` (`tail`, as read)."""
    lines = tail.splitlines(keepends=True)
    if line + "\n" in lines:
        return None
    old = "".join(lines[-3:])
    gap = "" if lines[-1].startswith("from .") else "\n\n"
    return {"path": INIT, "old_string": old, "new_string": old + gap + line + "\n"}


def shared_calls(contribution: Contribution, changelog_head: str, init_head: str, init_tail: str) -> list[Call]:
    """The edits of the shared spots for `contribution`, given what the worker read of them."""
    edits = [
        ("edit_file", changelog_edit(changelog_head, contribution.entry)),
        ("edit_file", all_edit(init_head, contribution.public)),
        ("edit_file", export_edit(init_tail, contribution.export)),
    ]
    return [(name, args) for name, args in edits if args is not None]
