"""Tiny job functions for queue tests; importable by a real `rq worker` subprocess."""

from __future__ import annotations


def add(a: int, b: int) -> int:
    return a + b


class Gate:
    """A job that counts its runs and blocks until released, to submit while it is running."""

    def __init__(self) -> None:
        import threading

        self.started = threading.Semaphore(0)
        self.release = threading.Event()
        self.runs = 0

    def __call__(self, repo: str, number: int, installation_id: int | None = None) -> int:
        self.runs += 1
        self.started.release()
        assert self.release.wait(30), "the test never released the gate"
        return self.runs


GATE = Gate()


def gated(repo: str, number: int, installation_id: int | None = None) -> int:
    return GATE(repo, number, installation_id)
