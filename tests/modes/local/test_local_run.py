"""`orchestra run` end to end on a fresh copy of a small real Python project, with a scripted model.

Proves acceptance 2 of issue 8: the goal is planned and worked through the real flow (localhub
webhooks → webhook app → jobs → planner/workers → PRs → local CI → merge), branch
`orchestra/goal-1` appears in the user's repository with the merged work, and the user's
checked-out branch, HEAD, index and working tree (including uncommitted edits and untracked
files) are exactly as they were. Also: a run whose only task cannot be done ends non-zero
naming the task and localhub's page.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.cli import main
from bot.llm.scripted import call, register_script, unregister_script
from bot.llm.types import Message, Reply, ToolSpec
from bot.modes.demo.example import make_demo_repo
from bot.modes.demo.plan import GOAL_BODY, GOAL_TITLE
from bot.modes.demo.policy import Turn, finish, reply
from bot.modes.local.progress import QuietDisplay
from bot.modes.local.run import Goal, run_local
from bot.modes.local.session import LocalOptions
from bot.settings import Settings
from tests.support.git_repos import git, make_repo
from tests.support.waiting import wait_for

PROJECT = {
    "textstats/__init__.py": '"""textstats: counts in text."""\n\nfrom textstats.words import word_count\n\n__all__ = ["word_count"]\n',
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
LINES_TEST = ("import unittest\n\nfrom textstats.lines import line_count\n\n\n"
              "class LinesTest(unittest.TestCase):\n    def test_counts(self):\n"
              '        self.assertEqual(line_count("a\\nb\\n"), 2)\n')
PLAN = {"tasks": [
    {"key": "line-count", "title": "Add line_count", "objective": "Add textstats/lines.py with line_count(text).",
     "owned_paths": ["textstats/lines.py", "tests/test_lines.py"],
     "acceptance_commands": ["python3 -m unittest tests.test_lines"]},
    {"key": "readme-usage", "title": "Document line_count in the README", "objective": "Add a Usage section.",
     "owned_paths": ["README.md"], "depends_on": ["line-count"]},
]}
CHANGES = {
    "line-count": [call("write_file", path="textstats/lines.py", content=LINES),
                   call("write_file", path="tests/test_lines.py", content=LINES_TEST)],
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
    files = {str(p.relative_to(repo)): (p.stat().st_mtime_ns, p.read_bytes())
             for p in sorted(repo.rglob("*")) if p.is_file() and ".git" not in p.relative_to(repo).parts}
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


@pytest.mark.timeout(120)
def test_run_brings_the_merged_work_back_as_a_branch_and_touches_nothing_else(
        tmp_path: Path, scripted_models: None, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "textstats", PROJECT)
    (repo / "README.md").write_text("# textstats\n\nmy uncommitted edit\n")
    (repo / "notes.txt").write_text("untracked\n")
    git(repo, "status", "--porcelain")  # let git refresh the index now, not during the comparison
    before = user_state(repo)

    code, summary = run_json(capsys, "run", "--repo", str(repo), "--goal", "Count lines\n\nAdd line_count.",
                             "--model", "scripted:textstats", "--merge", "auto", "--workers", "3", "--json")

    assert code == 0, summary
    assert user_state(repo) == before
    assert summary["ok"] and summary["goal"] == 1 and summary["branch"] == "orchestra/goal-1"
    assert summary["tasks"] == 2 and summary["prs_merged"] == 2
    assert summary["tokens"] > 0 and summary["duration_s"] > 0
    assert {"conflicts_resolved", "ci_fixes", "cost_usd"} <= set(summary)
    assert git(repo, "rev-parse", "orchestra/goal-1").strip() == summary["commit"]
    assert git(repo, "show", "orchestra/goal-1:textstats/lines.py") == LINES
    assert "## Usage" in git(repo, "show", "orchestra/goal-1:README.md")
    git(repo, "merge-base", "--is-ancestor", before["head"], "orchestra/goal-1")
    assert Path(summary["state_dir"]).is_relative_to(repo / ".git" / "orchestra")

    # A second run numbers its goal 1 again (fresh localhub): the first result is kept, not overwritten.
    code, second = run_json(capsys, "run", "--repo", str(repo), "--goal", "Count lines again",
                            "--model", "scripted:textstats", "--json")
    assert code == 0 and second["branch"] == "orchestra/goal-1-2"
    assert git(repo, "rev-parse", "orchestra/goal-1").strip() == summary["commit"]
    assert user_state(repo) == before


@pytest.mark.timeout(120)
def test_a_task_that_needs_a_person_ends_the_run_non_zero_naming_it(
        tmp_path: Path, scripted_models: None, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "textstats", PROJECT)

    code = main(["run", "--repo", str(repo), "--goal", "Count lines", "--model", "scripted:blocked"])

    captured = capsys.readouterr()
    assert code == 1
    assert "nothing can move without a person" in captured.err
    assert "#2 needs-human: The agent could not complete this task" in captured.err
    assert "http://127.0.0.1:" in captured.err and "/you/textstats/issues/1" in captured.err
    assert "orchestra/goal-1" not in git(repo, "branch", "--list")


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_run_with_redis_uses_rq_worker_processes(tmp_path: Path, redis_conn: Any, redis_url: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # The demo's project and model: `scripted:demo` is registered in every worker process too.
    repo = make_demo_repo(tmp_path)
    code, summary = run_json(capsys, "run", "--repo", str(repo), "--goal", f"{GOAL_TITLE}\n\n{GOAL_BODY}",
                             "--model", "scripted:demo", "--redis", redis_url, "--workers", "3", "--json",
                             "--timeout", "150")

    assert code == 0, json.dumps(summary)
    assert summary["prs_merged"] == summary["tasks"] >= 5
    assert "unitconv/__main__.py" in git(repo, "ls-tree", "-r", "--name-only", "orchestra/goal-1")
    logs = sorted((Path(summary["state_dir"]) / "workers").glob("worker-*.log"))
    assert len(logs) == 3
    assert any("Job OK" in log.read_text() or "Successfully completed" in log.read_text() for log in logs)


class Recorder(QuietDisplay):
    """A display that keeps what the run says (the pages URL and the messages)."""

    def __init__(self) -> None:
        self.url = ""
        self.messages: list[str] = []

    def serving(self, url: str) -> None:
        self.url = url

    def message(self, text: str) -> None:
        self.messages.append(text)


@pytest.mark.timeout(120)
def test_review_policy_waits_for_the_person_to_merge(tmp_path: Path, scripted_models: None) -> None:
    repo = make_repo(tmp_path / "textstats", PROJECT)  # its config says `merge.policy: review`
    display, outcome = Recorder(), []
    options = LocalOptions(repo=repo, workers=2, model="scripted:textstats", merge=None)
    runner = threading.Thread(target=lambda: outcome.append(
        run_local(options, Settings(), Goal("Count lines", "Add line_count."), display, timeout_s=100)))
    runner.start()
    hint = wait_for(lambda: next((m for m in display.messages if "curl -X PUT" in m), None), timeout=30,
                    what="the merge hint")
    token_file = Path(hint.split("$(cat ", 1)[1].split(")", 1)[0])
    api = hint.rsplit(" ", 1)[1].split("/pulls/", 1)[0]
    headers = {"Authorization": f"token {token_file.read_text().strip()}"}
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"

    def merge_green_prs() -> bool:
        try:
            for pull in requests.get(f"{api}/pulls", headers=headers, timeout=10).json():
                runs = requests.get(f"{api}/commits/{pull['head']['sha']}/check-runs", headers=headers,
                                    timeout=10).json()["check_runs"]
                if runs and all(run["conclusion"] == "success" for run in runs):
                    requests.put(f"{api}/pulls/{pull['number']}/merge", headers=headers, timeout=10)
        except requests.ConnectionError:  # the run ended (and localhub with it) while we looked
            pass
        return not runner.is_alive()

    wait_for(merge_green_prs, timeout=100, interval=0.3, what="the run to end after the person merged")
    summary = outcome[0]
    assert summary.ok and summary.prs_merged == 2 and summary.branch == "orchestra/goal-1"
