"""Address review feedback on an orchestra PR: requested changes, review comments, or `/orchestra fix <text>`.

The review-role agent gets every note of the review (or the person's instructions), changes the
branch, and the bot replies on the PR with what it did about each. A `/orchestra fix` arrives as
review id ``fix-<comment id>`` (see `bot.worker.verbs`).

Only notes written by people who may steer (`bot.steering.Gate`: write access by default) reach
the agent; on a public repository anyone signed in can review. The others are dropped before
anything changes, and their authors are told once on the PR (`notice_once`). A PR whose total work
has reached its ceiling (`budgets.pr`) runs no review agent: `BudgetExceeded` asks a person.
"""

from __future__ import annotations

from bot.commands import parse
from bot.errors import AgentFailed
from bot.forge.types import ReviewNote
from bot.git import REMOTE_PREFIX
from bot.ledger import attempts as attempts_mod
from bot.ledger import comments, labels
from bot.ledger.labels import State
from bot.settings import Role
from bot.steering import Gate, ignored_text, notice_once
from bot.worker import publish
from bot.worker.bounds import check_ceiling
from bot.worker.ci import pr_task
from bot.worker.implement import agent_error
from bot.worker.session import WorkerContext, run_role, task_prompt_context, verify

FIX_PREFIX = "fix-"


def fix_review_id(comment_id: int) -> str:
    """The review id under which a `/orchestra fix` comment is addressed."""
    return f"{FIX_PREFIX}{comment_id}"


def notes_for(ctx: WorkerContext, pr_number: int, review_id: int | str) -> list[ReviewNote]:
    if isinstance(review_id, str) and review_id.startswith(FIX_PREFIX):
        comment_id = int(review_id.removeprefix(FIX_PREFIX))
        comment = next((c for c in ctx.forge.list_comments(pr_number) if c.id == comment_id), None)
        command = parse(comment.body) if comment else None
        return [ReviewNote(author=comment.author, body=command.text)] if comment and command and command.text else []
    return ctx.forge.review_notes(pr_number, int(review_id))


def steering_notes(ctx: WorkerContext, pr_number: int, notes: list[ReviewNote]) -> list[ReviewNote]:
    """The notes by people who may steer; each other author is told once on the PR that theirs are ignored."""
    gate = Gate(ctx.forge, ctx.config)
    kept = [note for note in notes if gate.allows(note.author)]
    for author in dict.fromkeys(note.author for note in notes if note.author and not gate.allows(note.author)):
        notice_once(ctx.forge, pr_number, author, ignored_text(author, "your review", gate.needed))
    return kept


def address_review(ctx: WorkerContext, pr_number: int, review_id: int | str) -> str:
    """The address_review job's core; returns what it did in a few words."""
    pr = ctx.forge.get_pr(pr_number)
    if pr.state != "open":
        return "PR is not open"
    notes = notes_for(ctx, pr_number, review_id)
    if not notes:
        return "nothing to address"
    notes = steering_notes(ctx, pr_number, notes)
    if not notes:
        return "ignored: written by people who may not steer"
    check_ceiling(ctx, pr.number, attempts_mod.read(pr.body))  # the PR's total work, reviews included
    task = pr_task(ctx, pr)
    labels.set_state(ctx.forge, task.number, State.WORKING, ctx.config)
    variables = {
        **task_prompt_context(ctx, task),
        "pr_number": pr.number,
        "review_comments": [{"author": n.author, "path": n.path, "line": n.line, "body": n.body} for n in notes],
    }
    ctx.mirror.fetch()
    with ctx.mirror.worktree(REMOTE_PREFIX + pr.head_ref) as worktree:
        result = run_role(ctx, Role.REVIEW, variables, worktree, label=f"review-{task.number}")
        counters = attempts_mod.read(ctx.forge.get_pr(pr.number).body)
        counters = counters.add_usage(Role.REVIEW.value, result.usage).model_copy(
            update={"review": counters.review + 1}
        )
        attempts_mod.save(ctx.forge, pr.number, counters)
        if not result.ok:
            raise agent_error(result, f"addressing the review on PR #{pr.number} did not finish")
        verification = verify(ctx, worktree, task.acceptance)
        if worktree.commit_all(f"Address review: {task.title} (#{task.number})") is None:
            raise AgentFailed(f"the review agent changed no file: {result.report.summary}")
        sha = publish.push(ctx, worktree, pr.head_ref)
    labels.set_state(ctx.forge, task.number, State.REVIEW, ctx.config)
    check = "passed" if verification.ok else f"FAILED:\n```\n{verification.tail}\n```"
    comments.upsert(
        ctx.forge,
        pr.number,
        f"review-{review_id}",
        f"**Addressed the review** (pushed `{sha[:8]}`; acceptance {check})\n\n{result.report.markdown()}",
        where="the whole report is in the review agent's transcript",
    )
    return "addressed"
