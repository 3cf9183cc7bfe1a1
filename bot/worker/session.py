"""What every worker job shares: its collaborators (`WorkerContext`), the task it serves, one agent
run of a role in a worktree, and the verification of setup + acceptance commands in the sandbox."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.agent import AgentResult, Sandbox, Toolbox, run_agent
from bot.forge.client import Forge
from bot.forge.types import Issue
from bot.git import Mirror, Worktree
from bot.ledger.taskbody import TaskSpec, branch_name, parse_task_body
from bot.llm.types import ChatModel, Usage
from bot.prompting import policy_context, render_prompt
from bot.queue.kinds import Executor
from bot.repoconfig import RepoConfig
from bot.settings import Budget, Role, Settings

#: Tail of the verification output kept for prompts and the PR body.
OUTPUT_TAIL = 3000
START = "Begin now. Work only through the tools, verify as the definition of done says, then call `finish`."


@dataclass
class WorkerContext:
    """The collaborators of one worker job (built by `bot.worker.jobs`; tests build their own)."""

    repo: str
    forge: Forge
    config: RepoConfig
    settings: Settings
    executor: Executor
    mirror: Mirror
    model_for: Callable[[Role], ChatModel]
    installation_id: int | None = None
    overrides: Mapping[str, str] | None = None
    notes: str = ""

    @property
    def state_dir(self) -> Path:
        return Path(self.settings.state_dir)


@dataclass(frozen=True)
class Task:
    """A task issue as a worker needs it."""

    number: int
    title: str
    spec: TaskSpec
    issue: Issue

    @property
    def branch(self) -> str:
        return branch_name(self.number, self.title)

    @property
    def acceptance(self) -> list[str]:
        return list(self.spec.acceptance_commands)


def load_task(forge: Forge, number: int) -> Task:
    """The task issue `number`; an issue without a task marker becomes a task of its title and body."""
    issue = forge.get_issue(number)
    spec = parse_task_body(issue.body)
    if spec is None:
        title = (issue.title or f"Task {number}")[:120].ljust(3, ".")
        spec = TaskSpec(goal=0, key="manual", title=title, objective=issue.body.strip() or title)
    return Task(number=number, title=issue.title, spec=spec, issue=issue)


def task_prompt_context(ctx: WorkerContext, task: Task) -> dict[str, Any]:
    """Variables every role's prompt shares: policies, notes, and the task."""
    return {
        **policy_context(ctx.config, ctx.notes, repo=ctx.repo),
        "task_number": task.number,
        "task_title": task.title,
        "task_body": task.issue.body.strip() or task.spec.objective,
        "acceptance": task.acceptance,
    }


def task_budget(ctx: WorkerContext) -> Budget:
    """The tighter of the server's per-task budget and the repo's."""
    server, repo = ctx.settings.task_budget, ctx.config

    def low(a: float | None, b: float) -> Any:
        return b if a is None else min(a, b)

    return Budget(
        max_steps=low(server.max_steps, repo.agent.max_steps),
        max_tokens=low(server.max_tokens, repo.budgets.task.tokens),
        max_usd=low(server.max_usd, repo.budgets.task.usd),
        max_wall_s=server.max_wall_s,
    )


def run_role(
    ctx: WorkerContext,
    role: Role,
    variables: Mapping[str, Any],
    worktree: Worktree,
    message: str = START,
    label: str = "",
) -> AgentResult:
    """One agent run of `role` in `worktree`, with the role's prompt rendered from `variables`."""
    system = render_prompt(role.value, variables, ctx.overrides)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    transcript = ctx.state_dir / "transcripts" / ctx.repo.replace("/", "__") / f"{label or role.value}-{stamp}.jsonl"
    timeout = ctx.config.agent.command_timeout_s
    with Sandbox(worktree.path, timeout_s=timeout) as sandbox:
        toolbox = Toolbox(worktree.path, sandbox, protected=ctx.config.protected_paths, command_timeout_s=timeout)
        return run_agent(
            ctx.model_for(role),
            system=system,
            task=message,
            toolbox=toolbox,
            budget=task_budget(ctx),
            workdir=worktree.path,
            transcript_path=transcript,
        )


@dataclass(frozen=True)
class Verification:
    """The outcome of the setup and acceptance commands: passed or not, and the output's tail."""

    ok: bool
    output: str
    commands: tuple[str, ...] = ()

    @property
    def tail(self) -> str:
        return self.output[-OUTPUT_TAIL:]


def verify(ctx: WorkerContext, worktree: Worktree, acceptance: list[str]) -> Verification:
    """Run `setup_commands`, the acceptance commands and the repo's test command; stop at the first failure."""
    commands = [*ctx.config.setup_commands, *acceptance]
    if ctx.config.test_command and ctx.config.test_command not in commands:
        commands.append(ctx.config.test_command)
    if not commands:
        return Verification(ok=True, output="(no setup or acceptance commands)")
    lines: list[str] = []
    with Sandbox(worktree.path, timeout_s=ctx.config.agent.command_timeout_s) as sandbox:
        for command in commands:
            result = sandbox.run(command)
            status = "timed out" if result.timed_out else f"exit {result.exit_code}"
            lines.append(f"$ {command}\n{result.output.rstrip()}\n[{status}]")
            if result.timed_out or result.exit_code != 0:
                return Verification(ok=False, output="\n".join(lines), commands=tuple(commands))
    return Verification(ok=True, output="\n".join(lines), commands=tuple(commands))


@dataclass(frozen=True)
class ImplementResult:
    """What one implementation produced, before anything is published."""

    agent: AgentResult
    verification: Verification
    commit: str | None
    usage: Usage
