"""The user's own repository in local mode: where state goes, which CI command runs, and the
fetch that brings the result back — without touching the checked-out branch, index or tree.

Every git command here reads no global or system config and runs with `cwd` set per command
(never `os.chdir`). The fetch writes only `refs/heads/orchestra/goal-<n>` (and objects): a fetch
into a ref that is not checked out changes no working tree and no index.
"""

from __future__ import annotations

from pathlib import Path

from bot.errors import ConfigError, LocalRunFailed
from bot.git import base_env, run_git
from bot.repoconfig import CONFIG_PATH, RepoConfig, parse_repo_config

#: localhub runs this script at the pushed commit when the repo has no CI command.
CI_SCRIPT = ".localhub/ci.sh"


def git(repo: Path, *args: str, extra_env: dict[str, str] | None = None, check: bool = True) -> str:
    """Run git in `repo`; stdout, or LocalRunFailed with git's own message (credentials never shown)."""
    result = run_git(list(args), cwd=repo, env=base_env() | (extra_env or {}), check=False)
    if check and result.returncode != 0:
        raise LocalRunFailed(f"git {args[0]} in {repo}: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout.strip()


def check_repo(path: Path) -> Path:
    """The work tree root of the git repository at `path`; ConfigError when it is none or has no commit."""
    path = Path(path).expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(f"--repo {path}: no such directory")
    result = run_git(["rev-parse", "--show-toplevel"], cwd=path, env=base_env(), check=False)
    if result.returncode != 0:
        raise ConfigError(f"--repo {path}: not a git repository (run `git init` and commit first)")
    root = Path(result.stdout.strip())
    if run_git(["rev-parse", "--verify", "-q", "HEAD"], cwd=root, env=base_env(), check=False).returncode != 0:
        raise ConfigError(f"--repo {root}: the repository has no commit yet; commit your code first")
    return root


def current_branch(repo: Path) -> str:
    """The checked-out branch (it becomes the default branch on localhub); ConfigError when detached."""
    branch = git(repo, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    if not branch:
        raise ConfigError(f"--repo {repo}: HEAD is detached; check out the branch the work should start from")
    return branch


def default_state_dir(repo: Path) -> Path:
    """`<git common dir>/orchestra`: inside `.git`, so neither the index nor `git status` sees it."""
    common = Path(git(repo, "rev-parse", "--git-common-dir"))
    if not common.is_absolute():
        common = (repo / common).resolve()
    return common / "orchestra"


def read_config(repo: Path, ref: str = "HEAD") -> RepoConfig:
    """`.github/orchestra.yml` at `ref` (defaults when absent)."""
    text = git(repo, "show", f"{ref}:{CONFIG_PATH}", check=False)
    return parse_repo_config(text, CONFIG_PATH) if text else RepoConfig()


def _tracked(repo: Path, ref: str, path: str) -> bool:
    return bool(git(repo, "ls-tree", "--name-only", ref, "--", path, check=False))


#: The CI of a repository with no test command found: a passing check, so PRs still merge
#: (on the workers' own verification of their acceptance commands).
NO_CI = "true"


def detect_ci_command(repo: Path, config: RepoConfig, ref: str = "HEAD") -> tuple[str | None, str]:
    """The command localhub's CI runs on every push, and where it came from.

    None when `.localhub/ci.sh` is committed (localhub runs the script itself); else the repo
    config's `test_command`; else a guess from the files at `ref`; else `true` (a passing check).
    """
    if _tracked(repo, ref, CI_SCRIPT):
        return None, CI_SCRIPT
    if config.test_command:
        return config.test_command, "test_command in .github/orchestra.yml"
    guesses = [("package.json", "npm test"), ("Cargo.toml", "cargo test"), ("go.mod", "go test ./...")]
    guesses += [
        (name, "python3 -m pytest -q") for name in ("pyproject.toml", "setup.py", "setup.cfg", "pytest.ini", "tests")
    ]
    for name, command in guesses:
        if _tracked(repo, ref, name):
            return command, f"guessed from {name}"
    return NO_CI, "no test command found: every push passes"


def result_branch(repo: Path, goal_number: int) -> str:
    """`orchestra/goal-<n>`, or `orchestra/goal-<n>-2`, `-3`… when an earlier run left that branch.

    Every run starts a fresh localhub, so goal numbers start at 1 again: an existing branch of
    that name is an earlier run's result and is never overwritten.
    """
    base = f"orchestra/goal-{goal_number}"
    name, suffix = base, 1
    while git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{name}", check=False):
        suffix += 1
        name = f"{base}-{suffix}"
    return name


def fetch_result(
    repo: Path, remote_url: str, source_branch: str, goal_number: int, auth_env: dict[str, str]
) -> tuple[str, str]:
    """Fetch `source_branch` from `remote_url` into a new branch `orchestra/goal-<n>` of `repo`.

    Credentials come through `auth_env` (GIT_CONFIG_* for one command), so nothing lands in the
    user's `.git/config`. Returns (branch name, commit sha).
    """
    branch = result_branch(repo, goal_number)
    git(
        repo,
        "fetch",
        "--quiet",
        "--no-tags",
        remote_url,
        f"refs/heads/{source_branch}:refs/heads/{branch}",
        extra_env=auth_env,
    )
    return branch, git(repo, "rev-parse", f"refs/heads/{branch}")
