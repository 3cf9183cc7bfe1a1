"""Work handed to background thread pools, tracked until done so that `drain()` can wait for it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, wait
from typing import Any


class Pending:
    """The submitted work not yet finished; `drain` waits, with a deadline, until there is none."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: set[Future[Any]] = set()

    def submit(self, pool: Executor, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """`pool.submit(fn, *args)`, counted as pending from this moment until it is done."""
        with self._lock:
            future = pool.submit(fn, *args)
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._futures.discard(future)

    def drain(self, timeout: float) -> bool:
        """Wait until nothing is pending; True if that happened within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = set(self._futures)
            if not pending:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            wait(pending, timeout=remaining)
