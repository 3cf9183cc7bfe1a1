"""The cachetools scenario, offline: the plan passes the plan checks, and the scripted agents' changes behave.

Every change is made the way the orchestra makes it: `scripted:cachetools` answers the real prompt of
its role, the real agent loop runs its tool calls through the real toolbox and sandbox on a git copy of
the vendored project, and the project's own suite (its CI) judges the result.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.agent.result import AgentResult
from bot.errors import ConfigError
from bot.forge.types import Issue
from bot.llm.scripted import ScriptedModel, scripted_model
from bot.llm.types import Message, ToolSpec
from bot.planner.plan_agent import PlanRequest, run_planner
from bot.planner.plan_schema import Rules, ancestors, parse_plan
from bot.repoconfig import PlannerBounds, RepoConfig
from bot.settings import Budget
from tests.scenarios import cachetools_plan as plan
from tests.scenarios.cachetools import (
    ADAPTIVE_MODEL,
    MODEL,
    cachetools_policy,
    make_repo,
    register,
    unregister,
)
from tests.scenarios.replay import conflicts_of, run_role, run_shell, task_body
from tests.support.git_repos import git

TASKS = {t["key"]: t for t in [*plan.main_plan()["tasks"], *plan.sub_plan()["tasks"]] if t.get("kind") != "subgoal"}
EVICT_RETURNS_PAIRS = "unsupported operand type(s) for +=: 'int' and 'list'"
CACHEINFO_REBOUND = "type object 'CacheInfo' has no attribute '_make_info'"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The vendored project as a git repository, `evict` merged on main (spill and trim build on it)."""
    repo = make_repo(tmp_path_factory.mktemp("base") / "cachetools")
    work(repo, "evict")
    return repo


