"""`Forge`: the verbs the bot needs on one repository, over PyGithub, each counted in `forge.calls`.

Every verb retries through the forge's `RetryPolicy` (5xx, lost connections, rate limits) and
raises `ForgeUnavailable` / `RateLimited` when the bound is reached; creates look for their
own earlier effect before creating again (see bot/forge/retry.py). Snapshots are plain
pydantic values (bot/forge/types.py) so jobs never hold PyGithub objects.
"""

from __future__ import annotations

import base64
import re
import time
from typing import Any

from github.GithubException import GithubException, UnknownObjectException

from bot.errors import ConfigError, PermissionDenied
from bot.forge.base import verb
from bot.forge.checks import CheckVerbs
from bot.forge.issues import IssueVerbs
from bot.forge.limits import MAX_INLINE_FILE_BYTES, FileTooLarge
from bot.forge.memo import Memo
from bot.forge.paths import check_repo_path
from bot.forge.pulls import PullVerbs
from bot.forge.types import Permission

_SHA = re.compile(r"^[0-9a-f]{40}$")
#: How long this process trusts a repository's default branch name (it changes only by a person's rename).
DEFAULT_BRANCH_TTL_S = 300.0


def _encode_read(value: Any) -> Any:
    if isinstance(value, FileTooLarge):
        return {"too_large": [value.path, value.size, value.limit]}
    return {"value": value}


def _decode_read(data: Any) -> Any:
    if "too_large" in data:
        path, size, limit = data["too_large"]
        return FileTooLarge(str(path), int(size), int(limit))
    return data["value"]


#: What was read at a commit (a file's text, its absence, a directory listing, or that it is too large),
#: by (API, credentials, repository, commit sha, what, path): a commit never changes, so what was read
#: there once is known for good. Shared by the process's Forges (and, in RQ workers, their work horses:
#: bot/forge/memo.py), so every job after the first reads config, prompts and notes of an unchanged
#: default branch for the price of one conditional look at the branch (a 304 when it did not move).
COMMIT_FILES: Memo[Any] = Memo("commit-files", encode=_encode_read, decode=_decode_read)
#: Repositories' default branches (name, read at: wall-clock seconds, comparable across processes).
DEFAULT_BRANCHES: Memo[tuple[str, float]] = Memo(
    "default-branch", encode=list, decode=lambda d: (str(d[0]), float(d[1])), ttl_s=int(DEFAULT_BRANCH_TTL_S)
)


