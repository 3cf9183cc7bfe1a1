"""`scripted:bench`: the scale bench's model stand-in — a measuring device, not a model.

Every answer waits `ORCHESTRA_BENCH_LATENCY_S` seconds first (a model's latency), then:
- the planner submits `ORCHESTRA_BENCH_TASKS` independent tasks, each owning its own module and
  test; the first `ORCHESTRA_BENCH_SHARED` of them also add one line at the same spot of
  `shared.py` (so the later ones meet a merge conflict);
- a worker writes its module and test (and its shared line) and finishes, in one answer;
- the conflict resolver is the demo's (keep both sides); a revision asks for nothing more.
The environment is read at each answer, so RQ worker processes started by the bench see it too.
"""

from __future__ import annotations

import os
import time
from typing import Any

from bot.llm.scripted import call
from bot.llm.types import Message, Reply, ToolSpec
from bot.modes.demo.policy import OPEN_STATES, Turn, finish, reply, resolver

LATENCY_ENV = "ORCHESTRA_BENCH_LATENCY_S"
TASKS_ENV = "ORCHESTRA_BENCH_TASKS"
SHARED_ENV = "ORCHESTRA_BENCH_SHARED"
SHARED_FILE = "shared.py"
SHARED_ANCHOR = '    "base",\n'


def _number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def task_key(index: int) -> str:
    return f"t{index:03d}"


def plan(tasks: int, shared: int) -> dict[str, Any]:
    """The arguments of the planner's `submit_plan` call."""
    entries = []
    for index in range(1, tasks + 1):
        key = task_key(index)
        owned = [f"mods/m{key}.py", f"tests/test_m{key}.py"]
        entries.append(
            {
                "key": key,
                "title": f"Add module m{key}",
                "objective": f"Add `mods/m{key}.py` with `value() -> int` and its test `tests/test_m{key}.py`"
                + (f'; add `"{key}",` after `"base",` in `{SHARED_FILE}`' if index <= shared else "."),
                "context_files": [],
                "owned_paths": owned,
                "acceptance_commands": [f"python3 -m unittest tests.test_m{key}"],
                "acceptance_outcomes": [f"m{key}.value() is {index}"],
                "size": "s",
            }
        )
    return {"tasks": entries, "notes": ["Synthetic bench goal: every task is independent."]}


def planner(turn: Turn) -> Reply:
    if turn.request.startswith("Revise"):
        section = turn.system.split("## Work already planned", 1)[-1].split("## Repository map", 1)[0]
        lines = [line for line in section.splitlines() if line.startswith("- `")]
        done = bool(lines) and not any(state in line for line in lines for state in OPEN_STATES)
        return reply("Nothing to add.", call("submit_plan", tasks=[], notes=[], obsolete=[], done=done))
    tasks = int(_number(TASKS_ENV, 4))
    shared = int(_number(SHARED_ENV, 0))
    return reply(f"{tasks} independent tasks.", call("submit_plan", **plan(tasks, shared)))


def worker(turn: Turn) -> Reply:
    key = turn.key
    if not key.startswith("t") or not key[1:].isdigit():
        return finish(
            f"scripted:bench has no script for task {key or '(unknown)'}.",
            "blocked",
            concerns=["scripted:bench only knows its synthetic plan"],
        )
    index = int(key[1:])
    calls = [
        call(
            "write_file",
            path=f"mods/m{key}.py",
            content=f'"""Module {key}."""\n\n\ndef value() -> int:\n    return {index}\n',
        ),
        call(
            "write_file",
            path=f"tests/test_m{key}.py",
            content=(
                f"import unittest\n\nfrom mods import m{key}\n\n\nclass Test(unittest.TestCase):\n"
                f"    def test_value(self) -> None:\n        self.assertEqual(m{key}.value(), {index})\n"
            ),
        ),
    ]
    if "shared.py" in str(turn.task.get("objective", "")):
        calls.append(
            call("edit_file", path=SHARED_FILE, old_string=SHARED_ANCHOR, new_string=SHARED_ANCHOR + f'    "{key}",\n')
        )
    calls.append(
        call(
            "finish",
            status="done",
            summary=f"Added module m{key} and its test.",
            notes=[],
            deviations=[f"Added one entry to {SHARED_FILE}."] if len(calls) > 2 else [],
        )
    )
    return reply(f"Task {key} in one step.", *calls)


def bench_policy(messages: list[Message], tools: list[ToolSpec]) -> Reply:
    """The reply of `scripted:bench` to this conversation, after the configured latency."""
    latency = _number(LATENCY_ENV, 0.0)
    if latency > 0:
        time.sleep(latency)
    turn = Turn(messages, tools)
    if "submit_plan" in turn.tools:
        return planner(turn)
    if "You resolve the merge of" in turn.system:
        return resolver(turn)
    return worker(turn)
