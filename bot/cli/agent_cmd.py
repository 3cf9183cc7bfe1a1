"""`orchestra agent run`: one coding agent on a local checkout (no forge), streamed step by step."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from bot.agent import AgentResult, Sandbox, StepEvent, Toolbox, run_agent, sandbox_mode
from bot.cli.helptext import MODELS, add_command
from bot.errors import ConfigError
from bot.llm.factory import make_model, spec_for_role
from bot.llm.types import ChatModel
from bot.prompting import OVERRIDE_DIR, ROLES, policy_context, render_prompt
from bot.repoconfig import CONFIG_PATH, RepoConfig, check_repo_path, parse_repo_config
from bot.settings import Budget, Role, Settings


def register(sub: argparse._SubParsersAction) -> None:
    agent = sub.add_parser(
        "agent", help="run the coding agent", description="Run the coding agent by itself (docs/agent.md)."
    )
    agent_sub = agent.add_subparsers(dest="agent_command", metavar="ACTION", required=True)
    run = add_command(
        agent_sub,
        "run",
        summary="run one coding agent on a local checkout; exits 1 unless it finished",
        description="Run one coding agent on a local checkout, streaming its steps. Nothing is committed or "
        "pushed; the checkout's .github/orchestra.yml (protected paths, budgets, agent limits), "
        "prompt overrides and notes file apply.",
        variables=(
            *MODELS,
            ("ORCHESTRA_STATE_DIR", "where the transcript goes (default .orchestra-state)"),
            ("ORCHESTRA_MAX_WALL_S_PER_TASK", "seconds the run may take (default 1800)"),
            ("ORCHESTRA_SANDBOX", "the command sandbox (default here: best-effort)"),
        ),
        note="The worker role's model: --model, else ORCHESTRA_MODEL_WORKER, ORCHESTRA_MODEL, the checkout's "
        "models.worker, ORCHESTRA_DEFAULT_MODEL, scripted:demo.",
    )
    run.add_argument("--repo", type=Path, required=True, help="the checkout to work in")
    run.add_argument("--task", required=True, help="what the agent should do")
    run.add_argument("--model", help="model spec (default: the worker role's model, see below)")
    run.add_argument("--max-steps", type=int, help="step budget (default: agent.max_steps of the repo config)")
    run.add_argument(
        "--accept",
        action="append",
        default=[],
        metavar="COMMAND",
        help="an acceptance command the agent must make pass (repeatable)",
    )
    run.set_defaults(func=run_command)


def build_model(spec: str) -> ChatModel:
    """The one place the CLI turns a spec into a model (the demo's scripted model is offered too)."""
    from bot.modes.demo import SCRIPTS

    return make_model(spec, scripts=SCRIPTS)


def _read_optional(repo: Path, relative: str) -> str:
    """The text of `relative` in the checkout ("" when absent); ConfigError when it leaves the checkout.

    The path is checked as the repo config checks paths, then where it really resolves: a symlink
    out of the checkout would send any readable file of this machine to the model.
    """
    try:
        check_repo_path(relative)
    except ValueError as exc:
        raise ConfigError(f"{relative}: {exc}") from None
    path = repo / relative
    real = path.resolve()
    if not real.is_relative_to(repo.resolve()):
        raise ConfigError(f"{relative}: resolves outside the repository ({real}); it must be a file of the checkout")
    try:
        return real.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc


def _overrides(repo: Path) -> dict[str, str]:
    """Prompt overrides from the checkout's `.github/orchestra/prompts/<role>.md`."""
    found = {}
    for role in ROLES:
        text = _read_optional(repo, f"{OVERRIDE_DIR}/{role}.md")
        if text:
            found[role] = text
    return found


def _printer(console: Console) -> Callable[[StepEvent], None]:
    def show(event: StepEvent) -> None:
        if event.kind == "tool":
            mark = "[red]✗[/red]" if event.error else "→"
            console.print(
                f"[dim]step {event.step:>3}[/dim]  [bold]{event.tool:<10}[/bold] "
                f"{escape(event.args)}  {mark} {event.result_chars:,} chars"
            )
        elif event.kind == "text":
            console.print(
                f"[dim]step {event.step:>3}[/dim]  [yellow](text without a tool call)[/yellow] "
                f"{escape(event.detail[:100])}"
            )
        else:
            console.print(f"[dim]end[/dim]       {escape(event.detail)}")

    return show


def _report(console: Console, result: AgentResult) -> None:
    console.rule(f"[bold]{result.status}[/bold]")
    console.print(escape(result.report.markdown()))
    u = result.usage
    console.print(
        f"\nsteps {result.steps} · tokens in {u.input_tokens:,} (cached {u.cached_tokens:,}) · "
        f"out {u.output_tokens:,} · cost ${u.cost_usd:.4f} · calls {u.calls}"
    )
    console.print(f"files changed: {', '.join(result.files_changed) or '(none)'}")
    console.print(f"sandbox: {result.isolation} · transcript: {result.transcript_path}")


def _runs_dir(settings: Settings, repo: Path) -> Path:
    """Where transcripts go: the state dir, unless that lies inside the checkout the agent can read."""
    state = settings.state_dir.resolve()
    if state.is_relative_to(repo):
        return Path.home() / ".local" / "state" / "orchestra" / "runs"
    return state / "runs"


def run_command(args: argparse.Namespace) -> int:
    sandbox_mode.prefer_local_default()  # one's own machine: unconfined commands when nothing else works
    settings = Settings.from_env()
    repo: Path = args.repo.resolve()
    if not repo.is_dir():
        raise ConfigError(f"--repo {args.repo}: not a directory")
    config_text = _read_optional(repo, CONFIG_PATH)
    config = parse_repo_config(config_text, CONFIG_PATH) if config_text else RepoConfig()
    spec = args.model or spec_for_role(Role.WORKER, settings, config)
    model = build_model(spec)
    notes = _read_optional(repo, config.notes_file)
    context = {
        **policy_context(config, notes, repo=repo.name),
        "task_number": 0,
        "task_title": args.task.strip().splitlines()[0][:100],
        "task_body": args.task,
        "owned_paths": [],
        "acceptance": list(args.accept),
        "test_command": config.test_command,
    }
    max_steps = args.max_steps or config.agent.max_steps
    context["max_steps"] = max_steps
    system = render_prompt("worker", context, _overrides(repo))
    budget = Budget(
        max_steps=max_steps,
        max_tokens=config.budgets.task.tokens,
        max_usd=config.budgets.task.usd,
        max_wall_s=settings.task_budget.max_wall_s,
    )
    transcript = _runs_dir(settings, repo) / f"agent-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
    console = Console(highlight=False, soft_wrap=True)
    console.print(f"[bold]agent[/bold] {escape(spec)} on {repo} · budget {max_steps} steps")
    with Sandbox(repo, timeout_s=config.agent.command_timeout_s) as sandbox:
        toolbox = Toolbox(
            repo, sandbox=sandbox, protected=config.protected_paths, command_timeout_s=config.agent.command_timeout_s
        )
        result = run_agent(
            model,
            system=system,
            task=args.task,
            toolbox=toolbox,
            budget=budget,
            workdir=repo,
            transcript_path=transcript,
            on_event=_printer(console),
        )
    _report(console, result)
    return 0 if result.ok else 1
