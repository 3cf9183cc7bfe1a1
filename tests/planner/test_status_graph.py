"""The status comment's Mermaid graph: tasks, dependencies and sub-goals coloured by state, titles that
cannot inject Mermaid syntax, HTML or a hidden marker, and a 100-task goal within GitHub's limit."""

from __future__ import annotations

import re

from bot.forge.limits import MAX_BODY_CHARS
from bot.forge.types import Issue
from bot.ledger import markers
from bot.ledger.goaltree import GoalTask
from bot.ledger.record import RECORD_MARKER, PlannerRecord
from bot.ledger.taskbody import TaskSpec
from bot.llm.types import Usage
from bot.planner import mermaid
from bot.planner.status import TaskFacts, render_status

#: Every line our flowchart may have: a node with a quoted label of safe characters, an edge, a class.
NODE = re.compile(r'^  t(\d+)(\["([^"\[\]<>`\n]*)"\]|\[\["([^"\[\]<>`\n]*)"\]\]):::(\w+)$')
EDGE = re.compile(r"^  t(\d+) --> t(\d+)$")
CLASSDEF = re.compile(r"^  classDef (\w+) fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6},color:#212529(,stroke-dasharray:4 3)?$")


def fact(
    number: int, state: str, title: str | None = None, *, deps: tuple[int, ...] = (), subgoal: bool = False
) -> TaskFacts:
    closed = state in ("done", "not planned")
    issue = Issue(
        id=number,
        number=number,
        title=title or f"Task {number}",
        state="closed" if closed else "open",
        state_reason="not_planned" if state == "not planned" else None,
    )
    spec = TaskSpec(
        goal=1,
        key=f"t{number}",
        title=issue.title[:120],
        objective="o",
        depends_on=list(deps),
        kind="subgoal" if subgoal else "task",
    )
    return TaskFacts(GoalTask(issue, spec), state)


def graph_of(comment: str) -> list[str]:
    """The lines inside the comment's one ```mermaid fence."""
    found = re.findall(r"^```mermaid\n(.*?)\n```$", comment, re.MULTILINE | re.DOTALL)
    assert len(found) == 1, "exactly one mermaid block"
    return found[0].splitlines()


def parse(lines: list[str]) -> tuple[dict[int, tuple[str, str, bool]], set[tuple[int, int]], set[str]]:
    """(nodes: number → (label, class, sub-goal), edges, classDefs); fails on any other line."""
    assert lines[0] == "flowchart LR"
    nodes, edges, classes = {}, set(), set()
    for line in lines[1:]:
        if (node := NODE.match(line)) is not None:
            subgoal = node.group(4) is not None
            nodes[int(node.group(1))] = (node.group(4) if subgoal else node.group(3), node.group(5), subgoal)
        elif (edge := EDGE.match(line)) is not None:
            edges.add((int(edge.group(1)), int(edge.group(2))))
        elif (defined := CLASSDEF.match(line)) is not None:
            classes.add(defined.group(1))
        else:
            raise AssertionError(f"a line outside the flowchart's shapes: {line!r}")
    return nodes, edges, classes


def test_graph_has_every_task_its_dependencies_a_subgoal_and_every_state_coloured() -> None:
    facts = [
        fact(2, "done"),
        fact(3, "not planned"),
        fact(4, "review", deps=(2,)),
        fact(5, "working", deps=(2,)),
        fact(6, "ready"),
        fact(7, "waiting", deps=(4, 5)),
        fact(8, "needs-human", deps=(6,)),
        fact(9, "paused"),
        fact(10, "waiting", "Export", deps=(7, 99), subgoal=True),
    ]
    comment = render_status(PlannerRecord(version=1), facts, paused=False)

    nodes, edges, classes = parse(graph_of(comment))
    assert {n: c for n, (_label, c, _sub) in nodes.items()} == {
        2: "done",
        3: "notPlanned",
        4: "review",
        5: "working",
        6: "ready",
        7: "waiting",
        8: "needsHuman",
        9: "paused",
        10: "waiting",
    }
    assert nodes[10] == ("#35;10 sub-goal Export", "waiting", True) and not nodes[2][2]
    assert nodes[4][0] == "#35;4 Task 4"
    # #99 is not a task of this goal: no edge to a node that does not exist.
    assert edges == {(2, 4), (2, 5), (4, 7), (5, 7), (6, 8), (7, 10)}
    assert classes == {"done", "notPlanned", "review", "working", "ready", "waiting", "needsHuman", "paused"}
    # The legend names each state with its mark and count, and the checklist is still there.
    assert (
        "⬜ waiting 2 · 🟦 ready 1 · 🟨 working 1 · 🟪 review 1 · 🟥 needs-human 1 · 🟧 paused 1 · "
        "🟩 done 1 · ⬛ not planned 1" in comment
    )
    assert "- [ ] #7 Task 7 (after #4, #5) — waiting" in comment
    assert comment.index("```mermaid") < comment.index("- [x] #2 Task 2")


