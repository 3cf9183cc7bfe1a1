"""The report's two pictures as inline SVG: the goal's graph and the timeline of every task per worker.

Plain SVG built here, no script and no font or image to fetch, so the report opens anywhere with
no network. Every text (titles, worker names, comment lines) is escaped as it is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from bot.ledger.palette import LOOKS, shown_state
from bot.modes.local.report.history import RunHistory, TaskHistory

NODE_W, NODE_H, GAP_X, GAP_Y, BAND_HEAD = 232, 46, 56, 14, 30
LABEL_W, PLOT_W, ROW_H, AXIS_H = 300, 840, 24, 52
#: A title shown in a node is cut to this many characters (the whole title is the node's tooltip).
NODE_TITLE = 26
#: Tick steps of the time axis, in seconds.
STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400)
#: How each event is marked on the timeline: (shape, colour, legend).
MARKS = {
    "ci_failed": ("cross", "#e03131", "CI failed"),
    "ci_fixed": ("triangle", "#f08c00", "CI fixed"),
    "conflict_resolved": ("diamond", "#7048e8", "conflict resolved"),
    "review_addressed": ("square", "#1c7ed6", "review addressed"),
    "failure": ("bang", "#c92a2a", "failure reported"),
    "merged": ("circle", "#2f9e44", "merged"),
}


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def clock(seconds: float) -> str:
    """`+1:05` (minutes and seconds) or `+1:02:05` since the goal was filed."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    return f"+{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"+{rest // 60}:{rest % 60:02d}"


# -- the graph ---------------------------------------------------------------------------------
def _depths(tasks: list[TaskHistory]) -> dict[int, int]:
    """Each task's column: the longest chain of its dependencies among the run's tasks."""
    known = {task.number: task for task in tasks}
    depth: dict[int, int] = {}

    def visit(number: int, seen: frozenset[int]) -> int:
        if number in depth:
            return depth[number]
        deps = [d for d in known[number].depends_on if d in known and d not in seen]
        depth[number] = 1 + max((visit(d, seen | {number}) for d in deps), default=-1)
        return depth[number]

    for number in known:
        visit(number, frozenset())
    return depth


def _places(history: RunHistory) -> tuple[dict[int, tuple[float, float]], list[tuple[str, float, float]], float]:
    """Node corners, band headers (text, y, height) and the height: one band per goal, columns by depth."""
    depth = _depths(history.tasks)
    places: dict[int, tuple[float, float]] = {}
    bands: list[tuple[str, float, float]] = []
    y = 0.0
    for goal in history.goals:
        members = [t for t in history.tasks if t.goal == goal.number]
        if not members:
            continue
        columns: dict[int, list[TaskHistory]] = {}
        for task in sorted(members, key=lambda t: t.number):
            columns.setdefault(depth[task.number], []).append(task)
        rows = 0
        for column, tasks in sorted(columns.items()):
            tasks.sort(key=lambda t: (_barycentre(t, places), t.number))
            for row, task in enumerate(tasks):
                places[task.number] = (12 + column * (NODE_W + GAP_X), y + BAND_HEAD + row * (NODE_H + GAP_Y))
            rows = max(rows, len(tasks))
        kind = "Goal" if goal.parent is None else "Sub-goal"
        height = float(BAND_HEAD + rows * (NODE_H + GAP_Y) + 6)
        bands.append((f"{kind} #{goal.number}: {goal.title}", y, height))
        y += height + 10
    return places, bands, y


def _barycentre(task: TaskHistory, places: dict[int, tuple[float, float]]) -> float:
    ys = [places[d][1] for d in task.depends_on if d in places]
    return sum(ys) / len(ys) if ys else float(task.number) * 1e-3


def _node(task: TaskHistory, x: float, y: float) -> str:
    look = LOOKS[shown_state(task.state)]
    dash = ' stroke-dasharray="5 3"' if look.dashed else ""
    kind = "sub-goal " if task.subgoal else ""
    inner = (
        (
            f'<rect x="{x + 4}" y="{y + 4}" width="{NODE_W - 8}" height="{NODE_H - 8}" rx="4" fill="none" '
            f'stroke="{look.stroke}"/>'
        )
        if task.subgoal
        else ""
    )
    tip = f"#{task.number} {kind}{task.title} — {task.state}"
    return (
        f'<g class="node state-{look.name}" data-task="{task.number}"><title>{esc(tip)}</title>'
        f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6" fill="{look.fill}" '
        f'stroke="{look.stroke}" stroke-width="1.5"{dash}/>{inner}'
        f'<text x="{x + 10}" y="{y + 19}" class="n">#{task.number} <tspan class="t">'
        f"{esc(cut(kind + task.title, NODE_TITLE))}</tspan></text>"
        f'<text x="{x + 10}" y="{y + 36}" class="s">{esc(task.state)}'
        f"{esc(' · PR #' + str(task.pr)) if task.pr else ''}</text></g>"
    )


def graph_svg(history: RunHistory) -> str:
    """The goal's tasks as boxes coloured by state, an arrow from each dependency, a band per (sub-)goal."""
    places, bands, height = _places(history)
    if not places:
        return '<p class="empty">No tasks were planned.</p>'
    width = max(x for x, _y in places.values()) + NODE_W + 12
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="graph-svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="The goal\'s tasks and dependencies">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#868e96"/></marker></defs>',
    ]
    for text, y, band_height in bands:
        parts.append(
            f'<rect x="2" y="{y}" width="{width - 4:.0f}" height="{band_height:.0f}" rx="8" class="band"/>'
            f'<text x="12" y="{y + 20}" class="band-title">{esc(cut(text, int((width - 24) / 7)))}</text>'
        )
    for task in history.tasks:
        for dep in task.depends_on:
            if dep in places and task.number in places:
                (x1, y1), (x2, y2) = places[dep], places[task.number]
                x1, y1, y2 = x1 + NODE_W, y1 + NODE_H / 2, y2 + NODE_H / 2
                bend = max(GAP_X / 2, (x2 - x1) / 2)
                parts.append(
                    f'<path class="edge" d="M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} '
                    f'{x2 - bend:.0f},{y2:.0f} {x2 - 2:.0f},{y2:.0f}" marker-end="url(#arrow)"/>'
                )
    parts += [_node(task, *places[task.number]) for task in history.tasks if task.number in places]
    parts.append("</svg>")
    return "".join(parts)


