"""Publishing a worker's result: push the branch (fetch-merge-retry when rejected), open or update the
one PR of the task, move the task to review, post the handoff, and wake the goal's planner."""

from __future__ import annotations

from bot.errors import PushRejected
from bot.forge.types import PullRequest
from bot.git import REMOTE_PREFIX, Worktree
from bot.ledger import attempts as attempts_mod
from bot.ledger import comments, labels, markers
from bot.ledger.labels import State
from bot.queue.kinds import JobRequest
from bot.worker.session import ImplementResult, Task, WorkerContext

MAX_PUSHES = 3
HANDOFF_MARKER = "handoff"
SUMMARY_SECTION = "summary"


def push(ctx: WorkerContext, worktree: Worktree, branch: str) -> str:
    """Push HEAD to `branch`; on a rejection fetch, merge the forge's branch in and retry (bounded)."""
    for _attempt in range(MAX_PUSHES):
        if worktree.push(branch):
            return worktree.head()
        ctx.mirror.fetch()
        if ctx.mirror.sha(branch) is None:
            continue
        conflicted = worktree.merge(REMOTE_PREFIX + branch, f"Merge the forge's {branch}")
        if conflicted:
            worktree.git("merge", "--abort", check=False)
            raise PushRejected(f"`{branch}` moved on the forge and merging it conflicts in {', '.join(conflicted)}")
    raise PushRejected(f"`{branch}` was rejected {MAX_PUSHES} times after fetching and merging")


def pr_body(task: Task, result: ImplementResult, previous: str | None) -> str:
    """The PR body: closing keyword, summary, handoff, verification tail, usage, attempts marker."""
    counters = attempts_mod.read(previous).add_usage("worker", result.usage)
    report = result.agent.report
    visible = "\n".join(
        [
            f"Closes #{task.number}",
            "",
            "### Summary",
            report.summary.strip(),
            "",
            "### Handoff",
            report.markdown(),
            "",
            "### Verification",
            "<details><summary>" + ("passed" if result.verification.ok else "failed") + "</summary>",
            "",
            "```",
            result.verification.tail,
            "```",
            "</details>",
            "",
            f"**Usage:** {attempts_mod.usage_line(counters)}",
        ]
    )
    # The visible part is the bot's section; text people add outside it survives updates.
    body = markers.write_section(previous, SUMMARY_SECTION, visible)
    return attempts_mod.write(body, counters)


def handoff_comment(task: Task, pr: PullRequest, result: ImplementResult) -> str:
    return (
        f"## Handoff — task #{task.number}\n\nPull request: #{pr.number}\n\n{result.agent.report.markdown()}\n\n"
        f"<sub>{result.agent.steps} model turns · {result.usage.total_tokens:,} tokens · "
        f"${result.usage.cost_usd:.4f}</sub>"
    )


def publish_implementation(ctx: WorkerContext, task: Task, result: ImplementResult, worktree: Worktree) -> PullRequest:
    """Push, open/update the PR, label the task `review`, post the handoff and enqueue the planner's `handoff`."""
    push(ctx, worktree, task.branch)
    existing = ctx.forge.find_pr(task.branch)
    body = pr_body(task, result, existing.body if existing else None)
    pr = ctx.forge.open_or_update_pr(head=task.branch, base=ctx.forge.default_branch(), title=task.title, body=body)
    labels.set_state(ctx.forge, task.number, State.REVIEW, ctx.config)
    comments.upsert(ctx.forge, task.number, HANDOFF_MARKER, handoff_comment(task, pr, result))
    if task.spec.goal:
        ctx.executor.submit(
            JobRequest.make("handoff", repo=ctx.repo, number=task.spec.goal, installation_id=ctx.installation_id)
        )
    return pr
