"""`orchestra demo --json` from a fresh process: the whole life cycle on the bundled example project.

Proves acceptance 1 of issue 8 (the README Quickstart's first command): a plan of at least 5
tasks, every task merged, at least one merge conflict resolved by its worker and one CI failure
fixed, the goal closed, the result fetched as branch `orchestra/goal-1`; `--json` prints exactly
one JSON object and nothing else.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.git_repos import git


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_demo_shows_the_whole_life_cycle(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--json", "--dir", str(tmp_path), "--timeout", "200"],
        capture_output=True,
        text=True,
        timeout=230,
    )

    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(lines) == 1, done.stdout
    summary = json.loads(lines[0])
    assert summary["ok"] is True
    assert summary["tasks"] >= 5
    assert summary["prs_merged"] == summary["tasks"] == summary["tasks_done"]
    assert summary["conflicts_resolved"] >= 1
    assert summary["ci_fixes"] >= 1
    assert summary["tokens"] > 0 and 0 < summary["duration_s"] < 180
    repo = tmp_path / "unitconv"
    result = git(repo, "ls-tree", "-r", "--name-only", "orchestra/goal-1").split()
    assert {
        "unitconv/mass.py",
        "unitconv/duration.py",
        "unitconv/volume.py",
        "unitconv/__main__.py",
        "tests/test_readme.py",
    } <= set(result)
    registry = git(repo, "show", "orchestra/goal-1:unitconv/registry.py")
    assert all(f"    {name},\n" in registry for name in ("length", "mass", "duration", "volume"))
    assert git(repo, "show", "orchestra/goal-1:unitconv/__main__.py").startswith('"""Command line')  # the CI fix
