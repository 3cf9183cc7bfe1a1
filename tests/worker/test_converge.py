"""Convergence follow-ups of the merge queue, in-process against localhub and its CI: the sweep gates on the
required checks and runs the landing job for queued PRs; a batch whose CI never reports is rebuilt and then
expires; a review past the PR's ceiling runs no agent; a conflict resolution whose acceptance fails on the
merged result is pushed for CI and the CI fix (its attempt still counts), and its prompt names what landed even
when `merge-base` finds nothing (as under a concurrent fetch of the mirror); a resolution pushed after a failed
one takes the stale `needs-human` off the PR."""

from __future__ import annotations

import time

import pytest

from bot import repofiles
from bot.errors import BudgetExceeded, ConflictUnresolved
from bot.git import Mirror
from bot.ledger import attempts as attempts_mod
from bot.ledger.batches import queue_branch
from bot.ledger.failures import RESOLVED, report_failure
from bot.reconcile import reconcile
from bot.worker import conflicts, landing, merge, review
from bot.worker.pulls import settled
from tests.support.worker_bed import REPO, Bed, Recorder, finish, steps, write
from tests.worker.test_merge_queue import _attempts, _branches, _green, _implement, _push_main

QUEUE = queue_branch("main")


@pytest.fixture(autouse=True)
def _no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(merge, "sleep", lambda _s: None)
    monkeypatch.setattr(landing, "sleep", lambda _s: None)


class Sweeping(Recorder):
    """A recording executor the sweep can ask about live jobs (none is)."""

    def live(self, job_id: str) -> bool:
        return False


def _require(bed: Bed, *checks: str) -> None:
    bed.hub.add_ruleset(
        REPO,
        [
            {
                "type": "required_status_checks",
                "parameters": {
                    "strict_required_status_checks_policy": False,
                    "required_status_checks": [{"context": name} for name in checks],
                },
            }
        ],
    )


def _comments(bed: Bed, number: int) -> list[str]:
    return [c.body for c in bed.forge().list_comments(number)]


def test_the_sweep_gates_on_required_checks_and_runs_the_landing_job_for_queued_prs(bed: Bed) -> None:
    _require(bed, "ci")
    task, number = _implement(bed, "Add item s", {"items/s.txt": "item s\n"})
    head = _green(bed, number)
    bed.owner_repo().get_commit(head).create_status("failure", context="lint", description="not required")
    forge = bed.forge()

    swept = Sweeping()
    reconcile(forge, repofiles.read_config(forge), swept)
    assert "fix_ci" not in swept.kinds() and "maybe_merge" in swept.kinds()  # lint is reported, not waited on

    assert merge.maybe_merge(bed.context(Recorder()), number, None, head).startswith("queued")
    swept = Sweeping()
    reconcile(forge, repofiles.read_config(forge), swept)
    assert "land" in swept.kinds()  # a queued PR whose trigger was lost still lands


def test_a_batch_whose_ci_never_reports_is_rebuilt_then_expires(bed: Bed, monkeypatch: pytest.MonkeyPatch) -> None:
    _require(bed, "ci", "deploy/preview")  # the preview service reports on PR heads, never on the batch
    task, number = _implement(bed, "Add item p", {"items/p.txt": "item p\n"})
    head = _green(bed, number)
    bed.owner_repo().get_commit(head).create_status("success", context="deploy/preview")
    recorder = Recorder()
    assert merge.maybe_merge(bed.context(recorder), number, None, head).startswith("queued")
    assert landing.land(bed.context(recorder)).startswith(f"testing #{number}")
    first = _branches(bed)[QUEUE]
    assert landing.land(bed.context(recorder)).startswith(f"testing #{number}")  # within the timeout: waits

    later = time.time() + 2 * 3600
    monkeypatch.setattr(landing, "clock", lambda: later)
    built = [first]
    for retry in (1, 2):
        said = landing.land(bed.context(recorder))
        assert "has had no CI result for 60 min: rebuilding" in said, said
        sha = _branches(bed)[QUEUE]
        assert sha not in built  # a new commit: CI runs again
        built.append(sha)
        assert f"Orchestra-Queue-Retry: {retry}" in bed.owner_repo().get_commit(sha).commit.message
        later = time.time() + 2 * 3600

    said = landing.land(bed.context(recorder))

    assert f"batch #{number} expired" in said
    pr = bed.forge().get_pr(number)
    assert pr.state == "open" and not pr.merged and "orchestra:queued" not in pr.labels
    assert "orchestra:needs-human" in bed.forge().get_issue(task).labels
    assert any("CI never reported on the merge queue's batch" in c for c in _comments(bed, number))
    assert QUEUE not in _branches(bed)


