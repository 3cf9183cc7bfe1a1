"""The HTML report of a local run: what the forge shows of the goal, drawn in one self-contained file.

`with_report(session, summary)` is the end of `run_local` (and so of `orchestra demo`): it reads
the run's history from the embedded localhub in a few list calls (`history.py`), draws the goal's
graph and the timeline of every task per worker (`drawing.py`), writes `<state>/report.html`
(`render.py`, `report.html.j2`) and puts its path in the summary (`report`).
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime
from pathlib import Path

from bot.modes.local.report.history import RunHistory, read_history
from bot.modes.local.report.render import render_report
from bot.modes.local.result import RunSummary
from bot.modes.local.session import BOT, LocalSession

log = logging.getLogger(__name__)

__all__ = ["REPORT_NAME", "RunHistory", "read_history", "render_report", "with_report", "write_report"]

#: The report's file name in the run's state directory.
REPORT_NAME = "report.html"


def write_report(history: RunHistory, summary: RunSummary, path: Path) -> Path:
    """Write the report of `history` to `path`."""
    path.write_text(render_report(history, summary.as_json(), datetime.now(UTC)), encoding="utf-8")
    return path


def with_report(session: LocalSession, summary: RunSummary) -> RunSummary:
    """`summary` with the path of the run's report, written while localhub still serves.

    The report is an extra: the result branch is already fetched, so a failure to read or draw
    is logged with its traceback (`<state>/orchestra.log`) and the summary says there is none.
    """
    try:
        history = read_history(session.person_forge(), session.config.label_prefix, summary.goal, BOT)
        path = write_report(history, summary, session.state_dir / REPORT_NAME)
    except Exception:  # noqa: BLE001 - see the docstring: the run's result must not depend on its picture
        log.exception("the run's report could not be written")
        return summary
    return dataclasses.replace(summary, report=str(path))
