"""Hidden machine data in issue/PR bodies and comments, between `<!-- orchestra:NAME ... -->` markers.

Three shapes, all replaced in place (never appended twice):

- a tag, ``<!-- orchestra:status -->``, that identifies a bot comment;
- a data marker, ``<!-- orchestra:task {"paths": [...]} -->``, holding JSON;
- a section, ``<!-- orchestra:plan -->`` ... ``<!-- /orchestra:plan -->``, holding visible
  Markdown the bot owns inside a body that people may also edit.
"""

from __future__ import annotations

import json
import re
from typing import Any

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _check(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"marker name {name!r}: use letters, digits, '.', '_' or '-'")
    return name


def tag(name: str) -> str:
    """The identifying tag ``<!-- orchestra:NAME -->``."""
    return f"<!-- orchestra:{_check(name)} -->"


def _data_pattern(name: str) -> re.Pattern[str]:
    return re.compile(r"<!-- orchestra:" + re.escape(_check(name)) + r"(?:\s(.*?))?\s*-->", re.DOTALL)


def has_tag(text: str | None, name: str) -> bool:
    """True when `text` carries the tag or a data marker of that name."""
    return bool(text) and _data_pattern(name).search(text or "") is not None


def names(text: str | None) -> set[str]:
    """The names of every tag and data marker in `text` (``{"status", "planner"}``)."""
    return set(_ANY.findall(text or ""))


_ANY = re.compile(r"<!-- orchestra:([A-Za-z0-9][A-Za-z0-9._-]*)[\s-]")


def _encode(value: Any, ensure_ascii: bool = True) -> str:
    # '<' and '>' only occur inside JSON strings, where \u003c and \u003e are the same characters:
    # neither "-->" (which would end the marker) nor "<!--" (which would look like another marker
    # to `has_tag`) can appear inside.
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=ensure_ascii)
    return text.replace("<", "\\u003c").replace(">", "\\u003e")


def data_marker(name: str, value: Any, ensure_ascii: bool = True) -> str:
    """``<!-- orchestra:NAME {json} -->`` (`ensure_ascii=False` keeps non-ASCII text as it is: shorter)."""
    return f"<!-- orchestra:{_check(name)} {_encode(value, ensure_ascii)} -->"


def read_data(text: str | None, name: str) -> Any | None:
    """The JSON value of the first NAME data marker in `text`, or None (also when it is not JSON)."""
    match = _data_pattern(name).search(text or "")
    if match is None or not match.group(1):
        return None
    try:
        return json.loads(match.group(1))
    except json.JSONDecodeError:
        return None


def write_data(text: str | None, name: str, value: Any) -> str:
    """`text` with the NAME data marker set to `value`: replaced where it is, else appended."""
    body = text or ""
    marker = data_marker(name, value)
    pattern = _data_pattern(name)
    if pattern.search(body):
        return pattern.sub(lambda _m: marker, body, count=1)
    return f"{body.rstrip()}\n\n{marker}" if body.strip() else marker


_ANY_SECTION = re.compile(r"<!-- orchestra:([A-Za-z0-9][A-Za-z0-9._-]*) -->\n?.*?\n?<!-- /orchestra:\1 -->", re.DOTALL)


def strip_sections(text: str | None) -> str:
    """`text` without any section the bot owns (what people wrote around them)."""
    return _ANY_SECTION.sub("", text or "").strip()


def _section_pattern(name: str) -> re.Pattern[str]:
    n = re.escape(_check(name))
    return re.compile(r"<!-- orchestra:" + n + r" -->\n?(.*?)\n?<!-- /orchestra:" + n + r" -->", re.DOTALL)


def read_section(text: str | None, name: str) -> str | None:
    """The Markdown inside the NAME section, or None when there is no such section."""
    match = _section_pattern(name).search(text or "")
    return match.group(1) if match else None


def write_section(text: str | None, name: str, content: str) -> str:
    """`text` with the NAME section holding `content`: replaced where it is, else appended."""
    body = text or ""
    block = f"<!-- orchestra:{name} -->\n{content}\n<!-- /orchestra:{name} -->"
    pattern = _section_pattern(name)
    if pattern.search(body):
        return pattern.sub(lambda _m: block, body, count=1)
    return f"{body.rstrip()}\n\n{block}" if body.strip() else block
