"""The agent's tools: paths stay in the worktree (symlinks included), protected paths refuse writes,
edits need exactly one match, output is truncated with a note, and terminal tools can reject."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.agent.paths import glob_match
from bot.agent.sandbox import Sandbox
from bot.agent.tools import TerminalTool, Toolbox, ToolRejected
from bot.llm.scripted import call
from bot.llm.types import ToolSpec
from bot.repoconfig import RepoConfig


@pytest.fixture
def work(git_repo_factory: Any) -> Path:
    return git_repo_factory(
        {
            "app.py": "def greet():\n    return 'hi'\n\nx = 1\nx = 1\n",
            "pkg/mod.py": "VALUE = 42\n",
            ".github/workflows/ci.yml": "on: push\n",
            ".gitignore": "build/\n",
        },
        name="work",
    )


@pytest.fixture
def box(work: Path) -> Iterator[Toolbox]:
    with Sandbox(work, use_bwrap=False) as sandbox:
        yield Toolbox(work, sandbox=sandbox, protected=RepoConfig().protected_paths)


def run(box: Toolbox, name: str, **args: Any):  # type: ignore[no-untyped-def]
    return box.execute(call(name, **args))


def test_read_file_numbers_lines_and_honours_ranges(box: Toolbox) -> None:
    out = run(box, "read_file", path="app.py", start_line=2, end_line=3)
    assert not out.error
    assert out.text.splitlines() == ["app.py (lines 2-3 of 5)", "2\t    return 'hi'", "3\t"]


@pytest.mark.parametrize("path", ["../outside.txt", "pkg/../../outside.txt"])
def test_paths_that_leave_the_worktree_are_refused(box: Toolbox, work: Path, path: str) -> None:
    (work.parent / "outside.txt").write_text("outside secret\n")
    out = run(box, "read_file", path=path)
    assert out.error and out.text.startswith("SandboxViolation:")
    assert "outside the worktree" in out.text
    assert "outside secret" not in out.text


def test_absolute_path_outside_is_refused_inside_allowed(box: Toolbox, work: Path) -> None:
    assert run(box, "read_file", path="/etc/hostname").text.startswith("SandboxViolation:")
    assert "VALUE = 42" in run(box, "read_file", path=str(work / "pkg/mod.py")).text


def test_symlinks_out_of_the_worktree_are_refused(box: Toolbox, work: Path) -> None:
    outside = work.parent / "elsewhere"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside secret\n")
    (work / "link.txt").symlink_to(outside / "secret.txt")
    (work / "linkdir").symlink_to(outside)
    for name, args in [
        ("read_file", {"path": "link.txt"}),
        ("read_file", {"path": "linkdir/secret.txt"}),
        ("write_file", {"path": "linkdir/new.txt", "content": "x"}),
        ("edit_file", {"path": "link.txt", "old_string": "outside", "new_string": "in"}),
        ("list_files", {"path": "linkdir"}),
        ("grep", {"pattern": "secret", "path": "linkdir"}),
    ]:
        out = run(box, name, **args)
        assert out.error and "symlink that points outside the worktree" in out.text, (name, out.text)
    assert (outside / "secret.txt").read_text() == "outside secret\n"
    assert not (outside / "new.txt").exists()
    # grep over the whole tree does not follow the link out either
    assert run(box, "grep", pattern="outside secret").text == "no matches for 'outside secret'"


def test_symlink_inside_the_worktree_is_fine(box: Toolbox, work: Path) -> None:
    (work / "alias.py").symlink_to(work / "pkg" / "mod.py")
    assert "VALUE = 42" in run(box, "read_file", path="alias.py").text


@pytest.mark.parametrize(
    "path", [".github/workflows/ci.yml", ".github/workflows/new.yml", ".git/config", ".git/hooks/pre-commit"]
)
def test_protected_paths_refuse_writes(box: Toolbox, work: Path, path: str) -> None:
    before = (work / path).read_bytes() if (work / path).exists() else None
    out = run(box, "write_file", path=path, content="evil\n")
    assert out.error and "is protected" in out.text
    after = (work / path).read_bytes() if (work / path).exists() else None
    assert after == before
    assert not run(box, "read_file", path=".github/workflows/ci.yml").error  # reading is fine


def test_symlink_into_a_protected_path_is_refused(box: Toolbox, work: Path) -> None:
    (work / "innocent.yml").symlink_to(work / ".github" / "workflows" / "ci.yml")
    out = run(box, "write_file", path="innocent.yml", content="evil\n")
    assert out.error and "is protected" in out.text


def test_edit_needs_exactly_one_match(box: Toolbox, work: Path) -> None:
    none = run(box, "edit_file", path="app.py", old_string="return 'bye'", new_string="x")
    assert none.error and "was not found in app.py" in none.text
    several = run(box, "edit_file", path="app.py", old_string="x = 1\n", new_string="x = 2\n")
    assert several.error
    assert "matches 2 places in app.py (lines 4, 5)" in several.text
    assert "include more surrounding lines" in several.text
    ok = run(box, "edit_file", path="app.py", old_string="return 'hi'", new_string="return 'hello'")
    assert not ok.error and "edited app.py at line 2" in ok.text
    assert "return 'hello'" in (work / "app.py").read_text()
    assert box.files_written == {"app.py"}


def test_write_creates_directories(box: Toolbox, work: Path) -> None:
    out = run(box, "write_file", path="new/deep/file.txt", content="a\nb\n")
    assert not out.error and "created new/deep/file.txt (2 lines" in out.text
    assert (work / "new/deep/file.txt").read_text() == "a\nb\n"


def test_long_output_is_truncated_with_a_note(work: Path) -> None:
    (work / "big.txt").write_text("".join(f"line {n}\n" for n in range(5000)))
    box = Toolbox(work, read_only=True, output_limit=500)
    out = run(box, "read_file", path="big.txt")
    assert len(out.text) < 600
    assert "[output truncated:" in out.text and "more characters]" in out.text


def test_list_files_and_grep_are_bounded(box: Toolbox, work: Path) -> None:
    for n in range(250):
        (work / "many" / f"f{n:03}.txt").parent.mkdir(exist_ok=True)
        (work / "many" / f"f{n:03}.txt").write_text("needle\n")
    (work / "build").mkdir()
    (work / "build" / "ignored.txt").write_text("needle\n")
    listing = run(box, "list_files", path="many").text
    assert listing.count("\n") == 200 and "[50 more files not shown" in listing
    assert "build/ignored.txt" not in run(box, "list_files", pattern="*.txt").text
    assert run(box, "list_files", pattern="pkg/*.py").text == "pkg/mod.py"
    found = run(box, "grep", pattern="need+le", path="many").text
    assert found.startswith("many/f000.txt:1: needle")
    assert "[150 more matches not shown" in found
    assert run(box, "grep", pattern="VALUE", glob="*.py").text == "pkg/mod.py:1: VALUE = 42"
    assert "invalid regular expression" in run(box, "grep", pattern="(").text


def test_run_reports_exit_code_and_timeout(box: Toolbox) -> None:
    assert run(box, "run", command="echo out; exit 3").text.startswith("exit code 3")
    slow = Toolbox(box.workdir, sandbox=box.sandbox, command_timeout_s=1)
    assert "killed after 1s (timeout" in run(slow, "run", command="sleep 30", timeout_s=100).text


def test_read_only_toolbox_has_no_write_tools(work: Path) -> None:
    box = Toolbox(work, read_only=True)
    assert box.names == ["read_file", "list_files", "grep", "finish"]
    out = run(box, "write_file", path="a.txt", content="x")
    assert out.error and "no tool named 'write_file'" in out.text
    assert not (work / "a.txt").exists()


def test_terminal_tool_may_reject_then_accept(work: Path) -> None:
    def validate(args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("tasks"):
            raise ToolRejected("the plan has no tasks; write 1-3 tasks")
        return {"tasks": args["tasks"]}

    spec = ToolSpec(name="submit_plan", description="submit the plan")
    box = Toolbox(work, read_only=True, terminal_tools=[TerminalTool(spec, validate)])
    assert box.names[-1] == "submit_plan" and "finish" not in box.names
    refused = run(box, "submit_plan", tasks=[])
    assert refused.error and refused.rejected and refused.terminal is None
    assert "write 1-3 tasks" in refused.text
    accepted = run(box, "submit_plan", tasks=["a"])
    assert accepted.terminal is not None and accepted.terminal.output == {"tasks": ["a"]}


def test_finish_validates_its_report(box: Toolbox) -> None:
    bad = run(box, "finish", status="done", summary="")
    assert bad.rejected and "summary" in bad.text
    good = run(box, "finish", status="blocked", summary="cannot", concerns="the API is missing")
    assert good.terminal is not None and good.terminal.status == "blocked"
    assert good.terminal.report.concerns == ["the API is missing"]


@pytest.mark.parametrize(
    ("path", "pattern", "hit"),
    [
        (".github/workflows/ci.yml", ".github/workflows/**", True),
        (".github/ci.yml", ".github/workflows/**", False),
        ("a/b/c.lock", "*.lock", True),
        ("src/x.py", "src/", True),
        ("srcx/x.py", "src/", False),
        ("docs/a/b.md", "docs/**/*.md", True),
        ("docs/b.md", "docs/**/*.md", True),
    ],
)
def test_glob_match(path: str, pattern: str, hit: bool) -> None:
    assert glob_match(path, pattern) is hit


def test_bad_arguments_come_back_as_errors(box: Toolbox) -> None:
    missing = run(box, "read_file")
    assert missing.error and "bad arguments for read_file" in missing.text and "path" in missing.text
    assert "bad arguments" in run(box, "read_file", path="app.py", start_line="two").text
    assert "not valid JSON" in run(box, "edit_file", _unparsed_arguments="{oops").text
    assert "bad arguments" in run(box, "grep", pattern="x", colour="red").text
