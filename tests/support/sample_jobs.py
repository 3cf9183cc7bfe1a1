"""Tiny job functions for queue tests; importable by a real `rq worker` subprocess."""

from __future__ import annotations


def add(a: int, b: int) -> int:
    return a + b
