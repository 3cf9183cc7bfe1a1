"""Run one role of a scripted scenario offline: the real prompt, the real agent loop, the real toolbox and sandbox.

No forge and no queue: the prompt variables a job would gather from the forge are given here, the
task body is rendered from the plan's task exactly as the planner would publish it, and the agent
works on a local checkout. Committing, pushing and merging are the caller's (plain git).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.agent import Toolbox, run_agent
from bot.agent.result import AgentResult
from bot.agent.sandbox import Sandbox
from bot.ledger.taskbody import TaskSpec, render_task_body
from bot.llm.scripted import Policy, ScriptedModel
from bot.prompting import policy_context, render_prompt
from bot.repoconfig import RepoConfig
from bot.settings import Budget
from bot.worker.session import START

REPO = "you/project"
COMMAND_TIMEOUT_S = 120


def python_path() -> str:
    """PATH with this interpreter's directory first, so `python3` in commands has pytest, as in CI here."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "/usr/bin:/bin")])


def run_shell(repo: Path, command: str) -> subprocess.CompletedProcess[str]:
    """Run `command` with bash in `repo` the way localhub's CI does (minimal environment)."""
    env = {"PATH": python_path(), "LANG": "C.UTF-8", "HOME": str(repo.parent)}
    return subprocess.run(["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True, timeout=300)


def task_body(task: Mapping[str, Any], number: int = 2) -> str:
    """The issue body the planner publishes for a planned task (dependencies as issue numbers aside)."""
    spec = TaskSpec(
        goal=1,
        key=task["key"],
        title=task["title"],
        objective=task["objective"],
        context_files=task.get("context_files", []),
        owned_paths=task.get("owned_paths", []),
        acceptance_commands=task.get("acceptance_commands", []),
        acceptance_outcomes=task.get("acceptance_outcomes", []),
        kind=task.get("kind", "task"),
    )
    return render_task_body(spec)


def role_variables(role: str, task: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """The variables `role`'s prompt needs, with the defaults a job would use (`extra` overrides them)."""
    acceptance = list(task.get("acceptance_commands", []))
    base: dict[str, Any] = {
        **policy_context(RepoConfig(), "", repo=REPO),
        "task_number": 2,
        "task_title": task["title"],
        "task_body": task_body(task),
        "acceptance": acceptance,
    }
    per_role: dict[str, dict[str, Any]] = {
        "worker": {"owned_paths": list(task.get("owned_paths", [])), "test_command": None},
        "ci_fix": {
            "pr_number": 3,
            "attempt": 1,
            "max_attempts": 3,
            "failures": [],
            "instructions": "",
            "combined": False,
            "landed": [],
            "diffstat": "",
        },
        "conflict": {"pr_number": 3, "base_branch": "main", "landed": [], "conflicts": []},
    }
    return {**base, **per_role[role], **extra}


def run_role(
    policy: Policy, role: str, repo: Path, task: Mapping[str, Any], *, max_steps: int = 20, **extra: Any
) -> AgentResult:
    """One agent run of `role` on `repo` with `policy` as the model; the prompt is rendered from `prompts/`."""
    system = render_prompt(role, role_variables(role, task, **extra))
    with Sandbox(repo, timeout_s=COMMAND_TIMEOUT_S, extra_env={"PATH": python_path()}) as sandbox:
        toolbox = Toolbox(repo, sandbox, protected=RepoConfig().protected_paths, command_timeout_s=COMMAND_TIMEOUT_S)
        return run_agent(
            ScriptedModel("scripted:replay", policy),
            system=system,
            task=START,
            toolbox=toolbox,
            budget=Budget(max_steps=max_steps),
            workdir=repo,
            transcript_path=None,
        )


def conflicts_of(repo: Path, paths: Sequence[str]) -> list[dict[str, str]]:
    """The `conflicts` prompt variable for the conflicted `paths` of an in-progress merge."""
    return [{"path": path, "hunks": (repo / path).read_text()[:12_000]} for path in paths]
