"""A compact map of a checkout for the planner: files, languages, key files, test command, symbols.

Vendored, generated and binary files are left out; Python files get an outline from `ast`,
other languages the lines that look like definitions. The map is cut to a token budget
(about 4 characters a token) with a note saying what was left out.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path

from bot.git import git_entries
from bot.repoconfig import RepoConfig

DEFAULT_BUDGET_TOKENS = 6000
CHARS_PER_TOKEN = 4
MAX_FILE_BYTES = 400_000
SKIP_DIRS = {
    ".git",
    "node_modules",
    "vendor",
    "third_party",
    "dist",
    "build",
    "target",
    ".venv",
    "venv",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".tox",
    ".next",
    "coverage",
    "site-packages",
}
GENERATED = re.compile(r"(\.min\.(js|css)$|\.lock$|-lock\.json$|\.pb\.go$|_pb2\.py$|\.generated\.|\.map$)")
LANGUAGES = {
    ".py": "Python",
    ".js": "JavaScript",
    ".jsx": "JavaScript",
    ".ts": "TypeScript",
    ".tsx": "TypeScript",
    ".go": "Go",
    ".rs": "Rust",
    ".java": "Java",
    ".kt": "Kotlin",
    ".rb": "Ruby",
    ".php": "PHP",
    ".c": "C",
    ".h": "C",
    ".cc": "C++",
    ".cpp": "C++",
    ".hpp": "C++",
    ".cs": "C#",
    ".swift": "Swift",
    ".sh": "Shell",
    ".md": "Markdown",
    ".yml": "YAML",
    ".yaml": "YAML",
    ".toml": "TOML",
    ".json": "JSON",
    ".html": "HTML",
    ".css": "CSS",
    ".sql": "SQL",
}
KEY_FILES = re.compile(
    r"^(README(\.\w+)?|CONTRIBUTING\.md|pyproject\.toml|setup\.py|setup\.cfg|requirements.*\.txt|package\.json|"
    r"Makefile|go\.mod|Cargo\.toml|Dockerfile|docker-compose\.ya?ml|tox\.ini|noxfile\.py|\.github/workflows/.+|"
    r"\.gitlab-ci\.yml|\.github/orchestra\.yml|pom\.xml|build\.gradle(\.kts)?)$"
)
GENERIC_DEF = re.compile(
    r"^\s*(export\s+)?(pub(\(\w+\))?\s+)?(async\s+)?"
    r"(func|fn|function|class|interface|struct|enum|trait|type|def|module|impl)\s+[\w.<>(), *]+"
)


def list_files(root: Path) -> list[str]:
    """Tracked files (git ls-files when `root` is a checkout, else a walk), minus vendored and generated ones."""
    names = git_entries(root, "ls-files", "-z") or []
    if not names:
        names = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]
    return sorted(n for n in names if _wanted(root, n))


def _wanted(root: Path, name: str) -> bool:
    parts = name.split("/")
    if any(part in SKIP_DIRS for part in parts[:-1]) or GENERATED.search(name):
        return False
    path = root / name
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return False
        with path.open("rb") as handle:
            return b"\0" not in handle.read(2048)
    except OSError:
        return False


def detect_test_command(root: Path, files: list[str], config: RepoConfig | None = None) -> str | None:
    """The repo's test command: the config's `test_command`, else one detected from build files."""
    if config is not None and config.test_command:
        return config.test_command
    names = set(files)
    if "package.json" in names:
        try:
            scripts = json.loads((root / "package.json").read_text()).get("scripts") or {}
        except (OSError, ValueError, AttributeError):
            scripts = {}
        if isinstance(scripts, dict) and "test" in scripts:
            return "npm test"
    if "Makefile" in names and re.search(r"^test\s*:", _read(root / "Makefile"), re.MULTILINE):
        return "make test"
    if (
        "pyproject.toml" in names
        or "pytest.ini" in names
        or "setup.cfg" in names
        or any(re.search(r"(^|/)(test_[^/]*|[^/]*_test)\.py$", n) for n in names)
    ):
        return "python -m pytest -q"
    if "go.mod" in names:
        return "go test ./..."
    if "Cargo.toml" in names:
        return "cargo test"
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def python_outline(source: str) -> list[str]:
    """Top-level classes (with their methods) and functions, with their arguments."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    out: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            out.append(f"def {node.name}({_args(node)})")
        elif isinstance(node, ast.ClassDef):
            methods = [
                n.name
                for n in node.body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                and (not n.name.startswith("_") or n.name == "__init__")
            ]
            out.append(f"class {node.name}" + (f": {', '.join(methods)}" if methods else ""))
    return out


def _args(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    names = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
    return ", ".join(names)


def generic_outline(source: str, limit: int = 12) -> list[str]:
    """Lines that look like definitions in most languages (func, fn, class, struct, ...)."""
    found = [line.strip().rstrip("{").strip() for line in source.splitlines()[:2000] if GENERIC_DEF.match(line)]
    return [line[:100] for line in found[:limit]]


def build_repo_map(root: Path, config: RepoConfig | None = None, budget_tokens: int = DEFAULT_BUDGET_TOKENS) -> str:
    """The map as Markdown, at most about `budget_tokens` tokens."""
    files = list_files(root)
    languages = Counter(LANGUAGES[Path(f).suffix] for f in files if Path(f).suffix in LANGUAGES)
    key_files = [f for f in files if KEY_FILES.match(f)]
    test = detect_test_command(root, files, config)
    head = [
        f"{len(files)} files; languages: "
        + (", ".join(f"{lang} ({n})" for lang, n in languages.most_common()) or "none"),
        "key files: " + (", ".join(key_files) or "none"),
        f"test command: `{test}`" if test else "test command: none detected",
        "",
        "files (lines; symbols):",
    ]
    body = []
    for name in files:
        text = _read(root / name)
        lines = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
        if name.endswith(".py"):
            symbols = python_outline(text)
        elif Path(name).suffix in LANGUAGES and Path(name).suffix not in {".md", ".json", ".yml", ".yaml", ".toml"}:
            symbols = generic_outline(text)
        else:
            symbols = []
        body.append(f"- {name} ({lines})" + "".join(f"\n    {s}" for s in symbols))
    return _fit("\n".join(head), body, budget_tokens * CHARS_PER_TOKEN)


def _fit(head: str, entries: list[str], limit: int) -> str:
    """`head` plus as many entries as fit in `limit` characters; then outlines are dropped, then files."""
    full = head + "\n" + "\n".join(entries)
    if len(full) <= limit:
        return full
    bare = [e.split("\n", 1)[0] for e in entries]
    rest = [0] * (len(bare) + 1)  # rest[i]: characters of the bare lines from i on
    for index in range(len(bare) - 1, -1, -1):
        rest[index] = rest[index + 1] + len(bare[index]) + 1
    kept: list[str] = []
    size = len(head) + 200
    for index, (entry, short) in enumerate(zip(entries, bare, strict=True)):
        pick = entry if size + len(entry) + 1 + rest[index + 1] <= limit else short
        if size + len(pick) + 1 > limit:
            break
        kept.append(pick)
        size += len(pick) + 1
    left = len(entries) - len(kept)
    note = (
        f"\n(map cut to fit about {limit // CHARS_PER_TOKEN} tokens: {left} more files not listed; "
        "some outlines omitted — use list_files and read_file to see more)"
    )
    return head + "\n" + "\n".join(kept) + note
