"""`scripted:cachetools`: a scripted model that plays every role on the vendored cachetools project.

A test device, not a model. Like `scripted:demo` (bot/demo/policy.py) one policy reads the
conversation the real code built — the tools offered, the system prompt of each role in `prompts/`,
the task's key in the task marker — and answers only through the real tools:

- planner: looks around, submits the main plan (7 tasks and a sub-goal; cachetools_plan.py);
  sub-planner: submits the sub-goal's 2 tasks; a revision after handoffs adds nothing and says done
  when no task is open;
- worker: reads the changelog's head and `__init__.py`'s head and tail, writes its module and test,
  adds its changelog line and re-export (cachetools_work.py), runs its acceptance command, finishes
  with a handoff (blocked, with the output, when the command fails);
- CI fixer: reproduces with the full suite, applies the task's known fix whose signature is in the
  failing output, runs the suite again; anything it does not recognise ends blocked;
- conflict resolver: finds the conflict markers with `grep`, reads each conflict block, keeps both
  sides (landed lines first) in the changelog and `__init__.py` — any other conflicted file ends
  blocked — then checks for markers and runs the acceptance command. By default it only resolves:
  when the merged result fails the acceptance command it says so in its handoff, and the failure is
  left to CI and the CI fixer. `adapt_in_conflicts=True` (`scripted:cachetools-adaptive`) makes it
  apply a known fix there instead, as `prompts/conflict.md` asks of a real model;
- review: no scripted answer; ends blocked.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

from bot.llm.scripted import Policy, call, register_script, unregister_script
from bot.llm.types import Message, Reply, ToolSpec
from bot.modes.demo.policy import Turn, evidence, file_text, finish, reply, union
from bot.modes.local.userrepo import git
from tests.scenarios.cachetools_plan import CHANGELOG, INIT, SUBGOAL, SUITE, main_plan, sub_plan
from tests.scenarios.cachetools_work import CONTRIBUTIONS, find_fix, shared_calls

NAME = "cachetools"
MODEL = f"scripted:{NAME}"
ADAPTIVE_MODEL = f"scripted:{NAME}-adaptive"
PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "cachetools"
#: The conflicted files the resolver joins by keeping both sides.
SHARED_SPOTS = (CHANGELOG, INIT)
MARKER_PATTERN = r"^(<{7}|\|{7}|={7}|>{7})( |$)"
LINES = re.compile(r"\(lines (\d+)-(\d+) of (\d+)\)")
TASK_STATE = re.compile(r"^- `[^`]+` #\d+ .*\((?:task|subgoal): ([^;)]+)", re.MULTILINE)
EXIT = re.compile(r"^exit code (\d+)", re.MULTILINE)
IDENTITY = {
    "GIT_AUTHOR_NAME": "Scenario Person",
    "GIT_AUTHOR_EMAIL": "person@scenario.local",
    "GIT_COMMITTER_NAME": "Scenario Person",
    "GIT_COMMITTER_EMAIL": "person@scenario.local",
}


def make_repo(target: Path) -> Path:
    """Copy the vendored project to `target` (which must not exist) and commit it on `main`."""
    shutil.copytree(PROJECT, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache"))
    git(target, "init", "--quiet", "--initial-branch=main")
    git(target, "add", "--all")
    git(target, "commit", "--quiet", "-m", "cachetools 8.0.2, vendored", extra_env=IDENTITY)
    return target


def passed(result: str) -> bool:
    match = EXIT.search(result)
    return match is not None and match.group(1) == "0"


def tail(result: str, lines: int = 12) -> str:
    return "\n".join(result.strip().splitlines()[-lines:])


def read_result(turn: Turn, path: str, start: int | None = None) -> str:
    """The result of this run's `read_file` of `path` (from line `start`, when given), or ''."""
    for c, result in turn.results("read_file"):
        if c.arguments.get("path") == path and (start is None or c.arguments.get("start_line") == start):
            return result
    return ""


