"""What every group of Forge verbs shares: the PyGithub handle, the call counter, retries, pacing,
conditional reads (one ETag memo per process) and snapshots."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections import Counter
from collections.abc import Callable
from typing import Any, Concatenate, NamedTuple, ParamSpec, TypeVar

from github import Auth, Github
from github.GithubObject import NotSet
from github.Issue import Issue as GhIssue
from github.IssueComment import IssueComment as GhComment
from github.PullRequest import PullRequest as GhPull

from bot.forge import limits
from bot.forge.memo import Memo
from bot.forge.retry import RetryPolicy
from bot.forge.types import Comment, Issue, PullRequest

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound="ForgeBase")
#: Items per page of a list read (GitHub's maximum), and the most pages one list read follows.
PER_PAGE = 100
MAX_PAGES = 50
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class Cached(NamedTuple):
    """One GET answer kept for its ETag."""

    etag: str
    headers: dict[str, Any]
    data: Any


def _cached_from(data: Any) -> Cached:
    return Cached(str(data["etag"]), dict(data["headers"]), data["data"])


#: The answers of this process's GETs by (API, credentials, URL), for `If-None-Match`. Every read still
#: asks the forge (so nothing read from here is stale): a 304 costs no rate-limit budget and means the
#: kept answer is current. Shared by every Forge of the process (and, in RQ workers, their work horses:
#: bot/forge/memo.py), so a job, the next job and a polling loop pay once for what did not change.
ETAGS: Memo[Cached] = Memo("etag", encode=lambda c: c._asdict(), decode=_cached_from)


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

    def _credential(self) -> str:
        """A fingerprint of the credentials (never the token): answers differ by who asks."""
        token = str(getattr(self._auth, "token", "") or "")
        return hashlib.sha256(token.encode()).hexdigest()[:16]

    def _conditional_get(self, url: str, params: dict[str, Any] | None = None) -> tuple[dict[str, Any], Any]:
        """GET with `If-None-Match`: a 304, which costs no rate-limit budget, answers from the cache
        (`ETAGS`, shared by the process's Forges), so repeated reads of what did not change are free."""
        query = "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
        # one key whether PyGithub gave the URL whole (a completed object) or from the API root (a lazy one)
        key = (self.api_url, self._credential(), f"{url.removeprefix(self.api_url)}?{query}")
        _found, cached = ETAGS.get(key)
        headers = {"If-None-Match": cached.etag} if cached else None
        answer_headers, data = self.repo._requester.requestJsonAndCheck("GET", url, parameters=params, headers=headers)
        if data is None and cached is not None:  # 304 Not Modified
            self.calls["not_modified"] += 1
            return cached.headers, cached.data
        etag = next((v for k, v in answer_headers.items() if k.lower() == "etag"), None)
        if etag:
            ETAGS.put(key, Cached(etag, answer_headers, data))
        return answer_headers, data

    def _conditional_list(self, url: str, params: dict[str, Any] | None = None) -> list[tuple[dict[str, Any], Any]]:
        """Every item of a list endpoint (`PER_PAGE` a page, each page a conditional GET), with its page's headers."""
        items: list[tuple[dict[str, Any], Any]] = []
        next_url: str = url
        next_params: dict[str, Any] | None = {**(params or {}), "per_page": PER_PAGE}
        for _page in range(MAX_PAGES):
            headers, data = self._conditional_get(next_url, next_params)
            page = data.get("items", []) if isinstance(data, dict) else (data or [])
            items += [(headers, item) for item in page]
            link = next((v for k, v in headers.items() if k.lower() == "link"), "")
            found = _NEXT.search(link or "")
            if found is None:
                return items
            next_url, next_params = found.group(1), None
        log.warning("list %s: stopped after %d pages", url, MAX_PAGES)
        return items

    def _issue(self, number: int) -> GhIssue:
        headers, data = self._conditional_get(f"{self.repo.url}/issues/{number}")
        return GhIssue(self.repo._requester, headers, data, completed=True)

    def _pull(self, number: int) -> GhPull:
        headers, data = self._conditional_get(f"{self.repo.url}/pulls/{number}")
        return GhPull(self.repo._requester, headers, data, completed=True)

    def _call(self, what: str, fn: Callable[[], R], recover: Callable[[], R | None] | None = None) -> R:
        self._pace(what)
        return self.policy.call(f"{what} {self.repo_full_name}", fn, recover)

    def fitted(self, text: str, what: str, where: str = "the whole text is in the bot's log") -> str:
        """`text` cut to GitHub's body limit (`limits.fit`); a cut text is logged whole, so `where` holds."""
        body = limits.fit(text, where)
        if body != text:
            log.warning(
                "%s on %s: %d characters cut to fit GitHub's limit; the whole text:\n%s",
                what,
                self.repo_full_name,
                len(text) - len(body),
                text,
            )
        return body

    def _pace(self, what: str) -> None:
        """Slow down before the budget runs out: the last answer's `X-RateLimit-*` headers say how much is left."""
        requester = self.repo._requester
        remaining, limit = requester.rate_limiting  # from the last answer's headers; (-1, -1) before any
        wait = self.policy.pace(remaining, limit, requester.rate_limiting_resettime)
        if wait > 0:
            log.info("forge %s: %d of %d requests left until the reset; pausing %.1fs", what, remaining, limit, wait)
            self.policy.sleep(wait * self.policy.scale)

    @property
    def rate_left(self) -> tuple[int, int, int]:
        """(remaining, limit, reset epoch) from the last answer's headers; remaining -1 before any answer."""
        requester = self.repo._requester
        remaining, limit = requester.rate_limiting
        return remaining, limit, requester.rate_limiting_resettime

    def _is_bot(self, login: str) -> bool:
        return login.lower() == self.bot_login.lower()


def opt(value: Any) -> Any:
    """PyGithub's NotSet for None: leave that field alone."""
    return NotSet if value is None else value


def _login(user: Any) -> str:
    return str(user.login) if user is not None else ""


def to_issue(raw: GhIssue) -> Issue:
    """Snapshot of a PyGithub issue, read from the answer that carried it (a list item, a GET, a
    sub-issue listing): never an attribute read, which on a lazy object missing that key (e.g.
    `pull_request` on a plain issue) would fetch the issue again — one GET per listed issue."""
    data = getattr(raw, "_rawData", None)
    # A lazy object (`repo.get_issue(n)`) holds only its number, and an edit updates the attributes but
    # not `_rawData`: those are read through the attributes, as before.
    if not isinstance(data, dict) or not _FULL_ISSUE.issubset(data):
        return _issue_from_attributes(raw)
    return issue_from_json(data)


#: Keys every issue answer carries (a list item, a GET, a sub-issue listing, a webhook's `issue`).
_FULL_ISSUE = frozenset({"number", "title", "state", "labels", "user", "html_url"})


def issue_from_json(data: dict[str, Any]) -> Issue:
    """An issue snapshot from GitHub's JSON (a REST answer or a webhook payload's `issue`)."""

    def login(user: Any) -> str:
        return str(user.get("login") or "") if isinstance(user, dict) else ""

    return Issue(
        id=int(data.get("id") or 0),
        number=int(data["number"]),
        title=data.get("title") or "",
        body=data.get("body") or "",
        state="closed" if data.get("state") == "closed" else "open",
        state_reason=data.get("state_reason"),
        labels=[str(label.get("name") if isinstance(label, dict) else label) for label in data.get("labels") or []],
        assignees=[login(user) for user in data.get("assignees") or []],
        author=login(data.get("user")),
        is_pull=data.get("pull_request") is not None,
        html_url=data.get("html_url") or "",
    )


def _issue_from_attributes(raw: GhIssue) -> Issue:
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
        is_pull=is_pull(raw),
        html_url=raw.html_url or "",
    )


def is_pull(raw: GhIssue) -> bool:
    """Whether the issue is a pull request, read from the answer itself: GitHub's lists carry
    `pull_request` only on pull requests, and asking PyGithub for an attribute a listed item lacks
    GETs the issue again (one request per issue, each of which may fail)."""
    data = getattr(raw, "_rawData", None)
    if isinstance(data, dict):
        return data.get("pull_request") is not None
    return raw.pull_request is not None


def to_comment(raw: GhComment) -> Comment:
    data = getattr(raw, "_rawData", None) or {}  # not `raw_data`: that completes a lazy object with a GET
    number = str(data.get("issue_url") or "").rsplit("/", 1)[-1]
    created = data.get("created_at")
    return Comment(
        id=raw.id,
        body=raw.body or "",
        author=_login(raw.user),
        issue_number=int(number) if number.isdigit() else None,
        created_at=str(created or ""),
    )


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
        node_id=raw.node_id or "",
    )
