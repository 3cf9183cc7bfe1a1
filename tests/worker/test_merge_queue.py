"""The merge path in-process against localhub and its CI: the orchestra's queue tests PRs together and lands
them fast-forward (every first-parent commit of main is a tested tree); changelog conflicts merge with no
model; conflict resolutions overtaken by main cost no attempt; only required checks gate (statuses count);
an Actions job's failing step reaches the CI fix; GitHub's merge queue lands the orchestra's PRs."""

from __future__ import annotations

import uuid

import pytest

from bot import repofiles
from bot.errors import ConflictUnresolved
from bot.ledger import attempts as attempts_mod
from bot.ledger.batches import queue_branch
from bot.repoconfig import MergePolicy, RepoConfig
from bot.worker import ci, conflicts, landing, merge
from bot.worker.pulls import settled
from tests.support.git_repos import git
from tests.support.waiting import wait_for
from tests.support.worker_bed import REPO, Bed, Recorder, finish, steps, wait_checks, write

QUEUE = queue_branch("main")
LOGS_ROUTE = "GET /repos/{owner}/{name}/actions/jobs/{job_id}/logs"


@pytest.fixture(autouse=True)
def _no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(merge, "sleep", lambda _s: None)
    monkeypatch.setattr(landing, "sleep", lambda _s: None)


def _implement(bed: Bed, title: str, files: dict[str, str], acceptance: list[str] | None = None) -> tuple[int, int]:
    """A task whose worker writes `files`; (task, PR) once the PR is open."""
    from bot.ledger.claims import Claimant
    from bot.worker import implement

    task = bed.add_task(title, acceptance or [f"test -f {next(iter(files))}"], list(files))
    bed.script(task, "worker", steps(*[write(p, c) for p, c in files.items()], finish(f"{title}: done")))
    pr = implement.run_task(bed.context(Recorder()), task, Claimant("test-worker", 1))
    assert pr is not None
    return task, pr.number


def _green(bed: Bed, pr_number: int) -> str:
    head = bed.forge().get_pr(pr_number).head_sha
    wait_checks(bed, head, "success")
    return head


def _branches(bed: Bed) -> dict[str, str]:
    return {b.name: b.commit.sha for b in bed.owner_repo().get_branches()}


def _drive(bed: Bed, recorder: Recorder, config: RepoConfig | None = None, rounds: int = 8) -> list[str]:
    """Run the landing job here until nothing is under test, waiting for CI on each batch in between."""
    said: list[str] = []
    for _ in range(rounds):
        said.append(landing.land(bed.context(recorder, config)))
        batch = _branches(bed).get(QUEUE)
        if batch is None:
            return said
        wait_for(lambda b=batch: bed.forge().check_state(b).state != "pending", timeout=90, what="CI on the batch")
    raise AssertionError(f"the queue did not settle: {said}")


def _first_parents(bed: Bed, since: str) -> list[str]:
    """The first-parent commits of main after `since`, newest first."""
    clone = bed.root / f"look-{uuid.uuid4().hex[:6]}"
    git(bed.root, "clone", "-q", bed.hub.git_url(REPO, "acme"), str(clone))
    return git(clone, "rev-list", "--first-parent", f"{since}..origin/main").split()


def _push_main(bed: Bed, files: dict[str, str], message: str) -> str:
    """A person's commit on main, pushed over git; the new tip."""
    clone = bed.root / f"person-{uuid.uuid4().hex[:6]}"
    git(bed.root, "clone", "-q", bed.hub.git_url(REPO, "acme"), str(clone))
    for path, text in files.items():
        (clone / path).parent.mkdir(parents=True, exist_ok=True)
        (clone / path).write_text(text)
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", message)
    git(clone, "push", "-q", "origin", "HEAD:main")
    return git(clone, "rev-parse", "HEAD").strip()


def _attempts(bed: Bed, pr_number: int) -> attempts_mod.Attempts:
    return attempts_mod.read(bed.forge().get_pr(pr_number).body)