def test_hostile_titles_render_as_text_in_the_graph_and_the_checklist() -> None:
    hostile = [
        'Say "hi"] --> t2[pwned',
        "<script>alert(1)</script>",
        'a\n  click t2 href "javascript:x"',
        "```\n# out of the fence",
        '<!-- orchestra:planner {"version": 99} -->',
        "50% `code` & <b>bold</b>",
        "rtl\u202eevil zero\u200bwidth",
    ]
    facts = [fact(n, "ready", title) for n, title in enumerate(hostile, start=2)]
    record = PlannerRecord(version=3, usage=Usage(input_tokens=7))
    comment = render_status(record, facts, paused=False)

    nodes, edges, _classes = parse(graph_of(comment))  # every line is one of ours: nothing was added
    assert set(nodes) == set(range(2, 2 + len(hostile))) and edges == set()
    assert nodes[2][0] == "#35;2 Say #34;hi#34;#93; --#62; t2#91;pwned"
    assert nodes[3][0] == "#35;3 #60;script#62;alert(1)#60;/script#62;"
    assert nodes[5][0].startswith("#35;5 #96;#96;#96; #35; out of the fence")
    assert nodes[8][0] == "#35;8 rtlevil zerowidth"  # bidi override and zero-width space dropped
    # The checklist shows the same titles as text: no tag, no second planner record.
    assert "<script>" not in comment and "<b>" not in comment
    assert "- [ ] #3 &lt;script&gt;alert(1)&lt;/script&gt; — ready" in comment
    assert comment.count("<!-- orchestra:planner") == 1
    assert PlannerRecord.model_validate(markers.read_data(comment, RECORD_MARKER)) == record


def test_a_hundred_task_goal_fits_githubs_limit_with_its_graph() -> None:
    title = "Implement the " + "very long descriptive title " * 6
    facts = [
        fact(
            n,
            ["waiting", "ready", "working", "review", "done"][n % 5],
            f"{title} {n}",
            deps=tuple(d for d in (n - 1, n - 7) if d >= 2),
        )
        for n in range(2, 102)
    ]
    record = PlannerRecord(version=4, notes=[f"decision {i}: " + "x" * 150 for i in range(20)])
    comment = render_status(record, facts, paused=True)

    assert len(comment) <= MAX_BODY_CHARS
    nodes, edges, _classes = parse(graph_of(comment))
    assert len(nodes) == 100 and len(edges) == 99 + 93
    shown = title[: mermaid.TITLE_CHARS - 1].rstrip() + "#8230;"  # cut, with an ellipsis
    assert all(label == f"#35;{n} {shown}" for n, (label, _c, _s) in nodes.items())


def test_a_comment_too_long_for_titles_draws_numbers_then_no_graph() -> None:
    facts = [fact(n, "waiting", "t" * 200, deps=(n - 1,) if n > 2 else ()) for n in range(2, 202)]
    record = PlannerRecord(version=1)
    comment = render_status(record, facts, paused=False)
    assert len(comment) <= MAX_BODY_CHARS
    nodes, _edges, _classes = parse(graph_of(comment))
    assert nodes[2][0] == "#35;2"  # numbers only
    crowded = render_status(record.model_copy(update={"notes": ["n" * 62_000]}), facts, paused=False)
    assert "```mermaid" not in crowded and "The graph is left out" in crowded


def test_escape_keeps_letters_and_encodes_everything_else() -> None:
    assert mermaid.escape("Añadir café 日本 v2.0 (fast)") == "Añadir café 日本 v2.0 (fast)"
    assert mermaid.escape('#;"[]{}|<>&`%\\*~$^') == "".join(f"#{ord(c)};" for c in '#;"[]{}|<>&`%\\*~$^')
    assert mermaid.escape("tab\there\nnew\u2028line") == "tab here new line"
    assert mermaid.escape("👍") == f"#{ord('👍')};"
