"""`scripted:demo`: the offline demo's scripted model — a demonstration device, not a model.

One policy plays every role by reading the conversation the real code built: the tools offered
(`submit_plan` means the planner), the system prompt (the worker, CI-fix, conflict and review
prompts of `prompts/`), the task's key in the task marker of the prompt, and the results of its
own earlier tool calls. It answers only through the real tools, so the real planner, workers,
sandbox, forge and CI do all the work around it. Only the bundled example project's plan and
code are known to it (bot/demo/plan.py, bot/demo/work.py); anything else ends in `finish` with
status `blocked`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any

from bot.ledger import markers
from bot.ledger.taskbody import TASK_MARKER
from bot.llm.scripted import call
from bot.llm.types import Message, Reply, ToolCall, ToolSpec
from bot.modes.demo.plan import UNIT_TASKS, demo_plan
from bot.modes.demo.work import CHANGES, docstring_for

CI_COMMAND = "python3 -m unittest discover -s tests -t ."
MISSING_DOCSTRING = re.compile(r"(unitconv/[\w/]+\.py): module has no docstring")
GREP_HIT = re.compile(r"^([^:\s]+):\d+:", re.MULTILINE)
OPEN_STATES = ("waiting", "ready", "working", "review", "needs-human", "paused", ": open")


class Turn:
    """The conversation so far, as the policy reads it."""

    def __init__(self, messages: list[Message], tools: list[ToolSpec]) -> None:
        self.system = messages[0].content if messages and messages[0].role == "system" else ""
        self.request = next((m.content for m in messages if m.role == "user"), "")
        self.tools = {tool.name for tool in tools}
        results = {m.tool_call_id: m.content for m in messages if m.role == "tool"}
        self.calls: list[tuple[ToolCall, str]] = [
            (c, results.get(c.id, "")) for m in messages if m.role == "assistant" for c in m.tool_calls
        ]
        self.step = sum(1 for m in messages if m.role == "assistant")
        task = markers.read_data(self.system, TASK_MARKER)
        self.task: dict[str, Any] = task if isinstance(task, dict) else {}

    @property
    def key(self) -> str:
        return str(self.task.get("key", ""))

    @property
    def acceptance(self) -> list[str]:
        return [str(c) for c in self.task.get("acceptance_commands", [])]

    def results(self, tool: str) -> list[tuple[ToolCall, str]]:
        return [(c, r) for c, r in self.calls if c.name == tool]


def reply(text: str, *calls: ToolCall) -> Reply:
    return Reply(text=text, tool_calls=list(calls), stop_reason="tool_use")


def finish(summary: str, status: str = "done", **lists: list[str]) -> Reply:
    return reply(summary, call("finish", status=status, summary=summary, **lists))


def evidence(turn: Turn) -> list[str]:
    """The last lines of the latest `run` results, for the handoff's notes."""
    notes = []
    for c, result in turn.results("run")[-2:]:
        tail = " / ".join(line for line in result.strip().splitlines()[-3:] if line.strip())
        notes.append(f"`{c.arguments.get('command')}`: {tail}")
    return notes


# -- the planner ----------------------------------------------------------------------------
def planner(turn: Turn) -> Reply:
    if turn.request.startswith("Revise"):
        section = turn.system.split("## Work already planned", 1)[-1].split("## Repository map", 1)[0]
        lines = [line for line in section.splitlines() if line.startswith("- `")]
        done = bool(lines) and not any(state in line for line in lines for state in OPEN_STATES)
        return reply(
            "The handoffs need no follow-up task.", call("submit_plan", tasks=[], notes=[], obsolete=[], done=done)
        )
    if turn.step == 0:
        return reply("First the layout of the repository.", call("list_files", path="."))
    if turn.step == 1:
        return reply(
            "Now the registry, a dimension module and the module rules.",
            call("read_file", path="unitconv/registry.py"),
            call("read_file", path="unitconv/length.py"),
            call("read_file", path="tests/test_modules.py"),
        )
    return reply(
        "Five tasks: three dimensions in parallel, then the command line, then the README.",
        call("submit_plan", **demo_plan()),
    )


# -- the worker ------------------------------------------------------------------------------
def worker(turn: Turn) -> Reply:
    change = CHANGES.get(turn.key)
    if change is None:
        return finish(
            f"The demo policy has no script for task {turn.key or '(unknown)'}.",
            "blocked",
            concerns=["scripted:demo only knows the bundled example project's plan"],
        )
    if turn.step == 0:
        reads = [call("read_file", path=p) for p in turn.task.get("context_files", [])[:3]]
        return reply("Reading the files the task names.", *reads)
    if turn.step == 1:
        return reply("Writing the change.", *(call(name, **args) for name, args in change))
    if turn.step == 2:
        return reply("Running the acceptance commands.", *(call("run", command=c) for c in turn.acceptance))
    deviations = []
    if turn.key in UNIT_TASKS:
        deviations = ["Registered the module in unitconv/registry.py (outside the owned paths), as the plan asks."]
    return finish(
        f"Implemented task `{turn.key}`: {turn.task.get('title', '')}.", notes=evidence(turn), deviations=deviations
    )