def test_a_batch_is_tested_together_and_lands_fast_forward_as_one_tested_commit(bed: Bed) -> None:
    start = bed.forge().branch_sha("main")
    first_task, first = _implement(bed, "Add item p", {"items/p.txt": "item p\n", "CHANGES.md": "# Changes\n- p\n"})
    second_task, second = _implement(bed, "Add item q", {"items/q.txt": "item q\n", "CHANGES.md": "# Changes\n- q\n"})
    recorder = Recorder()
    for number in (first, second):
        head = _green(bed, number)
        assert merge.maybe_merge(bed.context(recorder), number, None, head).startswith("queued")
        assert "orchestra:queued" in bed.forge().get_pr(number).labels
    assert recorder.kinds() == ["land", "land"]  # one job id per repository: they fold into one run
    assert len({job.job_id for job in recorder.submitted}) == 1

    said = _drive(bed, recorder)

    assert said[0].startswith(f"testing #{first}, #{second} on {QUEUE}") and f"landed #{first}, #{second}" in said[1]
    forge = bed.forge()
    for task, number in ((first_task, first), (second_task, second)):
        pr = forge.get_pr(number)
        assert pr.merged and "orchestra:queued" not in pr.labels
        assert forge.get_issue(task).state == "closed"
    assert set(_branches(bed)) == {"main"}  # PR branches and the queue branch are gone
    (landed,) = _first_parents(bed, start)  # one commit: the tested tree of both PRs
    assert forge.check_state(landed).state == "success" and forge.check_state(landed).seen == ["ci"]
    changes = bed.owner_repo().get_contents("CHANGES.md", ref=landed).decoded_content.decode()
    assert "- p" in changes and "- q" in changes  # merged keeping both sides, in the queue's own merge
    assert bed.prompts("conflict") == []


def test_a_changelog_conflict_is_merged_mechanically_with_no_model_and_no_attempt(bed: Bed) -> None:
    config = RepoConfig(merge=MergePolicy(policy="auto", queue="serial"), max_conflict_attempts=2)
    _, first = _implement(bed, "Note a in the changelog", {"CHANGES.md": "# Changes\n- a\n", "items/a.txt": "a\n"})
    second_task, second = _implement(
        bed, "Note b in the changelog", {"CHANGES.md": "# Changes\n- b\n", "items/b.txt": "b\n"}
    )
    recorder = Recorder()
    assert merge.maybe_merge(bed.context(recorder, config), first, None, _green(bed, first)).startswith("queued")
    assert f"landed #{first}" in " ".join(_drive(bed, recorder, config))
    # The forge sees a conflict in CHANGES.md; the PR's worker merges main into its branch.
    assert settled(bed.forge(), second).mergeable is False
    head = _green(bed, second)
    assert (
        merge.maybe_merge(bed.context(recorder, config), second, None, head) == "conflicts: resolve_conflict enqueued"
    )
    job = recorder.submitted[-1]
    assert job.kind == "resolve_conflict"
    requests_before = len(bed.model.requests)

    outcome = conflicts.resolve_conflict(bed.context(recorder, config), second, job.args["base_sha"])

    assert outcome.startswith("merged main mechanically")
    assert len(bed.model.requests) == requests_before and bed.prompts("conflict") == []
    counters = _attempts(bed, second)
    assert counters.conflict == 0 and counters.conflict_spent == 0
    head = _green(bed, second)
    text = bed.owner_repo().get_contents("CHANGES.md", ref=head).decoded_content.decode()
    assert sorted(text.splitlines()) == ["# Changes", "- a", "- b"]  # both lines kept
    assert merge.maybe_merge(bed.context(recorder, config), second, None, head).startswith("queued")
    _drive(bed, recorder, config)
    assert bed.forge().get_pr(second).merged and bed.forge().get_issue(second_task).state == "closed"


