"""Build a `ChatModel` from a spec, and choose the spec for a role from Settings and RepoConfig."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.errors import ConfigError, Source
from bot.llm.pricing import COMPATIBLE_CONTEXT_WINDOW, PRICES_ENV, PriceTable, load_prices
from bot.llm.retry import RetryPolicy
from bot.llm.scripted import PolicyFactory, scripted_model
from bot.llm.spec import ModelSpec, parse_spec
from bot.llm.types import ChatModel
from bot.repoconfig import RepoConfig
from bot.settings import Role, Settings

if TYPE_CHECKING:  # the SDKs and their providers load when a provider model is built (seconds of imports)
    import anthropic
    import openai

    from bot.llm.anthropic_provider import AnthropicModel
    from bot.llm.openai_provider import OpenAIChatModel
    from bot.llm.openai_responses import OpenAIResponsesModel

#: Sent to OpenAI-compatible servers that need no key (the SDK refuses to run without one).
PLACEHOLDER_KEY = "not-needed"
#: The key for OpenAI-compatible servers that want one (a LiteLLM master key, a vLLM --api-key).
COMPATIBLE_KEY_ENV = "ORCHESTRA_COMPATIBLE_API_KEY"
DEFAULT_TIMEOUT_S = 600.0
DEFAULT_MAX_RETRY_S = 120.0


def make_model(
    spec: str,
    *,
    env: Mapping[str, str] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_retry_s: float = DEFAULT_MAX_RETRY_S,
    retry: RetryPolicy | None = None,
    prices: PriceTable | None = None,
    stream: bool = False,
    scripts: Mapping[str, PolicyFactory] | None = None,
) -> ChatModel:
    """The model a spec names. Keys and base URLs come from `env` (default: the process
    environment, read now) the way the SDKs read them; `timeout_s` bounds one attempt,
    `max_retry_s` all attempts (or pass a full `retry` policy); `prices` defaults to the
    shipped table layered with the file named by ``ORCHESTRA_PRICES`` in `env`; `scripts` are the
    scripted models the caller offers (``scripted:<name>``)."""
    parsed = parse_spec(spec)
    if parsed.provider == "scripted":
        return scripted_model(str(parsed), scripts)
    environ = os.environ if env is None else env
    table = prices if prices is not None else load_prices(environ.get(PRICES_ENV))
    policy = retry or RetryPolicy(max_retry_s=max_retry_s)
    if parsed.provider == "anthropic":
        return _anthropic(parsed, environ, table, policy, timeout_s, stream)
    return _openai(parsed, environ, table, policy, timeout_s, stream)


def _require(environ: Mapping[str, str], name: str, spec: ModelSpec) -> str:
    value = environ.get(name)
    if not value:
        raise ConfigError(
            f"model {spec}: set {name} (the provider's API key) in the environment", source=Source("env", name)
        )
    return value


def _compatible_key(spec: ModelSpec, environ: Mapping[str, str]) -> str:
    """The key for an OpenAI-compatible server. OpenAI's own key goes only where the user pointed
    the SDK (``OPENAI_BASE_URL``), never to a host named in a spec."""
    own = environ.get(COMPATIBLE_KEY_ENV)
    if own:
        return own
    if spec.base_url is None and environ.get("OPENAI_API_KEY"):
        return environ["OPENAI_API_KEY"]
    return PLACEHOLDER_KEY


def openai_client(spec: ModelSpec, environ: Mapping[str, str], timeout_s: float) -> tuple[openai.OpenAI, str]:
    """The OpenAI SDK client for an `openai`, `openai-responses` or `openai-compatible` spec, and its key."""
    compatible = spec.provider == "openai-compatible"
    base_url = spec.base_url or environ.get("OPENAI_BASE_URL") or None
    if compatible:
        if not base_url:
            raise ConfigError(
                f"model {spec}: an openai-compatible model needs a base URL: "
                "openai-compatible:<model>@http://host:port/v1 (or set OPENAI_BASE_URL)"
            )
        key = _compatible_key(spec, environ)
    else:
        key = _require(environ, "OPENAI_API_KEY", spec)
    import openai

    return openai.OpenAI(api_key=key, base_url=base_url, timeout=timeout_s, max_retries=0), key


def anthropic_client(spec: ModelSpec, environ: Mapping[str, str], timeout_s: float) -> tuple[anthropic.Anthropic, str]:
    """The Anthropic SDK client for an `anthropic` spec, and its key."""
    key = _require(environ, "ANTHROPIC_API_KEY", spec)
    base_url = spec.base_url or environ.get("ANTHROPIC_BASE_URL") or None
    import anthropic

    return anthropic.Anthropic(api_key=key, base_url=base_url, timeout=timeout_s, max_retries=0), key


def _openai(
    spec: ModelSpec,
    environ: Mapping[str, str],
    prices: PriceTable,
    policy: RetryPolicy,
    timeout_s: float,
    stream: bool,
) -> OpenAIChatModel | OpenAIResponsesModel:
    from bot.llm.openai_provider import OpenAIChatModel
    from bot.llm.openai_responses import OpenAIResponsesModel

    compatible = spec.provider == "openai-compatible"
    client, key = openai_client(spec, environ, timeout_s)
    if spec.provider == "openai-responses":
        return OpenAIResponsesModel(
            str(spec),
            spec.model,
            client,
            prices=prices,
            policy=policy,
            context_window=prices.context_window(spec.model),
            stream=stream,
            secrets=(key,),
        )
    default_window = COMPATIBLE_CONTEXT_WINDOW if compatible else prices.context_window(spec.model)
    return OpenAIChatModel(
        str(spec),
        spec.model,
        client,
        prices=prices,
        policy=policy,
        context_window=prices.context_window(spec.model, default_window),
        stream=stream,
        compatible=compatible,
        secrets=(key,),
    )


def _anthropic(
    spec: ModelSpec,
    environ: Mapping[str, str],
    prices: PriceTable,
    policy: RetryPolicy,
    timeout_s: float,
    stream: bool,
) -> AnthropicModel:
    from bot.llm.anthropic_provider import AnthropicModel

    client, key = anthropic_client(spec, environ, timeout_s)
    return AnthropicModel(
        str(spec),
        spec.model,
        client,
        prices=prices,
        policy=policy,
        context_window=prices.context_window(spec.model),
        stream=stream,
        secrets=(key,),
    )


@dataclass(frozen=True)
class ResolvedSpec:
    """The spec one role uses and where it came from."""

    role: str
    spec: str
    source: Source


def resolve_spec(role: Role | str, settings: Settings, repo_config: RepoConfig | None = None) -> ResolvedSpec:
    """Which spec wins for `role`, highest first: a command-line flag (`--model`, `--planner-model`),
    an environment variable (ORCHESTRA_MODEL_<ROLE>, then ORCHESTRA_MODEL), the repository's
    `.github/orchestra.yml` `models:` entry, ORCHESTRA_DEFAULT_MODEL, the built-in default."""
    role = Role(role)
    models = settings.models
    if not models.is_given(role) and repo_config is not None:
        override = repo_config.models.for_role(role)
        if override:
            return ResolvedSpec(role.value, override, Source("file", f"models.{role.value}"))
    return ResolvedSpec(role.value, models.for_role(role), models.source(role))


def spec_for_role(role: Role | str, settings: Settings, repo_config: RepoConfig | None = None) -> str:
    """The spec for `role` (see `resolve_spec` for which one wins)."""
    return resolve_spec(role, settings, repo_config).spec


def make_resolved(
    resolved: ResolvedSpec,
    *,
    env: Mapping[str, str] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_retry_s: float = DEFAULT_MAX_RETRY_S,
    scripts: Mapping[str, PolicyFactory] | None = None,
) -> ChatModel:
    """`make_model` for a resolved spec; a configuration error names where the value came from
    (the spec's flag, variable or file key; or the missing key's variable)."""
    try:
        return make_model(resolved.spec, env=env, timeout_s=timeout_s, max_retry_s=max_retry_s, scripts=scripts)
    except ConfigError as exc:
        raise exc.with_source(resolved.source) from None


def model_for_role(
    role: Role | str,
    settings: Settings,
    repo_config: RepoConfig | None = None,
    *,
    env: Mapping[str, str] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_retry_s: float = DEFAULT_MAX_RETRY_S,
) -> ChatModel:
    """The model for `role` (see `resolve_spec`), built by `make_model`."""
    return make_resolved(
        resolve_spec(role, settings, repo_config), env=env, timeout_s=timeout_s, max_retry_s=max_retry_s
    )
