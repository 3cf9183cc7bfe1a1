"""The Action's step outputs: what this run did and where its goal stands, written to `$GITHUB_OUTPUT`.

The goal is the one the run's jobs were about (a goal's own jobs name it; a task's, the goal in
its marker; a PR's, the goal of the task its `orchestra/<n>-…` branch belongs to), read from the
forge after the jobs ran: its tasks, the ones done, the PRs merged, and the tokens and cost so
far (the planner's record plus every task's PR usage marker, as the status comment counts them).

`$GITHUB_OUTPUT` takes `name=value` lines; a value with a line break is written as
`name<<DELIMITER`, the value, then `DELIMITER` on its own line, with a random delimiter that
does not occur in the value (GitHub's multi-line form).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.errors import OrchestraError
from bot.forge.client import Forge
from bot.ledger.goalview import read_goal
from bot.ledger.taskbody import parse_task_body, task_number_from_branch
from bot.modes.action import ActionInputs, ActionReport, action_settings, jobs_for, read_event
from bot.modes.tokenforge import token_forges
from bot.planner import status
from bot.queue.kinds import JobRequest
from bot.repoconfig import RepoConfig
from bot.repofiles import read_config

log = logging.getLogger(__name__)
ForgeFor = Callable[[str], Forge]
Overlay = Callable[[RepoConfig], RepoConfig]

#: Every output `orchestra action` writes, with its meaning (action.yml's `outputs:` mirror these).
OUTPUTS: dict[str, str] = {
    "goal": "the goal issue this run worked on (empty when the event concerned no goal)",
    "tasks": "how many tasks the goal has (open and closed)",
    "tasks-done": "how many of them are closed as done",
    "prs-merged": "how many of the goal's pull requests are merged",
    "tokens": "model tokens the goal has used so far (the planner's and every task's)",
    "cost": "what those tokens cost in US dollars, 4 decimals",
    "jobs": "how many jobs this run ran",
    "dispatched": "the tasks this run started a workflow run for, as a JSON list of issue numbers",
    "failed": "how many of this run's jobs failed",
    "report": "this run's report as one JSON object (event, jobs, dispatched tasks, failures)",
    "summary": "this run's summary in Markdown, several lines (what the step summary shows)",
}
#: Job kinds whose `number` is a goal, and those whose `number` is a task.
GOAL_KINDS = frozenset({"plan", "goal_edited", "dispatch", "handoff"})
TASK_KINDS = frozenset({"implement", "on_task_closed"})


@dataclass(frozen=True)
class GoalState:
    """Where one goal stands."""

    number: int
    tasks: int
    tasks_done: int
    prs_merged: int
    tokens: int
    cost_usd: float


def read_goal_state(forge: Forge, config: RepoConfig, number: int) -> GoalState:
    """Goal `number` as its status comment counts it."""
    view = read_goal(forge, config, number)
    facts = status.gather(forge, config, view.tasks, view.record.done)
    total = status.totals(view.record, facts)
    return GoalState(
        number,
        len(facts),
        sum(1 for f in facts if f.state == "done"),
        sum(1 for f in facts if f.pr is not None and f.pr.merged),
        total.total_tokens,
        total.cost_usd,
    )


def goal_of_job(forge: Forge, config: RepoConfig, job: JobRequest) -> int | None:
    """The goal a job was about, or None (a conflict scan, an issue that is neither goal nor task)."""
    args = job.args
    if job.kind in GOAL_KINDS:
        return int(args["number"])
    if job.kind in TASK_KINDS:
        return _goal_of_task(forge, int(args["number"]))
    if job.kind == "command":
        return _goal_of_issue(forge, config, int(args["number"]))
    branch = args.get("branch")
    if not branch and args.get("pr"):
        branch = forge.get_pr(int(args["pr"])).head_ref
    task = task_number_from_branch(str(branch)) if branch else None
    return _goal_of_task(forge, task) if task is not None else None


def _goal_of_task(forge: Forge, number: int) -> int | None:
    spec = parse_task_body(forge.get_issue(number).body)
    return spec.goal if spec is not None else None


def _goal_of_issue(forge: Forge, config: RepoConfig, number: int) -> int | None:
    """A goal is its own goal; a task names its goal; a PR's branch names its task."""
    issue = forge.get_issue(number)
    if issue.is_pull:
        task = task_number_from_branch(forge.get_pr(number).head_ref)
        return _goal_of_task(forge, task) if task is not None else None
    if config.label("goal") in issue.labels:
        return number
    spec = parse_task_body(issue.body)
    return spec.goal if spec is not None else None


def goal_state(forge_for: ForgeFor, config_overlay: Overlay, jobs: list[JobRequest]) -> GoalState | None:
    """The state of the first goal the jobs were about, or None. Never raises for the forge's failures:
    the outputs must not fail a run whose jobs succeeded."""
    try:
        for job in jobs:
            forge = forge_for(str(job.args["repo"]))
            config = config_overlay(read_config(forge))
            number = goal_of_job(forge, config, job)
            if number is not None:
                return read_goal_state(forge, config, number)
    except OrchestraError as exc:
        log.warning("the goal's state for the step outputs could not be read: %s", exc)
    return None


def step_outputs(report_json: dict[str, object], goal: GoalState | None, summary: str) -> dict[str, str]:
    """Every output of `OUTPUTS` as text, from the run's report (`ActionReport.as_dict()`) and its goal."""
    jobs, failures = report_json.get("jobs") or [], report_json.get("failures") or {}
    values = {
        "goal": str(goal.number) if goal else "",
        "tasks": str(goal.tasks) if goal else "",
        "tasks-done": str(goal.tasks_done) if goal else "",
        "prs-merged": str(goal.prs_merged) if goal else "",
        "tokens": str(goal.tokens) if goal else "",
        "cost": f"{goal.cost_usd:.4f}" if goal else "",
        "jobs": str(len(jobs) if isinstance(jobs, list) else 0),
        "dispatched": json.dumps(report_json.get("dispatched_tasks") or []),
        "failed": str(len(failures) if isinstance(failures, dict) else 0),
        "report": json.dumps(report_json, sort_keys=True),
        "summary": summary,
    }
    return values


def github_output(outputs: Mapping[str, str]) -> str:
    """`outputs` in `$GITHUB_OUTPUT`'s format (multi-line values with a delimiter they do not hold)."""
    parts = []
    for name, value in outputs.items():
        if "\n" not in value and "\r" not in value:
            parts.append(f"{name}={value}\n")
            continue
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        while delimiter in value:
            delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        parts.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(parts)


def write_outputs(path: str, outputs: Mapping[str, str]) -> None:
    """Append `outputs` to the file `$GITHUB_OUTPUT` names."""
    with open(path, "a", encoding="utf-8") as out:
        out.write(github_output(outputs))


def outputs_for(env: Mapping[str, str], report: ActionReport, summary: str) -> dict[str, str]:
    """The step outputs of the run `report` tells of, in the runner's environment `env`."""
    settings = action_settings(env)
    overlay = ActionInputs.from_env(env).overlay
    forge = token_forges(settings)

    jobs = jobs_for(read_event(env), settings) if report.jobs else []
    return step_outputs(report.as_dict(), goal_state(forge, overlay, jobs), summary.rstrip("\n"))
