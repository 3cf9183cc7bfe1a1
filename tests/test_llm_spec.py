"""Model specs parse into provider, model and base URL (errors name the spec and the allowed
forms); the factory builds the right model, asks for missing keys by name, and picks the
spec for a role from Settings with the repo's `.github/orchestra.yml` override."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError
from bot.llm.factory import make_model, spec_for_role
from bot.llm.scripted import ScriptedModel, register_script, turns, unregister_script
from bot.llm.spec import ModelSpec, parse_spec
from bot.llm.types import Reply
from bot.repoconfig import parse_repo_config
from bot.settings import Settings


@pytest.mark.parametrize(("text", "expected"), [
    ("anthropic:claude-sonnet-4-5", ModelSpec("anthropic", "claude-sonnet-4-5")),
    ("openai:gpt-5.2", ModelSpec("openai", "gpt-5.2")),
    ("openai-responses:gpt-5.2", ModelSpec("openai-responses", "gpt-5.2")),
    ("openai-compatible:qwen2.5-coder@http://host:8000/v1",
     ModelSpec("openai-compatible", "qwen2.5-coder", "http://host:8000/v1")),
    ("openai-compatible:qwen2.5-coder:7b@http://127.0.0.1:11434/v1/",
     ModelSpec("openai-compatible", "qwen2.5-coder:7b", "http://127.0.0.1:11434/v1")),
    ("anthropic:claude-haiku-4-5@https://proxy.example/anthropic",
     ModelSpec("anthropic", "claude-haiku-4-5", "https://proxy.example/anthropic")),
    ("scripted:demo", ModelSpec("scripted", "demo")),
])
def test_parse_valid_specs(text: str, expected: ModelSpec) -> None:
    parsed = parse_spec(text)
    assert parsed == expected
    assert parse_spec(str(parsed)) == parsed


@pytest.mark.parametrize(("text", "why"), [
    ("gpt-5.2", "missing '<provider>:'"),
    ("azure:gpt-5.2", "unknown provider 'azure'"),
    ("openai:", "missing model name"),
    ("openai-compatible:qwen@host:8000/v1", "must start with http:// or https://"),
    ("scripted:demo@http://x", "takes no base URL"),
])
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


@pytest.mark.parametrize(("spec", "variable"), [
    ("openai:gpt-5.2", "OPENAI_API_KEY"), ("anthropic:claude-haiku-4-5", "ANTHROPIC_API_KEY")])
def test_missing_key_is_a_config_error_naming_the_variable(spec: str, variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        make_model(spec, env={})


def test_openai_compatible_needs_a_base_url() -> None:
    with pytest.raises(ConfigError, match="needs a base URL"):
        make_model("openai-compatible:llama3", env={})


def test_spec_for_role_prefers_the_repo_override() -> None:
    settings = Settings.from_env({"ORCHESTRA_MODEL": "openai:gpt-5-mini",
                                  "ORCHESTRA_MODEL_PLANNER": "anthropic:claude-opus-4-5"})
    repo = parse_repo_config("models:\n  worker: openai-compatible:qwen2.5-coder@http://gpu:8000/v1\n")
    assert spec_for_role("planner", settings) == "anthropic:claude-opus-4-5"
    assert spec_for_role("worker", settings) == "openai:gpt-5-mini"
    assert spec_for_role("worker", settings, repo) == "openai-compatible:qwen2.5-coder@http://gpu:8000/v1"
    assert spec_for_role("review", settings, repo) == "openai:gpt-5-mini"
