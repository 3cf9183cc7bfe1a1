"""`.github/orchestra.yml`: every bad value names the file, the key, the value and what is allowed."""

import pytest
import yaml

from bot.errors import ConfigError
from bot.repoconfig import RepoConfig, parse_repo_config

P = ".github/orchestra.yml"


def message(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_repo_config(text, P)
    return str(info.value)


def test_empty_file_gives_the_defaults() -> None:
    config = parse_repo_config("", P)
    assert config == RepoConfig()
    assert config.merge.policy == "review"
    assert config.label("task") == "orchestra:task"
    assert config.notes_file == ".orchestra/NOTES.md"


def test_a_full_valid_file() -> None:
    config = parse_repo_config(
        """
label_prefix: bots
models: {planner: "anthropic:claude-opus-4-5", worker: "openai:gpt-5.2-mini"}
max_parallel_tasks: 12
setup_commands: ["pip install -e ."]
test_command: pytest -q
merge: {policy: auto, method: merge, required_approvals: 1}
max_ci_fix_attempts: 5
budgets: {task: {tokens: 1000, usd: 0.5}}
protected_paths: ["secrets/**"]
planner: {min_tasks: 5, max_tasks: 20, max_depth: 1}
agent: {allow_new_dependencies: true}
notes_file: docs/NOTES.md
""",
        P,
    )
    assert config.label("ready") == "bots:ready"
    assert config.models.for_role("planner") == "anthropic:claude-opus-4-5"
    assert config.models.for_role("review") is None
    assert config.merge.policy == "auto" and config.merge.required_approvals == 1
    assert config.budgets.task.usd == 0.5 and config.budgets.goal.usd is None
    assert config.planner.max_tasks == 20


def test_unknown_top_level_key() -> None:
    assert message("bogus: 1\n") == (
        f"{P}:bogus: unknown key; allowed keys here: label_prefix, models, max_parallel_tasks, "
        "setup_commands, test_command, merge, max_ci_fix_attempts, max_conflict_attempts, budgets, "
        "protected_paths, planner, agent, notes_file, steering, planning"
    )


def test_unknown_nested_key() -> None:
    assert message("merge: {polcy: auto}\n") == (
        f"{P}:merge.polcy: unknown key; allowed keys here: policy, method, required_approvals, delete_branch, "
        "queue, max_batch, batch_wait_seconds, batch_timeout_minutes, union_paths"
    )


def test_bad_choice() -> None:
    assert message("merge: {policy: yolo}\n") == f"{P}:merge.policy: 'yolo' is not allowed; expected 'auto' or 'review'"


def test_out_of_range_number() -> None:
    assert message("max_parallel_tasks: 0\n") == f"{P}:max_parallel_tasks: 0 is out of range; expected a number >= 1"


def test_wrong_type() -> None:
    assert message("max_ci_fix_attempts: lots\n") == (
        f"{P}:max_ci_fix_attempts: 'lots' is not allowed; input should be a valid integer, "
        "unable to parse string as an integer"
    )


def test_inconsistent_bounds() -> None:
    assert message("planner: {min_tasks: 9, max_tasks: 3}\n") == (
        f"{P}:planner: min_tasks (9) is greater than max_tasks (3)"
    )


def test_several_problems_are_all_reported() -> None:
    lines = message("merge: {policy: yolo}\nmax_parallel_tasks: 0\n").splitlines()
    assert len(lines) == 2


def test_not_yaml_and_not_a_mapping() -> None:
    assert message("merge: [unclosed\n").startswith(f"{P}:line ")
    assert message("- a\n- b\n") == f"{P}: the top level must be a mapping of keys, got list"


@pytest.mark.parametrize(
    "value",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "docs/../../secrets.txt",
        "docs/..",
        "..\\..\\etc\\passwd",
        "docs\\NOTES.md",
        "C:/Windows/win.ini",
        "docs//NOTES.md",
        "./NOTES.md",
        "docs/",
        "%2e%2e/%2e%2e/x",
        "",
        "notes\x00.md",
        "docs/\nNOTES.md",
    ],
)
def test_notes_file_must_be_a_plain_path_inside_the_repository(value: str) -> None:
    text = message(yaml.safe_dump({"notes_file": value}))
    assert text.startswith(f"{P}:notes_file: {value!r} is not a path inside the repository")


@pytest.mark.parametrize("value", ["NOTES.md", "docs/NOTES.md", ".orchestra/NOTES.md", "docs/team notes/v2.md"])
def test_notes_file_accepts_repository_paths(value: str) -> None:
    assert parse_repo_config(yaml.safe_dump({"notes_file": value}), P).notes_file == value


# -- bounded input: a few hundred bytes must not become megabytes of error or memory -------------
def _alias_bomb(levels: int) -> str:
    """Nine aliases per level: `levels` levels expand to 9**(levels + 1) strings (324 bytes → 43 million)."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghijklmnop"
    for level in range(1, levels + 1):
        lines.append(f"{names[level]}: &{names[level]} [" + ",".join([f"*{names[level - 1]}"] * 9) + "]")
    lines.append(f"label_prefix: *{names[levels]}")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_in_one_line_without_expanding_it() -> None:
    import resource

    bomb = _alias_bomb(7)
    assert len(bomb) < 400
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    text = message(bomb)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert text == (
        f"{P}: its YAML aliases expand to more than 10,000 values; write the values out instead of repeating aliases"
    )
    assert grown_mb < 50  # before the bound: a 312 MB message and 923 MB of memory


def test_aliases_within_the_bound_and_recursive_ones() -> None:
    config = parse_repo_config("protected_paths: &paths [a/**, b/**]\nsetup_commands: *paths\n", P)
    assert config.setup_commands == ["a/**", "b/**"] == config.protected_paths
    assert "expand to more than" in message("a: &a [*a]\n")


def test_a_config_file_over_the_size_limit_is_refused_before_parsing() -> None:
    text = "# " + "x" * (64 * 1024) + "\n"
    assert message(text) == f"{P}: {len(text):,} bytes; a config file may have at most 65,536"


def test_errors_are_bounded_in_number_and_length() -> None:
    text = "protected_paths: [" + ", ".join(str(n) for n in range(50)) + "]\nlabel_prefix: '" + "z" * 5000 + "'\n"
    lines = message(text).splitlines()
    assert len(lines) == 11 and lines[-1] == f"{P}: … and 41 more problems"
    assert max(len(line) for line in lines) < 200


def test_steering_permission_is_a_config_key() -> None:
    assert parse_repo_config("steering: {permission: maintain}\n", P).steering.permission == "maintain"
    assert RepoConfig().steering.permission == "write"
    assert "'triage' is not allowed" in message("steering: {permission: triage}\n")
