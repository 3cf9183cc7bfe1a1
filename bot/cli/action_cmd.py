"""`orchestra action`: handle the event a GitHub Actions run was started for (see docs/action.md)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from bot import logs
from bot.cli.helptext import MODELS, add_command
from bot.modes.action import DRAIN_TIMEOUT_S, ActionReport, action_settings, run_action
from bot.modes.action_outputs import OUTPUTS, outputs_for, write_outputs


def register(sub: argparse._SubParsersAction) -> None:
    action = add_command(
        sub,
        "action",
        summary="handle this GitHub Actions run's event (the `action.yml` entry point)",
        description="Read GITHUB_EVENT_NAME / GITHUB_EVENT_PATH, route the event like the App does, run its "
        "jobs in this process and start one workflow run per ready task (workflow_dispatch). "
        "Exits 1 when a job failed, 2 on a configuration error (docs/action.md).",
        variables=(
            ("GITHUB_EVENT_NAME, GITHUB_EVENT_PATH", "the run's event (set by the runner)"),
            ("ORCHESTRA_TOKEN (or GITHUB_TOKEN)", "the token the orchestra acts with (required)"),
            (
                "GITHUB_API_URL, GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_WORKFLOW_REF, RUNNER_TEMP",
                "set by the runner",
            ),
            ("ORCHESTRA_MERGE_POLICY, ORCHESTRA_MAX_PARALLEL_TASKS", "inputs laid over .github/orchestra.yml"),
            ("ORCHESTRA_WORKFLOW", "the workflow file the fan-out dispatches"),
            ("GITHUB_STEP_SUMMARY", "the run's summary file (appended to)"),
            ("GITHUB_OUTPUT", "the step's outputs file (appended to: " + ", ".join(OUTPUTS) + ")"),
            *MODELS,
            ("ORCHESTRA_LOG_LEVEL, ORCHESTRA_LOG_FORMAT", "log level (default info); human (default) or json"),
        ),
    )
    action.add_argument("--event-name", help="override GITHUB_EVENT_NAME (replaying a recorded event)")
    action.add_argument("--event-path", type=Path, help="override GITHUB_EVENT_PATH")
    action.add_argument(
        "--timeout",
        type=float,
        default=DRAIN_TIMEOUT_S,
        help=f"seconds to wait for this run's jobs (default {DRAIN_TIMEOUT_S})",
    )
    action.add_argument("--json", action="store_true", help="print the report as one JSON object")
    action.set_defaults(func=action_command)


def summary_markdown(report: ActionReport) -> str:
    """The run's report as Markdown (for `$GITHUB_STEP_SUMMARY`)."""
    what = f"`{report.event}`" + (f" `{report.action}`" if report.action else "")
    lines = [f"### Agent Orchestra: {what} on {report.repo or 'no repository'}", ""]
    if not report.jobs:
        lines.append("Nothing to do for this event.")
    lines += [f"- job `{r.job_id}`" + ("" if r.new else " (already running)") for r in report.jobs]
    if report.dispatched:
        lines.append("- started a workflow run for task " + ", ".join(f"#{n}" for n in report.dispatched))
    lines += [f"- **failed** `{jid}`: {error}" for jid, error in report.failures.items()]
    return "\n".join(lines) + "\n"


def action_command(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    if args.event_name:
        env["GITHUB_EVENT_NAME"] = args.event_name
    if args.event_path:
        env["GITHUB_EVENT_PATH"] = str(args.event_path)
    logs.configure(logs.parse_format(env.get(logs.FORMAT_ENV), "human"), action_settings(env).log_level)
    report = run_action(env, timeout_s=args.timeout)
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(summary_markdown(report), end="")
    summary_file = env.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as out:
            out.write(summary_markdown(report))
    output_file = env.get("GITHUB_OUTPUT")
    if output_file:  # the step's outputs (action.yml `outputs:`), docs/action.md
        write_outputs(output_file, outputs_for(env, report, summary_markdown(report)))
    return 0 if report.ok else 1