# -- the CI fixer ----------------------------------------------------------------------------
def ci_fixer(turn: Turn) -> Reply:
    if turn.step == 0:
        return reply("Reproducing the CI failure.", call("run", command=CI_COMMAND))
    seen = turn.system + "\n".join(result for _c, result in turn.results("run"))
    paths = sorted(set(MISSING_DOCSTRING.findall(seen)))
    if not paths:
        return finish(
            "The demo CI fixer only knows missing module docstrings; this failure is different.",
            "blocked",
            concerns=["unrecognised CI failure"],
        )
    if turn.step == 1:
        return reply("CI's module check fails: a module has no docstring.", *(call("read_file", path=p) for p in paths))
    if turn.step == 2:
        writes = []
        for c, result in turn.results("read_file"):
            path = str(c.arguments["path"])
            writes.append(call("write_file", path=path, content=f'"""{docstring_for(path)}"""\n\n' + file_text(result)))
        return reply("Adding the module docstrings.", *writes)
    if turn.step == 3:
        return reply("Running the whole suite as CI does.", call("run", command=CI_COMMAND))
    return finish(
        f"CI failed because {', '.join(paths)} had no module docstring (tests/test_modules.py); added it.",
        notes=evidence(turn),
    )


# -- the conflict resolver -------------------------------------------------------------------
def resolver(turn: Turn) -> Reply:
    if turn.step == 0:
        return reply("Finding the conflict markers.", call("grep", pattern="^<<<<<<< "))
    paths = sorted({match.group(1) for _c, result in turn.results("grep")[:1] for match in GREP_HIT.finditer(result)})
    if turn.step == 1:
        if not paths:
            return finish("No conflict markers are left; nothing to resolve.", notes=["grep found no markers"])
        return reply("Reading the conflicted files.", *(call("read_file", path=p) for p in paths))
    if turn.step == 2:
        writes = [
            call("write_file", path=str(c.arguments["path"]), content=union(file_text(result)))
            for c, result in turn.results("read_file")
        ]
        return reply("Both sides add entries at the same spot: keeping every entry.", *writes)
    if turn.step == 3:
        return reply(
            "Checking no marker is left and the acceptance commands pass.",
            call("grep", pattern="^(<<<<<<<|=======|>>>>>>>)"),
            *(call("run", command=c) for c in turn.acceptance),
        )
    return finish(
        "Merged the default branch: both this task's entries and the landed ones are kept.",
        notes=evidence(turn) + [f"resolved {', '.join(paths) or 'the conflicted files'} by keeping both sides"],
    )


def file_text(read_result: str) -> str:
    """The file's text from a `read_file` result (a header line, then `N<TAB>line` per line)."""
    lines = read_result.splitlines()[1:]
    if lines == ["(empty file)"]:
        return ""
    return "".join(line.split("\t", 1)[1] + "\n" if "\t" in line else line + "\n" for line in lines)


def union(text: str) -> str:
    """Resolve every conflict by keeping both sides: lines both share once, each side's own lines (landed first)."""
    out: list[str] = []
    ours: list[str] = []
    theirs: list[str] = []
    side = ""
    for line in text.splitlines(keepends=True):
        if line.startswith("<<<<<<<"):
            side, ours, theirs = "ours", [], []
        elif line.startswith("|||||||") and side == "ours":
            side = "base"
        elif line.startswith("=======") and side in ("ours", "base"):
            side = "theirs"
        elif line.startswith(">>>>>>>") and side == "theirs":
            out += interleave(theirs, ours)
            side = ""
        elif side == "ours":
            ours.append(line)
        elif side == "theirs":
            theirs.append(line)
        elif side == "":
            out.append(line)
    return "".join(out)


def interleave(first: list[str], second: list[str]) -> list[str]:
    """Both line lists merged: common runs once, where they differ `first`'s lines then `second`'s."""
    merged: list[str] = []
    matcher = difflib.SequenceMatcher(a=first, b=second, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        merged += first[i1:i2] if tag == "equal" else first[i1:i2] + second[j1:j2]
    return merged


# -- dispatch --------------------------------------------------------------------------------
ROLES: list[tuple[Callable[[Turn], bool], Callable[[Turn], Reply]]] = [
    (lambda t: "submit_plan" in t.tools, planner),
    (lambda t: "You resolve the merge of" in t.system, resolver),
    (lambda t: t.system.startswith("CI fails on PR") or "CI fails on PR #" in t.system[:400], ci_fixer),
    (
        lambda t: t.system.startswith("A reviewer asked for changes"),
        lambda t: finish(
            "The review asks for nothing the demo knows how to change.", "blocked", concerns=["scripted review"]
        ),
    ),
]


def demo_policy(messages: list[Message], tools: list[ToolSpec]) -> Reply:
    """The reply of `scripted:demo` to this conversation."""
    turn = Turn(messages, tools)
    for matches, role in ROLES:
        if matches(turn):
            return role(turn)
    return worker(turn)
