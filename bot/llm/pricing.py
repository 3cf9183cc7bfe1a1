"""The model table: prices per million tokens and context windows, from `prices.yml` or a user's file."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import ConfigError
from bot.llm.types import Usage

log = logging.getLogger(__name__)

PRICES_ENV = "ORCHESTRA_PRICES"
DEFAULT_CONTEXT_WINDOW = 128_000
#: Local OpenAI-compatible servers often run small windows; assume little unless told.
COMPATIBLE_CONTEXT_WINDOW = 32_768

_SUFFIX = re.compile(r"(-\d{4}-\d{2}-\d{2}|-\d{8}|-latest)$")


class Rates(BaseModel):
    """Prices in USD per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)
    cache_write: float | None = Field(default=None, ge=0)

    def dollars(self, usage: Usage) -> float:
        """What `usage` costs at these rates (cached and cache-write tokens apart)."""
        cached = self.cached_input if self.cached_input is not None else self.input
        write = self.cache_write if self.cache_write is not None else self.input
        uncached = max(0, usage.input_tokens - usage.cached_tokens - usage.cache_write_tokens)
        return (
            uncached * self.input
            + usage.cached_tokens * cached
            + usage.cache_write_tokens * write
            + usage.output_tokens * self.output
        ) / 1_000_000


class LongPrompt(Rates):
    """A provider's higher rates for a call whose prompt is over `above` input tokens."""

    above: int = Field(ge=1)


class ModelEntry(Rates):
    """One row of the table."""

    context_window: int | None = Field(default=None, ge=1024)
    long_prompt: LongPrompt | None = None

    def rates_for(self, usage: Usage) -> Rates:
        """The rates one call is billed at: the long-prompt tier when its prompt is over the threshold.

        A sum of several calls is judged by its mean prompt (a reply is priced alone, so this is exact
        for the orchestra's own pricing)."""
        tier = self.long_prompt
        if tier is not None and usage.input_tokens / max(1, usage.calls) > tier.above:
            return tier
        return self


class _TableFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: str = ""
    models: dict[str, ModelEntry]


@dataclass(frozen=True)
class PriceTable:
    """Model name → entry. Unknown models cost 0 and are flagged as unpriced, never an error."""

    entries: dict[str, ModelEntry]
    #: When the shipped prices were read from the providers' pages (``2026-11``).
    as_of: str = ""

    def priced(self, model: str) -> bool:
        return self.lookup(model) is not None

    def lookup(self, model: str) -> ModelEntry | None:
        """The entry for `model`, matching exactly or after dropping a date/-latest suffix."""
        return self.entries.get(model) or self.entries.get(_SUFFIX.sub("", model))

    def cost(self, model: str, usage: Usage) -> Usage:
        """`usage` with `cost_usd` filled in (or `unpriced_calls` set when the model is unknown)."""
        entry = self.lookup(model)
        if entry is None:
            return usage.model_copy(
                update={"cost_usd": 0.0, "unpriced_calls": usage.calls, "unpriced_tokens": usage.total_tokens}
            )
        return usage.model_copy(update={"cost_usd": entry.rates_for(usage).dollars(usage)})

    def context_window(self, model: str, default: int = DEFAULT_CONTEXT_WINDOW) -> int:
        entry = self.lookup(model)
        return entry.context_window if entry and entry.context_window else default

    def merged(self, other: PriceTable) -> PriceTable:
        """This table with `other`'s entries replacing or adding rows."""
        return PriceTable({**self.entries, **other.entries}, self.as_of)


def parse_prices(text: str, source: str) -> PriceTable:
    """Parse a prices YAML text; ConfigError names the file, model and field."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    try:
        parsed = _TableFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{source}:{where}: {first['msg']} (expected models: {{<name>: {{input, output, "
            "cached_input, cache_write, context_window, long_prompt}}}})"
        ) from exc
    return PriceTable(dict(parsed.models), parsed.as_of)


def default_prices() -> PriceTable:
    """The table shipped with the package (`bot/llm/prices.yml`)."""
    text = resources.files("bot.llm").joinpath("prices.yml").read_text(encoding="utf-8")
    return parse_prices(text, "bot/llm/prices.yml")


def load_prices(path: Path | str | None = None) -> PriceTable:
    """The shipped table, with the user's file at `path` (if any) layered on top."""
    table = default_prices()
    if not path:
        return table
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{PRICES_ENV}: cannot read {path}: {exc.strerror}") from exc
    return table.merged(parse_prices(text, str(path)))