def test_conflict_resolutions_overtaken_by_main_spend_no_budget(bed: Bed) -> None:
    task, number = _implement(bed, "Grow size", {"config.ini": "[app]\nname = demo\nsize = 5\n"})
    forge = bed.forge()
    # Three times in a row: someone lands a change to the same line, the worker resolves, main moves again.
    for race in range(3):
        resolved = f"[app]\nname = demo\nsize = 5\nrace = {race}\n"
        bed.script(task, "conflict", steps(write("config.ini", resolved), finish(f"kept size 5 and race {race}")))
        tip = _push_main(bed, {"config.ini": f"[app]\nname = demo\nsize = {10 + race}\n"}, f"Landed change {race}")
        assert settled(forge, number).mergeable is False
        assert conflicts.resolve_conflict(bed.context(Recorder()), number, tip) == "merged main (1 conflicted files)"
    counters = _attempts(bed, number)
    assert counters.conflict == 3 and counters.conflict_spent == 0  # three resolutions, none failed
    pr = settled(forge, number)
    assert pr.mergeable is True and "orchestra:needs-human" not in forge.get_issue(task).labels
    assert "orchestra:review" in forge.get_issue(task).labels

    # A resolution that fails (markers left) is what the bound counts.
    bed.script(task, "conflict", steps(finish("gave up on purpose")))
    tip = _push_main(bed, {"config.ini": "[app]\nname = demo\nsize = 99\n"}, "Landed change 4")
    with pytest.raises(ConflictUnresolved):
        conflicts.resolve_conflict(bed.context(Recorder()), number, tip)
    assert _attempts(bed, number).conflict_spent == 1


def test_only_required_checks_gate_and_a_commit_status_counts(bed: Bed) -> None:
    bed.hub.add_ruleset(
        REPO,
        [
            {
                "type": "required_status_checks",
                "parameters": {
                    "strict_required_status_checks_policy": False,
                    "required_status_checks": [{"context": "ci"}, {"context": "deploy/preview"}],
                },
            }
        ],
    )
    task, number = _implement(bed, "Add item r", {"items/r.txt": "item r\n"})
    head = _green(bed, number)
    commit = bed.owner_repo().get_commit(head)
    commit.create_status("failure", context="lint", description="style nits")  # not required
    recorder = Recorder()
    assert bed.context(recorder).forge.branch_rules("main").required == ["ci", "deploy/preview"]
    assert merge.maybe_merge(bed.context(recorder), number, None, head).startswith("not merged")  # preview pending
    commit.create_status("failure", context="deploy/preview", description="preview broke")
    assert merge.maybe_merge(bed.context(recorder), number, None, head) == "checks failed"
    commit.create_status("success", context="deploy/preview")
    state = bed.forge().check_state(head, ["ci", "deploy/preview"])
    assert state.state == "success" and [f.name for f in state.advisory] == ["lint"]
    assert merge.maybe_merge(bed.context(recorder), number, None, head).startswith("queued")

    said = landing.land(bed.context(recorder))
    batch = _branches(bed)[QUEUE]
    assert said.startswith(f"testing #{number}")
    wait_checks(bed, batch, "success")
    assert landing.land(bed.context(recorder)).startswith(f"testing #{number}")  # the preview has not reported
    batch_commit = bed.owner_repo().get_commit(batch)
    batch_commit.create_status("failure", context="lint")
    batch_commit.create_status("success", context="deploy/preview")
    assert f"landed #{number}" in landing.land(bed.context(recorder))
    assert bed.forge().get_pr(number).merged and bed.forge().branch_sha("main") == batch


def test_the_failing_steps_log_tail_of_an_actions_job_reaches_the_ci_fix_prompt(bed: Bed) -> None:
    task, number = _implement(bed, "Add item x", {"items/x.txt": "x BROKEN\n"})
    head = bed.forge().get_pr(number).head_sha
    wait_checks(bed, head, "failure")
    bed.script(task, "ci_fix", steps(write("items/x.txt", "x\n"), finish("removed the word CI rejects")))
    logs_before = bed.hub.metrics()["rest"]["by_route"].get(LOGS_ROUTE, 0)
    assert merge.maybe_merge(bed.context(Recorder()), number, None, head) == "checks failed"
    assert bed.hub.metrics()["rest"]["by_route"].get(LOGS_ROUTE, 0) == logs_before  # no log read to decide

    assert ci.fix_ci(bed.context(Recorder()), number, None, head) == "pushed fix attempt 1"

    assert bed.hub.metrics()["rest"]["by_route"].get(LOGS_ROUTE, 0) == logs_before + 1
    (prompt,) = bed.prompts("ci_fix")
    tail = prompt.split("Log tail (the failing step):", 1)[1]
    assert "items/x.txt: found BROKEN (ci-marker-7f3a)" in tail
    assert "##[error]Process completed with exit code 1." in tail  # only the job log says this
    assert "Why it fails although its own checks passed" not in prompt


