"""Stand-ins for the planner's plan job and the worker's implement job, keeping their contracts.

`plan_goal` writes three tasks the way the planner does (task body with the hidden marker, the
task and state labels, a sub-issue link) — two ready, one waiting on the first — and submits
an `implement` job for each ready task to the runtime's executor. `implement_task` records the
task it was asked to do. Any other job runs for real.
"""

from __future__ import annotations

from bot.jobs import FUNCTIONS
from bot.ledger import labels
from bot.ledger.labels import Kind, State, label_name
from bot.ledger.taskbody import TaskSpec, render_task_body
from bot.queue.kinds import JobRequest
from bot.runtime import JobFunction, Runtime

PLAN = (
    ("tax", "Add sales tax to the cart", ()),
    ("discount", "Add discount codes", ()),
    ("receipt", "Print a receipt with tax", ("tax",)),
)


class FakeJobs:
    def __init__(self) -> None:
        self.planned: list[tuple[str, int]] = []
        self.implemented: list[tuple[str, int]] = []
        self.tasks: dict[str, int] = {}

    def plan_goal(self, rt: Runtime, repo: str, number: int, installation_id: int | None) -> None:
        forge = rt.forge(repo, installation_id)
        config = rt.repo_config(forge)
        labels.ensure(forge, config)
        self.planned.append((repo, number))
        for key, title, deps in PLAN:
            spec = TaskSpec(
                goal=number,
                key=key,
                title=title,
                objective=f"{title}.",
                depends_on=[self.tasks[d] for d in deps],
                depends_on_keys=list(deps),
            )
            state = State.WAITING if deps else State.READY
            issue = forge.create_issue(
                title,
                render_task_body(spec),
                labels=[label_name(config.label_prefix, Kind.TASK), label_name(config.label_prefix, state)],
            )
            forge.add_sub_issue(number, issue.id)
            self.tasks[key] = issue.number
            if state is State.READY:
                rt.executor.submit(
                    JobRequest.make("implement", repo=repo, number=issue.number, installation_id=installation_id)
                )

    def implement_task(self, rt: Runtime, repo: str, number: int, installation_id: int | None) -> None:
        self.implemented.append((repo, number))

    @property
    def jobs(self) -> dict[str, JobFunction]:
        """The real job table with `plan` and `implement` replaced by these stand-ins."""
        return {**FUNCTIONS, "plan": self.plan_goal, "implement": self.implement_task}
