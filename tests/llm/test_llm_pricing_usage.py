"""Prices come from the shipped table or a user's YAML (unknown models cost 0 and are flagged);
cached and cache-write tokens are priced apart; usage sums per role and model and survives
a round trip through plain values."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.llm.factory import make_model
from bot.llm.pricing import load_prices
from bot.llm.scripted import register_script, turns, unregister_script
from bot.llm.types import Message, Reply, Usage
from bot.llm.usage import MeteredModel, UsageMeter


def test_cost_prices_uncached_cached_cache_write_and_output_apart() -> None:
    table = load_prices()
    usage = Usage(
        input_tokens=1_000_000, cached_tokens=400_000, cache_write_tokens=100_000, output_tokens=100_000, calls=1
    )
    # claude-haiku-4-5: $1 in, $0.10 cache read, $1.25 cache write, $5 out (per million)
    assert table.cost("claude-haiku-4-5", usage).cost_usd == pytest.approx(0.5 + 0.04 + 0.125 + 0.5)
    assert table.cost("claude-haiku-4-5-20251001", usage).cost_usd == pytest.approx(1.165)


def test_unknown_model_costs_nothing_and_is_flagged() -> None:
    priced = load_prices().cost("my-local-llama", Usage(input_tokens=10, output_tokens=5, calls=3))
    assert priced.cost_usd == 0 and priced.unpriced_calls == 3
    # a dated suffix is dropped, but a different model is not guessed from a prefix
    assert load_prices().lookup("gpt-5.2-2025-12-11") is not None
    assert load_prices().lookup("gpt-5.2-pro") is None


def test_user_prices_file_overrides_and_extends(tmp_path: Path) -> None:
    path = tmp_path / "prices.yml"
    path.write_text(
        "models:\n  gpt-5.2: {input: 100, output: 0}\n"
        "  qwen2.5-coder: {input: 0.1, output: 0.2, context_window: 65536}\n"
    )
    table = load_prices(path)
    assert table.cost("gpt-5.2", Usage(input_tokens=10_000, calls=1)).cost_usd == pytest.approx(1.0)
    assert table.context_window("qwen2.5-coder") == 65536
    assert table.lookup("claude-haiku-4-5") is not None
    model = make_model("openai-compatible:qwen2.5-coder@http://127.0.0.1:9/v1", env={"ORCHESTRA_PRICES": str(path)})
    assert model.context_window == 65536


def test_bad_prices_file_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "prices.yml"
    path.write_text("models:\n  gpt-5.2: {input: 1, outptu: 2}\n")
    with pytest.raises(ConfigError, match=r"prices.yml:models.gpt-5.2"):
        load_prices(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_prices(tmp_path / "missing.yml")


def test_meter_sums_per_role_and_model_and_round_trips() -> None:
    meter = UsageMeter()
    meter.record(
        "planner", "anthropic:claude-opus-4-5", Usage(input_tokens=100, output_tokens=10, cost_usd=0.5, calls=1)
    )
    meter.record("worker", "openai:gpt-5-mini", Usage(input_tokens=300, output_tokens=30, cost_usd=0.1, calls=1))
    meter.record("worker", "openai:gpt-5-mini", Usage(input_tokens=200, cached_tokens=50, calls=1, unpriced_calls=1))
    assert meter.total().input_tokens == 600 and meter.total().calls == 3
    assert meter.by_role()["worker"].cached_tokens == 50
    assert meter.by_model()["anthropic:claude-opus-4-5"].cost_usd == pytest.approx(0.5)
    goal = UsageMeter.from_dict(meter.to_dict())
    goal.merge(meter)
    assert goal.total().input_tokens == 1200 and goal.total().unpriced_calls == 2
    assert goal.to_dict()["total"]["cost_usd"] == pytest.approx(1.2)


def test_metered_model_records_each_reply() -> None:
    register_script("meter-test", turns([Reply(text="a", usage=Usage(input_tokens=7, output_tokens=3, calls=1))]))
    try:
        meter = UsageMeter()
        model = MeteredModel(make_model("scripted:meter-test"), meter, role="worker")
        for _ in range(2):
            model.complete([Message(role="user", content="go")], [])
        assert meter.rows()[("worker", "scripted:meter-test")] == Usage(input_tokens=14, output_tokens=6, calls=2)
        assert model.context_window == 200_000
    finally:
        unregister_script("meter-test")


def test_the_table_is_dated_and_prices_each_providers_current_models() -> None:
    table = load_prices()
    assert table.as_of == "2026-11"
    for model in (
        "gpt-6.1-sol",
        "gpt-6.1-terra",
        "gpt-6-luna",
        "claude-opus-5-5",
        "claude-sonnet-5-5",
        "claude-haiku-5-5",
        "claude-fable-5-1",
    ):
        assert table.priced(model), model
    # names whose shutdown has passed are gone; announced ones stay priced until then
    assert not table.priced("o4-mini") and not table.priced("claude-opus-4-1") and table.priced("gpt-5-mini")


def test_long_prompt_tiers_bill_the_whole_call_at_the_higher_rates() -> None:
    table = load_prices()
    short = Usage(input_tokens=272_000, output_tokens=1_000, calls=1)
    long = Usage(input_tokens=272_001, output_tokens=1_000, calls=1)
    # gpt-6.1-sol: $2 in / $10 out; over 272K input tokens $4 in / $15 out
    assert table.cost("gpt-6.1-sol", short).cost_usd == pytest.approx(0.544 + 0.01)
    assert table.cost("gpt-6.1-sol", long).cost_usd == pytest.approx(272_001 * 4 / 1e6 + 0.015)
    # claude-haiku-5-5: $0.10 / $0.50 up to 100K prompt tokens (cache reads count), then $0.50 / $2.50
    cached = Usage(input_tokens=150_000, cached_tokens=140_000, output_tokens=1_000, calls=1)
    assert table.cost("claude-haiku-5-5", cached).cost_usd == pytest.approx(
        (10_000 * 0.50 + 140_000 * 0.05 + 1_000 * 2.50) / 1e6
    )
    assert table.cost("claude-haiku-5-5", Usage(input_tokens=100_000, calls=1)).cost_usd == pytest.approx(0.01)


def test_unpriced_calls_count_their_calls_and_tokens_and_sum() -> None:
    table = load_prices()
    one = table.cost("my-local-llama", Usage(input_tokens=100, output_tokens=20, calls=1))
    two = table.cost("my-local-llama", Usage(input_tokens=50, output_tokens=5, calls=1))
    total = one + two + table.cost("gpt-6-luna", Usage(input_tokens=200_000, calls=1))
    assert (total.unpriced_calls, total.unpriced_tokens) == (2, 175)
    assert total.cost_usd == pytest.approx(0.02)


def test_doc_examples_name_current_priced_models() -> None:
    """Every `anthropic:`/`openai:` spec the README and docs show is in the table and not announced to retire."""
    import re

    root = Path(__file__).resolve().parents[2]
    texts = [root / "README.md", *sorted((root / "docs").glob("*.*")), root / "action.yml", root / ".env.example"]
    table = load_prices()
    retiring = {
        "gpt-5",
        "gpt-5-mini",
        "gpt-5-nano",
        "gpt-5.1",
        "gpt-5.2",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4o",
        "gpt-4o-mini",
    }
    seen = set()
    for path in texts:
        if not path.exists():
            continue
        for model in re.findall(
            r"\b(?:anthropic|openai|openai-responses):([a-z0-9][a-z0-9.\-]*[a-z0-9])", path.read_text()
        ):
            if model in {"model", "gpt-test", "gpt-stand-in"}:
                continue
            seen.add(model)
            assert table.priced(model), f"{path.name}: {model} is not in the price table"
            assert model not in retiring, f"{path.name}: {model}'s retirement is announced"
    assert {"claude-sonnet-5-5", "gpt-6.1-sol"} <= seen
