"""Who may steer the agents, and the verbs they steer with: the permission gate, the notice, the verb dispatch.

Only people whose permission on the repository is at least the config's `steering.permission`
(default `write`) steer the agents: their commands, goal labels, goal edits, reviews and review
comments. The web process cannot ask the forge, so each job checks (`Gate`): the command job
before it runs a verb, the plan job on who applied the goal label, the `goal_edited` job on who
edited, `address_review` on who wrote each note, the merge path on who approved (`approvals`).
What anyone else does is ignored and said so once per person and thread (`notice_once`): one bot
comment at most, never repeated however often the person tries, so nobody can make the bot comment
in a loop.

A command job (`bot.jobs.command`) checks the sender, finds what the command was given (a goal, a
task, an orchestra pull request or another issue: `target_of`), answers when the verb does not
apply there, and calls the verb's handler. The planner and worker areas each export a table of
their verbs (`HANDLERS`); `bot/jobs.py` composes them with `verb_table`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from bot.commands import HELP_TEXT, PREFIX, VERBS
from bot.forge.client import Forge
from bot.forge.types import Issue
from bot.ledger import comments
from bot.ledger.labels import Kind, label_name
from bot.ledger.taskbody import parse_task_body, task_number_from_branch
from bot.queue.kinds import Executor
from bot.repoconfig import RepoConfig
from bot.settings import Settings


@dataclass
class Gate:
    """Whether a person may steer the agents on one repository (answers cached for one job)."""

    forge: Forge
    config: RepoConfig
    _known: dict[str, bool] = field(default_factory=dict)

    def allows(self, login: str) -> bool:
        """True for the bot itself and for people with at least `steering.permission`."""
        if not login:
            return False
        if login.lower() == self.forge.bot_login.lower():
            return True
        if login not in self._known:
            self._known[login] = self.forge.permission(login).at_least(self.config.steering.permission)
        return self._known[login]

    @property
    def needed(self) -> str:
        """The permission named in replies, e.g. ``write``."""
        return self.config.steering.permission


def approvals(forge: Forge, config: RepoConfig, number: int) -> int:
    """The approvals of PR `number` that `merge.required_approvals` counts: only those of people who may
    steer (an approval by someone with `read` or `triage` permission lands nothing)."""
    gate = Gate(forge, config)
    return sum(1 for login in forge.approvers(number) if gate.allows(login))


def notice_once(forge: Forge, number: int, login: str, text: str) -> bool:
    """Tell `login` once on issue/PR `number` why nothing happened; False when they were already told.

    One comment per person and thread, never edited again: repeating the act costs the bot one
    read and posts nothing. Nobody is told without a login to name.
    """
    if not login:
        return False
    tag = f"notice-{re.sub(r'[^A-Za-z0-9._-]', '_', login)}"
    if comments.find(forge, number, tag) is not None:
        return False
    comments.upsert(forge, number, tag, text)
    return True


def ignored_text(login: str, what: str, needed: str) -> str:
    """The polite notice for someone whose act was ignored."""
    return (
        f"@{login} thank you — only people with {needed} access to this repository can steer Agent "
        f"Orchestra, so {what} is not passed to its agents. A maintainer can act on it for you. "
        "(I say this once here.)"
    )


# -- what a command was given ------------------------------------------------------------------
class Target(StrEnum):
    """What an issue number is to the orchestra."""

    GOAL = "a goal"
    TASK = "a task"
    PULL = "an orchestra pull request"
    OTHER_PULL = "a pull request the orchestra did not open"
    ISSUE = "an issue that is not a goal or task"


#: Where each verb applies (help applies anywhere).
APPLIES: dict[str, frozenset[Target]] = {
    "plan": frozenset({Target.GOAL, Target.ISSUE}),
    "replan": frozenset({Target.GOAL}),
    "approve": frozenset({Target.GOAL}),
    "status": frozenset({Target.GOAL}),
    "pause": frozenset({Target.GOAL, Target.TASK}),
    "resume": frozenset({Target.GOAL, Target.TASK}),
    "cancel": frozenset({Target.GOAL}),
    "retry": frozenset({Target.GOAL, Target.TASK, Target.PULL}),
    "fix": frozenset({Target.PULL}),
}


def target_of(forge: Forge, config: RepoConfig, number: int) -> tuple[Target, Issue]:
    """What issue `number` is (a sub-goal is a goal), with the issue as read."""
    issue = forge.get_issue(number)
    if issue.is_pull:
        pull = forge.get_pr(number)
        return (Target.PULL if task_number_from_branch(pull.head_ref) is not None else Target.OTHER_PULL), issue
    if label_name(config.label_prefix, Kind.GOAL) in issue.labels:
        return Target.GOAL, issue
    if parse_task_body(issue.body) is not None or label_name(config.label_prefix, Kind.TASK) in issue.labels:
        return Target.TASK, issue
    return Target.ISSUE, issue


def not_applicable(verb: str, target: Target, issue: Issue) -> str:
    """The reply for a verb given something it does not work on."""
    names = [t.value for t in sorted(APPLIES[verb], key=list(Target).index)]
    where = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    said = f"`{PREFIX} {verb}` works on {where}; #{issue.number} is {target.value}"
    spec = parse_task_body(issue.body) if target == Target.TASK else None
    if spec is not None and Target.GOAL in APPLIES[verb]:
        return f"{said}: run it on its goal #{spec.goal}."
    if target == Target.ISSUE and Target.GOAL in APPLIES[verb]:
        return f"{said}. `{PREFIX} plan` makes it a goal."
    return f"{said}, so nothing changed."


# -- commands ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CommandContext:
    """Everything a verb handler gets: the forge, the repo's config, where to enqueue, who asked, on what."""

    forge: Forge
    config: RepoConfig
    settings: Settings
    executor: Executor
    number: int
    comment_id: int
    sender: str
    text: str
    installation_id: int | None
    target: Target | None = None


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


def denial(sender: str, verb: str, needed: str = "write") -> str:
    return (
        f"@{sender} thank you — only people with {needed} access to this repository can steer "
        f"Agent Orchestra, so I did not act on `{PREFIX} {verb}`. A maintainer can run it for you. "
        "(I say this once here.)"
    )


def execute(ctx: CommandContext, verb: str, handlers: Mapping[str, VerbHandler]) -> str | None:
    """Run one command; return the reply posted (if any). Changes nothing for senders without permission,
    who get one reply per thread at most (whatever they send, help included)."""
    gate = Gate(ctx.forge, ctx.config)
    if not gate.allows(ctx.sender):
        text = HELP_TEXT if verb == "help" else denial(ctx.sender, verb, gate.needed)
        return text if notice_once(ctx.forge, ctx.number, ctx.sender, text) else None
    reply = _reply(ctx, verb, handlers)
    if reply:
        comments.upsert(ctx.forge, ctx.number, f"reply-{ctx.comment_id}", reply)
    return reply


def _reply(ctx: CommandContext, verb: str, handlers: Mapping[str, VerbHandler]) -> str | None:
    if verb == "help":
        return HELP_TEXT
    if verb not in VERBS:
        return f"I don't know `{PREFIX} {verb}`.\n\n{HELP_TEXT}"
    if verb not in handlers:
        return f"`{PREFIX} {verb}` is not available on this installation yet."
    target, issue = target_of(ctx.forge, ctx.config, ctx.number)
    if target not in APPLIES[verb]:
        return not_applicable(verb, target, issue)
    return handlers[verb](replace(ctx, target=target))
