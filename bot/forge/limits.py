"""GitHub's size limits on what a client writes, and `fit`: a body cut to the limit, its hidden data kept.

GitHub refuses (422) an issue, pull request or comment body over 65,536 characters. `fit`
returns a body that fits: HTML comments (where bots keep machine data) are kept whole, the
longest stretch of visible text is cut, and a note says how much was cut and where the whole
text is.
"""

from __future__ import annotations

import re

from bot.errors import ForgeError

#: GitHub's limit on issue, pull request and comment bodies, in characters.
MAX_BODY_CHARS = 65_536
#: The contents API inlines a file's content up to 1 MB; above, it answers `encoding: none` and no content.
MAX_INLINE_FILE_BYTES = 1024 * 1024

_HIDDEN = re.compile(r"<!--.*?-->", re.DOTALL)


class BodyTooLong(ForgeError):
    """A body's hidden data alone is over GitHub's limit, so no cut of its text can make it fit."""

    headline = "A text the orchestra had to write is over GitHub's size limit."
    recovery = "Read the worker log for the whole text; then comment `/orchestra retry`."


class FileTooLarge(ForgeError):
    """A file the orchestra reads from the repository is over its size limit (or GitHub's 1 MB for inline content)."""

    headline = "A file the orchestra reads is too large."
    recovery = "Shorten the file named above on the default branch, then comment `/orchestra retry`."

    def __init__(self, path: str, size: int, limit: int) -> None:
        super().__init__(f"{path}: {size:,} bytes; the limit is {limit:,} bytes")
        self.path, self.size, self.limit = path, size, limit


def cut_note(dropped: int, where: str) -> str:
    """The line put where text was cut."""
    return f"\n\n… *({dropped:,} characters cut here: GitHub allows {MAX_BODY_CHARS:,} per body; {where})* …\n\n"


def fit(text: str, where: str = "the whole text is in the bot's log", limit: int = MAX_BODY_CHARS) -> str:
    """`text` when it fits in `limit` characters; else the text with its longest visible stretches cut
    (two thirds of what stays before the cut, one third after) and one note at the first cut.

    HTML comments stay whole and in place. Raises BodyTooLong when they alone do not fit.
    """
    if len(text) <= limit:
        return text
    parts = _split(text)
    excess = len(text) - limit + len(cut_note(len(text), where))  # the note, with the most digits it can have
    cuts: dict[int, tuple[str, str]] = {}
    for index in sorted((i for i, (_p, hidden) in enumerate(parts) if not hidden), key=lambda i: -len(parts[i][0])):
        if excess <= 0:
            break
        segment = parts[index][0]
        keep = len(segment) - min(len(segment), excess)
        excess -= len(segment) - keep
        cuts[index] = (segment[: keep * 2 // 3], segment[len(segment) - (keep - keep * 2 // 3) :] if keep else "")
    if excess > 0:
        hidden = sum(len(p) for p, is_hidden in parts if is_hidden)
        raise BodyTooLong(f"the hidden data of a body is {hidden:,} characters; GitHub allows {limit:,}")
    dropped = sum(len(parts[i][0]) - len(head) - len(tail) for i, (head, tail) in cuts.items())
    first = min(cuts, key=lambda i: -len(parts[i][0]))
    out = []
    for index, (piece, _hidden) in enumerate(parts):
        if index in cuts:
            head, tail = cuts[index]
            piece = head + (cut_note(dropped, where) if index == first else "") + tail
        out.append(piece)
    return "".join(out)


def _split(text: str) -> list[tuple[str, bool]]:
    """The text as (piece, is an HTML comment) in order."""
    parts: list[tuple[str, bool]] = []
    last = 0
    for match in _HIDDEN.finditer(text):
        if match.start() > last:
            parts.append((text[last : match.start()], False))
        parts.append((match.group(0), True))
        last = match.end()
    if last < len(text):
        parts.append((text[last:], False))
    return parts
