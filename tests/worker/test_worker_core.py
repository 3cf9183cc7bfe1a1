"""The worker's core functions in-process against localhub and the model stand-in: the workspace keeps
credentials off disk and cleans up; re-running an implementation continues its branch and keeps one PR;
CI fixes are bounded per PR and per head and end in needs-human; policy `review` never merges; reviews
and `/orchestra fix` are addressed; `/orchestra retry` re-enqueues; reconcile after a Redis wipe does
nothing twice; a blocked agent leaves a failure comment."""

from __future__ import annotations

import threading

import pytest

from bot import jobs, reconcile, repofiles
from bot.cli import main
from bot.errors import GitFailed
from bot.git import REMOTE_PREFIX
from bot.jobs import VERB_HANDLERS
from bot.ledger import labels, markers
from bot.ledger.claims import Claimant
from bot.llm.types import Usage
from bot.queue.executors import RQExecutor
from bot.repoconfig import MergePolicy, RepoConfig
from bot.settings import Settings
from bot.steering import CommandContext, execute
from bot.worker import implement, landing, merge
from tests.support.model_server import Turn
from tests.support.worker_bed import BOT, REPO, Bed, Recorder, finish, steps, wait_checks, write


def _implement(bed: Bed, title: str, path: str, content: str, recorder: Recorder | None = None) -> tuple[int, int]:
    task = bed.add_task(title, [f"test -f {path}"], [path])
    bed.script(task, "worker", steps(write(path, content), finish(f"wrote {path}")))
    ctx = bed.context(recorder or Recorder())
    pr = implement.run_task(ctx, task, Claimant("test-worker", 1))
    assert pr is not None
    return task, pr.number


def _comments(bed: Bed, number: int) -> list[str]:
    return [c.body for c in bed.forge().list_comments(number)]


def test_workspace_keeps_credentials_off_disk_and_removes_worktrees(bed: Bed) -> None:
    ctx = bed.context(Recorder())
    errors: list[BaseException] = []

    def job() -> None:
        try:
            ctx.mirror.fetch()
            with ctx.mirror.worktree(REMOTE_PREFIX + "main") as wt:
                assert (wt.path / "config.ini").exists()
                listing = wt.git("config", "--list", "--show-origin").stdout
                assert bed.bot_token not in listing and "extraheader" not in listing.lower()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=job) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with pytest.raises(RuntimeError), ctx.mirror.worktree(REMOTE_PREFIX + "main") as wt:
        kept = wt.path
        raise RuntimeError("the job failed")
    assert not kept.exists()
    assert list(ctx.mirror.worktrees_dir.iterdir()) == []
    config = (ctx.mirror.path / "config").read_text()
    assert bed.bot_token not in config and "url" not in config
    assert ctx.mirror.sha("main") and ctx.mirror.sha("no-such-branch") is None
    with pytest.raises(GitFailed), ctx.mirror.worktree("refs/remotes/origin/no-such-branch"):
        pass
    assert bed.leak_report() == []


def test_rerun_continues_the_branch_and_updates_the_one_pr(bed: Bed) -> None:
    recorder = Recorder()
    task, pr_number = _implement(bed, "Add item r", "items/r.txt", "item r\n", recorder)
    forge = bed.forge()
    body = forge.get_pr(pr_number).body
    # The planner's status comment reads these: attempts `count` and the usage `total`.
    assert markers.read_data(body, "attempts")["count"] == 0
    total = Usage.model_validate(markers.read_data(body, "usage")["total"])
    assert total.input_tokens > 0 and total.calls == 2
    assert "orchestra:review" in forge.get_issue(task).labels
    assert [job.kind for job in recorder.submitted] == ["handoff"]
    # A crash after the PR was opened leaves the task `working`; the retried job continues.
    labels.set_state(forge, task, implement.State.WORKING, repofiles.read_config(forge))
    bed.script(task, "worker", steps(write("items/r2.txt", "more\n"), finish("continued")))
    again = implement.run_task(bed.context(recorder), task, Claimant("other-worker", 2))
    assert again is not None and again.number == pr_number
    pulls = list(bed.owner_repo().get_pulls(state="all"))
    assert len(pulls) == 1
    files = {f.filename for f in pulls[0].get_files()}
    assert files == {"items/r.txt", "items/r2.txt"}
    claims = [c for c in _comments(bed, task) if "orchestra:claim" in c]
    assert len(claims) == 1 and "other-worker" in claims[0] and "attempt 2" in claims[0]
    # In review with its PR open: a redelivered implement job does nothing.
    before = len(bed.model.requests)
    assert implement.run_task(bed.context(recorder), task, Claimant("third", 3)).number == pr_number
    assert len(bed.model.requests) == before


