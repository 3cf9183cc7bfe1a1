"""A goal's text as people wrote it, its digest, and the approval that lets the planner read it.

`digest(title, body)` hashes the title and body with line endings normalised and without the
sections the bot keeps in the body (`<!-- orchestra:NAME -->…`), so the bot's own edits do not
change it. The web process computes it from an edit's payload, so this module stays light (no
forge).

An `Approval` says who made the text the one the planner uses, how (`label`: they applied the
goal label; `command`: `/orchestra plan`; `edit`: they edited the text; `bot`: the
bot filed or labelled it, as for sub-goals), when the approving act happened (`since`) and when it
was recorded (`at`), all as `moment` writes them. A `GoalEdit` is the newest edit of the text that
nobody approved yet.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel

from bot.ledger import markers

#: The longest goal text (title and body) the orchestra plans from: GitHub's 65,536 less the room its
#: approved copy needs in a comment (`bot/ledger/record.py`) next to the marker around it.
MAX_GOAL_CHARS = 60_000


class Approval(BaseModel):
    """Who approved the goal text with this digest, how and when."""

    sha256: str
    by: str
    how: Literal["label", "command", "edit", "bot"]
    since: str
    at: str
    withdrawn: str = ""


class GoalEdit(BaseModel):
    """The newest edit of a goal's text by someone whose edits are not approved by themselves."""

    sha256: str
    by: str
    at: str


class ApprovedText(BaseModel):
    """The text the planner uses, with its approval."""

    title: str
    body: str
    approval: Approval

    @property
    def intact(self) -> bool:
        """True when the text is the one the approval's digest names."""
        return digest(self.title, self.body) == self.approval.sha256


def moment(text: str | None = None) -> str:
    """A time as GitHub writes it (`2026-01-02T03:04:05Z`), so times compare as strings: `text` (any ISO
    8601 form) or now."""
    when = datetime.now(UTC)
    if text:
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
        when = when.replace(tzinfo=when.tzinfo or UTC).astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def human_body(body: str | None) -> str:
    """The body people wrote: line endings normalised, the bot's sections removed."""
    return markers.strip_sections((body or "").replace("\r\n", "\n").replace("\r", "\n"))


def digest(title: str | None, body: str | None) -> str:
    """SHA-256 (hex) of a goal's title and `human_body`."""
    text = f"{(title or '').strip()}\n\n{human_body(body)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def too_long(title: str | None, body: str | None) -> int | None:
    """The text's length when it is over `MAX_GOAL_CHARS`, else None."""
    size = len(title or "") + len(human_body(body))
    return size if size > MAX_GOAL_CHARS else None