def test_prs_land_through_githubs_merge_queue_when_a_ruleset_requires_it(bed: Bed) -> None:
    bed.hub.require_merge_queue(REPO, checks=("ci",))
    task, number = _implement(bed, "Add item g", {"items/g.txt": "item g\n"})
    head = _green(bed, number)
    recorder = Recorder()
    assert bed.context(recorder).forge.branch_rules("main").merge_queue is True

    assert merge.maybe_merge(bed.context(recorder), number, None, head) == "queued in the forge's merge queue"

    assert "orchestra:queued" in bed.forge().get_pr(number).labels
    wait_for(lambda: bed.forge().get_pr(number).merged, timeout=90, what="merged by the forge's merge queue")
    assert recorder.kinds() == []  # the orchestra's own queue stays out of it
    assert landing.land(bed.context(recorder)) == "the forge's merge queue lands PRs on this branch"
    # `merge_group destroyed (merged)` routes here: tidy the landed PR.
    assert merge.maybe_merge(bed.context(recorder), number, None, head) == "merged already"
    assert f"orchestra/{task}" not in " ".join(_branches(bed)) and bed.forge().get_issue(task).state == "closed"
    assert "orchestra:queued" not in bed.forge().get_pr(number).labels


def test_queue_off_merges_each_pr_on_its_own_checks(bed: Bed) -> None:
    _, number = _implement(bed, "Add item o", {"items/o.txt": "item o\n"})
    config = RepoConfig(merge=MergePolicy(policy="auto", queue="off"))
    assert merge.maybe_merge(bed.context(Recorder(), config), number, None, _green(bed, number)) == "merged"
    assert bed.forge().get_pr(number).merged


def test_a_ci_fix_that_worked_is_given_back_when_a_new_failure_comes(bed: Bed) -> None:
    task, number = _implement(bed, "Add item f", {"items/f.txt": "f BROKEN\n"})
    head = bed.forge().get_pr(number).head_sha
    wait_checks(bed, head, "failure")
    bed.script(task, "ci_fix", steps(write("items/f.txt", "f\n"), finish("removed the word CI rejects")))
    assert ci.fix_ci(bed.context(Recorder()), number, None, head) == "pushed fix attempt 1"
    fixed = _green(bed, number)  # the fix worked
    # Something new breaks the PR later (here a person's push to its branch): a new failure, not the fix's.
    clone = bed.root / "person-f"
    git(bed.root, "clone", "-q", bed.hub.git_url(REPO, "acme"), str(clone))
    pr_branch = bed.forge().get_pr(number).head_ref
    git(clone, "checkout", "-q", pr_branch)
    (clone / "items/g.txt").write_text("g BROKEN\n")
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "another item")
    git(clone, "push", "-q", "origin", pr_branch)
    broken = git(clone, "rev-parse", "HEAD").strip()
    wait_checks(bed, broken, "failure")
    bed.script(task, "ci_fix", steps(write("items/g.txt", "g\n"), finish("same word, other file")))

    assert ci.fix_ci(bed.context(Recorder()), number, None, broken) == "pushed fix attempt 2"

    counters = _attempts(bed, number)
    assert fixed != broken and counters.ci_fix == 2 and counters.ci_fix_spent == 1  # the first was given back
    assert counters.ci_fix_ok == [head]


def test_the_ceiling_of_all_work_on_a_pr_stops_the_next_fix(bed: Bed) -> None:
    from bot import jobs
    from tests.support.worker_bed import CONFIG

    task, number = _implement(bed, "Add item h", {"items/h.txt": "h BROKEN\n"})
    head = bed.forge().get_pr(number).head_sha
    wait_checks(bed, head, "failure")
    _push_main(bed, {".github/orchestra.yml": CONFIG + "budgets:\n  pr: {tokens: 10}\n"}, "A tight ceiling per PR")
    recorder = Recorder()

    assert jobs.fix_ci(bed.install_runtime(recorder), REPO, number, None, head, None) is None  # reported

    assert bed.prompts("ci_fix") == []
    assert "orchestra:needs-human" in bed.forge().get_issue(task).labels
    failure = next(c.body for c in bed.forge().list_comments(number) if "orchestra:failure-fix_ci" in c.body)
    assert "ceiling of all its work (`budgets.pr`)" in failure and "tokens used of a ceiling of 10" in failure


