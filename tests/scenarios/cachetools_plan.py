"""The cachetools scenario's goal and the plans its scripted planner and sub-planner submit.

Shaped for contention on a real project (tests/fixtures/projects/cachetools): every task adds one
helper in its own module with its own test file, AND a line at the top of CHANGELOG.rst's
unreleased section, AND a re-export at the end of `src/cachetools/__init__.py` (and of its
`__all__`), as real contributors do — so the changelog and the export list are shared spots that
no task owns. Besides:

- `size-info` is wrong at first: its result type is named `CacheInfo` and re-exported, which
  rebinds upstream's `cachetools.CacheInfo`; its own test passes, the project's suite does not
  (every `info=True` decorator fails); the CI-fix job renames it (`cachetools_work.FIXES`).
- `spill` (X) and `trim` (Y) both wait for `evict` and run in parallel: X changes what `evict()`
  returns (the evicted pairs instead of their count) and updates `tests/test_evict.py`; Y builds
  on the count. Each is green alone; together `trim()` fails, and the CI fixer adapts it.
- `key-helpers` is a sub-goal whose sub-planner plans two key-function tasks.
"""

from __future__ import annotations

from typing import Any

SUITE = "PYTHONPATH=src python3 -B -m pytest -q"
CHANGELOG = "CHANGELOG.rst"
INIT = "src/cachetools/__init__.py"
UNRELEASED = "v8.1.0 (UNRELEASED)"

GOAL_TITLE = "Cache maintenance helpers and key functions"
GOAL_BODY = """\
Operators of our services keep writing the same small helpers around cachetools. Add them to the
library, each as a public function of `cachetools`:

- `evict(cache, n=1)`: evict entries by the cache's own policy;
- `spill(cache, target, n=1)`: move evicted entries into a second-level cache;
- `trim(cache, size)`: shrink a cache in place until its `currsize` is at most `size`;
- `peek(cache, key, default=None)`: read a value without counting it as a use;
- `invalidate(cache, predicate)`: drop the entries whose keys match;
- `warm(cache, func, keys)`: fill a cache ahead of use;
- `size_info(cache)`: how full a cache is;
- key functions: `frozenkey` for unhashable arguments, `ignorekey(*names)` to leave keyword
  arguments such as a session out of the key.

Each with tests, a changelog entry, and no new dependencies. The suite runs with
`PYTHONPATH=src python3 -B -m pytest -q`.
"""

NOTES = [
    f"Run tests from the repository root with `{SUITE}` (src layout; -B keeps __pycache__ out of the checkout).",
    "Each helper lives in its own module `src/cachetools/<module>.py` with a module docstring, an `__all__`, "
    "and a docstring on the function; tests in `tests/test_<module>.py` use unittest like the existing ones.",
    f"Every task re-exports its public names at the END of `{INIT}` (one `from .<module> import <name>` line "
    "after the last line) and appends them at the end of the `__all__` tuple at the top of that file.",
    f"Every task adds one line at the TOP of the `{UNRELEASED}` section of `{CHANGELOG}`, creating that "
    "section above `v8.0.2` if it is not there yet. Both shared spots are outside every task's owned paths: "
    "change them minimally, say so under deviations, and keep everyone's lines when resolving a conflict.",
]

#: The module each task adds, by key: (module, public function).
MODULES = {
    "evict": ("evict", "evict"),
    "peek": ("peek", "peek"),
    "invalidate": ("invalidate", "invalidate"),
    "warm": ("warm", "warm"),
    "size-info": ("sizeinfo", "size_info"),
    "spill": ("spill", "spill"),
    "trim": ("trim", "trim"),
    "frozenkey": ("frozenkey", "frozenkey"),
    "ignorekey": ("ignorekey", "ignorekey"),
}

