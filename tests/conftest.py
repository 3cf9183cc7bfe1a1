"""Fixtures shared by every test live in tests/support/; each area adds its plugin here."""

pytest_plugins = [
    "tests.support.redis_server",
    "tests.support.git_repos",
    "tests.support.localhub",
    "tests.support.model_server",
    "tests.support.browser",
]


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_runtime():
    """Each test starts and ends without an installed process runtime (bot/runtime.py)."""
    from bot import runtime

    runtime.reset()
    yield
    runtime.reset()
