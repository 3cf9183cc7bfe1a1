"""`orchestra agent run`: streams one line per step, prints the report and usage, exits 0 only when
the agent finished; honours the repo's config (protected paths) and prompt overrides."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.llm.scripted import call, register_script, unregister_script
from bot.llm.types import Message, Reply, ToolSpec

PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider"
SEEN_SYSTEM: list[str] = []


def fixer(messages: list[Message], tools: list[ToolSpec]) -> Reply:
    SEEN_SYSTEM.append(messages[0].content)
    steps = sum(1 for m in messages if m.role == "assistant")
    plan = [
        call("read_file", path="calc.py"),
        call("edit_file", path="calc.py", old_string="a - b", new_string="a + b"),
        call("write_file", path=".github/workflows/ci.yml", content="hacked"),
        call("run", command=PYTEST),
    ]
    if steps < len(plan):
        return Reply(tool_calls=[plan[steps]])
    return Reply(
        tool_calls=[call("finish", status="done", summary="add() adds.", notes=[messages[-1].content.splitlines()[-1]])]
    )


@pytest.fixture
def scripts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("ORCHESTRA_STATE_DIR", str(tmp_path / "state"))
    register_script("cli-fixer", lambda: fixer)
    register_script("cli-loop", lambda: lambda m, t: Reply(tool_calls=[call("list_files")]))
    SEEN_SYSTEM.clear()
    yield
    unregister_script("cli-fixer")
    unregister_script("cli-loop")


@pytest.fixture
def repo(git_repo_factory: Callable[..., Path]) -> Path:
    return git_repo_factory(
        {
            "calc.py": "def add(a, b):\n    return a - b\n",
            "test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
            ".gitignore": "__pycache__/\n",
            ".github/workflows/ci.yml": "on: push\n",
            ".github/orchestra.yml": "agent: {command_timeout_s: 60}\n",
            ".github/orchestra/prompts/worker.md": "Local worker prompt for {{ repo }}: {{ task_body }}\n",
        }
    )


def test_agent_run_streams_steps_and_reports(
    scripts: None, repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["agent", "run", "--repo", str(repo), "--task", "Fix add()", "--model", "scripted:cli-fixer"])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    assert any("read_file" in line and "path=calc.py" in line for line in lines)
    assert any("write_file" in line and "✗" in line for line in lines)  # protected path refused
    assert "finished" in out and "add() adds." in out and "1 passed" in out
    assert "files changed: calc.py" in out
    assert "steps 5 · tokens in" in out
    assert (repo / ".github/workflows/ci.yml").read_text() == "on: push\n"
    assert SEEN_SYSTEM[0] == f"Local worker prompt for {repo.name}: Fix add()\n"
    assert list((tmp_path / "state" / "runs").glob("agent-*.jsonl"))
    assert subprocess.run(PYTEST.split(), cwd=repo, capture_output=True).returncode == 0


def test_agent_run_exits_nonzero_when_it_does_not_finish(
    scripts: None, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["agent", "run", "--repo", str(repo), "--task", "Loop", "--model", "scripted:cli-loop", "--max-steps", "3"]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "budget_exhausted" in out and "step budget spent: 3 of 3 steps" in out
    assert out.count("list_files") == 3


def test_agent_run_uses_the_builtin_worker_prompt_without_override(scripts: None, repo: Path) -> None:
    (repo / ".github/orchestra/prompts/worker.md").unlink()
    assert (
        main(
            [
                "agent",
                "run",
                "--repo",
                str(repo),
                "--task",
                "Fix add()",
                "--model",
                "scripted:cli-fixer",
                "--accept",
                PYTEST,
            ]
        )
        == 0
    )
    assert "solely responsible for this task" in SEEN_SYSTEM[0]
    assert f"`{PYTEST}`" in SEEN_SYSTEM[0] and "killed after 60 s" in SEEN_SYSTEM[0]


def test_agent_run_unknown_model_is_a_clear_error(
    scripts: None, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["agent", "run", "--repo", str(repo), "--task", "x", "--model", "scripted:nope"]) == 2
    assert "no such scripted model" in capsys.readouterr().err


@pytest.mark.parametrize("inside", [".orchestra/NOTES.md", ".github/orchestra/prompts/worker.md"])
def test_agent_run_reads_no_file_outside_the_checkout(
    scripts: None, repo: Path, tmp_path: Path, inside: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A notes file or prompt override that is a symlink out of the checkout never reaches the model."""
    outside = tmp_path / "outside-secret.txt"
    outside.write_text("OUTSIDE-SECRET {{ task_body }}\n")
    link = repo / inside
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(outside)
    code = main(["agent", "run", "--repo", str(repo), "--task", "Fix add()", "--model", "scripted:cli-fixer"])
    assert code == 2 and not SEEN_SYSTEM
    assert f"{inside}: resolves outside the repository" in capsys.readouterr().err
