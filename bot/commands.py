"""`/orchestra <verb> [text]` comments: the verbs and the parser (light: the web process imports it).

The web process only parses and enqueues a `command` job; `bot/steering.py` decides in the job
who may steer and runs the verb.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "/orchestra"
VERBS: dict[str, str] = {
    "plan": "plan this goal issue (or re-plan it from scratch)",
    "replan": "`replan <what to change>`: revise the plan with your guidance",
    "approve": "approve the plan posted for approval (`planning.approval: required`) and start it",
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
        verb, _, rest = stripped[len(PREFIX) :].strip().partition(" ")
        text = "\n".join([rest.strip(), *lines[index + 1 :]]).strip()
        return Command(verb=verb.lower() or "help", text=text)
    return None