def failed_edits(turn: Turn) -> list[str]:
    return [
        f"{c.name} {c.arguments.get('path')}: {r}"
        for c, r in turn.calls
        if c.name in ("edit_file", "write_file") and r.startswith("error")
    ]


# -- the planners ---------------------------------------------------------------------------------
def planned_done(turn: Turn) -> bool:
    """True when every task listed under "Work already planned" is closed (done or not planned)."""
    section = turn.system.split("## Work already planned", 1)[-1].split("## Repository map", 1)[0]
    states = [m.group(1).strip() for m in TASK_STATE.finditer(section)]
    return bool(states) and all(state in ("done", "closed as not planned") for state in states)


def planner(turn: Turn) -> Reply:
    sub = "You are the sub-planner for" in turn.system
    if turn.request.startswith("Revise"):
        return reply(
            "The handoffs need no follow-up task.",
            call("submit_plan", tasks=[], notes=[], obsolete=[], done=planned_done(turn)),
        )
    if turn.results("submit_plan"):
        return finish(
            "The plan was rejected; the scripted planner has no other plan.",
            "blocked",
            concerns=[turn.results("submit_plan")[-1][1]],
        )
    if sub and turn.key != SUBGOAL:
        return finish(
            f"No scripted plan for the sub-goal {turn.key or '(unknown)'}.",
            "blocked",
            concerns=[f"{MODEL} only knows the sub-goal `{SUBGOAL}`"],
        )
    if sub:
        if turn.step == 0:
            return reply(
                "The existing key functions and their tests first.",
                call("read_file", path="src/cachetools/keys.py"),
                call("read_file", path="tests/test_keys.py"),
            )
        return reply("Two key functions, one task each, in parallel.", call("submit_plan", **sub_plan()))
    if turn.step == 0:
        return reply("First the layout of the repository.", call("list_files", path="."))
    if turn.step == 1:
        return reply(
            "Now the changelog's head, the package's exports and the key functions.",
            call("read_file", path=CHANGELOG, start_line=1, end_line=20),
            call("read_file", path=INIT, start_line=1, end_line=30),
            call("read_file", path="src/cachetools/keys.py"),
        )
    return reply(
        "Seven helper tasks (spill and trim after evict) and a sub-goal for the key functions.",
        call("submit_plan", **main_plan()),
    )


# -- the worker ---------------------------------------------------------------------------------
def worker(turn: Turn) -> Reply:
    contribution = CONTRIBUTIONS.get(turn.key)
    if contribution is None:
        return finish(
            f"{MODEL} has no script for task {turn.key or '(unknown)'}.",
            "blocked",
            concerns=[f"{MODEL} only knows the cachetools scenario's plan"],
        )
    if turn.step == 0:
        return reply(
            "Reading the shared spots: the changelog's head and the package's exports.",
            call("read_file", path=CHANGELOG, start_line=1, end_line=12),
            call("read_file", path=INIT, start_line=1, end_line=40),
        )
    if turn.step == 1:
        total = LINES.search(read_result(turn, INIT, 1))
        last = int(total.group(3)) if total else 1
        return reply(
            "And the end of `__init__.py`, where the re-exports go.",
            call("read_file", path=INIT, start_line=max(1, last - 5), end_line=last),
        )
    if turn.step == 2:
        reads = [r for c, r in turn.results("read_file") if c.arguments.get("path") == INIT]
        edits = shared_calls(
            contribution, file_text(read_result(turn, CHANGELOG)), file_text(reads[0]), file_text(reads[-1])
        )
        return reply(
            "Writing the module, its tests, the changelog line and the re-export.",
            *(call(name, **args) for name, args in contribution.file_calls() + edits),
        )
    if turn.step == 3:
        return reply("Running the acceptance commands.", *(call("run", command=c) for c in turn.acceptance))
    return worker_handoff(turn, contribution.key)


