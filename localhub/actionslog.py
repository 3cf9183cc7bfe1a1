"""A job's plain-text log in GitHub Actions' format: timestamped lines, groups, errors.

GitHub serves a job log (through the 302 of `GET .../actions/jobs/{id}/logs`) as UTF-8 text
starting with a byte order mark, each line prefixed with an ISO 8601 time with seven fractional
digits; a `run` step opens with `##[group]Run <command>` (the script and the shell, then
`##[endgroup]`), and a failing command ends with `##[error]Process completed with exit code N.`
"""

from __future__ import annotations

from datetime import UTC, datetime

from localhub.ci import CiResult

BOM = "\ufeff"
SHELL = "shell: /usr/bin/bash -e {0}"


def stamp(seconds: float) -> str:
    """`2026-01-02T03:04:05.1234560Z`: GitHub's log timestamp (seven fractional digits)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def iso(seconds: float) -> str:
    """A step time as the REST answers write it (`2026-01-02T03:04:05Z`)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render(result: CiResult, timeout: float) -> str:
    """The whole job log of a finished local CI run."""
    lines: list[tuple[float, str]] = []
    steps = list(result.steps)
    begin = steps[0].started if steps else 0.0
    lines.append((begin, "Current runner version: 'localhub'"))
    lines.extend(result.setup)
    if len(steps) > 1:
        run = steps[1]
        lines.append((run.started, f"##[group]{run.name}"))
        lines.extend((run.started, text) for text in result.command.strip().splitlines())
        lines.append((run.started, SHELL))
        lines.append((run.started, "##[endgroup]"))
        lines.extend(result.output)
        if result.exit_code is None and result.conclusion == "timed_out":
            lines.append(
                (
                    run.completed,
                    "##[error]The job running on runner localhub has exceeded the maximum "
                    f"execution time of {timeout:g} seconds.",
                )
            )
        elif result.exit_code not in (0, None):
            lines.append((run.completed, f"##[error]Process completed with exit code {result.exit_code}."))
    if steps and steps[-1].name == "Complete job":
        lines.append((steps[-1].started, "Cleaning up orphan processes"))
    return BOM + "".join(f"{stamp(at)} {text}\n" for at, text in lines)
