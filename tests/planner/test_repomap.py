"""The repo map lists tracked source files with outlines (Python by ast, others by definition lines),
leaves out vendored, generated and binary files, finds key files and the test command, and stays
within its token budget with a note; the read-only checkout keeps the token out of git's config."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from bot.git import Mirror, mirror_path
from bot.planner.repomap import build_repo_map, detect_test_command, generic_outline, python_outline
from bot.repoconfig import RepoConfig
from bot.repofiles import read_notes as load_notes
from tests.support.planner_bed import Bed

FILES = {
    "README.md": "# demo\n",
    "pyproject.toml": "[project]\nname='demo'\n",
    "app/core.py": "import os\n\nclass Store:\n    def get(self, key):\n        pass\n"
    "    def _hidden(self):\n        pass\n\n"
    "async def load(path, *, strict=False):\n    pass\n",
    "web/server.go": "package web\n\nfunc Serve(addr string) error {\n\treturn nil\n}\n\ntype Handler struct {\n}\n",
    "node_modules/lib/index.js": "function x() {}\n",
    "static/app.min.js": "function y(){}\n",
    "package-lock.json": "{}\n",
    "logo.png": "\x89PNG\x00\x00binary",
    ".github/workflows/ci.yml": "on: push\n",
}


def test_the_map_shows_files_outlines_key_files_and_the_test_command(git_repo_factory: Callable[..., Path]) -> None:
    root = git_repo_factory(FILES, name="demo")
    text = build_repo_map(root)
    assert "- app/core.py (10)\n    class Store: get\n    def load(path, strict)" in text
    assert "    func Serve(addr string) error" in text and "    type Handler struct" in text
    for absent in ("node_modules", "app.min.js", "package-lock.json", "logo.png"):
        assert absent not in text
    assert "key files: .github/workflows/ci.yml, README.md, pyproject.toml" in text
    assert "test command: `python -m pytest -q`" in text
    assert "Python (1)" in text and "Go (1)" in text and "5 files" in text


def test_the_test_command_comes_from_config_first_then_detection(tmp_path: Path) -> None:
    assert detect_test_command(tmp_path, ["pyproject.toml"], RepoConfig(test_command="make check")) == "make check"
    (tmp_path / "package.json").write_text(json.dumps({"scripts": {"test": "jest"}}))
    assert detect_test_command(tmp_path, ["package.json"]) == "npm test"
    (tmp_path / "Makefile").write_text("build:\n\tcc x.c\ntest: build\n\t./t\n")
    assert detect_test_command(tmp_path, ["Makefile"]) == "make test"
    assert detect_test_command(tmp_path, ["go.mod"]) == "go test ./..."
    assert detect_test_command(tmp_path, ["Cargo.toml"]) == "cargo test"
    assert detect_test_command(tmp_path, ["README.md"]) is None


def test_outlines_survive_bad_sources() -> None:
    assert python_outline("def broken(:\n") == []
    assert generic_outline("pub fn run(x: i32) -> i32 {\n}\nlet y = 2;\n") == ["pub fn run(x: i32) -> i32"]


def test_a_large_repo_is_cut_to_the_budget_with_a_note(git_repo_factory: Callable[..., Path]) -> None:
    files = {f"pkg/mod_{i:03}.py": "".join(f"def f{j}(a, b):\n    pass\n" for j in range(20)) for i in range(200)}
    root = git_repo_factory(files, name="big")
    text = build_repo_map(root, budget_tokens=1000)
    assert len(text) <= 1000 * 4 + 300
    assert "more files not listed" in text and "use list_files and read_file" in text
    assert "200 files" in text


def test_the_checkout_reads_the_default_branch_and_keeps_the_token_out_of_git_config(bed: Bed) -> None:
    forge = bed.forge()
    with Mirror.of(forge, bed.settings.state_dir).checkout("main") as root:
        assert (root / "shop" / "cart.py").read_text().startswith("class Cart")
    assert not root.exists()
    mirror = mirror_path(bed.settings.state_dir, forge.repo_full_name)
    token = bed.settings.token.get_secret_value()  # type: ignore[union-attr]
    config = (mirror / "config").read_text()
    assert token not in config and "extraheader" not in config.lower() and "x-access-token" not in config
    with Mirror.of(forge, bed.settings.state_dir).checkout(
        "main"
    ) as again:  # a second use fetches into the same mirror
        assert (again / "README.md").exists()


def test_notes_come_from_the_default_branch_or_are_empty(bed: Bed) -> None:
    forge = bed.forge()
    assert load_notes(forge, RepoConfig()) == ""
    assert load_notes(forge, RepoConfig(notes_file="README.md")).startswith("# shop")
