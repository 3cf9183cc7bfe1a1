"""The plan checks beyond the schema: task-count bounds, unique and known keys, cycles, owned-path
overlap without an order, sub-goal depth, obsolete tasks and their dependants, busy tasks kept."""

from __future__ import annotations

import pytest

from bot.planner.plan_schema import (
    Existing,
    Plan,
    PlanError,
    Rules,
    check_plan,
    parse_plan,
    paths_overlap,
    topological,
)
from bot.repoconfig import PlannerBounds
from tests.support.planner_bed import task

RULES = Rules(bounds=PlannerBounds(min_tasks=2, max_tasks=4, max_depth=1))


def problems(tasks: list[dict], rules: Rules = RULES, **extra: object) -> list[str]:
    return check_plan(Plan.model_validate({"tasks": tasks, **extra}), rules)


def test_a_good_plan_passes_and_is_ordered_by_dependencies() -> None:
    tasks = [task("api", "Api", ["api.py"], ["model"]), task("model", "Model", ["model.py"])]
    plan = parse_plan({"tasks": tasks}, RULES)
    assert [t.key for t in topological(plan.tasks)] == ["model", "api"]


def test_task_count_bounds_apply_and_the_minimum_only_to_a_first_plan() -> None:
    assert problems([task("a", "Aaa", ["a"])]) == ["the plan has 1 tasks; at least 2 are required"]
    five = [task(f"t{i}", f"Task {i}", [f"f{i}"]) for i in range(5)]
    assert problems(five) == ["the plan has 5 tasks; at most 4 are allowed"]
    assert problems([], Rules(bounds=RULES.bounds, first=False)) == []


def test_keys_must_be_unique_new_and_known() -> None:
    found = problems([task("a", "Aaa", ["a"]), task("a", "Bbb", ["b"], ["zzz"])])
    assert "key 'a' is used by two tasks; keys must be unique" in found
    assert "task 'a' depends on unknown key 'zzz'" in found
    rules = Rules(bounds=RULES.bounds, first=False, existing={"a": Existing("a", open=True)})
    assert "key 'a' is already used by a task of this goal; choose a new key" in problems(
        [task("a", "Aaa", ["x"])], rules
    )


def test_a_cycle_is_named() -> None:
    found = problems([task("a", "Aaa", ["a"], ["c"]), task("b", "Bbb", ["b"], ["a"]), task("c", "Ccc", ["c"], ["b"])])
    assert found == ["dependencies form a cycle: a -> c -> b -> a"]


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        ("shop/", "shop/cart.py", True),
        ("shop/cart.py", "shop/cart.py", True),
        ("shop/*.py", "shop/cart.py", True),
        ("shop/cart.py", "shop/carts.py", False),
        ("docs/", "shop/", False),
        ("./shop", "shop/x", True),
    ],
)
def test_paths_overlap(first: str, second: str, overlap: bool) -> None:
    assert paths_overlap(first, second) is overlap


def test_tasks_owning_the_same_path_must_be_ordered_even_transitively() -> None:
    found = problems([task("a", "Aaa", ["shop/"]), task("b", "Bbb", ["shop/cart.py"])])
    assert found == [
        "tasks 'a' and 'b' both own 'shop/'/'shop/cart.py' but neither depends on the other: "
        "add a dependency so they run one after the other, or split the paths"
    ]
    ordered = [task("a", "Aaa", ["shop/"]), task("m", "Mmm", ["m.py"], ["a"]), task("b", "Bbb", ["shop/x.py"], ["m"])]
    assert problems(ordered) == []
    rules = Rules(bounds=RULES.bounds, first=False, existing={"old": Existing("old", True, ("shop/",))})
    assert "both own" in problems([task("n", "Nnn", ["shop/a.py"])], rules)[0]
    assert problems([task("n", "Nnn", ["shop/a.py"], ["old"])], rules) == []


def test_sub_goals_only_above_the_depth_limit() -> None:
    tasks = [task("a", "Aaa", ["a"]), task("area", "Area", ["area/"], kind="subgoal")]
    assert problems(tasks) == []
    deep = problems(tasks, Rules(bounds=RULES.bounds, depth=1))
    assert deep == [
        "task 'area' is a subgoal, but this goal is at depth 1 and sub-goals may nest only to depth 1: "
        "plan tasks instead"
    ]


def test_obsolete_tasks_take_their_dependants_and_busy_tasks_stay() -> None:
    existing = {
        "a": Existing("a", True),
        "b": Existing("b", True, depends_on=("a",)),
        "w": Existing("w", True, busy=True),
        "gone": Existing("gone", False),
    }
    rules = Rules(bounds=RULES.bounds, first=False, existing=existing)
    found = problems(
        [], rules, obsolete=[{"key": "a", "reason": "r"}, {"key": "w", "reason": "r"}, {"key": "gone", "reason": "r"}]
    )
    assert "obsolete key 'gone' is not an open task of this goal" in found
    assert "task 'w' is being worked on (or in review) and is kept; do not close it" in found
    assert "open task 'b' depends on 'a', which you close as obsolete: close 'b' too, or keep 'a'" in found
    assert problems([], rules, obsolete=[{"key": "a", "reason": "r"}, {"key": "b", "reason": "r"}]) == []


def test_schema_errors_name_the_field() -> None:
    with pytest.raises(PlanError, match=r"tasks\.0\.key: String should match pattern"):
        parse_plan({"tasks": [task("Bad Key", "Aaa", ["a"])]}, RULES)
    with pytest.raises(PlanError, match="done but adds tasks"):
        parse_plan({"tasks": [task("a", "Aaa", ["a"])], "done": True}, Rules(bounds=RULES.bounds, first=False))
