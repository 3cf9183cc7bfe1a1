"""A path inside a repository, as the contents API takes it: plain, relative, normalised.

The HTTP client normalises `../..` in a URL into another endpoint (another repository's
contents), so every path the bot asks the forge for, and every path a repository's config
names, is checked here first.
"""

from __future__ import annotations

import re

_BAD_CHARS = re.compile(r"[\\%\x00-\x1f\x7f]")


def check_repo_path(value: str) -> str:
    """`value` when it is a plain path inside a repository; ValueError (one line, saying why) otherwise.

    Plain: relative, `/`-separated, normalised (no empty, `.` or `..` segment, no trailing slash),
    no drive letter, no backslash, `%` or control character. Whoever reads the file still checks
    where it resolves (a symlink can point anywhere): `Forge.read_file`, `orchestra agent run`.
    """
    problem = ""
    if not value:
        problem = "it is empty"
    elif value.startswith("/") or re.match(r"^[A-Za-z]:", value):
        problem = "it is absolute"
    elif _BAD_CHARS.search(value):
        problem = "backslashes, '%' and control characters are not allowed"
    elif any(part in ("", ".", "..") for part in value.split("/")):
        problem = "it must be normalised: no '..', '.' or empty segment, no trailing '/'"
    if problem:
        raise ValueError(f"{value!r} is not a path inside the repository ({problem}); e.g. docs/NOTES.md")
    return value