OBJECTIVES = {
    "evict": "Add `evict(cache, n=1)`: evict up to `n` entries with the cache's own `popitem()` (so LRU drops "
    "the least recently used, LFU the least frequently used), stopping when the cache is empty; "
    "return how many were evicted; `ValueError` for a negative `n`.",
    "peek": "Add `peek(cache, key, default=None)`: the value for `key` without updating LRU/LFU bookkeeping and "
    "without calling `__missing__`; expired TTL entries are not returned.",
    "invalidate": "Add `invalidate(cache, predicate)`: remove every entry whose key satisfies `predicate`; "
    "return how many were removed.",
    "warm": "Add `warm(cache, func, keys)`: store `func(key)` for each key not cached yet; return how many "
    "values were computed.",
    "size-info": "Add `size_info(cache)`: a named tuple `(currsize, maxsize, free)` with `free = maxsize - "
    "currsize`, in the cache's own size unit.",
    "spill": "Add `spill(cache, target, n=1)`: evict up to `n` entries from `cache` by its policy and store them "
    "in `target`; return the keys moved. Decision: `evict()` must hand back what it evicted, so change "
    "it to return the evicted `(key, value)` pairs in eviction order (instead of their count) and "
    "update `tests/test_evict.py`.",
    "trim": "Add `trim(cache, size)`: evict by the cache's policy, using `evict()`, until `cache.currsize <= "
    "size`; return how many entries were evicted; `ValueError` for a negative size.",
    "frozenkey": "Add `frozenkey(*args, **kwargs)`: like `cachetools.keys.hashkey`, but lists, tuples, sets and "
    "dicts among the arguments become hashable equivalents (a list and a tuple stay different keys).",
    "ignorekey": "Add `ignorekey(*names, key=hashkey)`: a key function that drops the named keyword arguments "
    "and computes the rest with `key`.",
}

TITLES = {
    "evict": "Add evict(): evict entries by a cache's own policy",
    "peek": "Add peek(): read a cached value without counting a use",
    "invalidate": "Add invalidate(): drop the entries whose keys match",
    "warm": "Add warm(): fill a cache ahead of use",
    "size-info": "Add size_info(): how full a cache is",
    "spill": "Add spill(): move evicted entries to a second-level cache",
    "trim": "Add trim(): shrink a cache to a given size",
    "frozenkey": "Add frozenkey(): cache keys for unhashable arguments",
    "ignorekey": "Add ignorekey(): leave keyword arguments out of cache keys",
}


def acceptance(key: str) -> str:
    """The task's acceptance command: its own test file only (the full suite is CI's job)."""
    return f"{SUITE} tests/test_{MODULES[key][0]}.py"


def task(key: str, depends_on: tuple[str, ...] = (), also_owns: tuple[str, ...] = ()) -> dict[str, Any]:
    module, name = MODULES[key]
    shared = (
        f"Also (outside the owned paths): add the changelog line at the top of the `{UNRELEASED}` section "
        f"of `{CHANGELOG}`, and re-export `{name}` at the end of `{INIT}` and of its `__all__`."
    )
    return {
        "key": key,
        "title": TITLES[key],
        "objective": f"{OBJECTIVES[key]} Put it in `src/cachetools/{module}.py`, tests in "
        f"`tests/test_{module}.py`. {shared}",
        "context_files": [INIT, CHANGELOG, "src/cachetools/keys.py", "tests/test_lru.py"],
        "owned_paths": [f"src/cachetools/{module}.py", f"tests/test_{module}.py", *also_owns],
        "acceptance_commands": [acceptance(key)],
        "acceptance_outcomes": [f"`from cachetools import {name}` works"],
        "depends_on": list(depends_on),
        "size": "s",
    }


SUBGOAL = "key-helpers"
SUBGOAL_TASKS = ("frozenkey", "ignorekey")


def subgoal() -> dict[str, Any]:
    owned = [p for key in SUBGOAL_TASKS for p in (f"src/cachetools/{key}.py", f"tests/test_{key}.py")]
    return {
        "key": SUBGOAL,
        "title": "Key functions for memoizing decorators",
        "objective": "Two new key functions, each in its own task, planned by the sub-planner: "
        + " ".join(OBJECTIVES[k] for k in SUBGOAL_TASKS)
        + " They follow the same module, changelog and re-export decisions as every task of the goal.",
        "context_files": ["src/cachetools/keys.py", "tests/test_keys.py"],
        "owned_paths": owned,
        "kind": "subgoal",
        "size": "m",
    }


#: The keys of the main plan's tasks (the sub-goal aside).
MAIN_TASKS = ("evict", "peek", "invalidate", "warm", "size-info", "spill", "trim")


def main_plan() -> dict[str, Any]:
    """The arguments of the planner's `submit_plan` call: 7 tasks and one sub-goal."""
    evict_files = ("src/cachetools/evict.py", "tests/test_evict.py")
    tasks = [
        task("evict"),
        task("peek"),
        task("invalidate"),
        task("warm"),
        task("size-info"),
        task("spill", depends_on=("evict",), also_owns=evict_files),
        task("trim", depends_on=("evict",)),
        subgoal(),
    ]
    return {"tasks": tasks, "notes": NOTES, "obsolete": [], "done": False}


def sub_plan() -> dict[str, Any]:
    """The arguments of the sub-planner's `submit_plan` call: the two key-function tasks, in parallel."""
    return {"tasks": [task(key) for key in SUBGOAL_TASKS], "notes": NOTES, "obsolete": [], "done": False}
