"""Who may steer the agents, and the verbs they steer with: the permission gate and the verb dispatch.

A command job (`bot.jobs.command`) checks the sender's permission on the forge, replies once (a
bot comment tagged per command comment, so a retried job edits rather than repeats it) and calls
the verb's handler. The planner and worker areas each export a table of their verbs
(`HANDLERS`); `bot/jobs.py` composes them with `verb_table`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.commands import HELP_TEXT, PREFIX, VERBS
from bot.forge.client import Forge
from bot.ledger import comments
from bot.queue.kinds import Executor
from bot.repoconfig import RepoConfig
from bot.settings import Settings


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


#: A verb handler returns the reply to post (Markdown) or None for no reply.
VerbHandler = Callable[[CommandContext], "str | None"]


def verb_table(*tables: Mapping[str, VerbHandler]) -> dict[str, VerbHandler]:
    """One handler per verb, composed from each area's table; an unknown or doubled verb is a ValueError."""
    composed: dict[str, VerbHandler] = {}
    for table in tables:
        for verb, handler in table.items():
            if verb not in VERBS:
                raise ValueError(f"unknown verb {verb!r}; known: {', '.join(VERBS)}")
            if verb in composed:
                raise ValueError(f"verb {verb!r} has two handlers")
            composed[verb] = handler
    return composed


def authorize(forge: Forge, sender: str) -> bool:
    """True when `sender` has write, maintain or admin permission on the forge's repository."""
    return forge.permission(sender).can_write


def denial(sender: str, verb: str) -> str:
    return (
        f"@{sender} thank you — only people with write access to this repository can steer "
        f"Agent Orchestra, so I did not act on `{PREFIX} {verb}`. A maintainer can run it for you."
    )


def execute(ctx: CommandContext, verb: str, handlers: Mapping[str, VerbHandler]) -> str | None:
    """Run one command; return the reply posted (if any). Changes nothing for unauthorised senders."""
    if verb == "help":
        reply: str | None = HELP_TEXT
    elif verb not in VERBS:
        reply = f"I don't know `{PREFIX} {verb}`.\n\n{HELP_TEXT}"
    elif not authorize(ctx.forge, ctx.sender):
        reply = denial(ctx.sender, verb)
    elif verb not in handlers:
        reply = f"`{PREFIX} {verb}` is not available on this installation yet."
    else:
        reply = handlers[verb](ctx)
    if reply:
        comments.upsert(ctx.forge, ctx.number, f"reply-{ctx.comment_id}", reply)
    return reply
