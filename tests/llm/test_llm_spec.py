"""Model specs parse into provider, model and base URL (errors name the spec and the allowed
forms); the factory builds the right model, asks for missing keys by name, and picks the
spec for a role: a flag, then the environment, then the repo's `.github/orchestra.yml`, then the default."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError, Source
from bot.llm.factory import ResolvedSpec, make_model, model_for_role, resolve_spec, spec_for_role
from bot.llm.scripted import ScriptedModel, register_script, turns, unregister_script
from bot.llm.spec import ModelSpec, parse_spec
from bot.llm.types import Reply
from bot.repoconfig import parse_repo_config
from bot.settings import Settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("anthropic:claude-sonnet-4-5", ModelSpec("anthropic", "claude-sonnet-4-5")),
        ("openai:gpt-5.2", ModelSpec("openai", "gpt-5.2")),
        ("openai-responses:gpt-5.2", ModelSpec("openai-responses", "gpt-5.2")),
        (
            "openai-compatible:qwen2.5-coder@http://host:8000/v1",
            ModelSpec("openai-compatible", "qwen2.5-coder", "http://host:8000/v1"),
        ),
        (
            "openai-compatible:qwen2.5-coder:7b@http://127.0.0.1:11434/v1/",
            ModelSpec("openai-compatible", "qwen2.5-coder:7b", "http://127.0.0.1:11434/v1"),
        ),
        (
            "anthropic:claude-haiku-4-5@https://proxy.example/anthropic",
            ModelSpec("anthropic", "claude-haiku-4-5", "https://proxy.example/anthropic"),
        ),
        ("scripted:demo", ModelSpec("scripted", "demo")),
    ],
)
def test_parse_valid_specs(text: str, expected: ModelSpec) -> None:
    parsed = parse_spec(text)
    assert parsed == expected
    assert parse_spec(str(parsed)) == parsed


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("gpt-5.2", "missing '<provider>:'"),
        ("azure:gpt-5.2", "unknown provider 'azure'"),
        ("openai:", "missing model name"),
        ("openai-compatible:qwen@host:8000/v1", "must start with http:// or https://"),
        ("scripted:demo@http://x", "takes no base URL"),
    ],
)
def test_parse_errors_name_the_spec_and_allowed_forms(text: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_spec(text)
    message = str(caught.value)
    assert repr(text) in message and why in message
    assert "openai-compatible:<model>@<base URL>" in message and "scripted:<name>" in message


def test_unknown_scripted_name_lists_known_ones() -> None:
    register_script("spec-test-known", turns([Reply(text="hi")]))
    try:
        with pytest.raises(ConfigError, match="no such scripted model; known: .*scripted:spec-test-known"):
            make_model("scripted:spec-test-missing")
        model = make_model("scripted:spec-test-known")
        assert isinstance(model, ScriptedModel) and model.complete([], []).text == "hi"
    finally:
        unregister_script("spec-test-known")


@pytest.mark.parametrize(
    ("spec", "variable"), [("openai:gpt-5.2", "OPENAI_API_KEY"), ("anthropic:claude-haiku-4-5", "ANTHROPIC_API_KEY")]
)
def test_missing_key_is_a_config_error_naming_the_variable(spec: str, variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        make_model(spec, env={})


def test_openai_compatible_needs_a_base_url() -> None:
    with pytest.raises(ConfigError, match="needs a base URL"):
        make_model("openai-compatible:llama3", env={})


def test_spec_for_role_flag_beats_environment_beats_file_beats_default() -> None:
    repo = parse_repo_config(
        "models:\n  worker: openai-compatible:qwen2.5-coder@http://gpu:8000/v1\n  planner: anthropic:claude-file\n"
    )
    # Nothing given to the run: the repository's file wins over the default (and over ORCHESTRA_DEFAULT_MODEL).
    for env in ({}, {"ORCHESTRA_DEFAULT_MODEL": "openai:gpt-server-default"}):
        settings = Settings.from_env(env)
        assert spec_for_role("worker", settings, repo) == "openai-compatible:qwen2.5-coder@http://gpu:8000/v1"
        assert resolve_spec("worker", settings, repo).source == Source("file", "models.worker")
    assert spec_for_role("review", Settings.from_env({}), repo) == "scripted:demo"
    server = Settings.from_env({"ORCHESTRA_DEFAULT_MODEL": "openai:gpt-server-default"})
    assert resolve_spec("review", server, repo) == ResolvedSpec(
        "review", "openai:gpt-server-default", Source("env", "ORCHESTRA_DEFAULT_MODEL")
    )
    # The environment wins over the file: ORCHESTRA_MODEL_<ROLE>, then ORCHESTRA_MODEL.
    settings = Settings.from_env(
        {"ORCHESTRA_MODEL": "openai:gpt-5-mini", "ORCHESTRA_MODEL_PLANNER": "anthropic:claude-opus-4-5"}
    )
    assert spec_for_role("planner", settings, repo) == "anthropic:claude-opus-4-5"
    assert spec_for_role("worker", settings, repo) == "openai:gpt-5-mini"
    assert resolve_spec("worker", settings, repo).source == Source("env", "ORCHESTRA_MODEL")
    # A flag wins over the environment: --model for every role, --planner-model for the planner.
    flagged = settings.model_copy(update={"models": settings.models.with_flags("openai:gpt-flag", "openai:gpt-plan")})
    assert resolve_spec("worker", flagged, repo) == ResolvedSpec("worker", "openai:gpt-flag", Source("flag", "--model"))
    assert resolve_spec("planner", flagged, repo).source == Source("flag", "--planner-model")


def test_a_bad_spec_or_missing_key_names_where_it_came_from() -> None:
    """The recovery text points at the real cause: the flag, the variable, or the file."""
    repo = parse_repo_config("models:\n  worker: antropic:claude-typo\n")
    with pytest.raises(ConfigError) as from_file:
        model_for_role("worker", Settings.from_env({}), repo, env={})
    assert "Fix `models.worker` in `.github/orchestra.yml` on the default branch" in from_file.value.comment()
    with pytest.raises(ConfigError) as from_env:
        model_for_role("worker", Settings.from_env({"ORCHESTRA_MODEL_WORKER": "openai:gpt-5.2"}), repo, env={})
    assert "set OPENAI_API_KEY" in str(from_env.value)
    assert "Fix the environment variable `OPENAI_API_KEY`" in from_env.value.comment()
    flagged = Settings().model_copy(update={"models": Settings().models.with_flags("nope", None)})
    with pytest.raises(ConfigError) as from_flag:
        model_for_role("worker", flagged, repo, env={})
    assert "Run the command again with a corrected `--model`" in from_flag.value.comment()
    assert "on the default branch" not in from_flag.value.comment()
