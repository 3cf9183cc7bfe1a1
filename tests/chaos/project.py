"""The chaos suite's project, plan and model: eight small tasks that never conflict, played through the
model stand-in over real HTTP (so the model's own faults can be injected).

Six tasks are independent; `seventh` waits for `first` and `eighth` for `second`, so a lost close of a
task leaves a dependant waiting (the fault the sweep must repair). The policy is stateless: it reads
the conversation the real code built, so a retried or re-run job gets the same answers.
"""

from __future__ import annotations

from typing import Any

from bot.llm.types import Message
from bot.modes.demo.policy import OPEN_STATES
from tests.support.model_server import Turn, request_messages

KEYS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
DEPENDS = {"seventh": ["first"], "eighth": ["second"]}
GOAL_TITLE = "Write eight notes"
GOAL_BODY = "Add one note per task under notes/: " + ", ".join(KEYS) + ". Each note is one line.\n"

CI_SCRIPT = """#!/bin/sh
# Every note is one non-empty line; no conflict markers anywhere.
status=0
for f in notes/*.txt; do
  [ -f "$f" ] || continue
  if [ "$(wc -l < "$f")" -ne 1 ]; then echo "$f: not one line"; status=1; fi
done
if grep -rnE '^(<<<<<<<|>>>>>>>)' --exclude-dir=.git . ; then echo "conflict markers"; status=1; fi
echo "ci checked $(ls notes | wc -l) notes"
exit $status
"""
CONFIG = """merge:
  policy: auto
  method: squash
max_parallel_tasks: 8
max_ci_fix_attempts: 2
max_conflict_attempts: 2
planner:
  min_tasks: 3
  max_tasks: 12
agent:
  max_steps: 8
  command_timeout_s: 30
"""
PROJECT = {
    "README.md": "# notes\n",
    "ci.sh": CI_SCRIPT,
    "notes/base.txt": "base\n",
    ".github/orchestra.yml": CONFIG,
}
CI_COMMAND = "sh ci.sh"


def note(key: str) -> str:
    return f"notes/{key}.txt"


def plan() -> dict[str, Any]:
    """The arguments of the planner's `submit_plan` call."""
    tasks = [
        {
            "key": key,
            "title": f"Write the {key} note",
            "objective": f"Add `{note(key)}` holding one line: `{key}`.",
            "owned_paths": [note(key)],
            "acceptance_commands": [f"test -s {note(key)}"],
            "size": "s",
            **({"depends_on": DEPENDS[key]} if key in DEPENDS else {}),
        }
        for key in KEYS
    ]
    return {"tasks": tasks, "notes": ["Each task owns one file; none conflicts."], "obsolete": [], "done": False}


def _tools(body: dict[str, Any]) -> set[str]:
    names = set()
    for tool in body.get("tools") or []:
        function = tool.get("function") if isinstance(tool.get("function"), dict) else tool
        names.add(str(function.get("name", "")))
    return names


def _call(name: str, **args: Any) -> Turn:
    return Turn(text=name, tool_calls=[(name, args)])


def _task_key(system: str) -> str:
    from bot.ledger import markers
    from bot.ledger.taskbody import TASK_MARKER

    data = markers.read_data(system, TASK_MARKER)
    return str(data.get("key", "")) if isinstance(data, dict) else ""


def _planner(messages: list[Message], system: str, request: str) -> Turn:
    if request.startswith("Revise"):
        section = system.split("## Work already planned", 1)[-1].split("## Repository map", 1)[0]
        lines = [line for line in section.splitlines() if line.startswith("- `")]
        done = bool(lines) and not any(state in line for line in lines for state in OPEN_STATES)
        return _call("submit_plan", tasks=[], notes=[], obsolete=[], done=done)
    return _call("submit_plan", **plan())


def policy(body: dict[str, Any], provider: str) -> Turn:
    """The stand-in's answer to one request (every role)."""
    messages = request_messages(body, provider)
    system = messages[0].content if messages and messages[0].role == "system" else ""
    request = next((m.content for m in messages if m.role == "user"), "")
    if "submit_plan" in _tools(body):
        return _planner(messages, system, request)
    step = sum(1 for m in messages if m.role == "assistant")
    key = _task_key(system)
    if key not in KEYS:
        return _call("finish", status="blocked", summary=f"the chaos model has no script for {key or 'this job'}")
    if step == 0:
        return _call("write_file", path=note(key), content=f"{key}\n")
    if step == 1:
        return _call("run", command=f"test -s {note(key)}")
    return _call("finish", status="done", summary=f"Wrote {note(key)}.", notes=[f"{note(key)} holds `{key}`"])
