"""The goal's tasks as a Mermaid flowchart (GitHub renders ```mermaid blocks), coloured by state.

A node per task (a sub-goal is drawn as a subroutine box), an edge per dependency inside the
goal, one class per state. Titles are untrusted text (the planner's model wrote them, often from
a goal anyone could file), so a label keeps only letters, digits, spaces and a few harmless
marks; every other character becomes a Mermaid entity code (`#35;`), which Mermaid shows as the
character and never reads as syntax, HTML or Markdown — a title cannot close its label, open a
fence, add a node, a link, a click handler or a tag.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

#: A task's state as the status shows it → (Mermaid class, fill, stroke, legend mark).
STATES: dict[str, tuple[str, str, str, str]] = {
    "waiting": ("waiting", "#f1f3f5", "#868e96", "⬜"),
    "ready": ("ready", "#d0ebff", "#1c7ed6", "🟦"),
    "working": ("working", "#fff3bf", "#f08c00", "🟨"),
    "review": ("review", "#e5dbff", "#7048e8", "🟪"),
    "needs-human": ("needsHuman", "#ffe3e3", "#e03131", "🟥"),
    "paused": ("paused", "#ffe8cc", "#d9480f", "🟧"),
    "done": ("done", "#d3f9d8", "#2f9e44", "🟩"),
    "not planned": ("notPlanned", "#e9ecef", "#495057", "⬛"),
}
#: States a task can show that are not labels of their own: an open task without a state label waits.
ALIASES = {"open": "waiting", "closed": "not planned"}
#: Characters a label keeps as they are; everything else ASCII becomes an entity code.
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


def state_of(state: str) -> str:
    """The state's key in `STATES` (unknown states are drawn as waiting)."""
    state = ALIASES.get(state, state)
    return state if state in STATES else "waiting"


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
        lines.append(f"  t{node.number}{shape}:::{STATES[state_of(node.state)][0]}")
    for node in nodes:
        for dep in sorted(set(node.depends_on) & known):
            lines.append(f"  t{dep} --> t{node.number}")
    used = {state_of(node.state) for node in nodes}
    for state, (name, fill, stroke, _mark) in STATES.items():
        if state in used:
            dashed = ",stroke-dasharray:4 3" if state == "not planned" else ""
            lines.append(f"  classDef {name} fill:{fill},stroke:{stroke},color:#212529{dashed}")
    return "\n".join(lines)


def legend(nodes: Iterable[Node]) -> str:
    """One Markdown line: each state present, its colour mark and how many tasks have it."""
    counts: dict[str, int] = {}
    for node in nodes:
        key = state_of(node.state)
        counts[key] = counts.get(key, 0) + 1
    return " · ".join(f"{STATES[s][3]} {s} {counts[s]}" for s in STATES if s in counts)


def block(nodes: list[Node], *, titles: bool = True) -> str:
    """The fenced ```mermaid block and its legend, for a Markdown comment ("" without nodes)."""
    if not nodes:
        return ""
    return f"```mermaid\n{flowchart(nodes, titles=titles)}\n```\n{legend(nodes)}"