def worker_handoff(turn: Turn, key: str) -> Reply:
    contribution = CONTRIBUTIONS[key]
    problems = failed_edits(turn) + [
        f"`{c.arguments.get('command')}` failed:\n{tail(r)}" for c, r in turn.results("run") if not passed(r)
    ]
    if problems:
        return finish(
            f"Task `{key}` is not done: a change or an acceptance command failed.",
            "blocked",
            concerns=problems,
            notes=evidence(turn),
        )
    name = contribution.export.rsplit(" ", 1)[-1]
    return finish(
        f"Implemented task `{key}`: {turn.task.get('title', '')}. "
        f"Added {', '.join(f'`{p}`' for p in contribution.files)}.",
        notes=evidence(turn),
        deviations=[
            f"Added the changelog line to `{CHANGELOG}` and re-exported `{name}` at the end of `{INIT}` "
            "(outside the owned paths), as the plan's notes ask.",
            *contribution.deviations,
        ],
        findings=["src layout: the tests need `PYTHONPATH=src`; `-B` keeps `__pycache__` out of the checkout."],
    )


# -- the CI fixer -------------------------------------------------------------------------------
def ci_fixer(turn: Turn) -> Reply:
    if turn.step == 0:
        return reply("Reproducing the CI failure with the whole suite.", call("run", command=SUITE))
    first = turn.results("run")[0][1]
    if passed(first):
        return finish(
            "The suite passes here; the CI failure does not reproduce.",
            "blocked",
            concerns=[f"`{SUITE}` passed locally: {tail(first, 2)}"],
            notes=evidence(turn),
        )
    fix = find_fix(turn.key, turn.system + "\n" + first)
    if fix is None:
        return finish(
            f"{MODEL} does not recognise this CI failure of task `{turn.key}`.",
            "blocked",
            concerns=[f"unrecognised failure:\n{tail(first)}"],
        )
    if turn.step == 1:
        return reply("Reading the code the failure points at.", *(call("read_file", path=p) for p in fix.reads))
    if turn.step == 2:
        return reply("Fixing the cause.", *(call(name, **args) for name, args in fix.calls))
    if turn.step == 3:
        return reply("Running the whole suite as CI does.", call("run", command=SUITE))
    last = turn.results("run")[-1][1]
    if failed_edits(turn) or not passed(last):
        return finish(
            "The known fix did not make the suite pass.",
            "blocked",
            concerns=[*failed_edits(turn), tail(last)],
            notes=evidence(turn),
        )
    return finish(f"CI failed because {fix.cause}", notes=evidence(turn), deviations=list(fix.deviations))


# -- the conflict resolver ----------------------------------------------------------------------
def conflict_blocks(grep_result: str) -> list[tuple[str, int, int]]:
    """(path, first line, last line) of each conflict block in a `grep` result for the markers."""
    starts: dict[str, int] = {}
    blocks = []
    for match in re.finditer(r"^([^:\s]+):(\d+): (<{7}|>{7})", grep_result, re.MULTILINE):
        path, line, marker = match.group(1), int(match.group(2)), match.group(3)
        if marker.startswith("<"):
            starts[path] = line
        elif path in starts:
            blocks.append((path, starts.pop(path), line))
    return blocks