# -- the timeline ------------------------------------------------------------------------------
@dataclass
class _Axis:
    start: datetime
    seconds: float

    def x(self, at: datetime | None) -> float:
        offset = (at - self.start).total_seconds() if at is not None else self.seconds
        return LABEL_W + max(0.0, min(offset, self.seconds)) / self.seconds * PLOT_W


def _mark(kind: str, x: float, y: float, tip: str, role: str = "mark") -> str:
    shape, colour, _legend = MARKS[kind]
    body = {
        "cross": f'<path d="M{x - 5},{y - 5} L{x + 5},{y + 5} M{x - 5},{y + 5} L{x + 5},{y - 5}" stroke="{colour}" '
        'stroke-width="2.5"/>',
        "triangle": f'<path d="M{x},{y - 6} L{x + 6},{y + 5} L{x - 6},{y + 5} z" fill="{colour}"/>',
        "diamond": f'<path d="M{x},{y - 6} L{x + 6},{y} L{x},{y + 6} L{x - 6},{y} z" fill="{colour}"/>',
        "square": f'<rect x="{x - 5}" y="{y - 5}" width="10" height="10" fill="{colour}"/>',
        "bang": f'<circle cx="{x}" cy="{y}" r="6" fill="{colour}"/><text x="{x}" y="{y + 4}" class="bang">!</text>',
        "circle": f'<circle cx="{x}" cy="{y}" r="5.5" fill="{colour}" stroke="#fff" stroke-width="1.5"/>',
    }[shape]
    return f'<g class="{role} {kind}"><title>{esc(tip)}</title>{body}</g>'


def _task_row(task: TaskHistory, axis: _Axis, y: float) -> list[str]:
    mid = y + ROW_H / 2
    claimed = task.last("claimed")
    opened = task.first("pr_opened")
    ended = task.first("merged") or task.first("closed")
    parts = [
        f'<g class="task-row" data-task="{task.number}"><title>{esc(f"#{task.number} {task.title}")}</title>'
        f'<text x="{LABEL_W - 8}" y="{mid + 4}" class="row-label">#{task.number} '
        f"{esc(cut(task.title, 34))}</text>",
        f'<line x1="{axis.x(task.created):.1f}" y1="{mid}" x2="{axis.x(claimed or ended):.1f}" y2="{mid}" '
        'class="waiting-line"/>',
    ]
    if claimed is not None:
        working, review = LOOKS["working"], LOOKS["review"]
        until = opened or ended
        parts.append(
            f'<rect x="{axis.x(claimed):.1f}" y="{mid - 6}" width="{max(2.0, axis.x(until) - axis.x(claimed)):.1f}" '
            f'height="12" rx="2" fill="{working.fill}" stroke="{working.stroke}" class="bar implementing">'
            f"<title>{esc(f'#{task.number} implemented by {task.worker}')}</title></rect>"
        )
        if opened is not None:
            parts.append(
                f'<rect x="{axis.x(opened):.1f}" y="{mid - 6}" width="{max(2.0, axis.x(ended) - axis.x(opened)):.1f}" '
                f'height="12" rx="2" fill="{review.fill}" stroke="{review.stroke}" class="bar in-review">'
                f"<title>{esc(f'PR #{task.pr} open')}</title></rect>"
            )
    for event in task.events:
        if event.kind in MARKS:
            tip = f"{clock((event.at - axis.start).total_seconds())} {MARKS[event.kind][2]}: {event.detail}"
            parts.append(_mark(event.kind, axis.x(event.at), mid, tip))
    parts.append("</g>")
    return parts


