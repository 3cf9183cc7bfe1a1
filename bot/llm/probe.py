"""A free call to a model's endpoint before any work: list its models, proving the spec, the key and the endpoint.

Both SDKs have one (`GET /v1/models`); it costs no tokens. `scripted:*` needs no call (its name
must be one the process offers). A spec for OpenAI's or Anthropic's own endpoint must name a
model the endpoint lists (an alias such as `claude-sonnet-4-5` matches its dated ids); other
endpoints (proxies, local servers) only have to answer, and a model they do not list is a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from bot.errors import ConfigError, ModelError, Source
from bot.llm.factory import COMPATIBLE_KEY_ENV, anthropic_client, openai_client
from bot.llm.retry import scrub
from bot.llm.scripted import PolicyFactory, scripted_model
from bot.llm.spec import ModelSpec, parse_spec

if TYPE_CHECKING:
    import anthropic
    import openai

#: Seconds one list call may take.
PROBE_TIMEOUT_S = 5.0
#: Statuses that still prove an endpoint answers when it does not implement listing (some local servers).
NO_LISTING = (404, 405, 501)


@dataclass(frozen=True)
class Probed:
    """What the probe found: the endpoint called, how many models it lists, and a note for a person."""

    spec: str
    endpoint: str
    listed: int
    note: str = ""


def key_variable(spec: ModelSpec, env: Mapping[str, str]) -> str:
    """The environment variable whose key is sent for `spec` (or a phrase when none is)."""
    if spec.provider == "anthropic":
        return "ANTHROPIC_API_KEY"
    if spec.provider != "openai-compatible":
        return "OPENAI_API_KEY"
    if env.get(COMPATIBLE_KEY_ENV):
        return COMPATIBLE_KEY_ENV
    return "OPENAI_API_KEY" if spec.base_url is None and env.get("OPENAI_API_KEY") else "no key"


def _official(spec: ModelSpec, env: Mapping[str, str]) -> bool:
    """True for OpenAI's or Anthropic's own endpoint, whose model list is the truth."""
    if spec.base_url is not None:
        return False
    if spec.provider == "anthropic":
        return not env.get("ANTHROPIC_BASE_URL")
    return spec.provider in ("openai", "openai-responses") and not env.get("OPENAI_BASE_URL")


def _offers(ids: list[str], model: str) -> bool:
    return any(found == model or found.startswith(model + "-") for found in ids)


def _sdk(spec: ModelSpec) -> Any:
    """The SDK module that talks to `spec`'s endpoint, imported now (each takes seconds to import)."""
    if spec.provider == "anthropic":
        import anthropic

        return anthropic
    import openai

    return openai


def _listed(client: openai.OpenAI | anthropic.Anthropic, spec: ModelSpec) -> list[str]:
    """The model ids the endpoint lists (Anthropic's list pages by 20 unless asked for more)."""
    if spec.provider == "anthropic":
        return [str(model.id) for model in cast("anthropic.Anthropic", client).models.list(limit=1000).data]
    return [str(model.id) for model in cast("openai.OpenAI", client).models.list().data]


def probe_model(
    spec: str,
    env: Mapping[str, str],
    *,
    timeout_s: float = PROBE_TIMEOUT_S,
    scripts: Mapping[str, PolicyFactory] | None = None,
) -> Probed:
    """List the models of `spec`'s endpoint; ConfigError (bad spec, missing key, unknown model) or
    ModelError (no answer, key refused) naming the endpoint, never the key."""
    parsed = parse_spec(spec)
    if parsed.provider == "scripted":
        scripted_model(str(parsed), scripts)  # an unknown script is a ConfigError naming the known ones
        return Probed(str(parsed), "", 0, "scripted: no call")
    key_name = key_variable(parsed, env)
    client: openai.OpenAI | anthropic.Anthropic
    if parsed.provider == "anthropic":  # a missing key is refused here, before any SDK is imported
        client, key = anthropic_client(parsed, env, timeout_s)
    else:
        client, key = openai_client(parsed, env, timeout_s)
    sdk = _sdk(parsed)
    endpoint = str(client.base_url).rstrip("/")
    try:
        ids = _listed(client, parsed)
    except sdk.APITimeoutError:
        raise ModelError(
            f"model {parsed}: {endpoint} did not answer within {timeout_s:g}s", source=Source("endpoint", endpoint)
        ) from None
    except sdk.APIConnectionError as exc:
        cause = scrub(str(exc.__cause__ or exc), [key])
        raise ModelError(
            f"model {parsed}: cannot reach {endpoint}: {cause}", source=Source("endpoint", endpoint)
        ) from None
    except sdk.APIStatusError as exc:
        status = exc.status_code
        if status in (401, 403):
            raise ModelError(
                f"model {parsed}: {endpoint} refused the key in {key_name} (HTTP {status})",
                source=Source("env", key_name) if key_name != "no key" else Source("endpoint", endpoint),
            ) from None
        if status in NO_LISTING and not _official(parsed, env):
            return Probed(str(parsed), endpoint, 0, f"answers (HTTP {status} to listing models; model not checked)")
        raise ModelError(
            f"model {parsed}: {endpoint} answered HTTP {status} to listing models: "
            f"{scrub(str(exc.message), [key])[:200]}",
            source=Source("endpoint", endpoint),
        ) from None
    if _offers(ids, parsed.model):
        return Probed(str(parsed), endpoint, len(ids))
    if _official(parsed, env):
        sample = ", ".join(sorted(ids)[:8]) or "none"
        raise ConfigError(
            f"model {parsed}: {endpoint} offers no model {parsed.model!r} (it lists {len(ids)}, e.g. {sample})"
        )
    return Probed(str(parsed), endpoint, len(ids), f"{parsed.model!r} is not in its list of {len(ids)}")
