"""The end of a local run: the merged result fetched into the user's repo, and the summary printed or as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bot.modes.local import userrepo
from bot.modes.local.session import LocalSession
from bot.modes.local.snapshot import DONE, Snapshot


@dataclass(frozen=True)
class RunSummary:
    """What `orchestra run` reports (and prints as one JSON object with `--json`)."""

    ok: bool
    goal: int
    goal_url: str
    tasks: int
    tasks_done: int
    prs_merged: int
    conflicts_resolved: int
    ci_fixes: int
    duration_s: float
    tokens: int
    cost_usd: float
    branch: str | None
    commit: str | None
    localhub_url: str
    state_dir: str
    by_state: dict[str, int] = field(default_factory=dict)
    needs_human: list[int] = field(default_factory=list)
    problem: str = ""
    #: The run's HTML report (`bot/modes/local/report/`), "" when it could not be written.
    report: str = ""
    #: Calls of models the price table does not know: counted at $0, so `cost_usd` leaves them out.
    unpriced_calls: int = 0
    unpriced_tokens: int = 0
    #: `--plan-only` / `--approve`: the plan the run printed ("" otherwise).
    plan: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        """The summary a person reads at the end of the run."""
        if self.plan and self.ok:
            return (
                f"Goal #{self.goal}: planned ({self.plan.splitlines()[0].lstrip('# ')}); with --plan-only "
                f"nothing was filed or started. The goal: {self.goal_url}"
            )
        lines = [
            f"Goal #{self.goal}: {'closed' if self.ok else 'NOT finished'} in {self.duration_s:.0f}s — "
            f"{self.tasks_done}/{self.tasks} tasks done, {self.prs_merged} PRs merged, "
            f"{self.conflicts_resolved} conflicts resolved, {self.ci_fixes} CI fixes, "
            f"{self.tokens:,} tokens (${self.cost_usd:.4f}).",
        ]
        if self.unpriced_calls:
            lines.append(unpriced_text(self.unpriced_calls, self.unpriced_tokens))
        if self.branch:
            lines.append(
                f"The result is branch `{self.branch}` ({(self.commit or '')[:12]}) in your repository; "
                f"your checked-out branch and working tree were not touched."
            )
            lines.append(f"  git log --oneline {self.branch}    git diff HEAD...{self.branch}")
        if self.problem:
            lines.append(self.problem)
        if self.report:
            lines.append(f"Report (timeline, graph, PRs, tokens and cost; one file, no network): {self.report}")
        lines.append(
            f"Everything the run did (issues, PRs, checks, comments) is kept in {self.state_dir}; "
            f"browse it with `orchestra localhub serve --state {self.state_dir}/localhub`."
        )
        return "\n".join(lines)


def unpriced_text(calls: int, tokens: int) -> str:
    """The line that says the cost leaves some calls out."""
    return (
        f"{calls} calls unpriced ({tokens:,} tokens): their model is not in the price table, so the cost "
        "above leaves them out; price it in a file named by ORCHESTRA_PRICES (docs/models.md)."
    )


def fetch_result(session: LocalSession, goal: int) -> tuple[str, str]:
    """Fetch localhub's default branch into `orchestra/goal-<n>` of the user's repo; (branch, sha)."""
    forge = session.person_forge()
    remote = f"{session.hub_url}/{session.repo_full_name}.git"
    return userrepo.fetch_result(session.repo_path, remote, session.default_branch, goal, forge.git_env())


def summarise(
    session: LocalSession,
    snapshot: Snapshot,
    duration_s: float,
    branch: str | None,
    commit: str | None,
    problem: str = "",
    planned: str = "",
) -> RunSummary:
    return RunSummary(
        ok=(snapshot.closed or bool(planned)) and not problem,
        plan=planned,
        goal=snapshot.goal,
        goal_url=f"{session.repo_url}/issues/{snapshot.goal}",
        tasks=len(snapshot.tasks),
        tasks_done=sum(1 for task in snapshot.tasks if task.state == DONE),
        prs_merged=snapshot.prs_merged,
        conflicts_resolved=snapshot.conflicts_resolved,
        ci_fixes=snapshot.ci_fixes,
        duration_s=round(duration_s, 1),
        tokens=snapshot.tokens,
        cost_usd=snapshot.cost_usd,
        branch=branch,
        commit=commit,
        localhub_url=session.pages_url,
        state_dir=str(session.state_dir),
        by_state=snapshot.by_state(),
        needs_human=[task.number for task in snapshot.needs_human()],
        problem=problem,
        unpriced_calls=snapshot.unpriced_calls,
        unpriced_tokens=snapshot.unpriced_tokens,
    )
