"""`Memo`: a bounded in-process LRU for what the forge answered, with an optional second level shared
between processes.

The process's forge caches (answers kept for their ETags, files read at a commit, default branch
names) are `Memo`s. In threads mode one process runs every job, so the first level is enough. An RQ
worker forks a work horse for each job, and what the work horse learned dies with it: every job
read config, prompts and notes again and paid full price for lists it had seen. `share(store)`
gives every memo a second level that outlives the work horse (the RQ workers' Redis,
`bot/queue/forgecache.py`). The store only ever holds what this process could read anyway:
values are keyed by a fingerprint of the credentials that read them (never the token), commit
contents never change, and an ETag answer is still revalidated by the forge on every read.
A store that fails (Redis away) is a miss, never an error: the forge is asked as without it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

log = logging.getLogger(__name__)
V = TypeVar("V")

#: The prefix of every key a memo writes into the shared store.
KEY_PREFIX = "orchestra:forge-memo:"


class SharedStore(Protocol):
    """Bytes by key with a time to live (what Redis's GET and SET EX do)."""

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl_s: int) -> None: ...


class Memo(Generic[V]):
    """Values by tuple key: an LRU of `size` in this process (0: none), then the shared store (if one
    was given by `share`), where a value lives `ttl_s` seconds. `encode`/`decode` turn a value into JSON-able
    data and back; a value the store cannot give back whole is a miss."""

    def __init__(
        self,
        kind: str,
        *,
        encode: Callable[[V], Any],
        decode: Callable[[Any], V],
        size: int = 4096,
        ttl_s: int = 3600,
    ) -> None:
        self.kind, self.size, self.ttl_s = kind, size, ttl_s
        self._encode, self._decode = encode, decode
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, ...], V] = OrderedDict()

    def get(self, key: tuple[str, ...]) -> tuple[bool, V | None]:
        """(True, value) when known here or in the shared store; (False, None) otherwise."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return True, self._items[key]
        store = _shared.store
        if store is None:
            return False, None
        try:
            raw = store.get(self._store_key(key))
            if raw is None:
                return False, None
            value = self._decode(json.loads(raw))
        except (ValueError, KeyError, TypeError, IndexError) as exc:  # written by another version: a miss
            log.debug("forge memo %s: unreadable shared entry (%s)", self.kind, exc)
            return False, None
        self._keep(key, value)
        return True, value

    def put(self, key: tuple[str, ...], value: V) -> None:
        self._keep(key, value)
        store = _shared.store
        if store is not None:
            store.set(self._store_key(key), json.dumps(self._encode(value)).encode(), self.ttl_s)

    def clear(self) -> None:
        """Forget this process's level (the shared store keeps its entries until they expire)."""
        with self._lock:
            self._items.clear()

    def _keep(self, key: tuple[str, ...], value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def _store_key(self, key: tuple[str, ...]) -> str:
        digest = hashlib.sha256("\x00".join(key).encode()).hexdigest()
        return f"{KEY_PREFIX}{self.kind}:{digest}"


class _Shared:
    store: SharedStore | None = None


_shared = _Shared()


def share(store: SharedStore | None) -> None:
    """Give every memo of this process (and of the work horses it forks) `store` as its second level;
    None takes it away."""
    _shared.store = store