def _ticks(axis: _Axis, height: float) -> list[str]:
    step = next((s for s in STEPS if axis.seconds / s <= 10), STEPS[-1])
    parts, t = [], 0
    while t <= axis.seconds + 1e-9:
        x = LABEL_W + t / axis.seconds * PLOT_W
        parts.append(
            f'<line x1="{x:.1f}" y1="{AXIS_H - 6}" x2="{x:.1f}" y2="{height}" class="tick"/>'
            f'<text x="{x:.1f}" y="{AXIS_H - 10}" class="tick-label">{clock(t)}</text>'
        )
        t += step
    return parts


def _legend() -> str:
    items = [("bar", LOOKS["working"], "implementing (claimed → PR)"), ("bar", LOOKS["review"], "PR open")]
    parts, x = [], 8
    for _kind, look, text in items:
        parts.append(
            f'<rect x="{x}" y="8" width="18" height="10" fill="{look.fill}" stroke="{look.stroke}"/>'
            f'<text x="{x + 24}" y="17" class="legend">{esc(text)}</text>'
        )
        x += 40 + 6 * len(text)
    for kind, (_shape, _colour, text) in MARKS.items():
        parts.append(
            _mark(kind, x + 6, 13, text, role="key") + f'<text x="{x + 16}" y="17" class="legend">{esc(text)}</text>'
        )
        x += 34 + 6 * len(text)
    return "".join(parts)


def timeline_svg(history: RunHistory) -> str:
    """A row per task, grouped by the worker that claimed it, on one time axis from the goal's filing."""
    axis = _Axis(history.start, max(1.0, (history.end - history.start).total_seconds()))
    groups: dict[str, list[TaskHistory]] = {}
    for task in sorted(history.tasks, key=lambda t: (t.first("claimed") or history.end, t.number)):
        groups.setdefault(task.worker or "not claimed by a worker", []).append(task)
    rows: list[str] = []
    y = AXIS_H
    planned = min((t.created for t in history.tasks), default=None)
    rows.append(f'<text x="{LABEL_W - 8}" y="{y + ROW_H / 2 + 4}" class="row-label">planner</text>')
    if planned is not None:
        rows.append(
            f'<rect x="{axis.x(history.start):.1f}" y="{y + 6}" '
            f'width="{max(2.0, axis.x(planned) - axis.x(history.start)):.1f}" '
            f'height="12" rx="2" class="bar planning"><title>planning until the first task was filed '
            f"({clock((planned - history.start).total_seconds())})</title></rect>"
        )
    y += ROW_H
    for worker, tasks in groups.items():
        rows.append(
            f'<g class="worker" data-worker="{esc(worker)}"><text x="8" y="{y + ROW_H / 2 + 8}" '
            f'class="worker-label">{esc(cut(worker, 40))}</text></g>'
        )
        y += ROW_H
        for task in tasks:
            rows += _task_row(task, axis, y)
            y += ROW_H
    height = y + 8
    closed = history.goal.closed
    end_line = (
        f'<line x1="{axis.x(closed):.1f}" y1="{AXIS_H - 6}" x2="{axis.x(closed):.1f}" y2="{height}" '
        f'class="goal-closed"><title>goal closed {clock((closed - axis.start).total_seconds())}</title></line>'
        if closed is not None
        else ""
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="timeline-svg" width="{LABEL_W + PLOT_W + 30}" '
        f'height="{height:.0f}" viewBox="0 0 {LABEL_W + PLOT_W + 30} {height:.0f}" role="img" '
        f'aria-label="Every task over time, per worker">{_legend()}{"".join(_ticks(axis, height))}{end_line}'
        f"{''.join(rows)}</svg>"
    )
