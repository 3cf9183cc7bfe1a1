"""Help texts the commands share: one parser shape with the environment variables each command reads."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Sequence

Vars = Sequence[tuple[str, str]]
WIDTH = 100
NAME_WIDTH = 40

FORGE: Vars = (
    ("ORCHESTRA_APP_ID, ORCHESTRA_PRIVATE_KEY / _PATH", "GitHub App auth (id and PEM key, or a path to it)"),
    ("ORCHESTRA_TOKEN (or GITHUB_TOKEN)", "a token instead of App auth"),
    ("ORCHESTRA_API_URL, ORCHESTRA_SERVER_URL", "the forge's REST and web roots (default GitHub.com)"),
    ("ORCHESTRA_BOT_LOGIN", "the bot's login (default orchestra[bot])"),
)
REDIS: Vars = (("ORCHESTRA_REDIS_URL (or REDIS_URL)", "the job queue (default redis://127.0.0.1:6379/0)"),)
MODELS: Vars = (
    ("ORCHESTRA_MODEL", "model spec for every role (beats .github/orchestra.yml)"),
    ("ORCHESTRA_MODEL_<ROLE>", "one role: PLANNER, WORKER, CONFLICT, CI_FIX, REVIEW (beats ORCHESTRA_MODEL)"),
    ("ORCHESTRA_DEFAULT_MODEL", "every role, below .github/orchestra.yml (default scripted:demo)"),
    ("OPENAI_API_KEY, OPENAI_BASE_URL", "OpenAI and OpenAI-compatible endpoints (docs/models.md)"),
    ("ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL", "Anthropic"),
    ("ORCHESTRA_COMPATIBLE_API_KEY", "key for an openai-compatible:…@URL server"),
    ("ORCHESTRA_PRICES", "a YAML price table laid over the shipped one"),
)
WORK: Vars = (
    ("ORCHESTRA_STATE_DIR", "mirrors, worktrees, transcripts (default .orchestra-state)"),
    ("ORCHESTRA_MAX_STEPS, _MAX_TOKENS_PER_TASK, _MAX_USD_PER_TASK, _MAX_WALL_S_PER_TASK", "task budgets"),
    ("ORCHESTRA_GIT_AUTHOR_NAME / _EMAIL", "identity of the bot's commits"),
    ("ORCHESTRA_SANDBOX, ORCHESTRA_SANDBOX_UIDS, ORCHESTRA_SANDBOX_LOCK_DIR", "the agent's command sandbox"),
)


def log_vars(default: str) -> Vars:
    """The logging variables, with this command's default format."""
    return (
        ("ORCHESTRA_LOG_LEVEL", "debug, info (default), warning, error, critical; any case"),
        ("ORCHESTRA_LOG_FORMAT", f"json or human (default {default}; docs/configuration.md)"),
    )


def epilog(variables: Vars, note: str = "") -> str:
    """The help's closing block: the environment variables read, then a note."""
    width = min(NAME_WIDTH, max((len(name) for name, _ in variables), default=0))
    lines = ["environment variables read:"]
    for name, meaning in variables:
        if len(name) > width:
            lines += [f"  {name}", f"  {'':<{width}}  {meaning}"]
        else:
            lines.append(f"  {name:<{width}}  {meaning}")
    if note:
        lines += ["", _wrap(note)]
    return "\n".join(lines)


def _wrap(text: str) -> str:
    return "\n".join(textwrap.fill(part, WIDTH) for part in text.split("\n"))


def add_command(
    sub: argparse._SubParsersAction, name: str, *, summary: str, description: str, variables: Vars = (), note: str = ""
) -> argparse.ArgumentParser:
    """A subcommand whose `--help` says what it does, its options with defaults, and the variables it reads."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=_wrap(description),
        epilog=epilog(variables, note) if variables or note else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser
