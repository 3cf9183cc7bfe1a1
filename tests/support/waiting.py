"""Wait on a condition with a deadline — the only way tests synchronise."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: The longest pause between two looks at a condition that is slow to come true. Many conditions ask
#: localhub, Redis or git: at the first `interval` for a whole minute they cost a core's worth of CPU
#: that the processes under test needed.
MAX_INTERVAL_S = 0.25


def wait_for(condition: Callable[[], T], timeout: float = 10.0, interval: float = 0.02, what: str = "") -> T:
    """Poll `condition` until it returns a truthy value; fail the test with `what` after `timeout`.
    The pause starts at `interval` and grows by half each look, up to `MAX_INTERVAL_S` (or `interval`
    when that is longer), so a quick condition is seen at once and a slow one costs little."""
    deadline = time.monotonic() + timeout
    pause, longest = interval, max(interval, MAX_INTERVAL_S)
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition!r}")
        time.sleep(pause)
        pause = min(pause * 1.5, longest)
