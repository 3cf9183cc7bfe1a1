"""The live progress of a local run: a rich table on a terminal, plain lines elsewhere, nothing for `--json`."""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from bot.modes.local.snapshot import Snapshot

STATE_STYLE = {
    "waiting": "dim",
    "ready": "cyan",
    "working": "yellow",
    "review": "magenta",
    "needs-human": "bold red",
    "paused": "dim",
    "done": "green",
    "closed": "dim",
}
STATE_ORDER = ["waiting", "ready", "working", "review", "needs-human", "paused", "done", "closed"]


class Display(Protocol):
    """Where a local run reports what happens."""

    def message(self, text: str) -> None:
        """A one-off line (the goal filed, where localhub serves, the result)."""

    def serving(self, url: str) -> None:
        """localhub serves the run's pages at `url` (until the run ends)."""

    def update(self, snapshot: Snapshot) -> None:
        """The goal's current state."""

    def close(self) -> None:
        """The run ended."""


def summary_line(snapshot: Snapshot) -> str:
    """One line: tasks by state, PRs, conflicts, CI fixes, tokens, cost."""
    counts = snapshot.by_state()
    states = ", ".join(f"{counts[s]} {s}" for s in STATE_ORDER if counts.get(s)) or "no tasks yet"
    return (
        f"tasks: {states} | PRs: {snapshot.prs_open} open, {snapshot.prs_merged} merged | "
        f"conflicts resolved: {snapshot.conflicts_resolved} | CI fixes: {snapshot.ci_fixes} | "
        f"tokens: {snapshot.tokens:,} (${snapshot.cost_usd:.4f})"
    )


class QuietDisplay:
    """`--json`: say nothing until the final object."""

    def message(self, text: str) -> None:
        pass

    def serving(self, url: str) -> None:
        pass

    def update(self, snapshot: Snapshot) -> None:
        pass

    def close(self) -> None:
        pass


class PlainDisplay:
    """Not a terminal: a timestamped line whenever the summary changes."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.started = time.monotonic()
        self._last = ""

    def _print(self, text: str) -> None:
        elapsed = int(time.monotonic() - self.started)
        print(f"[{elapsed // 60:02d}:{elapsed % 60:02d}] {text}", file=self.stream, flush=True)

    def message(self, text: str) -> None:
        self._print(text)

    def serving(self, url: str) -> None:
        self._print(f"localhub pages of the run (while it runs): {url}")

    def update(self, snapshot: Snapshot) -> None:
        line = summary_line(snapshot)
        if line != self._last:
            self._last = line
            self._print(line)

    def close(self) -> None:
        pass


class RichDisplay:
    """A terminal: a live table of the tasks under the run's messages."""

    def __init__(self, console: Console | None = None, url: str = "") -> None:
        self.console = console or Console()
        self.url = url
        self.started = time.monotonic()
        self._live = Live(Text("starting…"), console=self.console, refresh_per_second=4, transient=False)
        self._live.start()

    def message(self, text: str) -> None:
        self._live.console.print(text)

    def serving(self, url: str) -> None:
        self.url = url
        self.message(f"localhub pages of the run (while it runs): {url}")

    def update(self, snapshot: Snapshot) -> None:
        self._live.update(self.render(snapshot))

    def render(self, snapshot: Snapshot) -> Group:
        table = Table(title=f"Goal #{snapshot.goal}: {snapshot.goal_title}", title_justify="left", expand=False)
        table.add_column("task", justify="right")
        table.add_column("title")
        table.add_column("state")
        table.add_column("PR")
        table.add_column("CI fixes", justify="right")
        table.add_column("conflicts", justify="right")
        for task in snapshot.tasks:
            pr = f"#{task.pr} {task.pr_state}" if task.pr is not None else ""
            table.add_row(
                f"#{task.number}",
                task.title,
                Text(task.state, style=STATE_STYLE.get(task.state, "")),
                pr,
                str(task.ci_fixes or ""),
                str(task.conflicts or ""),
            )
        elapsed = int(time.monotonic() - self.started)
        footer = Text(f"{summary_line(snapshot)} | {elapsed // 60}:{elapsed % 60:02d} elapsed")
        parts: list[Table | Text] = [table, footer]
        if self.url:
            parts.append(Text(f"localhub pages: {self.url}", style="dim"))
        return Group(*parts)

    def close(self) -> None:
        self._live.stop()


def make_display(json_output: bool, url: str = "", stream: TextIO | None = None) -> Display:
    """Nothing for `--json`, a live table on a terminal, plain lines otherwise."""
    if json_output:
        return QuietDisplay()
    out = stream or sys.stdout
    if out.isatty():
        return RichDisplay(Console(file=out), url)
    return PlainDisplay(out)
