"""`/orchestra <verb> [text]` comments: the parser, the permission gate and the verb dispatch table.

The web process only parses and enqueues a `command` job; the job (`run_command`) checks the
sender's permission on the forge, replies once (a bot comment tagged per command comment, so a
retried job edits rather than repeats it) and calls the verb's handler. Handlers are registered
by the planner and worker areas with `@handles("plan")`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.ledger import comments

if TYPE_CHECKING:  # the web process imports this module for `parse` only: keep it light
    from bot.forge.client import Forge
    from bot.queue.executors import Executor
    from bot.repoconfig import RepoConfig
    from bot.settings import Settings

PREFIX = "/orchestra"
VERBS: dict[str, str] = {
    "plan": "plan this goal issue (or re-plan it from scratch)",
    "replan": "`replan <what to change>`: revise the plan with your guidance",
    "status": "post the goal's current status",
    "pause": "stop starting new work on this goal or task",
    "resume": "continue after a pause",
    "cancel": "close the goal's open tasks as not planned and stop",
    "retry": "retry a task that needs a human, or a failed step",
    "fix": "on a pull request: `fix <instructions>` asks its worker to change the PR",
}
HELP_TEXT = "Commands I understand (people with write access only):\n\n" + "\n".join(
    f"- `{PREFIX} {verb}`: {what}" for verb, what in VERBS.items()
)


@dataclass(frozen=True)
class Command:
    """A parsed command: the verb (lower case) and the text after it (may span lines)."""

    verb: str
    text: str = ""

    @property
    def known(self) -> bool:
        return self.verb in VERBS


def parse(body: str | None) -> Command | None:
    """The first `/orchestra` line of a comment as a Command, or None when there is none.

    `/orchestra` alone is the verb `help`; quoted lines (`> /orchestra ...`) are not commands.
    """
    lines = (body or "").splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped != PREFIX and not stripped.startswith(PREFIX + " "):
            continue
        verb, _, rest = stripped[len(PREFIX):].strip().partition(" ")
        text = "\n".join([rest.strip(), *lines[index + 1:]]).strip()
        return Command(verb=verb.lower() or "help", text=text)
    return None


@dataclass(frozen=True)
class CommandContext:
    """Everything a verb handler gets: the forge, the repo's config, where to enqueue, who asked."""

    forge: Forge
    config: RepoConfig
    settings: Settings
    executor: Executor
    number: int
    comment_id: int
    sender: str
    text: str
    installation_id: int | None


#: Modules that register verb handlers; each is imported (when present) before a command runs.
HANDLER_MODULES = ("bot.planner.commands", "bot.worker.commands")


def load_handlers() -> None:
    """Import every handler module that exists, so its `@handles` registrations are in HANDLERS."""
    import importlib

    for name in HANDLER_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise  # the module exists but one of its imports is missing: that is a bug


#: A verb handler returns the reply to post (Markdown) or None for no reply.
VerbHandler = Callable[[CommandContext], "str | None"]
HANDLERS: dict[str, VerbHandler] = {}


def handles(verb: str) -> Callable[[VerbHandler], VerbHandler]:
    """Register the handler of `verb` (one per verb)."""
    if verb not in VERBS:
        raise ValueError(f"unknown verb {verb!r}; known: {', '.join(VERBS)}")

    def register(handler: VerbHandler) -> VerbHandler:
        HANDLERS[verb] = handler
        return handler

    return register


def authorize(forge: Forge, sender: str) -> bool:
    """True when `sender` has write, maintain or admin permission on the forge's repository."""
    return forge.permission(sender).can_write


def denial(sender: str, verb: str) -> str:
    return (
        f"@{sender} thank you — only people with write access to this repository can steer "
        f"Agent Orchestra, so I did not act on `{PREFIX} {verb}`. A maintainer can run it for you."
    )


def execute(ctx: CommandContext, verb: str) -> str | None:
    """Run one command; return the reply posted (if any). Changes nothing for unauthorised senders."""
    if verb == "help":
        reply: str | None = HELP_TEXT
    elif verb not in VERBS:
        reply = f"I don't know `{PREFIX} {verb}`.\n\n{HELP_TEXT}"
    elif not authorize(ctx.forge, ctx.sender):
        reply = denial(ctx.sender, verb)
    elif verb not in HANDLERS:
        reply = f"`{PREFIX} {verb}` is not available on this installation yet."
    else:
        reply = HANDLERS[verb](ctx)
    if reply:
        comments.upsert(ctx.forge, ctx.number, f"reply-{ctx.comment_id}", reply)
    return reply


def run_command(repo: str, number: int, comment_id: int, verb: str, text: str, sender: str,
                installation_id: int | None) -> str | None:
    """The `command` job: take collaborators from the process runtime and execute."""
    from bot import runtime
    from bot.errors import ConfigError

    load_handlers()
    rt = runtime.current()
    forge = rt.forge(repo, installation_id)
    try:
        config = rt.repo_config(forge)
    except ConfigError as exc:  # say so where the command was given, once
        comments.upsert(forge, number, f"reply-{comment_id}", exc.comment())
        return exc.comment()
    ctx = CommandContext(
        forge=forge, config=config, settings=rt.settings,
        executor=rt.executor, number=number, comment_id=comment_id,
        sender=sender, text=text, installation_id=installation_id,
    )
    return execute(ctx, verb)