@pytest.fixture
def repo(base: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "cachetools"
    shutil.copytree(base, copy)
    return copy


def work(repo: Path, key: str, role: str = "worker", **extra: Any) -> AgentResult:
    """Run `role` for task `key` on `repo`; commit what it changed (a merge in progress is concluded)."""
    result = run_role(cachetools_policy(), role, repo, TASKS[key], **extra)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", f"{role}: {key}")
    return result


def suite(repo: Path) -> tuple[bool, str]:
    done = run_shell(repo, plan.SUITE)
    return done.returncode == 0, done.stdout + done.stderr


def ci_output(output: str) -> list[dict[str, str]]:
    """The `failures` a CI-fix job would give: the failing check's log tail."""
    return [{"name": "ci", "output": f"`{plan.SUITE}` failed.\n\nLog tail:\n{output[-6000:]}"}]


def merge(repo: Path, branch: str) -> list[str]:
    """Merge `branch` into the checked-out branch as the conflict job does; the conflicted paths."""
    run_shell(repo, f"git -c user.name=t -c user.email=t@t merge --no-ff --no-edit {branch}")
    return git(repo, "diff", "--name-only", "--diff-filter=U").split()


# -- the plan ---------------------------------------------------------------------------------
def test_the_plans_pass_the_plan_checks() -> None:
    main = parse_plan(plan.main_plan(), Rules(bounds=PlannerBounds()))
    sub = parse_plan(plan.sub_plan(), Rules(bounds=PlannerBounds(), depth=1))

    tasks = [t for t in main.tasks if t.kind == "task"]
    subgoals = [t for t in main.tasks if t.kind == "subgoal"]
    assert len(tasks) >= 6 and [g.key for g in subgoals] == [plan.SUBGOAL]
    assert [t.key for t in sub.tasks] == list(plan.SUBGOAL_TASKS)
    graph = {t.key: set(t.depends_on) for t in main.tasks}
    assert ancestors(graph, "spill") == ancestors(graph, "trim") == {"evict"}  # X and Y run in parallel
    for task in [*tasks, *sub.tasks]:
        assert plan.CHANGELOG not in task.owned_paths and plan.INIT not in task.owned_paths


def test_the_planner_and_sub_planner_submit_the_scripted_plans(tmp_path: Path) -> None:
    checkout = make_repo(tmp_path / "cachetools")
    model = ScriptedModel(MODEL, cachetools_policy())
    goal = Issue(id=1, number=1, title=plan.GOAL_TITLE, body=plan.GOAL_BODY)
    request = PlanRequest(
        repo="you/cachetools", goal=goal, config=RepoConfig(), rules=Rules(bounds=PlannerBounds()), repo_map="(map)"
    )
    outcome = run_planner(model, checkout, request, Budget(max_steps=10))
    assert [t.key for t in outcome.plan.tasks] == [*plan.MAIN_TASKS, plan.SUBGOAL] and outcome.attempts == 1

    subgoal = Issue(id=9, number=9, title="Key functions for memoizing decorators", body=task_body(plan.subgoal()))
    sub_request = PlanRequest(
        repo="you/cachetools",
        goal=subgoal,
        config=RepoConfig(),
        parent=goal,
        rules=Rules(bounds=PlannerBounds(), depth=1),
        repo_map="(map)",
        owned_paths=plan.subgoal()["owned_paths"],
    )
    sub = run_planner(model, checkout, sub_request, Budget(max_steps=10))
    assert [t.key for t in sub.plan.tasks] == list(plan.SUBGOAL_TASKS)


@pytest.mark.parametrize(("states", "done"), [(["done", "closed as not planned"], True), (["done", "review"], False)])
def test_a_revision_adds_nothing_and_is_done_when_no_task_is_open(
    tmp_path: Path, states: list[str], done: bool
) -> None:
    goal = Issue(id=1, number=1, title=plan.GOAL_TITLE, body=plan.GOAL_BODY)
    lines = [
        f"`{key}` #{n} Add {key}() (task: {state}; owns src/cachetools/{key}.py)"
        for n, (key, state) in enumerate(zip(("evict", "trim"), states, strict=True), 2)
    ]
    request = PlanRequest(
        repo="you/cachetools",
        goal=goal,
        config=RepoConfig(),
        repo_map="(map)",
        open_tasks=lines,
        rules=Rules(bounds=PlannerBounds(), first=False),
    )
    outcome = run_planner(
        ScriptedModel(MODEL, cachetools_policy()), make_repo(tmp_path / "c"), request, Budget(max_steps=5)
    )
    assert outcome.plan.tasks == [] and outcome.plan.done is done


# -- each task alone ------------------------------------------------------------------------------
@pytest.mark.parametrize("key", sorted(set(TASKS) - {"evict", "size-info"}))
def test_each_task_alone_passes_its_acceptance_and_the_suite(repo: Path, key: str) -> None:
    result = work(repo, key)

    assert result.status == "finished", result.report.markdown()
    assert any("exit code 0" in note or "passed" in note for note in result.report.notes)
    ok, output = suite(repo)
    assert ok, output[-3000:]
    changelog = (repo / plan.CHANGELOG).read_text()
    assert changelog.startswith(f"{plan.UNRELEASED}\n===================\n\n- Add ``")
    assert changelog.count(plan.UNRELEASED) == 1
    init = (repo / plan.INIT).read_text()
    module, name = plan.MODULES[key]
    assert init.endswith(f"from .evict import evict\nfrom .{module} import {name}\n")
    assert f'    "evict",\n    "{name}",\n)\n' in init


def test_the_first_task_opens_the_unreleased_section(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "cachetools")
    upstream = (repo / plan.CHANGELOG).read_text()

    work(repo, "peek")

    entry = "- Add ``peek()`` to read a cached value without counting it as a use.\n"
    assert (repo / plan.CHANGELOG).read_text() == f"{plan.UNRELEASED}\n===================\n\n{entry}\n\n{upstream}"


# -- the task that is wrong at first --------------------------------------------------------------
def test_size_info_passes_its_acceptance_but_fails_the_suite_until_the_ci_fix(repo: Path) -> None:
    first = work(repo, "size-info")
    assert first.status == "finished", first.report.markdown()
    ok, output = suite(repo)
    assert not ok and CACHEINFO_REBOUND in output

    fix = work(repo, "size-info", role="ci_fix", failures=ci_output(output))

    assert fix.status == "finished", fix.report.markdown()
    assert "CacheInfo" in fix.report.summary
    ok, output = suite(repo)
    assert ok, output[-3000:]
    assert "from .sizeinfo import SizeInfo, size_info\n" in (repo / plan.INIT).read_text()


# -- two tasks green alone, red together ----------------------------------------------------------
@pytest.fixture(scope="module")
def x_and_y_base(base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`spill` (X) and `trim` (Y) each done on its own branch from main; both branches green alone."""
    repo = tmp_path_factory.mktemp("x-and-y") / "cachetools"
    shutil.copytree(base, repo)
    for key in ("spill", "trim"):
        git(repo, "checkout", "-q", "-b", key, "main")
        assert work(repo, key).status == "finished"
        ok, output = suite(repo)
        assert ok, f"{key} alone: {output[-2000:]}"
    git(repo, "checkout", "-q", "main")
    return repo


@pytest.fixture
def x_and_y(x_and_y_base: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "cachetools"
    shutil.copytree(x_and_y_base, copy)
    return copy


def land_then_merge(repo: Path, landed: str, branch: str) -> list[str]:
    git(repo, "merge", "-q", "--ff-only", landed)
    git(repo, "checkout", "-q", branch)
    return merge(repo, "main")


@pytest.mark.parametrize(("landed", "branch"), [("spill", "trim"), ("trim", "spill")])
def test_spill_and_trim_are_red_together_until_the_ci_fixer_adapts_trim(
    x_and_y: Path, landed: str, branch: str
) -> None:
    conflicted = land_then_merge(x_and_y, landed, branch)
    assert sorted(conflicted) == sorted([plan.CHANGELOG, plan.INIT])

    resolved = work(
        x_and_y, branch, role="conflict", conflicts=conflicts_of(x_and_y, conflicted), landed=[plan.TITLES[landed]]
    )

    assert resolved.status == "finished", resolved.report.markdown()
    init = (x_and_y / plan.INIT).read_text()
    assert "from .spill import spill\n" in init and "from .trim import trim\n" in init and "<<<<<<<" not in init
    assert "``spill()``" in (x_and_y / plan.CHANGELOG).read_text()
    ok, output = suite(x_and_y)
    assert not ok and EVICT_RETURNS_PAIRS in output
    if branch == "trim":  # trim's own acceptance fails after the merge, and its resolver says so
        assert any(EVICT_RETURNS_PAIRS in concern for concern in resolved.report.concerns)

    fixed = work(x_and_y, branch, role="ci_fix", failures=ci_output(output))

    assert fixed.status == "finished", fixed.report.markdown()
    ok, output = suite(x_and_y)
    assert ok, output[-3000:]
    assert "evicted += len(evict(cache))" in (x_and_y / "src/cachetools/trim.py").read_text()
    assert bool(fixed.report.deviations) is (branch == "spill")  # spill adapted a landed caller


def test_the_adaptive_resolver_adapts_trim_while_merging(x_and_y: Path) -> None:
    conflicted = land_then_merge(x_and_y, "spill", "trim")

    result = run_role(
        cachetools_policy(adapt_in_conflicts=True),
        "conflict",
        x_and_y,
        TASKS["trim"],
        conflicts=conflicts_of(x_and_y, conflicted),
    )

    assert result.status == "finished" and not result.report.concerns, result.report.markdown()
    git(x_and_y, "commit", "-q", "-a", "--no-edit")
    ok, output = suite(x_and_y)
    assert ok, output[-3000:]


def test_parallel_tasks_keep_each_others_lines_in_the_shared_spots(repo: Path) -> None:
    for key in ("peek", "warm"):
        git(repo, "checkout", "-q", "-b", key, "main")
        work(repo, key)
    git(repo, "checkout", "-q", "main")
    conflicted = land_then_merge(repo, "peek", "warm")

    work(repo, "warm", role="conflict", conflicts=conflicts_of(repo, conflicted))

    changelog = (repo / plan.CHANGELOG).read_text()
    assert changelog.startswith(f"{plan.UNRELEASED}\n===================\n\n- Add ``peek()``")
    assert changelog.index("``warm()``") < changelog.index("``evict()``")
    init = (repo / plan.INIT).read_text()
    assert init.endswith("from .evict import evict\nfrom .peek import peek\nfrom .warm import warm\n")
    assert '    "evict",\n    "peek",\n    "warm",\n)\n' in init
    ok, output = suite(repo)
    assert ok, output[-3000:]


# -- what the script does not know ----------------------------------------------------------------
def test_an_unknown_task_or_failure_ends_blocked(repo: Path) -> None:
    unknown = {**TASKS["peek"], "key": "rewrite-everything", "title": "Rewrite everything"}
    worker = run_role(cachetools_policy(), "worker", repo, unknown)
    assert worker.status == "blocked" and "rewrite-everything" in worker.report.summary

    (repo / "tests" / "test_broken.py").write_text("def test_broken():\n    assert 1 == 2\n")
    fixer = run_role(cachetools_policy(), "ci_fix", repo, TASKS["peek"], failures=ci_output("1 failed"))
    assert fixer.status == "blocked" and "test_broken" in "\n".join(fixer.report.concerns)


def test_register_makes_both_model_specs_known() -> None:
    register()
    try:
        for spec in (MODEL, ADAPTIVE_MODEL):
            model = scripted_model(spec)
            first = model.complete(
                [Message(role="system", content="planner"), Message(role="user", content="Plan goal #1")],
                [ToolSpec(name="submit_plan", description="", parameters={})],
            )
            assert [c.name for c in first.tool_calls] == ["list_files"]
    finally:
        unregister()
    with pytest.raises(ConfigError):
        scripted_model(MODEL)
