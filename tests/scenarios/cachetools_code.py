"""The code the scenario's scripted workers write into cachetools, as data: one module and one test file per task.

Written in the project's own style (unittest, double quotes, RST docstrings). `SIZEINFO_FIRST` is the
wrong first version of `size-info` (its result type rebinds upstream's `CacheInfo`); `EVICT_PAIRS` and
`TEST_EVICT_PAIRS` are `spill`'s change to `evict()`; `TRIM_ADAPTED` is `trim` adapted to it.
"""

from __future__ import annotations

EVICT = '''"""Evict entries from a cache by the cache's own eviction policy."""

__all__ = ("evict",)


def evict(cache, n=1):
    """Evict up to `n` entries from `cache` the way the cache itself
    would, and return how many were evicted.

    Entries are removed with the cache's own ``popitem()``, so an
    ``LRUCache`` drops its least recently used entries first, an
    ``LFUCache`` its least frequently used, and so on.  Eviction stops
    early when the cache becomes empty.

    """
    if n < 0:
        raise ValueError("n must be non-negative")
    count = 0
    while count < n and len(cache):
        cache.popitem()
        count += 1
    return count
'''

TEST_EVICT = """import unittest

from cachetools import LFUCache, LRUCache, evict


class EvictTest(unittest.TestCase):
    def test_evicts_least_recently_used_first(self):
        cache = LRUCache(maxsize=3)
        cache.update({1: "a", 2: "b", 3: "c"})
        cache[1]
        self.assertEqual(evict(cache, 2), 2)
        self.assertEqual(list(cache), [1])

    def test_evicts_least_frequently_used_first(self):
        cache = LFUCache(maxsize=3)
        cache.update({1: "a", 2: "b", 3: "c"})
        cache[1], cache[1], cache[3]
        self.assertEqual(evict(cache), 1)
        self.assertEqual(sorted(cache), [1, 3])

    def test_stops_when_empty(self):
        cache = LRUCache(maxsize=3)
        cache[1] = "a"
        self.assertEqual(evict(cache, 5), 1)
        self.assertEqual(len(cache), 0)

    def test_negative_count(self):
        with self.assertRaises(ValueError):
            evict(LRUCache(maxsize=1), -1)
"""

#: `spill`'s change: evict() hands back what it evicted.
EVICT_PAIRS = '''"""Evict entries from a cache by the cache's own eviction policy."""

__all__ = ("evict",)


def evict(cache, n=1):
    """Evict up to `n` entries from `cache` the way the cache itself
    would, and return the evicted ``(key, value)`` pairs in the order
    they were evicted.

    Entries are removed with the cache's own ``popitem()``, so an
    ``LRUCache`` drops its least recently used entries first, an
    ``LFUCache`` its least frequently used, and so on.  Eviction stops
    early when the cache becomes empty.

    """
    if n < 0:
        raise ValueError("n must be non-negative")
    evicted = []
    while len(evicted) < n and len(cache):
        evicted.append(cache.popitem())
    return evicted
'''

TEST_EVICT_PAIRS = """import unittest

from cachetools import LFUCache, LRUCache, evict


class EvictTest(unittest.TestCase):
    def test_evicts_least_recently_used_first(self):
        cache = LRUCache(maxsize=3)
        cache.update({1: "a", 2: "b", 3: "c"})
        cache[1]
        self.assertEqual(evict(cache, 2), [(2, "b"), (3, "c")])
        self.assertEqual(list(cache), [1])

    def test_evicts_least_frequently_used_first(self):
        cache = LFUCache(maxsize=3)
        cache.update({1: "a", 2: "b", 3: "c"})
        cache[1], cache[1], cache[3]
        self.assertEqual(evict(cache), [(2, "b")])
        self.assertEqual(sorted(cache), [1, 3])

    def test_stops_when_empty(self):
        cache = LRUCache(maxsize=3)
        cache[1] = "a"
        self.assertEqual(evict(cache, 5), [(1, "a")])
        self.assertEqual(len(cache), 0)

    def test_negative_count(self):
        with self.assertRaises(ValueError):
            evict(LRUCache(maxsize=1), -1)
"""

