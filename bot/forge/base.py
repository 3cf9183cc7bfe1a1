"""What every group of Forge verbs shares: the PyGithub handle, the call counter, retries, snapshots."""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from github import Auth, Github
from github.GithubObject import NotSet
from github.Issue import Issue as GhIssue
from github.IssueComment import IssueComment as GhComment
from github.PullRequest import PullRequest as GhPull

from bot.forge import limits
from bot.forge.retry import RetryPolicy
from bot.forge.types import Comment, Issue, PullRequest

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound="ForgeBase")


def verb(fn: Callable[Concatenate[F, P], R]) -> Callable[Concatenate[F, P], R]:
    """Count each call of a Forge verb in `forge.calls` under the verb's name."""

    @functools.wraps(fn)
    def counted(self: F, /, *args: P.args, **kwargs: P.kwargs) -> R:
        self.calls[fn.__name__] += 1
        return fn(self, *args, **kwargs)

    return counted


class ForgeBase:
    """One repository on one forge, with one set of credentials."""

    def __init__(
        self,
        repo_full_name: str,
        auth: Auth.Auth,
        *,
        api_url: str,
        server_url: str,
        bot_login: str,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.repo_full_name = repo_full_name
        self.api_url = api_url.rstrip("/")
        self.server_url = server_url.rstrip("/")
        self.bot_login = bot_login
        self.policy = policy or RetryPolicy()
        self.calls: Counter[str] = Counter()
        self._auth = auth
        # Lazy: `repo.get_issue(n)` makes no request until an attribute is read, so a write
        # on an issue costs one request. PyGithub's retries are off: `self.policy` retries.
        self.gh = Github(
            auth=auth,
            base_url=self.api_url,
            retry=None,
            lazy=True,
            seconds_between_requests=None,
            seconds_between_writes=self.policy.write_spacing_s,
        )
        self.repo = self.gh.get_repo(repo_full_name)
        self._etags: dict[str, tuple[str, dict[str, Any], Any]] = {}

    def _conditional_get(self, url: str) -> tuple[dict[str, Any], Any]:
        """GET with `If-None-Match`: a 304, which costs no rate-limit budget, answers from the cache.

        The cache lives as long as this Forge (one job), so repeated reads while a job waits
        (an issue's labels, a PR's mergeability) are free after the first.
        """
        cached = self._etags.get(url)
        headers = {"If-None-Match": cached[0]} if cached else None
        answer_headers, data = self.repo._requester.requestJsonAndCheck("GET", url, headers=headers)
        if data is None and cached is not None:  # 304 Not Modified
            return cached[1], cached[2]
        etag = next((v for k, v in answer_headers.items() if k.lower() == "etag"), None)
        if etag:
            self._etags[url] = (etag, answer_headers, data)
        return answer_headers, data

    def _issue(self, number: int) -> GhIssue:
        headers, data = self._conditional_get(f"{self.repo.url}/issues/{number}")
        return GhIssue(self.repo._requester, headers, data, completed=True)

    def _pull(self, number: int) -> GhPull:
        headers, data = self._conditional_get(f"{self.repo.url}/pulls/{number}")
        return GhPull(self.repo._requester, headers, data, completed=True)

    def _call(self, what: str, fn: Callable[[], R], recover: Callable[[], R | None] | None = None) -> R:
        return self.policy.call(f"{what} {self.repo_full_name}", fn, recover)

    def fitted(self, text: str, what: str, where: str = "the whole text is in the bot's log") -> str:
        """`text` cut to GitHub's body limit (`limits.fit`); a cut text is logged whole, so `where` holds."""
        body = limits.fit(text, where)
        if body != text:
            log.warning("%s on %s: %d characters cut to fit GitHub's limit; the whole text:\n%s",
                        what, self.repo_full_name, len(text) - len(body), text)
        return body

    def _is_bot(self, login: str) -> bool:
        return login.lower() == self.bot_login.lower()


def opt(value: Any) -> Any:
    """PyGithub's NotSet for None: leave that field alone."""
    return NotSet if value is None else value


def _login(user: Any) -> str:
    return str(user.login) if user is not None else ""


def to_issue(raw: GhIssue) -> Issue:
    """Snapshot of a PyGithub issue (reads only attributes the list/GET answer carries)."""
    return Issue(
        id=raw.id,
        number=raw.number,
        title=raw.title or "",
        body=raw.body or "",
        state="closed" if raw.state == "closed" else "open",
        state_reason=raw.state_reason,
        labels=[label.name for label in raw.labels],
        assignees=[_login(user) for user in raw.assignees],
        author=_login(raw.user),
        is_pull=raw.pull_request is not None,
        html_url=raw.html_url or "",
    )


def to_comment(raw: GhComment) -> Comment:
    # Read from the answer as received: PyGithub would fetch the comment again for an absent attribute.
    created = raw._rawData.get("created_at") if isinstance(raw._rawData, dict) else None
    return Comment(id=raw.id, body=raw.body or "", author=_login(raw.user), created_at=str(created or ""))


def to_pull(raw: GhPull) -> PullRequest:
    return PullRequest(
        number=raw.number,
        title=raw.title or "",
        body=raw.body or "",
        state="closed" if raw.state == "closed" else "open",
        merged=bool(raw.merged),
        mergeable=raw.mergeable,
        mergeable_state=raw.mergeable_state,
        head_ref=raw.head.ref,
        head_sha=raw.head.sha,
        base_ref=raw.base.ref,
        html_url=raw.html_url or "",
        labels=[label.name for label in raw.labels],
    )
