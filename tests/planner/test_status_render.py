"""The status comment and the summary render from whatever is known: missing PRs, attempts or usage
show as unknown instead of failing, the worker's usage markers (a `Usage` or a `UsageMeter` dict) are
summed with the planner's own, and the record round-trips through the hidden marker."""

from __future__ import annotations

from bot.forge.types import Issue, PullRequest, PullSummary
from bot.ledger import attempts as attempts_mod
from bot.ledger import markers
from bot.ledger.goaltree import GoalTask
from bot.ledger.record import RECORD_MARKER, PlannerRecord
from bot.ledger.taskbody import TaskSpec
from bot.llm.types import Usage
from bot.planner.status import TaskFacts, _attempts, _usage, done_facts, gather, render_status, render_summary


def fact(number: int, state: str, open_: bool = True, **extra: object) -> TaskFacts:
    issue = Issue(id=number, number=number, title=f"Task {number}", state="open" if open_ else "closed")
    spec = TaskSpec(
        goal=1, key=f"t{number}", title=f"Task {number}", objective="o", depends_on=[2] if number == 3 else []
    )
    return TaskFacts(GoalTask(issue, spec), state, **extra)  # type: ignore[arg-type]


def test_status_rows_tolerate_missing_data_and_sum_usage() -> None:
    pr = PullRequest(number=9, title="t", head_ref="orchestra/2-x", head_sha="a", base_ref="main", merged=True)
    facts = [
        fact(
            2, "done", open_=False, pr=pr, attempts=2, usage=Usage(input_tokens=1000, output_tokens=500, cost_usd=0.25)
        ),
        fact(3, "waiting"),
    ]
    record = PlannerRecord(version=2, usage=Usage(input_tokens=100, output_tokens=10, cost_usd=0.01), notes=["cents"])
    text = render_status(record, facts, paused=False)
    assert "- [x] #2 Task 2 — done · PR #9 merged · attempts 2 · 1,500 tokens · $0.25" in text
    assert "- [ ] #3 Task 3 (after #2) — waiting" in text
    assert "Tokens so far: 1,610 (planner 110) · cost $0.26" in text and "- cents" in text
    assert PlannerRecord.model_validate(markers.read_data(text, RECORD_MARKER)) == record
    summary = render_summary(record, facts)
    assert "1 done, 0 closed as not planned, 2 in all" in summary and "pull requests: #9" in summary


def test_worker_markers_are_read_tolerantly() -> None:
    assert _usage({"total": {"input_tokens": 5, "output_tokens": 1, "cost_usd": 0.5}, "rows": []}) == Usage(
        input_tokens=5, output_tokens=1, cost_usd=0.5
    )
    assert _usage("garbage") is None and _usage({"input_tokens": "many"}) is None
    assert _attempts(3) == 3 and _attempts({"count": 2}) == 2 and _attempts(True) is None and _attempts(None) is None


def test_unpriced_calls_from_the_worker_marker_and_the_planner_are_named_in_the_status() -> None:
    """A PR's usage marker (as the worker writes it) carries its unpriced calls and tokens; the status
    and the summary say how many calls the cost leaves out."""
    from bot.ledger import attempts

    worker = Usage(input_tokens=900, output_tokens=100, calls=3, unpriced_calls=3, unpriced_tokens=1000)
    body = attempts.write("Closes #2", attempts.Attempts().add_usage("worker", worker))
    pr = PullRequest(number=9, title="t", head_ref="orchestra/2-x", head_sha="a", base_ref="main", body=body)
    facts = [fact(2, "review", pr=pr, usage=_usage(markers.read_data(body, "usage")))]
    record = PlannerRecord(version=1, usage=Usage(input_tokens=50, output_tokens=5, cost_usd=0.01, calls=1))
    text = render_status(record, facts, paused=False)
    assert "cost $0.01 · 3 calls unpriced (1,000 tokens, not in the cost)" in text
    record = record.model_copy(update={"usage": Usage(input_tokens=10, calls=1, unpriced_calls=1, unpriced_tokens=10)})
    assert "4 calls unpriced (1,010 tokens, not in the cost)" in render_summary(record, facts)
    assert "calls unpriced" not in render_status(PlannerRecord(version=1), [fact(3, "waiting")], paused=False)


class _Forge:
    """Answers PR lookups from a table and counts them."""

    def __init__(self, prs: dict[str, PullRequest]) -> None:
        self.prs = prs
        self.lists = 0
        self.finds: list[str] = []

    def list_prs(self, state: str = "open") -> list[PullSummary]:
        self.lists += 1
        return [PullSummary(**p.model_dump(include=set(PullSummary.model_fields))) for p in self.prs.values()]

    def find_pr(self, branch: str, state: str = "open") -> PullRequest | None:
        self.finds.append(branch)
        return self.prs.get(branch)


def test_a_done_tasks_pr_is_read_once_then_its_facts_come_from_the_record() -> None:
    """Each status rewrite used to look up every done task's PR (two calls each, a goal's N tasks on every
    handoff); the facts of a done task no longer change, so the record keeps them; tasks in review
    are found in one list of the open PRs."""
    from bot.ledger.labels import State
    from bot.repoconfig import RepoConfig

    config = RepoConfig()
    usage = Usage(input_tokens=1000, output_tokens=500, cost_usd=0.25)
    done_body = attempts_mod.write("Closes #2", attempts_mod.Attempts().add_usage("worker", usage))
    prs = {
        "orchestra/2-task-2": PullRequest(
            number=9,
            title="t",
            head_ref="orchestra/2-task-2",
            head_sha="a",
            base_ref="main",
            merged=True,
            body=done_body,
        ),
        "orchestra/3-task-3": PullRequest(
            number=10, title="t", head_ref="orchestra/3-task-3", head_sha="b", base_ref="main", state="open"
        ),
    }
    done = fact(2, "done", open_=False).task
    review = fact(3, "review").task
    review.issue.labels.append(f"orchestra:{State.REVIEW.value}")
    forge = _Forge(prs)

    first = gather(forge, config, [done, review])  # type: ignore[arg-type]
    record = PlannerRecord(done=done_facts(first))
    assert forge.finds == ["orchestra/2-task-2"] and forge.lists == 1
    assert record.done[2].pr == 9 and record.done[2].merged and record.done[2].usage is not None
    kept = PlannerRecord.model_validate(markers.read_data(render_status(record, first, paused=False), RECORD_MARKER))

    again = gather(forge, config, [done, review], kept.done)  # type: ignore[arg-type]
    assert forge.finds == ["orchestra/2-task-2"]  # no second lookup of the done task's PR
    assert render_status(kept, again, paused=False) == render_status(record, first, paused=False)
