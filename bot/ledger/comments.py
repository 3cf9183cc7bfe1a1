"""The bot's own comments: each identified by a hidden tag and edited in place, never posted twice.

A tag (``<!-- orchestra:status -->``) marks one bot comment per purpose on an issue or PR (the
goal's status, a claim, a failure of one step, a reply to one command). `upsert` edits it when
it exists, else posts it once; when two jobs raced and both posted, the oldest is kept.
"""

from __future__ import annotations

from bot.forge.client import Forge
from bot.forge.types import Comment
from bot.ledger import markers


def is_bot(forge: Forge, comment: Comment) -> bool:
    """True when the bot wrote `comment` (only the bot's comments carry orchestra state)."""
    return comment.author.lower() == forge.bot_login.lower()


def bot_comments(forge: Forge, number: int) -> list[Comment]:
    return [c for c in forge.list_comments(number) if is_bot(forge, c)]


def find(forge: Forge, number: int, tag: str) -> Comment | None:
    """The bot's comment tagged `tag` on issue or PR `number`, if any."""
    return next((c for c in bot_comments(forge, number) if markers.has_tag(c.body, tag)), None)


def upsert(
    forge: Forge, number: int, tag: str, body: str, where: str = "the whole text is in the worker log"
) -> Comment:
    """The one bot comment tagged `tag`: edited in place when it exists, else posted once.

    A body over GitHub's limit is cut to fit, saying `where` the whole text is (it is logged whole).
    """
    text = body if markers.has_tag(body, tag) else f"{markers.tag(tag)}\n{body}"
    text = forge.fitted(text, f"comment {tag} on #{number}", where)
    existing = find(forge, number, tag)
    if existing is None:
        created = forge.comment(number, text, recover=lambda: find(forge, number, tag))
        return _keep_one(forge, number, tag, created)
    if existing.body == text:
        return existing
    return forge.edit_comment(existing.id, text)


def _keep_one(forge: Forge, number: int, tag: str, created: Comment) -> Comment:
    """Two jobs racing may both have posted: keep the oldest tagged comment, delete the others."""
    tagged = [c for c in bot_comments(forge, number) if markers.has_tag(c.body, tag)]
    if len(tagged) <= 1:
        return created
    for extra in tagged[1:]:
        forge.delete_comment(extra.id)
    keep = tagged[0]
    return keep if keep.body == created.body else forge.edit_comment(keep.id, created.body)
