"""Acceptance 1: the same coding-agent run passes through the real openai and anthropic SDKs (plain and
streamed) against the model stand-in over HTTP: it reads a file, edits it, runs the repo's tests and
finishes, and the repo's tests pass afterwards."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.agent import Sandbox, Toolbox, run_agent
from bot.llm.factory import make_model
from bot.settings import Budget
from tests.support.model_server import ModelServer, Turn

BUGGY_REPO = {
    "calc.py": "def add(a, b):\n    return a - b\n",
    "test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
    ".gitignore": "__pycache__/\n",
}
PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider"


def conversation(body: dict[str, Any], provider: str) -> tuple[int, str]:
    """How many assistant turns the request carries, and the text of its last tool result."""
    messages = body["messages"]
    turns = sum(1 for m in messages if m["role"] == "assistant")
    last = messages[-1]
    if provider == "openai":
        return turns, last["content"] if last["role"] == "tool" else ""
    blocks = last["content"] if isinstance(last["content"], list) else []
    results = [b for b in blocks if b.get("type") == "tool_result"]
    if not results:
        return turns, ""
    content = results[-1]["content"]
    return turns, content if isinstance(content, str) else "".join(c.get("text", "") for c in content)


def fixer(body: dict[str, Any], provider: str) -> Turn:
    turns, seen = conversation(body, provider)
    if turns == 0:
        return Turn(tool_calls=[("read_file", {"path": "calc.py"})])
    if turns == 1:
        assert "return a - b" in seen, seen
        return Turn(tool_calls=[("edit_file", {"path": "calc.py", "old_string": "a - b", "new_string": "a + b"})])
    if turns == 2:
        return Turn(text="Running the tests.", tool_calls=[("run", {"command": PYTEST})])
    passed = "1 passed" in seen
    return Turn(
        tool_calls=[
            (
                "finish",
                {
                    "status": "done" if passed else "blocked",
                    "summary": "add() adds now.",
                    "notes": [seen.strip().splitlines()[-1]],
                },
            )
        ]
    )


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
@pytest.mark.parametrize(
    ("spec", "env_names"),
    [
        ("openai:gpt-4.1-mini", ("OPENAI_API_KEY", "OPENAI_BASE_URL")),
        ("anthropic:claude-haiku-4-5", ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL")),
    ],
    ids=["openai", "anthropic"],
)
def test_agent_fixes_a_repo_through_the_real_sdk(
    spec: str,
    env_names: tuple[str, str],
    stream: bool,
    model_server: ModelServer,
    git_repo_factory: Callable[..., Path],
    tmp_path: Path,
) -> None:
    key = f"test-{secrets.token_hex(12)}"
    base = model_server.openai_base_url if spec.startswith("openai") else model_server.anthropic_base_url
    model_server.api_key = key
    model_server.policy(fixer)
    model = make_model(spec, env={env_names[0]: key, env_names[1]: base}, stream=stream, max_retry_s=5)
    repo = git_repo_factory(BUGGY_REPO)
    transcript = tmp_path / "run.jsonl"

    with Sandbox(repo, timeout_s=60) as sandbox:
        result = run_agent(
            model,
            system="You fix bugs in this repository.",
            task="Make `test_calc.py` pass.",
            toolbox=Toolbox(repo, sandbox=sandbox),
            budget=Budget(max_steps=10),
            workdir=repo,
            transcript_path=transcript,
        )

    assert result.status == "finished", result.reason
    assert result.files_changed == ["calc.py"]
    assert "1 passed" in result.report.notes[0]
    assert result.steps == 4 and result.usage.calls == 4 and result.usage.input_tokens == 400
    assert result.usage.cost_usd > 0  # priced from the table, so the money budget can act
    after = subprocess.run(PYTEST.split(), cwd=repo, capture_output=True, text=True)
    assert after.returncode == 0, after.stdout
    # What went over the wire: the tools, the system prompt, and every tool result.
    assert len(model_server.requests) == 4
    first = model_server.requests[0].body
    names = [t["function"]["name"] if "function" in t else t["name"] for t in first["tools"]]
    assert names == ["read_file", "list_files", "grep", "write_file", "edit_file", "run", "finish"]
    assert "You fix bugs in this repository." in str(first.get("system", "")) + str(first["messages"][0])
    assert key not in transcript.read_text()
