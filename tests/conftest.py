"""Fixtures shared by every test live in tests/support/; each area adds its plugin here."""

pytest_plugins = [
    "tests.support.redis_server",
    "tests.support.git_repos",
    "tests.support.localhub",
    "tests.support.model_server",
    "tests.support.browser",
]


import os  # noqa: E402

import pytest  # noqa: E402

# Agent commands in tests run as on a developer's machine: the best isolation this machine allows,
# unconfined when there is none (tests of the fail-closed default set ORCHESTRA_SANDBOX themselves).
os.environ.setdefault("ORCHESTRA_SANDBOX", "best-effort")


@pytest.fixture(autouse=True)
def _fresh_runtime():
    """Each test starts and ends without an installed process runtime (bot/runtime.py)."""
    from bot import runtime

    runtime.reset()
    yield
    runtime.reset()