def test_a_default_branch_that_refuses_the_bots_push_says_what_to_configure(bed: Bed) -> None:
    from localhub.repos import git_for

    task, number = _implement(bed, "Add item k", {"items/k.txt": "item k\n"})
    recorder = Recorder()
    assert merge.maybe_merge(bed.context(recorder), number, None, _green(bed, number)).startswith("queued")
    assert landing.land(bed.context(recorder)).startswith(f"testing #{number}")
    wait_checks(bed, _branches(bed)[QUEUE], "success")
    # What GitHub answers a push to a branch whose protection forbids it, as a pre-receive hook here.
    repo = bed.hub.hub.store.get("SELECT * FROM repos WHERE name=?", ("app",))
    hook = git_for(bed.hub.hub.store, repo).path / "hooks" / "pre-receive"
    hook.write_text(
        '#!/bin/sh\nwhile read old new ref; do\n  if [ "$ref" = refs/heads/main ]; then\n'
        "    echo 'error: GH006: Protected branch update failed for refs/heads/main.'; exit 1\n  fi\ndone\n"
    )
    hook.chmod(0o755)
    main = bed.forge().branch_sha("main")

    said = landing.land(bed.context(recorder))

    assert "the forge refused the push" in said and bed.forge().branch_sha("main") == main
    assert not bed.forge().get_pr(number).merged and "orchestra:queued" not in bed.forge().get_pr(number).labels
    assert "orchestra:needs-human" in bed.forge().get_issue(task).labels
    failure = next(c.body for c in bed.forge().list_comments(number) if "orchestra:failure-land" in c.body)
    assert "may not push to the default branch" in failure and "merge.queue: off" in failure
    assert "GH006" in failure


class _Busy(Recorder):
    """An executor with `running` implementations waiting for a worker that wakes jobs later (as the in-process one)."""

    def __init__(self, running: int) -> None:
        super().__init__()
        self.running = running
        self.later: list[tuple[str, float]] = []

    def queued(self, queue: str) -> int:
        return self.running if queue == "implement" else 0

    def submit_later(self, job, delay_s: float) -> None:  # type: ignore[no-untyped-def]
        self.later.append((job.kind, delay_s))


def test_a_small_batch_waits_while_implementations_wait_for_a_worker_then_lands_together(bed: Bed) -> None:
    """One CI run and one landing for PRs that finish close together: while implementations wait for a
    worker, the queue gathers up to `merge.batch_wait_seconds` from its oldest head; once none waits, what
    is ready is built."""
    _task, first = _implement(bed, "Add item g", {"items/g.txt": "item g\n"})
    busy = _Busy(running=1)
    assert merge.maybe_merge(bed.context(busy), first, None, _green(bed, first)).startswith("queued")

    said = landing.land(bed.context(busy))

    assert said.startswith("gathering a batch: 1 ready, 1 implementation(s) waiting for a worker")
    assert QUEUE not in _branches(bed)  # nothing built, no CI spent
    ((kind, delay),) = busy.later
    assert kind == "land" and 0 < delay <= 30.5
    _task, second = _implement(bed, "Add item h", {"items/h.txt": "item h\n"})
    assert merge.maybe_merge(bed.context(busy), second, None, _green(bed, second)).startswith("queued")
    busy.running = 0  # a worker is free for every implementation

    said = _drive(bed, busy)

    assert said[0].startswith(f"testing #{first}, #{second} on {QUEUE}") and f"landed #{first}, #{second}" in said[1]
    committed = repofiles.read_config(bed.forge())
    config = committed.model_copy(update={"merge": committed.merge.model_copy(update={"batch_wait_seconds": 0})})
    _task, third = _implement(bed, "Add item i", {"items/i.txt": "item i\n"})
    assert merge.maybe_merge(bed.context(busy, config), third, None, _green(bed, third)).startswith("queued")
    busy.running = 3
    assert landing.land(bed.context(busy, config)).startswith(f"testing #{third} on {QUEUE}")  # no wait asked
