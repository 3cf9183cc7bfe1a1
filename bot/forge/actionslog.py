"""The failing step's tail from a GitHub Actions job log (the plain text `GET .../actions/jobs/{id}/logs` leads to).

GitHub's job log is UTF-8 (with a byte order mark); every line starts with an ISO 8601 time
(`2026-01-02T03:04:05.1234560Z `). A step opens with `##[group]Run <command>`, echoes the command,
closes the group with `##[endgroup]`, then prints the command's output; a failing step ends with
`##[error]Process completed with exit code N.` What a fixer needs is the output between the last
`##[endgroup]` before the last `##[error]` and that error line.
"""

from __future__ import annotations

import re

_STAMP = re.compile(r"^\ufeff?\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z ?")
#: Lines and characters of the failing step kept (the end, where failures are).
TAIL_LINES = 150
TAIL_CHARS = 6000


def plain_lines(log: str) -> list[str]:
    """The log's lines without their time stamps (and without the byte order mark)."""
    return [_STAMP.sub("", line.lstrip("\ufeff")) for line in log.splitlines()]


def failing_step_tail(log: str, lines: int = TAIL_LINES, chars: int = TAIL_CHARS) -> str:
    """The failing step's output and its `##[error]` line (the whole log's tail when there is no error line)."""
    text = plain_lines(log)
    errors = [i for i, line in enumerate(text) if line.startswith("##[error]")]
    if errors:
        end = errors[-1]
        opened = [i for i in range(end) if text[i].startswith("##[endgroup]")]
        start = opened[-1] + 1 if opened else 0
        step = text[start : end + 1]
    else:
        step = text
    tail = "\n".join(step[-lines:]).strip("\n")
    if len(tail) > chars:
        tail = "…" + tail[-chars:]
    return tail
