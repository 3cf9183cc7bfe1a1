"""Prompts: every role's template renders with exactly its documented variables, a missing one is an
error naming it, a repo override replaces the file, and the rendered text states the policies."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import ConfigError
from bot.prompting import (
    ROLES,
    builtin_template,
    documented_variables,
    policy_context,
    render_prompt,
    template_variables,
)
from bot.repoconfig import RepoConfig

COMMON = policy_context(
    RepoConfig(protected_paths=[".github/workflows/**", "secrets/"]),
    "- run `make gen` before tests\n",
    repo="acme/shop",
)
PLANNING = {
    "goal_number": 7,
    "goal_title": "Add a checkout",
    "goal_body": "Customers can pay.",
    "guidance": "Keep the cart API stable.",
    "repo_map": "shop/cart.py (120 lines): Cart",
    "open_tasks": ["#8 Cart totals (review)"],
    "handoffs": ["Did the totals; rounding is banker's."],
    "min_tasks": 5,
    "max_tasks": 20,
    "depth": 0,
    "max_depth": 2,
}
TASK = {
    "task_number": 8,
    "task_title": "Cart totals",
    "task_body": "Compute totals in shop/cart.py.",
    "acceptance": ["python -m pytest -q tests/test_cart.py"],
}
SAMPLES: dict[str, dict[str, Any]] = {
    "planner": {**COMMON, **PLANNING},
    "subplanner": {
        **COMMON,
        **PLANNING,
        "parent_number": 3,
        "parent_title": "Shop v2",
        "owned_paths": ["shop/checkout/"],
    },
    "worker": {**COMMON, **TASK, "owned_paths": ["shop/cart.py"], "test_command": "make test"},
    "conflict": {
        **COMMON,
        **TASK,
        "pr_number": 12,
        "base_branch": "main",
        "landed": ["#9 Rename Cart.total to Cart.subtotal: callers use subtotal"],
        "conflicts": [{"path": "shop/cart.py", "hunks": "<<<<<<< HEAD\na\n=======\nb\n>>>>>>> main"}],
    },
    "ci_fix": {
        **COMMON,
        **TASK,
        "pr_number": 12,
        "attempt": 2,
        "max_attempts": 3,
        "failures": [{"name": "tests", "output": "FAILED test_cart.py::test_total"}],
        "instructions": "Look at rounding.",
        "base_branch": "main",
        "combined": True,
        "landed": ["Merge queue: #9 into main\n\n#9 Round totals to cents"],
        "diffstat": " shop/cart.py | 4 ++--",
    },
    "review": {
        **COMMON,
        **TASK,
        "pr_number": 12,
        "review_comments": [{"author": "ana", "path": "shop/cart.py", "line": 4, "body": "Use Decimal."}],
    },
}


def context_for(role: str) -> dict[str, Any]:
    return {name: SAMPLES[role][name] for name in documented_variables(role)}


@pytest.mark.parametrize("role", ROLES)
def test_documented_variables_are_exactly_the_used_ones(role: str) -> None:
    documented = set(documented_variables(role))
    assert documented, f"prompts/{role}.md documents no variables"
    assert documented == template_variables(builtin_template(role))


@pytest.mark.parametrize("role", ROLES)
def test_every_prompt_renders_with_its_documented_variables(role: str) -> None:
    text = render_prompt(role, context_for(role))
    assert "{{" not in text and "{%" not in text and "{#" not in text
    assert "run `make gen` before tests" in text  # the shared notes reach every role
    assert "acme/shop" in text


@pytest.mark.parametrize("role", ROLES)
def test_a_missing_variable_is_an_error_naming_it(role: str) -> None:
    for name in documented_variables(role):
        context = context_for(role)
        del context[name]
        with pytest.raises(ConfigError) as caught:
            render_prompt(role, context)
        assert f"'{name}' is undefined" in str(caught.value), name
        assert f"prompts/{role}.md" in str(caught.value)


def test_an_override_replaces_the_file() -> None:
    override = "Custom worker for {{ repo }} on #{{ task_number }}. {{ missing_thing }}"
    with pytest.raises(ConfigError, match=r"\.github/orchestra/prompts/worker\.md: .*'missing_thing' is undefined"):
        render_prompt("worker", context_for("worker"), {"worker": override})
    text = render_prompt(
        "worker", context_for("worker"), {"worker": "Custom worker for {{ repo }} on #{{ task_number }}."}
    )
    assert text == "Custom worker for acme/shop on #8.\n"
    assert "Definition of done" in render_prompt("worker", context_for("worker"), {"planner": "other role"})


def test_override_syntax_errors_name_the_file_and_line() -> None:
    with pytest.raises(ConfigError, match=r"\.github/orchestra/prompts/review\.md:2: template error"):
        render_prompt("review", {}, {"review": "fine\n{% if %}"})


def test_unknown_role_is_refused() -> None:
    with pytest.raises(ConfigError, match="no prompt for role 'poet'"):
        render_prompt("poet", {})


def test_prompts_state_numbers_policies_and_constraints() -> None:
    planner = render_prompt("planner", context_for("planner"))
    assert "Write 5–20 tasks" in planner
    assert "never write code" in planner and "megafile" in planner.lower() and "sub-goal" in planner
    assert "NOT allowed" in planner and "`.github/workflows/**`, `secrets/`" in planner
    worker = render_prompt("worker", context_for("worker"))
    assert "No TODOs, no partial implementations, no placeholder code" in worker
    assert "solely responsible" in worker and "`python -m pytest -q tests/test_cart.py`" in worker
    assert "killed after 300 s" in worker and "`shop/cart.py`" in worker
    for field in ("summary", "notes", "concerns", "deviations", "findings", "feedback"):
        assert f"`{field}`" in worker
    conflict = render_prompt("conflict", context_for("conflict"))
    assert "Compute totals in shop/cart.py." in conflict and "Rename Cart.total" in conflict
    assert "Both intents survive" in conflict and "<<<<<<< HEAD" in conflict
    allowed = render_prompt("worker", {**context_for("worker"), "allow_new_dependencies": True})
    assert "New third-party dependencies: allowed" in allowed