def test_ci_fixes_are_bounded_per_pr_and_per_head_then_needs_human(bed: Bed) -> None:
    recorder = Recorder()
    rt = bed.install_runtime(recorder)
    task, pr_number = _implement(bed, "Add item x", "items/x.txt", "x BROKEN\n", recorder)

    def attempt_n(body: dict) -> Turn:
        system = body["messages"][0]["content"]
        number = system.split("This is attempt ")[1].split(" ")[0]
        return write("items/x.txt", f"x still BROKEN after attempt {number}\n")

    bed.script(task, "ci_fix", steps(attempt_n, finish("tried")))
    forge = bed.forge()
    for attempt in (1, 2):
        pr = forge.get_pr(pr_number)
        wait_checks(bed, pr.head_sha, "failure")
        assert merge.maybe_merge(bed.context(recorder), pr_number, None, pr.head_sha) == "checks failed"
        assert jobs.fix_ci(rt, REPO, pr_number, pr.head_ref, pr.head_sha, None) == f"pushed fix attempt {attempt}"
        assert jobs.fix_ci(rt, REPO, pr_number, pr.head_ref, pr.head_sha, None) == "stale: the head moved"
    pr = forge.get_pr(pr_number)
    wait_checks(bed, pr.head_sha, "failure")
    assert jobs.fix_ci(rt, REPO, None, pr.head_ref, pr.head_sha, None) is None  # exhausted: reported, not raised
    assert "orchestra:needs-human" in forge.get_issue(task).labels
    failure = next(c for c in _comments(bed, pr_number) if "orchestra:failure-fix_ci" in c)
    assert "2 of 2 fix attempts" in failure and "/orchestra fix" in failure
    assert len(bed.prompts("ci_fix")) == 2
    assert jobs.fix_ci(rt, REPO, pr_number, pr.head_ref, pr.head_sha, None) is None
    assert len(bed.prompts("ci_fix")) == 2  # one attempt per head, and none past the bound

    # `/orchestra retry` on the PR resets the counters and asks for the next fix.
    reply = execute(_command(bed, recorder, pr_number, "retry"), "retry", VERB_HANDLERS)
    assert reply and "reset" in reply
    assert recorder.submitted[-1].kind == "fix_ci"
    assert '"ci_fix":0' in forge.get_pr(pr_number).body


def _command(bed: Bed, executor: object, number: int, verb: str, text: str = "") -> CommandContext:
    forge = bed.forge()
    comment = bed.owner_repo().get_issue(number).create_comment(f"/orchestra {verb} {text}".strip())
    return CommandContext(
        forge=forge,
        config=repofiles.read_config(forge),
        settings=Settings(bot_login=BOT),
        executor=executor,
        number=number,
        comment_id=comment.id,
        sender="acme",
        text=text,
        installation_id=None,
    )


def test_review_policy_leaves_the_merge_to_people_and_auto_merges(bed: Bed) -> None:
    task, pr_number = _implement(bed, "Add item m", "items/m.txt", "item m\n")
    pr = bed.forge().get_pr(pr_number)
    wait_checks(bed, pr.head_sha, "success")
    review_ctx = bed.context(Recorder(), RepoConfig(merge=MergePolicy(policy="review")))
    assert merge.maybe_merge(review_ctx, pr_number, None, pr.head_sha) == "merge policy is review: left to people"
    approvals_ctx = bed.context(Recorder(), RepoConfig(merge=MergePolicy(policy="auto", required_approvals=1)))
    assert merge.maybe_merge(approvals_ctx, pr_number, None, pr.head_sha) == "waiting for 1 approval(s)"
    assert not bed.forge().get_pr(pr_number).merged
    # `auto` (with the default queue, `batch`): queued, tested on the queue branch, landed fast-forward.
    recorder = Recorder()
    assert merge.maybe_merge(bed.context(recorder), pr_number, None, pr.head_sha).startswith("queued")
    assert recorder.kinds() == ["land"]
    assert landing.land(bed.context(recorder)).startswith(f"testing #{pr_number}")
    batch = bed.forge().branch_sha("orchestra/queue/main")
    wait_checks(bed, batch, "success")
    assert f"landed #{pr_number}" in landing.land(bed.context(recorder))
    assert bed.forge().get_pr(pr_number).merged and bed.forge().get_issue(task).state == "closed"
    assert bed.forge().branch_sha("main") == batch
    assert all(b.name not in (pr.head_ref, "orchestra/queue/main") for b in bed.owner_repo().get_branches())


