"""`orchestra localhub serve|import`: the embedded GitHub-compatible forge (see localhub/cli.py)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from localhub.cli import register as register_localhub

    register_localhub(sub)
