"""The model stand-in's random faults (`fail_randomly`, used by the chaos suite): a seeded share of
requests get 429, 529, 500 or a slow answer, taken in turn and counted by kind."""

from __future__ import annotations

import requests

from tests.support.model_server import ModelServer, Turn


def _ask(server: ModelServer) -> int:
    body = {"model": "gpt-stand-in", "messages": [{"role": "user", "content": "hi"}]}
    return requests.post(
        f"{server.openai_base_url}/chat/completions", json=body, timeout=10, headers={"Authorization": "Bearer sk-test"}
    ).status_code


def test_every_request_faulted_in_turn_then_none(model_server: ModelServer) -> None:
    model_server.policy(lambda body, provider: Turn(text="hello"))
    model_server.fail_randomly(1.0, seed=3, delay=0.05)
    assert [_ask(model_server) for _ in range(5)] == [429, 529, 500, 200, 429]  # slow still answers
    assert model_server.injected == {"429": 2, "529": 1, "500": 1, "slow": 1}
    model_server.fail_randomly(0)
    assert _ask(model_server) == 200


def test_a_share_of_requests_is_faulted(model_server: ModelServer) -> None:
    model_server.policy(lambda body, provider: Turn(text="hello"))
    model_server.fail_randomly(0.1, ("500",), seed=7)
    codes = [_ask(model_server) for _ in range(100)]
    assert 3 <= codes.count(500) == model_server.injected["500"] <= 20