def test_a_review_on_a_pr_past_its_ceiling_runs_no_agent(bed: Bed) -> None:
    task, number = _implement(bed, "Add item w", {"items/w.txt": "item w\n"})
    forge = bed.forge()
    spent = attempts_mod.read(forge.get_pr(number).body).model_copy(
        update={"usage": {"worker": attempts_mod.RoleUsage(input_tokens=50_000_000, runs=1)}}
    )
    attempts_mod.save(forge, number, spent)
    bed.script(task, "review", steps(write("items/w.txt", "item w.\n"), finish("added the period")))
    submitted = (
        bed.hub.github("acme")
        .get_repo(REPO)
        .get_pull(number)
        .create_review(body="Please end the file with a period.", event="REQUEST_CHANGES")
    )

    with pytest.raises(BudgetExceeded, match="ceiling of all its work"):
        review.address_review(bed.context(Recorder()), number, submitted.id)

    assert bed.prompts("review") == []


def test_a_resolution_whose_acceptance_fails_is_pushed_and_its_prompt_names_what_landed(
    bed: Bed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The acceptance command fails once `gate.txt` (what lands on main) exists: the combination breaks this PR.
    task, number = _implement(
        bed, "Grow size", {"config.ini": "[app]\nname = demo\nsize = 5\n"}, acceptance=["test ! -f gate.txt"]
    )
    tip = _push_main(bed, {"config.ini": "[app]\nname = demo\nsize = 10\n", "gate.txt": "closed\n"}, "Landed the gate")
    forge = bed.forge()
    assert settled(forge, number).mergeable is False
    bed.script(task, "conflict", steps(write("config.ini", "[app]\nname = demo\nsize = 5\n"), finish("kept size 5")))
    # As under a fetch of the mirror running at the same time: `merge-base` of the remote refs finds nothing.
    monkeypatch.setattr(Mirror, "merge_base", lambda self, a, b: None)

    said = conflicts.resolve_conflict(bed.context(Recorder()), number, tip)

    assert said == "merged main (1 conflicted files); its acceptance fails: left to CI and the CI fix"
    (prompt,) = bed.prompts("conflict")
    assert "Landed the gate" in prompt
    pr = settled(forge, number)
    assert pr.mergeable is True and pr.head_sha != tip
    counters = _attempts(bed, number)
    assert counters.conflict == 1 and counters.conflict_spent == 1  # a failing acceptance counts
    assert any("The acceptance commands fail on the merged result" in c for c in _comments(bed, number))
    assert "orchestra:review" in forge.get_issue(task).labels


def test_a_resolution_pushed_after_a_failed_one_takes_the_stale_needs_human_off_the_pr(bed: Bed) -> None:
    task, number = _implement(bed, "Name it", {"config.ini": "[app]\nname = mine\n"})
    forge = bed.forge()
    config = repofiles.read_config(forge)
    tip = _push_main(bed, {"config.ini": "[app]\nname = theirs\n"}, "Landed a name")
    bed.script(task, "conflict", steps(finish("gave up on purpose")))
    with pytest.raises(ConflictUnresolved) as failed:
        conflicts.resolve_conflict(bed.context(Recorder()), number, tip)
    # What the job's failure boundary does with it (bot/jobs.py): a comment and `needs-human` on the task and the PR.
    report_failure(forge, config, number, failed.value, step="resolve_conflict", task=task, also_on=number)
    assert "orchestra:needs-human" in forge.get_pr(number).labels

    tip = _push_main(bed, {"config.ini": "[app]\nname = theirs, again\n"}, "Landed another name")
    bed.script(task, "conflict", steps(write("config.ini", "[app]\nname = mine\n"), finish("kept mine")))
    assert conflicts.resolve_conflict(bed.context(Recorder()), number, tip) == "merged main (1 conflicted files)"

    assert "orchestra:needs-human" not in forge.get_pr(number).labels  # the sweep looks at it again
    assert "orchestra:review" in forge.get_issue(task).labels
    assert any(RESOLVED in c and "resolve_conflict" in c for c in _comments(bed, number))
