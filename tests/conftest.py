"""Fixtures shared by every test live in tests/support/; each area adds its plugin here."""

import sys

# pytest keeps its assertion-rewritten test modules in __pycache__ only where bytecode may be written.
# Under PYTHONDONTWRITEBYTECODE (set on some machines, this one included) every xdist worker rewrote all
# ~170 test modules on every run: about 4 CPU-seconds each before its first test. This process may
# write them; the next run's workers read them (pytest checks each against its source).
sys.dont_write_bytecode = False

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


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups (--dist loadgroup)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `heavy` (whole runs of many tasks with their own deadlines: the cachetools
    acceptance, the chaos runs) form one xdist group, so they run one after another on one worker
    while the other workers take the rest; two of them at once on a small machine starve each other's
    deadlines. `slow` tests (a few processes each, mostly waiting) spread over the workers.

    The heavy ones go first (the rest keeps collection order), so no long run starts last and holds the
    whole suite up while the other workers are idle."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("heavy") else 1)
    if not config.pluginmanager.hasplugin("xdist"):
        return  # `-p no:xdist`: no groups to form (and no xdist_group marker to use)
    for item in items:
        if item.get_closest_marker("heavy") is not None:
            item.add_marker(pytest.mark.xdist_group("heavy"))


@pytest.fixture(autouse=True)
def _fresh_runtime():
    """Each test starts and ends without an installed process runtime (bot/runtime.py), and without a
    shared level under the forge memos (an RQ worker built in a test gives it its Redis)."""
    from bot import runtime
    from bot.forge import memo

    runtime.reset()
    memo.share(None)
    yield
    runtime.reset()
    memo.share(None)