class Forge(IssueVerbs, PullVerbs, CheckVerbs):
    """One repository on GitHub, GHES or localhub, with one set of credentials."""

    _default_branch: str | None = None
    #: Branch name → its head sha, looked up once per Forge (a job reads files at one commit).
    _heads: dict[str, str | None] | None = None

    @verb
    def default_branch(self) -> str:
        """The repository's default branch (read once per Forge, and at most every
        `DEFAULT_BRANCH_TTL_S` per process: a webhook payload or an earlier job already said it)."""
        if self._default_branch is None:
            key = (self.api_url, self.repo_full_name)
            _found, known = DEFAULT_BRANCHES.get(key)
            if known is not None and 0 <= time.time() - known[1] < DEFAULT_BRANCH_TTL_S:
                self._default_branch = known[0]
            else:
                self._default_branch = self._call("default branch", lambda: str(self.repo.default_branch))
                DEFAULT_BRANCHES.put(key, (self._default_branch, time.time()))
        return self._default_branch

    def _head_of(self, branch: str) -> str | None:
        """The branch's head sha (one conditional GET per Forge; a 304 costs nothing); None when absent."""
        heads = self._heads if self._heads is not None else {}
        self._heads = heads
        if branch not in heads:

            def fetch() -> str | None:
                try:
                    _headers, data = self._conditional_get(f"{self.repo.url}/branches/{branch}")
                except UnknownObjectException:
                    return None
                sha = str(((data or {}).get("commit") or {}).get("sha") or "")
                return sha if _SHA.match(sha) else None

            heads[branch] = self._call("branch head", fetch)
        return heads[branch]

    def _at_commit(self, what: str, path: str, ref: str | None, read: Any) -> Any:
        """`read(ref)` once per commit: the default branch (or a branch) is resolved to its head sha first,
        and what was read at that sha is kept (`COMMIT_FILES`). A ref that resolves to nothing reads as before."""
        target = ref or self.default_branch()
        sha = target if _SHA.match(target) else self._head_of(target)
        if sha is None:
            return read(target)
        key = (self.api_url, self._credential(), self.repo_full_name, sha, what, path)
        found, value = COMMIT_FILES.get(key)
        if not found:
            try:
                value = read(sha)
            except FileTooLarge as exc:
                value = exc
            COMMIT_FILES.put(key, value)
        if isinstance(value, FileTooLarge):
            raise value
        return list(value) if isinstance(value, list) else value

    @verb
    def read_file(self, path: str, ref: str | None = None, max_bytes: int = MAX_INLINE_FILE_BYTES) -> str | None:
        """The text of a file at `ref` (default: the default branch), or None when it is absent.

        FileTooLarge when it is over `max_bytes`, or over the 1 MB the contents API inlines (GitHub
        then answers `encoding: none` with no content); ConfigError for a path that is not a plain
        path inside the repository: the HTTP client would normalise `../..` into another endpoint
        (another repository's contents).
        """
        try:
            check_repo_path(path)
        except ValueError as exc:
            raise ConfigError(f"read_file: {exc}") from None

        def read(at: str) -> str | None:
            return self._call("read file", lambda: fetch(at))

        def fetch(branch: str) -> str | None:
            try:
                content = self.repo.get_contents(path, ref=branch)
            except UnknownObjectException:
                return None
            if isinstance(content, list) or content.type != "file":
                return None
            limit, size = min(max_bytes, MAX_INLINE_FILE_BYTES), content.size or 0
            if size > limit or content.encoding == "none":
                raise FileTooLarge(path, size, limit)
            return content.decoded_content.decode("utf-8", errors="replace")

        return self._at_commit("file", path, ref, read)

    @verb
    def list_dir(self, path: str, ref: str | None = None) -> list[str]:
        """Paths of the files directly in directory `path` at `ref` (default branch); [] when absent."""

        def read(at: str) -> list[str]:
            return self._call("list dir", lambda: fetch(at))

        def fetch(branch: str) -> list[str]:
            try:
                listing = self.repo.get_contents(path, ref=branch)
            except UnknownObjectException:
                return []
            entries = listing if isinstance(listing, list) else [listing]
            return [entry.path for entry in entries if entry.type == "file"]

        return list(self._at_commit("dir", path, ref, read))

    @verb
    def permission(self, login: str) -> Permission:
        """The person's permission on the repository (`none` when they are not a collaborator)."""

        def fetch() -> Permission:
            url = f"{self.repo.url}/collaborators/{login}/permission"
            try:
                _headers, data = self.repo._requester.requestJsonAndCheck("GET", url)
            except GithubException as exc:
                if exc.status == 404:
                    return Permission.NONE
                raise
            role = str(data.get("role_name") or data.get("permission") or "none")
            return (
                Permission(role)
                if role in Permission._value2member_map_
                else Permission(data.get("permission", "none"))
            )

        return self._call("permission", fetch)

    @verb
    def dispatch_workflow(self, workflow: str, ref: str, inputs: dict[str, Any]) -> None:
        """Start a `workflow_dispatch` run (Action mode fan-out). Not de-duplicated: callers claim first."""

        def dispatch() -> None:
            try:
                self.repo.get_workflow(workflow).create_dispatch(ref, inputs, throw=True)
            except GithubException as exc:
                if exc.status == 403 and "rate limit" not in str(exc.data).lower():
                    raise PermissionDenied(
                        f"workflow_dispatch of {workflow}: needs the actions: write permission"
                    ) from exc
                raise

        self._call("dispatch workflow", dispatch)

    def git_remote_url(self) -> str:
        """The HTTPS clone URL, without credentials."""
        return f"{self.server_url}/{self.repo_full_name}.git"

    def git_auth_header(self) -> str:
        """The `Authorization` header value for git over HTTP (`Basic base64(x-access-token:TOKEN)`)."""
        token = self._auth.token
        if not token:
            raise ConfigError("the forge credentials carry no token for git")
        return "Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()

    def git_env(self) -> dict[str, str]:
        """Environment for one git command: the header via GIT_CONFIG_*, never written to .git/config."""
        return {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "http.extraHeader",
            "GIT_CONFIG_VALUE_0": f"Authorization: {self.git_auth_header()}",
        }