def make_resolver(adapt: bool) -> Callable[[Turn], Reply]:
    def resolver(turn: Turn) -> Reply:
        if turn.step == 0:
            return reply("Finding the conflict markers.", call("grep", pattern=MARKER_PATTERN))
        blocks = conflict_blocks(turn.results("grep")[0][1])
        foreign = sorted({path for path, _s, _e in blocks} - set(SHARED_SPOTS))
        if foreign:
            return finish(
                f"Conflicts outside the changelog and the export list: {', '.join(foreign)}.",
                "blocked",
                concerns=[f"{MODEL} only joins additions to {', '.join(SHARED_SPOTS)}"],
            )
        if turn.step == 1:
            if not blocks:
                return finish("No conflict markers are left; nothing to resolve.", notes=["grep found no markers"])
            return reply(
                "Reading each conflict block.",
                *(call("read_file", path=p, start_line=s, end_line=e) for p, s, e in blocks),
            )
        if turn.step == 2:
            edits = []
            for c, result in turn.results("read_file"):
                text = file_text(result)
                edits.append(call("edit_file", path=str(c.arguments["path"]), old_string=text, new_string=union(text)))
            return reply("Both sides add lines at the same spot: keeping every line, the landed ones first.", *edits)
        if turn.step == 3:
            return reply(
                "Checking no marker is left and the acceptance commands pass.",
                call("grep", pattern=MARKER_PATTERN),
                *(call("run", command=c) for c in turn.acceptance),
            )
        return resolver_end(turn, blocks, adapt)

    return resolver


def resolver_end(turn: Turn, blocks: list[tuple[str, int, int]], adapt: bool) -> Reply:
    checks = [r for _c, r in turn.results("run")[: len(turn.acceptance)]]
    failing = "\n".join(r for r in checks if not passed(r))
    fix = find_fix(turn.key, failing) if failing and adapt else None
    if fix is not None and turn.step == 4:
        return reply(
            "The merged result breaks this PR's code: adapting it to the landed change.",
            *(call(name, **args) for name, args in fix.calls),
        )
    if fix is not None and turn.step == 5:
        return reply("Running the acceptance commands again.", *(call("run", command=c) for c in turn.acceptance))
    files = ", ".join(sorted({path for path, _s, _e in blocks}))
    summary = f"Merged the default branch: kept both sides of {len(blocks)} conflict(s) in {files}, landed lines first."
    markers_left = turn.results("grep")[1][1] if len(turn.results("grep")) > 1 else ""
    problems = failed_edits(turn) + (
        [f"conflict markers remain:\n{markers_left}"]
        if ":" in markers_left and not markers_left.startswith("no matches")
        else []
    )
    last = turn.results("run")[-len(turn.acceptance) :] if turn.acceptance else []
    if problems:
        return finish("Could not join the conflict blocks.", "blocked", concerns=problems)
    concerns = [
        f"after the merge `{c.arguments.get('command')}` fails (the landed change breaks this PR):\n{tail(r)}"
        for c, r in last
        if not passed(r)
    ]
    if fix is not None:
        summary += f" Then adapted this PR: {fix.cause}"
    return finish(summary, notes=evidence(turn), concerns=concerns, deviations=list(fix.deviations) if fix else [])


# -- dispatch -------------------------------------------------------------------------------------
def cachetools_policy(adapt_in_conflicts: bool = False) -> Policy:
    """The policy of `scripted:cachetools` (or, adapting in conflicts, `scripted:cachetools-adaptive`)."""
    resolver = make_resolver(adapt_in_conflicts)
    roles: list[tuple[Callable[[Turn], bool], Callable[[Turn], Reply]]] = [
        (lambda t: "submit_plan" in t.tools, planner),
        (lambda t: "You resolve the merge of" in t.system, resolver),
        (lambda t: "CI fails on PR #" in t.system[:400], ci_fixer),
        (
            lambda t: t.system.startswith("A reviewer asked for changes"),
            lambda t: finish(f"{MODEL} has no scripted answer to a review.", "blocked", concerns=["scripted review"]),
        ),
    ]

    def policy(messages: list[Message], tools: list[ToolSpec]) -> Reply:
        turn = Turn(messages, tools)
        for matches, role in roles:
            if matches(turn):
                return role(turn)
        return worker(turn)

    return policy


def register() -> None:
    """Make `scripted:cachetools` and `scripted:cachetools-adaptive` available to model specs."""
    register_script(NAME, cachetools_policy)
    register_script(f"{NAME}-adaptive", lambda: cachetools_policy(adapt_in_conflicts=True))


def unregister() -> None:
    unregister_script(NAME)
    unregister_script(f"{NAME}-adaptive")