SPILL = '''"""Move entries from one cache into another, e.g. a small cache into a larger one."""

__all__ = ("spill",)

from .evict import evict


def spill(cache, target, n=1):
    """Evict up to `n` entries from `cache` by its own eviction policy
    and store them in `target`, a second-level cache or any mapping.

    Returns the keys moved, in the order they were evicted.  `target`
    may in turn evict entries of its own to make room.

    """
    moved = evict(cache, n)
    for key, value in moved:
        target[key] = value
    return [key for key, _ in moved]
'''

TEST_SPILL = """import unittest

from cachetools import LRUCache, spill


class SpillTest(unittest.TestCase):
    def test_moves_the_least_recently_used_entry(self):
        small, large = LRUCache(maxsize=2), LRUCache(maxsize=10)
        small.update({1: "a", 2: "b"})
        small[1]
        self.assertEqual(spill(small, large), [2])
        self.assertEqual(dict(small), {1: "a"})
        self.assertEqual(dict(large), {2: "b"})

    def test_target_may_be_a_dict(self):
        cache, target = LRUCache(maxsize=3), {}
        cache.update({1: "a", 2: "b", 3: "c"})
        self.assertEqual(spill(cache, target, 5), [1, 2, 3])
        self.assertEqual(target, {1: "a", 2: "b", 3: "c"})
        self.assertEqual(len(cache), 0)
"""

TRIM = '''"""Shrink a cache in place by its own eviction policy."""

__all__ = ("trim",)

from .evict import evict


def trim(cache, size):
    """Evict entries from `cache` by its own eviction policy until its
    ``currsize`` is at most `size`, and return how many were evicted.

    Useful to shrink a cache when memory runs low; the cache's
    ``maxsize`` is left as it is.

    """
    if size < 0:
        raise ValueError("size must be non-negative")
    evicted = 0
    while cache.currsize > size:
        evicted += evict(cache)
    return evicted
'''

#: `trim` once `evict()` returns the evicted pairs.
TRIM_ADAPTED = TRIM.replace("        evicted += evict(cache)\n", "        evicted += len(evict(cache))\n")

TEST_TRIM = """import unittest

from cachetools import LRUCache, trim


class TrimTest(unittest.TestCase):
    def test_evicts_the_least_recently_used_entries(self):
        cache = LRUCache(maxsize=5)
        cache.update({key: str(key) for key in range(5)})
        cache[0]
        self.assertEqual(trim(cache, 2), 3)
        self.assertEqual(sorted(cache), [0, 4])

    def test_counts_sizes_not_entries(self):
        cache = LRUCache(maxsize=10, getsizeof=len)
        cache["a"], cache["b"] = "xxxx", "yyyy"
        self.assertEqual(trim(cache, 5), 1)
        self.assertEqual(cache.currsize, 4)

    def test_nothing_to_evict(self):
        cache = LRUCache(maxsize=3)
        cache[1] = "a"
        self.assertEqual(trim(cache, 3), 0)

    def test_negative_size(self):
        with self.assertRaises(ValueError):
            trim(LRUCache(maxsize=1), -1)
"""

PEEK = '''"""Look at a cached value without counting it as a use."""

__all__ = ("peek",)

from . import Cache


def peek(cache, key, default=None):
    """Return the value for `key` in `cache`, or `default`, without
    updating the cache's bookkeeping of uses.

    ``cache[key]`` counts as a use: it makes the entry the most recently
    used one of an ``LRUCache`` and adds to its count in an
    ``LFUCache``.  ``peek()`` does neither, and never calls a cache's
    ``__missing__``.  Expired entries of a ``TTLCache`` or
    ``TLRUCache`` are not returned.

    """
    if key not in cache:
        return default
    return Cache.__getitem__(cache, key)
'''

TEST_PEEK = """import unittest

from cachetools import LRUCache, TTLCache, peek


class PeekTest(unittest.TestCase):
    def test_is_not_a_use(self):
        cache = LRUCache(maxsize=2)
        cache[1], cache[2] = "a", "b"
        self.assertEqual(peek(cache, 1), "a")
        cache[3] = "c"
        self.assertNotIn(1, cache)
        self.assertIn(2, cache)

    def test_default(self):
        self.assertEqual(peek(LRUCache(maxsize=2), 1, "none"), "none")

    def test_never_calls_missing(self):
        class Doubling(LRUCache):
            def __missing__(self, key):
                self[key] = 2 * key
                return 2 * key

        cache = Doubling(maxsize=2)
        self.assertIsNone(peek(cache, 1))
        self.assertNotIn(1, cache)

    def test_expired_entries_are_not_returned(self):
        now = [0]
        cache = TTLCache(maxsize=2, ttl=10, timer=lambda: now[0])
        cache[1] = "a"
        now[0] = 20
        self.assertIsNone(peek(cache, 1))
"""

