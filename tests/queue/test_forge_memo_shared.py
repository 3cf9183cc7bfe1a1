"""What one RQ work horse read from the forge, the next one finds in the workers' Redis
(bot/forge/memo.py, bot/queue/forgecache.py): files at a commit, the answers kept for their ETags and
the default branch, so a job that reads what an earlier job read spends no rate budget on it."""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
import redis
from github import Auth

from bot.forge import Forge, RetryPolicy, memo
from bot.forge.limits import FileTooLarge
from bot.queue.forgecache import RedisStore
from tests.support.localhub import LocalhubHandle

T = TypeVar("T")
REPO = "octo/cat"
FILES = {"README.md": "# cat\n", ".orchestra/notes.md": "be kind\n", "big.txt": "x" * 5000}


def charged(localhub: LocalhubHandle) -> Counter[str]:
    """REST calls localhub charged to a rate budget so far, by route (304s are free)."""
    by_token = localhub.metrics()["rest"]["by_token_route"]
    return Counter(
        {
            route: kinds.get("charged", 0)
            for label, routes in by_token.items()
            if label != "anonymous"
            for route, kinds in routes.items()
        }
    )


def reads(localhub: LocalhubHandle, token: str) -> tuple[str | None, str | None, list[str], str]:
    """What a job reads at the start: the default branch's config and notes, a file that is absent, a
    directory, and (too large for it) a data file."""
    forge = Forge(
        REPO,
        Auth.Token(token),
        api_url=localhub.api_url,
        server_url=localhub.url,
        bot_login="octo",
        policy=RetryPolicy(write_spacing_s=None),
    )
    try:
        forge.read_file("big.txt", max_bytes=100)
        too_large = "read"
    except FileTooLarge as exc:
        too_large = str(exc)
    return forge.read_file(".orchestra/notes.md"), forge.read_file("absent.md"), forge.list_dir(".orchestra"), too_large


def in_a_work_horse(job: Callable[[], T]) -> T:
    """`job()` in a forked child, as RQ runs a job; its result."""
    context = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[T] = context.Queue()
    child = context.Process(target=lambda: results.put(job()))
    child.start()
    result = results.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    return result


@pytest.fixture
def shared(redis_conn: redis.Redis) -> redis.Redis:
    memo.share(RedisStore(redis_conn))  # taken away after the test (tests/conftest.py)
    return redis_conn


def test_a_second_work_horse_reads_what_the_first_read_without_spending_budget(
    localhub: LocalhubHandle, git_repo_factory: Callable[..., Path], shared: redis.Redis
) -> None:
    token = localhub.add_user("octo")
    localhub.import_repo(git_repo_factory(FILES), REPO)
    expected = ("be kind\n", None, [".orchestra/notes.md"], "big.txt: 5,000 bytes; the limit is 100 bytes")

    before = charged(localhub)
    assert in_a_work_horse(lambda: reads(localhub, token)) == expected
    first = charged(localhub) - before
    assert first.total() >= 4 and shared.keys(f"{memo.KEY_PREFIX}*")  # it read from the forge, and kept it in Redis

    before = charged(localhub)
    assert in_a_work_horse(lambda: reads(localhub, token)) == expected  # another fork: an empty memo of its own
    assert charged(localhub) - before == Counter()  # the branch head answered 304; the rest came from Redis


def test_without_the_shared_store_each_work_horse_pays_again(
    localhub: LocalhubHandle, git_repo_factory: Callable[..., Path]
) -> None:
    token = localhub.add_user("octo")
    localhub.import_repo(git_repo_factory(FILES), REPO)
    spent = []
    for _ in range(2):
        before = charged(localhub)
        in_a_work_horse(lambda: reads(localhub, token))
        spent.append((charged(localhub) - before).total())
    assert spent[1] == spent[0] > 0


def test_a_store_that_fails_is_a_miss_not_an_error(
    localhub: LocalhubHandle, git_repo_factory: Callable[..., Path], shared: redis.Redis
) -> None:
    token = localhub.add_user("octo")
    localhub.import_repo(git_repo_factory(FILES), REPO)
    memo.share(RedisStore(redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)))  # nothing listens
    started = time.monotonic()
    assert in_a_work_horse(lambda: reads(localhub, token))[0] == "be kind\n"
    assert time.monotonic() - started < 10  # one failed look, then the forge alone (not a wait per read)


def test_an_entry_another_version_wrote_is_a_miss(shared: redis.Redis) -> None:
    kept: memo.Memo[str] = memo.Memo("test-kind", encode=lambda v: {"v": v}, decode=lambda d: str(d["v"]))
    kept.put(("a", "b"), "value")
    kept.clear()
    assert kept.get(("a", "b")) == (True, "value")  # from Redis
    for key in shared.keys(f"{memo.KEY_PREFIX}test-kind:*"):
        shared.set(key, b'{"other": 1}')
    kept.clear()
    assert kept.get(("a", "b")) == (False, None)
