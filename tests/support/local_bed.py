"""The local-mode test bed: `textstats`, a small Python project run through `orchestra run` with a
scripted model, and the displays that keep what a run says.

- `PROJECT` (its files; merge policy `review`), `PLAN` (two tasks, the second after the first),
  `textstats_policy` and `blocked_policy` (scripted models: do the plan / declare the task impossible);
- the `scripted_models` fixture registers them as `scripted:textstats` and `scripted:blocked`
  (tests/modes/local/conftest.py makes it available to every local-mode test);
- `run_json(capsys, *argv)` runs `orchestra ... --json` and returns (exit code, the summary);
- `user_state(repo)`: everything of the user's a run must not touch;
- `Recorder` (a display keeping the pages URL and the messages) and `Watching` (also each movement);
- `labels_of_closed(state_dir)`: the closed tasks' labels, from localhub's store after the run.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.llm.scripted import call, register_script, unregister_script
from bot.llm.types import Message, Reply, ToolSpec
from bot.modes.demo.policy import Turn, finish, reply
from bot.modes.local.progress import QuietDisplay
from bot.modes.local.snapshot import Snapshot
from localhub.store import Store
from tests.support.git_repos import git

PROJECT = {
    "textstats/__init__.py": (
        '"""textstats: counts in text."""\n\nfrom textstats.words import word_count\n\n__all__ = ["word_count"]\n'
    ),
    "textstats/words.py": '"""Words."""\n\n\ndef word_count(text: str) -> int:\n    return len(text.split())\n',
    "tests/__init__.py": "",
    "tests/test_words.py": (
        "import unittest\n\nfrom textstats import word_count\n\n\n"
        "class WordsTest(unittest.TestCase):\n    def test_counts(self):\n"
        '        self.assertEqual(word_count("a b  c"), 3)\n'
    ),
    ".gitignore": "__pycache__/\n",
    ".github/orchestra.yml": "test_command: python3 -m unittest discover -s tests -t .\nmerge:\n  policy: review\n",
    "README.md": "# textstats\n",
}

LINES = '"""Lines."""\n\n\ndef line_count(text: str) -> int:\n    return len(text.splitlines())\n'
LINES_TEST = (
    "import unittest\n\nfrom textstats.lines import line_count\n\n\n"
    "class LinesTest(unittest.TestCase):\n    def test_counts(self):\n"
    '        self.assertEqual(line_count("a\\nb\\n"), 2)\n'
)
PLAN = {
    "tasks": [
        {
            "key": "line-count",
            "title": "Add line_count",
            "objective": "Add textstats/lines.py with line_count(text).",
            "owned_paths": ["textstats/lines.py", "tests/test_lines.py"],
            "acceptance_commands": ["python3 -m unittest tests.test_lines"],
        },
        {
            "key": "readme-usage",
            "title": "Document line_count in the README",
            "objective": "Add a Usage section.",
            "owned_paths": ["README.md"],
            "depends_on": ["line-count"],
        },
    ]
}
CHANGES = {
    "line-count": [
        call("write_file", path="textstats/lines.py", content=LINES),
        call("write_file", path="tests/test_lines.py", content=LINES_TEST),
    ],
    "readme-usage": [call("write_file", path="README.md", content="# textstats\n\n## Usage\n\n`line_count(text)`\n")],
}


def textstats_policy(messages: list[Message], tools: list[ToolSpec]) -> Reply:
    """Plans two tasks (one after the other) and does them; a stand-in for a real model."""
    turn = Turn(messages, tools)
    if "submit_plan" in turn.tools:
        if turn.request.startswith("Revise"):
            return reply("nothing to add", call("submit_plan", tasks=[]))
        return reply("plan", call("submit_plan", **PLAN))
    if turn.step == 0:
        return reply("change", *CHANGES[turn.key])
    if turn.step == 1 and turn.acceptance:
        return reply("verify", *(call("run", command=c) for c in turn.acceptance))
    return finish(f"done: {turn.key}")


def blocked_policy(messages: list[Message], tools: list[ToolSpec]) -> Reply:
    """Plans one task and then declares it impossible."""
    if "submit_plan" in {t.name for t in tools}:
        return reply("plan", call("submit_plan", tasks=PLAN["tasks"][:1]))
    return finish("cannot do this", "blocked", concerns=["the task needs a decision"])


@pytest.fixture
def scripted_models() -> Iterator[None]:
    register_script("textstats", lambda: textstats_policy)
    register_script("blocked", lambda: blocked_policy)
    yield
    unregister_script("textstats")
    unregister_script("blocked")


def user_state(repo: Path) -> dict[str, Any]:
    """Everything of the user's that a run must not touch (read before any `git status` refreshes the index)."""
    files = {
        str(p.relative_to(repo)): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }
    return {
        "index": hashlib.sha256((repo / ".git" / "index").read_bytes()).hexdigest(),
        "head_ref": git(repo, "symbolic-ref", "HEAD").strip(),
        "head": git(repo, "rev-parse", "HEAD").strip(),
        "files": files,
        "status": git(repo, "status", "--porcelain"),
    }


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(list(argv))
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, f"--json printed more than one line: {out}"
    return code, json.loads(out[0])


class Recorder(QuietDisplay):
    """A display that keeps what the run says (the pages URL and the messages)."""

    def __init__(self) -> None:
        self.url = ""
        self.messages: list[str] = []

    def serving(self, url: str) -> None:
        self.url = url

    def message(self, text: str) -> None:
        self.messages.append(text)


class Watching(Recorder):
    """A display that also keeps when each different snapshot was first seen (the run's movements)."""

    def __init__(self) -> None:
        super().__init__()
        self.moves: list[tuple[float, Snapshot]] = []

    def update(self, snapshot: Snapshot) -> None:
        if not self.moves or self.moves[-1][1] != snapshot:
            self.moves.append((time.monotonic(), snapshot))

    def api(self) -> tuple[str, dict[str, str]]:
        """localhub's API root and the person's auth header, from what the run printed."""
        state = next(m for m in self.messages if "state in " in m).rsplit("state in ", 1)[1].strip()
        token = (Path(state) / "you.token").read_text().strip()
        return self.url.split("/you/", 1)[0] + "/api/v3", {"Authorization": f"token {token}"}


def labels_of_closed(state_dir: str) -> dict[int, set[str]]:
    """Closed issues (not PRs) of the run → their labels, from localhub's store."""
    store = Store(Path(state_dir) / "localhub")
    try:
        rows = store.all(
            "SELECT i.number, l.name FROM issues i LEFT JOIN issue_labels il ON il.issue_id = i.id "
            "LEFT JOIN labels l ON l.id = il.label_id WHERE i.state = 'closed' AND NOT EXISTS "
            "(SELECT 1 FROM pulls p WHERE p.issue_id = i.id)"
        )
    finally:
        store.close()
    found: dict[int, set[str]] = {}
    for row in rows:
        found.setdefault(int(row["number"]), set()).update({row["name"]} if row["name"] else set())
    return found