INVALIDATE = '''"""Remove the cache entries whose keys match a condition."""

__all__ = ("invalidate",)


def invalidate(cache, predicate):
    """Remove every entry of `cache` whose key satisfies `predicate`,
    and return how many were removed.

    Handy for dropping what a change made stale, e.g. every key of one
    user: ``invalidate(cache, lambda key: key[0] == user_id)``.

    """
    stale = [key for key in list(cache) if predicate(key)]
    for key in stale:
        cache.pop(key, None)
    return len(stale)
'''

TEST_INVALIDATE = """import unittest

from cachetools import LRUCache, invalidate, keys


class InvalidateTest(unittest.TestCase):
    def cache(self):
        cache = LRUCache(maxsize=10)
        for user in (1, 2):
            for page in ("a", "b"):
                cache[keys.hashkey(user, page)] = f"{user}{page}"
        return cache

    def test_removes_matching_keys(self):
        cache = self.cache()
        self.assertEqual(invalidate(cache, lambda key: key[0] == 1), 2)
        self.assertEqual(sorted(cache), [(2, "a"), (2, "b")])

    def test_nothing_matches(self):
        cache = self.cache()
        self.assertEqual(invalidate(cache, lambda key: False), 0)
        self.assertEqual(len(cache), 4)
"""

WARM = '''"""Fill a cache ahead of use."""

__all__ = ("warm",)


def warm(cache, func, keys):
    """Store ``func(key)`` in `cache` for each of `keys` not cached
    yet, and return how many values were computed.

    Warming a cache at start-up spares the first callers the misses.
    Keys already present are left alone and `func` is not called for
    them; a cache too small for all `keys` keeps what its eviction
    policy keeps.

    """
    computed = 0
    for key in keys:
        if key not in cache:
            cache[key] = func(key)
            computed += 1
    return computed
'''

TEST_WARM = """import unittest

from cachetools import LRUCache, warm


class WarmTest(unittest.TestCase):
    def test_computes_missing_keys_only(self):
        cache, calls = LRUCache(maxsize=10), []
        cache[1] = "cached"

        def square(key):
            calls.append(key)
            return key * key

        self.assertEqual(warm(cache, square, [1, 2, 3]), 2)
        self.assertEqual(calls, [2, 3])
        self.assertEqual(dict(cache), {1: "cached", 2: 4, 3: 9})

    def test_accepts_any_iterable(self):
        cache = LRUCache(maxsize=2)
        self.assertEqual(warm(cache, str, range(3)), 3)
        self.assertEqual(sorted(cache), [1, 2])
"""

#: The wrong first version: its result type is named like, and re-exported over, upstream's CacheInfo.
SIZEINFO_FIRST = '''"""Report how full a cache is."""

import collections

__all__ = ("CacheInfo", "size_info")

CacheInfo = collections.namedtuple("CacheInfo", "currsize maxsize free")


def size_info(cache):
    """Return how full `cache` is, as a named tuple ``(currsize,
    maxsize, free)``, where ``free`` is ``maxsize - currsize``.

    Sizes are in the cache's own unit: entries, or the sum of
    ``getsizeof(value)`` when the cache was given a ``getsizeof``.

    """
    return CacheInfo(cache.currsize, cache.maxsize, cache.maxsize - cache.currsize)
'''

SIZEINFO = SIZEINFO_FIRST.replace("CacheInfo", "SizeInfo")

TEST_SIZEINFO = """import unittest

from cachetools import LRUCache, size_info


class SizeInfoTest(unittest.TestCase):
    def test_counts_entries(self):
        cache = LRUCache(maxsize=10)
        cache.update({1: "a", 2: "b"})
        self.assertEqual(size_info(cache), (2, 10, 8))
        self.assertEqual(size_info(cache).free, 8)

    def test_counts_sizes(self):
        cache = LRUCache(maxsize=100, getsizeof=len)
        cache["a"] = "x" * 30
        self.assertEqual(size_info(cache), (30, 100, 70))
"""

