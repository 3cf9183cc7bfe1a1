"""The shared notes file (`RepoConfig.notes_file`, default `.orchestra/NOTES.md`) read from the default branch.

Every agent's prompt includes it (the planner's here; the worker calls `load_notes` too).
Workers may extend it in their PRs; the planner records its design decisions in the goal's
status comment and writes them into the tasks that need them, never into the file itself
(the planner writes no code and no files).
"""

from __future__ import annotations

from bot.forge.client import Forge
from bot.repoconfig import RepoConfig

#: Longer notes are cut (with a note saying so): the file is meant to stay a short field guide.
MAX_NOTES_CHARS = 12_000


def load_notes(forge: Forge, config: RepoConfig) -> str:
    """The notes file's text on the default branch ("" when absent), cut to `MAX_NOTES_CHARS`."""
    text = forge.read_file(config.notes_file) or ""
    if len(text) > MAX_NOTES_CHARS:
        text = text[:MAX_NOTES_CHARS] + f"\n\n(notes cut at {MAX_NOTES_CHARS} characters; the file is longer)"
    return text
