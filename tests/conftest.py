"""Fixtures shared by every test live in tests/support/; each area adds its plugin here."""

pytest_plugins = [
    "tests.support.redis_server",
    "tests.support.git_repos",
    "tests.support.localhub",
]