FROZENKEY = '''"""Cache keys for arguments that are not hashable."""

__all__ = ("frozenkey",)

from .keys import hashkey


def _freeze(value):
    if isinstance(value, dict):
        return (dict, frozenset((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return (list, tuple(map(_freeze, value)))
    if isinstance(value, tuple):
        return tuple(map(_freeze, value))
    if isinstance(value, set):
        return (set, frozenset(value))
    return value


def frozenkey(*args, **kwargs):
    """Return a cache key for the specified arguments, like
    ``hashkey()``, but with lists, tuples, sets and dicts among them
    turned into hashable equivalents, so that functions taking such
    arguments can be memoized.

    A list and a tuple with the same items still make different keys.

    """
    return hashkey(*map(_freeze, args), **{k: _freeze(v) for k, v in kwargs.items()})
'''

TEST_FROZENKEY = """import unittest

from cachetools import LRUCache, cached, frozenkey
from cachetools.keys import hashkey


class FrozenKeyTest(unittest.TestCase):
    def test_unhashable_arguments(self):
        key = frozenkey([1, 2], {"a": [3]}, tags={"x", "y"})
        same = frozenkey([1, 2], {"a": [3]}, tags={"y", "x"})
        self.assertEqual(key, same)
        self.assertEqual(hash(key), hash(same))

    def test_different_arguments_make_different_keys(self):
        self.assertNotEqual(frozenkey([1, 2]), frozenkey([2, 1]))
        self.assertNotEqual(frozenkey([1, 2]), frozenkey((1, 2)))
        self.assertNotEqual(frozenkey({"a": 1}), frozenkey({"a": 2}))

    def test_hashable_arguments_as_hashkey(self):
        self.assertEqual(frozenkey(1, "a", x=2), hashkey(1, "a", x=2))

    def test_memoizes_a_function_of_a_list(self):
        calls = []

        @cached(LRUCache(maxsize=10), key=frozenkey)
        def total(values):
            calls.append(values)
            return sum(values)

        self.assertEqual(total([1, 2]), 3)
        self.assertEqual(total([1, 2]), 3)
        self.assertEqual(len(calls), 1)
"""

IGNOREKEY = '''"""Cache keys that leave some keyword arguments out."""

__all__ = ("ignorekey",)

from .keys import hashkey


def ignorekey(*names, key=hashkey):
    """Return a key function that drops the keyword arguments `names`
    and computes the key of the others with `key` (``hashkey()`` by
    default).

    For arguments that do not change the result, such as a logger or a
    database session::

        @cached(cache, key=ignorekey("session"))
        def user_name(user_id, session=None): ...

    """
    ignored = frozenset(names)

    def ignoring(*args, **kwargs):
        return key(*args, **{k: v for k, v in kwargs.items() if k not in ignored})

    return ignoring
'''

TEST_IGNOREKEY = """import unittest

from cachetools import LRUCache, cached, ignorekey
from cachetools.keys import hashkey, typedkey


class IgnoreKeyTest(unittest.TestCase):
    def test_drops_the_named_keyword_arguments(self):
        key = ignorekey("session", "log")
        self.assertEqual(key(1, session=object(), log=print), hashkey(1))
        self.assertEqual(key(1, session="a", x=2), key(1, session="b", x=2))
        self.assertNotEqual(key(1, x=2), key(1, x=3))

    def test_wraps_another_key_function(self):
        key = ignorekey("session", key=typedkey)
        self.assertEqual(key(1, session="a"), typedkey(1))
        self.assertNotEqual(key(1), key(1.0))

    def test_memoizes_across_sessions(self):
        calls = []

        @cached(LRUCache(maxsize=10), key=ignorekey("session"))
        def name(user_id, session=None):
            calls.append(session)
            return f"user {user_id}"

        self.assertEqual(name(1, session="a"), "user 1")
        self.assertEqual(name(1, session="b"), "user 1")
        self.assertEqual(calls, ["a"])
"""
