"""`Forge`: the verbs the bot needs on one repository, over PyGithub, each counted in `forge.calls`.

Every verb retries through the forge's `RetryPolicy` (5xx, lost connections, rate limits) and
raises `ForgeUnavailable` / `RateLimited` when the bound is reached; creates look for their
own earlier effect before creating again (see bot/forge/retry.py). Snapshots are plain
pydantic values (bot/forge/types.py) so jobs never hold PyGithub objects.
"""

from __future__ import annotations

import base64
from typing import Any

from github.GithubException import GithubException, UnknownObjectException

from bot.errors import ConfigError, PermissionDenied
from bot.forge.base import verb
from bot.forge.checks import CheckVerbs
from bot.forge.issues import IssueVerbs
from bot.forge.limits import MAX_INLINE_FILE_BYTES, FileTooLarge
from bot.forge.paths import check_repo_path
from bot.forge.pulls import PullVerbs
from bot.forge.types import Permission


class Forge(IssueVerbs, PullVerbs, CheckVerbs):
    """One repository on GitHub, GHES or localhub, with one set of credentials."""

    _default_branch: str | None = None

    @verb
    def default_branch(self) -> str:
        """The repository's default branch (read once per Forge)."""
        if self._default_branch is None:
            self._default_branch = self._call("default branch", lambda: str(self.repo.default_branch))
        return self._default_branch

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
        branch = ref or self.default_branch()

        def fetch() -> str | None:
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

        return self._call("read file", fetch)

    @verb
    def list_dir(self, path: str, ref: str | None = None) -> list[str]:
        """Paths of the files directly in directory `path` at `ref` (default branch); [] when absent."""
        branch = ref or self.default_branch()

        def fetch() -> list[str]:
            try:
                listing = self.repo.get_contents(path, ref=branch)
            except UnknownObjectException:
                return []
            entries = listing if isinstance(listing, list) else [listing]
            return [entry.path for entry in entries if entry.type == "file"]

        return self._call("list dir", fetch)

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
            return Permission(role) if role in Permission._value2member_map_ else Permission(data.get("permission", "none"))

        return self._call("permission", fetch)

    @verb
    def dispatch_workflow(self, workflow: str, ref: str, inputs: dict[str, Any]) -> None:
        """Start a `workflow_dispatch` run (Action mode fan-out). Not de-duplicated: callers claim first."""

        def dispatch() -> None:
            try:
                self.repo.get_workflow(workflow).create_dispatch(ref, inputs, throw=True)
            except GithubException as exc:
                if exc.status == 403 and "rate limit" not in str(exc.data).lower():
                    raise PermissionDenied(f"workflow_dispatch of {workflow}: needs the actions: write permission") from exc
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
