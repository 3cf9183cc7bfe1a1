"""The goal's tasks as a Mermaid flowchart (GitHub renders ```mermaid blocks), coloured by state.

A node per task (a sub-goal is drawn as a subroutine box), an edge per dependency inside the
goal, one class per state (colours from `bot/ledger/palette.py`). Titles are untrusted text (the
planner's model wrote them, often from a goal anyone could file), so a label keeps only letters,
digits, spaces and a few harmless marks; every other character becomes a Mermaid entity code
(`#35;`), which Mermaid shows as the character and never reads as syntax, HTML or Markdown — a
title cannot close its label, open a fence, add a node, a link, a click handler or a tag.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from bot.ledger.palette import LOOKS, shown_state

#: Characters a label keeps as they are besides letters and digits; the rest become entity codes.
_PLAIN = frozenset(" .,:!?'()/+-_=@")
#: How many characters of a title a label shows.
TITLE_CHARS = 40


@dataclass(frozen=True)
class Node:
    """One task of the graph."""

    number: int
    title: str
    state: str
    subgoal: bool = False
    depends_on: tuple[int, ...] = ()


def escape(text: str) -> str:
    """`text` safe inside a quoted Mermaid label: letters and digits kept, the rest as `#<code>;`.

    White space becomes a space; control and format characters (bidi overrides, zero-width marks) are dropped.
    """
    out = []
    for char in text:
        category = unicodedata.category(char)
        if char.isalnum() or char in _PLAIN:
            out.append(char)
        elif char.isspace():
            out.append(" ")
        elif category[0] in "CZ":
            continue
        else:  # punctuation, symbols (emoji too), combining marks: shown, never parsed
            out.append(f"#{ord(char)};")
    return "".join(out)


def _shorten(title: str, limit: int) -> str:
    title = " ".join(title.split())
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def _label(node: Node, titles: bool) -> str:
    kind = "sub-goal " if node.subgoal else ""
    text = f"#{node.number}" + (f" {kind}{_shorten(node.title, TITLE_CHARS)}" if titles else "")
    return escape(text)


def flowchart(nodes: Iterable[Node], *, titles: bool = True) -> str:
    """The Mermaid source (without the fence): nodes, dependency edges, state classes.

    `titles=False` draws numbers only, for a graph that must be small.
    """
    nodes = sorted(nodes, key=lambda n: n.number)
    known = {node.number for node in nodes}
    lines = ["flowchart LR"]
    for node in nodes:
        label = _label(node, titles)
        shape = f'[["{label}"]]' if node.subgoal else f'["{label}"]'
        lines.append(f"  t{node.number}{shape}:::{LOOKS[shown_state(node.state)].name}")
    for node in nodes:
        for dep in sorted(set(node.depends_on) & known):
            lines.append(f"  t{dep} --> t{node.number}")
    used = {shown_state(node.state) for node in nodes}
    for state, look in LOOKS.items():
        if state in used:
            dashed = ",stroke-dasharray:4 3" if look.dashed else ""
            lines.append(f"  classDef {look.name} fill:{look.fill},stroke:{look.stroke},color:#212529{dashed}")
    return "\n".join(lines)


def legend(nodes: Iterable[Node]) -> str:
    """One Markdown line: each state present, its colour mark and how many tasks have it."""
    counts: dict[str, int] = {}
    for node in nodes:
        key = shown_state(node.state)
        counts[key] = counts.get(key, 0) + 1
    return " · ".join(f"{LOOKS[s].mark} {s} {counts[s]}" for s in LOOKS if s in counts)


def block(nodes: list[Node], *, titles: bool = True) -> str:
    """The fenced ```mermaid block and its legend, for a Markdown comment ("" without nodes)."""
    if not nodes:
        return ""
    return f"```mermaid\n{flowchart(nodes, titles=titles)}\n```\n{legend(nodes)}"
