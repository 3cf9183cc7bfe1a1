"""Model specs: the one syntax that names a provider, a model and (optionally) an endpoint."""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import ConfigError

PROVIDERS = ("openai", "openai-responses", "anthropic", "openai-compatible", "scripted")

ALLOWED_FORMS = (
    "anthropic:<model> (e.g. anthropic:claude-sonnet-5-5), "
    "openai:<model> (e.g. openai-responses:gpt-6.1-sol), "
    "openai-responses:<model> (OpenAI's Responses API, e.g. openai-responses:gpt-6.1-sol), "
    "openai-compatible:<model>@<base URL> (e.g. openai-compatible:qwen2.5-coder@http://host:8000/v1), "
    "scripted:<name> (e.g. scripted:demo); "
    "openai:, openai-responses: and anthropic: also accept @<base URL> for a proxy"
)


@dataclass(frozen=True)
class ModelSpec:
    """A parsed spec: ``provider:model[@base_url]``."""

    provider: str
    model: str
    base_url: str | None = None

    def __str__(self) -> str:
        tail = f"@{self.base_url}" if self.base_url else ""
        return f"{self.provider}:{self.model}{tail}"


def parse_spec(spec: str) -> ModelSpec:
    """Parse a model spec; raise ConfigError naming the spec and the allowed forms."""

    def bad(why: str) -> ConfigError:
        return ConfigError(f"model spec {spec!r}: {why}; allowed forms: {ALLOWED_FORMS}")

    provider, colon, rest = spec.strip().partition(":")
    if not colon:
        raise bad("missing '<provider>:'")
    if provider not in PROVIDERS:
        raise bad(f"unknown provider {provider!r} (known: {', '.join(PROVIDERS)})")
    model, at, base_url = rest.partition("@")
    model = model.strip()
    if not model:
        raise bad("missing model name after ':'")
    if provider == "scripted":
        if at:
            raise bad("a scripted model takes no base URL")
        return ModelSpec(provider, model)
    if at:
        base_url = base_url.strip()
        if not base_url.startswith(("http://", "https://")):
            raise bad(f"base URL {base_url!r} must start with http:// or https://")
        return ModelSpec(provider, model, base_url.rstrip("/"))
    return ModelSpec(provider, model)
