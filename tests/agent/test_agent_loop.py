"""The agent loop: a scripted agent fixes a repo and finishes; budgets, model errors, replies without
tool calls and rejected terminal calls each end a run with a clear status; old tool output gives way."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.agent import (
    AgentResult,
    Sandbox,
    StepEvent,
    TerminalTool,
    Toolbox,
    ToolRejected,
    run_agent,
)
from bot.agent.transcript import read_transcript
from bot.errors import ModelUnavailable
from bot.llm.scripted import ScriptedModel, call
from bot.llm.types import Message, Reply, ToolSpec, Usage
from bot.settings import Budget

BUGGY_REPO = {
    "calc.py": "def add(a, b):\n    return a - b\n",
    "test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
    ".gitignore": "__pycache__/\n.pytest_cache/\n",
}
PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider"


def last_tool_output(messages: list[Message]) -> str:
    return messages[-1].content if messages and messages[-1].role == "tool" else ""


def fixer_policy(messages: list[Message], tools: list[ToolSpec]) -> Reply:
    """Reads calc.py, fixes it, runs the tests, finishes — each step decided from what it saw."""
    seen = last_tool_output(messages)
    done = sum(1 for m in messages if m.role == "assistant")
    if done == 0:
        return Reply(tool_calls=[call("read_file", path="calc.py")])
    if done == 1:
        assert "return a - b" in seen
        return Reply(tool_calls=[call("edit_file", path="calc.py", old_string="a - b", new_string="a + b")])
    if done == 2:
        return Reply(tool_calls=[call("run", command=PYTEST)])
    passed = "1 passed" in seen
    return Reply(
        tool_calls=[
            call(
                "finish",
                status="done" if passed else "blocked",
                summary="Fixed add() to add.",
                notes=[seen.splitlines()[-1]],
                concerns=[] if passed else ["tests still fail"],
            )
        ]
    )


@pytest.fixture
def repo(git_repo_factory: Callable[..., Path]) -> Path:
    return git_repo_factory(BUGGY_REPO)


def agent(model: Any, repo: Path, budget: Budget, *, toolbox: Toolbox | None = None, **kw: Any) -> AgentResult:
    with Sandbox(repo, timeout_s=60) as sandbox:
        box = toolbox or Toolbox(repo, sandbox=sandbox, protected=[".github/workflows/**"])
        return run_agent(
            model,
            system="You fix bugs.",
            task="Make the tests pass.",
            toolbox=box,
            budget=budget,
            workdir=repo,
            transcript_path=kw.pop("transcript_path", None),
            **kw,
        )


def test_scripted_agent_fixes_the_repo_and_finishes(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = f"fake-{secrets.token_hex(16)}"
    monkeypatch.setenv("GITHUB_TOKEN", planted)
    monkeypatch.setenv("ANTHROPIC_API_KEY", planted)
    events: list[StepEvent] = []
    transcript = tmp_path / "state" / "runs" / "t1.jsonl"
    result = agent(
        ScriptedModel("scripted:fixer", fixer_policy),
        repo,
        Budget(max_steps=10),
        transcript_path=transcript,
        on_event=events.append,
    )

    assert result.status == "finished", result.reason
    assert result.files_changed == ["calc.py"]
    assert result.report.summary == "Fixed add() to add."
    assert "1 passed" in result.report.notes[0]
    assert result.steps == 4 and result.usage.calls == 4 and result.usage.total_tokens > 0
    assert result.terminal_tool == "finish"
    after = subprocess.run(PYTEST.split(), cwd=repo, capture_output=True, text=True)
    assert after.returncode == 0, after.stdout
    assert [e.tool for e in events if e.kind == "tool"] == ["read_file", "edit_file", "run", "finish"]
    assert AgentResult.model_validate_json(result.model_dump_json()) == result

    lines = read_transcript(transcript)
    assert lines[0]["role"] == "system" and lines[1]["role"] == "user"
    assert lines[-1]["kind"] == "result" and lines[-1]["status"] == "finished"
    assert any(line.get("role") == "tool" and "1 passed" in line["content"] for line in lines)
    assert planted not in transcript.read_text()
    assert result.transcript_path == str(transcript)


def looping_policy(messages: list[Message], tools: list[ToolSpec]) -> Reply:
    return Reply(tool_calls=[call("list_files")])


def test_looping_model_is_stopped_by_the_step_budget(repo: Path) -> None:
    result = agent(ScriptedModel("scripted:loop", looping_policy), repo, Budget(max_steps=5, max_tokens=10**9))
    assert result.status == "budget_exhausted"
    assert result.exhausted_budget == "steps"
    assert result.steps == 5
    assert result.reason == "step budget spent: 5 of 5 steps"


def test_looping_model_is_stopped_by_the_token_budget(repo: Path) -> None:
    def costly(messages: list[Message], tools: list[ToolSpec]) -> Reply:
        return Reply(tool_calls=[call("list_files")], usage=Usage(input_tokens=900, output_tokens=100, calls=1))

    result = agent(ScriptedModel("scripted:loop", costly), repo, Budget(max_steps=100, max_tokens=3500))
    assert result.status == "budget_exhausted"
    assert result.exhausted_budget == "tokens"
    assert result.steps == 4 and result.usage.total_tokens == 4000
    assert "token budget spent: 4,000 of 3,500 tokens" in result.reason


def test_money_and_wall_time_budgets(repo: Path) -> None:
    def pricey(messages: list[Message], tools: list[ToolSpec]) -> Reply:
        return Reply(tool_calls=[call("list_files")], usage=Usage(input_tokens=1, cost_usd=0.4, calls=1))

    spent = agent(ScriptedModel("scripted:loop", pricey), repo, Budget(max_usd=1.0))
    assert (spent.status, spent.exhausted_budget, spent.steps) == ("budget_exhausted", "usd", 3)
    timed = agent(ScriptedModel("scripted:loop", looping_policy), repo, Budget(max_steps=10**6, max_wall_s=0.3))
    assert (timed.status, timed.exhausted_budget) == ("budget_exhausted", "wall_time")


def test_model_error_ends_the_run(repo: Path) -> None:
    def broken(messages: list[Message], tools: list[ToolSpec]) -> Reply:
        if len(messages) > 2:
            raise ModelUnavailable("529 overloaded after 5 attempts")
        return Reply(tool_calls=[call("list_files")])

    result = agent(ScriptedModel("scripted:broken", broken), repo, Budget(max_steps=10))
    assert result.status == "model_error"
    assert result.reason == "ModelUnavailable: 529 overloaded after 5 attempts"
    assert result.steps == 1


def test_text_replies_get_a_bounded_nudge(repo: Path) -> None:
    chatty = ScriptedModel("scripted:chatty", lambda m, t: Reply(text="I think the bug is in calc.py."))
    result = agent(chatty, repo, Budget(max_steps=50))
    assert result.status == "no_progress"
    assert result.steps == 3

    def listens(messages: list[Message], tools: list[ToolSpec]) -> Reply:
        if messages[-1].role == "user" and "did not call a tool" in messages[-1].content:
            return Reply(tool_calls=[call("finish", status="done", summary="done after a nudge")])
        return Reply(text="Thinking out loud.")

    nudged = agent(ScriptedModel("scripted:listens", listens), repo, Budget(max_steps=50))
    assert nudged.status == "finished" and nudged.steps == 2


def test_terminal_tool_rejections_are_bounded_and_output_returned(repo: Path) -> None:
    spec = ToolSpec(name="submit_plan", description="submit", parameters={"type": "object", "properties": {}})

    def validate(args: dict[str, Any]) -> dict[str, Any]:
        if len(args.get("tasks", [])) < 2:
            raise ToolRejected("write 2-5 tasks")
        return {"tasks": args["tasks"]}

    box = Toolbox(repo, read_only=True, terminal_tools=[TerminalTool(spec, validate)])
    stubborn = ScriptedModel("scripted:stubborn", lambda m, t: Reply(tool_calls=[call("submit_plan", tasks=["one"])]))
    refused = agent(stubborn, repo, Budget(max_steps=20), toolbox=box)
    assert refused.status == "no_progress" and refused.steps == 3
    assert "rejected 3 times" in refused.reason

    def learns(messages: list[Message], tools: list[ToolSpec]) -> Reply:
        tasks = ["one", "two"] if "write 2-5 tasks" in messages[-1].content else ["one"]
        return Reply(tool_calls=[call("submit_plan", tasks=tasks)])

    planned = agent(ScriptedModel("scripted:learns", learns), repo, Budget(max_steps=20), toolbox=box)
    assert planned.status == "finished" and planned.terminal_tool == "submit_plan"
    assert planned.output == {"tasks": ["one", "two"]}
    assert json.loads(planned.model_dump_json())["output"] == {"tasks": ["one", "two"]}


def test_old_tool_output_is_dropped_near_the_context_window(repo: Path) -> None:
    (repo / "big.txt").write_text("".join(f"filler line {n}\n" for n in range(600)))
    seen: list[list[Message]] = []

    def reader(messages: list[Message], tools: list[ToolSpec]) -> Reply:
        seen.append(list(messages))
        if len(seen) >= 12:
            return Reply(tool_calls=[call("finish", status="done", summary="read a lot")])
        return Reply(tool_calls=[call("read_file", path="big.txt")])

    model = ScriptedModel("scripted:reader", reader)
    model.context_window = 30_000  # each read is ~3,000 tokens: the window fills after a few
    result = agent(model, repo, Budget(max_steps=20))
    assert result.status == "finished"
    last = seen[-1]
    assert last[0].content == "You fix bugs." and last[1].content == "Make the tests pass."
    dropped = [m for m in last if m.role == "tool" and m.content.startswith("[old tool output dropped")]
    assert dropped, "old tool output should have been dropped"
    assert "filler line 599" in last[-1].content  # the recent output is intact