def test_review_and_fix_command_are_addressed_and_answered(bed: Bed) -> None:
    recorder = Recorder()
    task, pr_number = _implement(bed, "Add item v", "items/v.txt", "item v\n", recorder)
    bed.script(task, "review", steps(write("items/v.txt", "item v, louder\n"), finish("made it louder")))
    reply = execute(_command(bed, recorder, pr_number, "fix", "make it louder"), "fix", VERB_HANDLERS)
    assert reply and "On it" in reply
    job = recorder.submitted[-1]
    assert job.kind == "address_review" and str(job.args["review_id"]).startswith("fix-")
    ctx = bed.context(recorder)
    from bot.worker import review

    assert review.address_review(ctx, pr_number, job.args["review_id"]) == "addressed"
    prompt = bed.prompts("review")[-1]
    assert "make it louder" in prompt
    assert any("Addressed the review" in c for c in _comments(bed, pr_number))

    pull = bed.hub.github("acme").get_repo(REPO).get_pull(pr_number)
    submitted = pull.create_review(body="Please end the file with a period.", event="REQUEST_CHANGES")
    bed.script(task, "review", steps(write("items/v.txt", "item v, louder.\n"), finish("added the period")))
    assert review.address_review(ctx, pr_number, submitted.id) == "addressed"
    assert "Please end the file with a period." in bed.prompts("review")[-1]
    main_head = bed.forge().get_pr(pr_number).head_sha
    assert bed.owner_repo().get_contents("items/v.txt", ref=main_head).decoded_content == b"item v, louder.\n"


def test_reconcile_after_redis_wipe_does_nothing_twice(
    bed: Bed, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting = bed.add_task("Add item w", ["test -f items/w.txt"], ["items/w.txt"])
    _, pr_number = _implement(bed, "Add item y", "items/y.txt", "item y\n")
    assert bed.hub.hub.ci.drain(timeout=90)  # CI ran (a commit with no check yet also reads as green)
    wait_checks(bed, bed.forge().get_pr(pr_number).head_sha, "success")
    # No event may reach the app after the wipe: one the forge emits late (under load, after CI's
    # result was readable) would enqueue `maybe_merge` itself and reconcile would find it live.
    bed.stop_webhooks()
    bed.conn.flushdb()  # Redis lost
    forge = bed.forge()
    executor = RQExecutor(bed.conn)
    first = reconcile.reconcile(forge, repofiles.read_config(forge), executor)
    kinds = sorted(jid.split("-")[0] for jid in first.new)
    assert kinds == ["implement", "maybe_merge"]
    assert any(jid.endswith(f"-{waiting}") for jid in first.new)
    again = reconcile.reconcile(forge, repofiles.read_config(forge), executor)
    assert again.new == [] and sorted(again.live) == sorted(first.new)

    # The command line does the same with the runtime it composes from the environment.
    bed.conn.flushdb()
    for name, value in bed.worker_env().items():
        monkeypatch.setenv(name, value)
    assert main(["reconcile", "--repo", REPO]) == 0
    out = capsys.readouterr().out
    assert "2 enqueued, 0 already live" in out and f"implement-acme_sapp-{waiting}" in out
    assert main(["reconcile", "--repo", REPO]) == 0
    assert "0 enqueued, 2 already live" in capsys.readouterr().out


def test_blocked_agent_leaves_a_failure_comment_and_needs_human(bed: Bed) -> None:
    recorder = Recorder()
    rt = bed.install_runtime(recorder)
    task = bed.add_task("Add item z", ["test -f items/z.txt"], ["items/z.txt"])
    blocked = Turn(
        tool_calls=[("finish", {"status": "blocked", "summary": "cannot", "concerns": ["items/ is read-only"]})]
    )
    bed.script(task, "worker", steps(blocked))
    assert jobs.implement_task(rt, REPO, task, None) == "nothing done"
    issue = bed.forge().get_issue(task)
    assert "orchestra:needs-human" in issue.labels
    failure = next(c for c in _comments(bed, task) if "orchestra:failure-implement" in c)
    assert "items/ is read-only" in failure and "/orchestra retry" in failure

    reply = execute(_command(bed, recorder, task, "retry"), "retry", VERB_HANDLERS)
    assert reply and "Retrying" in reply
    assert recorder.submitted[-1].kind == "implement"
    assert "orchestra:ready" in bed.forge().get_issue(task).labels
