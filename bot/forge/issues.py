"""Forge verbs on issues: create, edit, link sub-issues, comment, labels, assignees."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping

from github.GithubException import GithubException
from github.Issue import Issue as GhIssue
from github.IssueComment import IssueComment as GhComment

from bot.forge.base import ForgeBase, is_pull, opt, to_comment, to_issue, verb
from bot.forge.types import Comment, Issue, IssueEvent

_ensured: set[tuple[str, str, frozenset[str]]] = set()
_ensured_lock = threading.Lock()

#: How many of the newest issues/comments a create looks through after an ambiguous failure.
RECOVERY_WINDOW = 50


class IssueVerbs(ForgeBase):
    """Issues, comments, labels and assignees of one repository."""

    @verb
    def get_issue(self, number: int) -> Issue:
        return self._call("get issue", lambda: to_issue(self._issue(number)))

    @verb
    def list_issues(
        self, labels: list[str] | None = None, state: str = "open", since: str | None = None
    ) -> list[Issue]:
        """Issues (not pull requests) carrying every label in `labels` (`since`: updated since, ISO 8601).

        Conditional pages of 100: a list that did not change costs no rate-limit budget."""
        params = {
            "state": state,
            **({"labels": ",".join(labels)} if labels else {}),
            **({"since": since} if since else {}),
        }

        def fetch() -> list[Issue]:
            found = self._conditional_list(f"{self.repo.url}/issues", params)
            raw = [GhIssue(self.repo._requester, headers, data, completed=True) for headers, data in found]
            return [issue for issue in map(to_issue, raw) if not issue.is_pull]

        return self._call("list issues", fetch)

    @verb
    def create_issue(self, title: str, body: str, labels: list[str] | None = None) -> Issue:
        """Create an issue; after an ambiguous failure, an issue with the same title and body counts."""
        body = self.fitted(body, "issue body")

        def recover() -> Issue | None:
            newest = self.repo.get_issues(state="all", sort="created", direction="desc")
            for index, raw in enumerate(newest):
                if index >= RECOVERY_WINDOW:
                    break
                if raw.title == title and (raw.body or "") == body and not is_pull(raw):
                    return to_issue(raw)
            return None

        create = lambda: to_issue(self.repo.create_issue(title=title, body=body, labels=labels or []))  # noqa: E731
        return self._call("create issue", create, recover)

    @verb
    def update_issue(
        self,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: str | None = None,
        state_reason: str | None = None,
    ) -> Issue:
        body = None if body is None else self.fitted(body, f"body of #{number}")

        def edit() -> Issue:
            raw = self.repo.get_issue(number)
            raw.edit(title=opt(title), body=opt(body), state=opt(state), state_reason=opt(state_reason))
            return to_issue(raw)

        return self._call("update issue", edit)

    @verb
    def add_sub_issue(self, parent_number: int, child_issue_id: int) -> None:
        """Link a sub-issue by its **id**; linking one already linked is not an error."""

        def linked() -> bool | None:
            return (
                True
                if any(s.id == child_issue_id for s in self.repo.get_issue(parent_number).get_sub_issues())
                else None
            )

        def link() -> bool:
            try:
                self.repo.get_issue(parent_number).add_sub_issue(child_issue_id)
            except GithubException as exc:
                if exc.status != 422 or not linked():
                    raise
            return True

        self._call("add sub-issue", link, linked)

    @verb
    def list_sub_issues(self, number: int) -> list[Issue]:
        return self._call(
            "list sub-issues", lambda: [to_issue(s) for s in self.repo.get_issue(number).get_sub_issues()]
        )

    @verb
    def list_comments(self, number: int) -> list[Comment]:
        """The conversation comments of issue or PR `number`, oldest first (conditional pages)."""

        def fetch() -> list[Comment]:
            found = self._conditional_list(f"{self.repo.url}/issues/{number}/comments")
            return [
                to_comment(GhComment(self.repo._requester, headers, data, completed=True)) for headers, data in found
            ]

        return self._call("list comments", fetch)

    @verb
    def list_repo_comments(self, since: str | None = None) -> list[Comment]:
        """Every issue and PR conversation comment of the repository updated since `since` (ISO 8601), oldest first."""
        params = {"sort": "created", "direction": "asc", **({"since": since} if since else {})}

        def fetch() -> list[Comment]:
            found = self._conditional_list(f"{self.repo.url}/issues/comments", params)
            return [
                to_comment(GhComment(self.repo._requester, headers, data, completed=True)) for headers, data in found
            ]

        return self._call("list repository comments", fetch)

    @verb
    def issue_events(self, number: int) -> list[IssueEvent]:
        """The issue's events, oldest first (GitHub's issue events API: labeled, closed, renamed, ...)."""

        def fetch() -> list[IssueEvent]:
            found: list[IssueEvent] = []
            for page in range(1, 1000):
                _headers, data = self.repo._requester.requestJsonAndCheck(
                    "GET", f"{self.repo.url}/issues/{number}/events", parameters={"per_page": 100, "page": page}
                )
                for raw in data or []:
                    found.append(
                        IssueEvent(
                            id=raw["id"],
                            event=str(raw.get("event") or ""),
                            actor=str((raw.get("actor") or {}).get("login") or ""),
                            label=str((raw.get("label") or {}).get("name") or ""),
                            created_at=str(raw.get("created_at") or ""),
                        )
                    )
                if len(data or []) < 100:
                    break
            return found

        return self._call("list issue events", fetch)

    @verb
    def comment(self, number: int, body: str, recover: Callable[[], Comment | None] | None = None) -> Comment:
        """Post a comment; after an ambiguous failure, `recover` (default: the bot's newest comment
        with this body) finds the comment an earlier attempt posted. A body over GitHub's limit is cut
        (`ForgeBase.fitted`)."""
        body = self.fitted(body, f"comment on #{number}")

        def newest() -> Comment | None:
            mine = [c for c in self.list_comments(number) if self._is_bot(c.author)]
            return mine[-1] if mine and mine[-1].body == body else None

        create = lambda: to_comment(self.repo.get_issue(number).create_comment(body))  # noqa: E731
        return self._call("comment", create, recover or newest)

    @verb
    def edit_comment(self, comment_id: int, text: str) -> Comment:
        text = self.fitted(text, f"comment {comment_id}")

        def edit() -> Comment:
            raw = GhComment(self.repo._requester, url=f"{self.repo.url}/issues/comments/{comment_id}")
            raw.edit(text)
            return to_comment(raw)

        return self._call("edit comment", edit)

    @verb
    def delete_comment(self, comment_id: int) -> None:
        """Delete a comment; one already gone is not an error."""

        def delete() -> None:
            try:
                GhComment(self.repo._requester, url=f"{self.repo.url}/issues/comments/{comment_id}").delete()
            except GithubException as exc:
                if exc.status != 404:  # another racer deleted it first
                    raise

        self._call("delete comment", delete)

    @verb
    def ensure_labels(self, specs: Mapping[str, tuple[str, str]]) -> None:
        """Create every label of `specs` (name → colour, description) that is missing, once per process."""
        key = (self.api_url, self.repo_full_name, frozenset(specs))
        with _ensured_lock:
            if key in _ensured:
                return
        existing = self._call("list labels", lambda: {label.name for label in self.repo.get_labels()})
        for name, (color, description) in specs.items():
            if name not in existing:
                self._create_label(name, color, description)
        with _ensured_lock:
            _ensured.add(key)

    def _create_label(self, name: str, color: str, description: str) -> None:
        def create() -> bool:
            try:
                self.repo.create_label(name=name, color=color, description=description)
            except GithubException as exc:
                if exc.status != 422:  # 422: already exists (another process or an earlier attempt)
                    raise
            return True

        self._call("create label", create)

    @verb
    def replace_labels(self, number: int, *, drop: Collection[str], add: Collection[str]) -> None:
        """Remove the labels in `drop` and put those in `add`; no write when nothing would change."""
        dropped = set(drop) - set(add)

        def apply() -> None:
            raw = self._issue(number)
            current = [label.name for label in raw.labels]
            wanted = [name for name in current if name not in dropped]
            wanted += [name for name in add if name not in wanted]
            if sorted(wanted) != sorted(current):
                raw.set_labels(*wanted)

        self._call("replace labels", apply)

    @verb
    def add_labels(self, number: int, *labels: str) -> None:
        self._call("add labels", lambda: self.repo.get_issue(number).add_to_labels(*labels))

    @verb
    def remove_label(self, number: int, label: str) -> None:
        """Remove a label; one that is not there is not an error."""

        def remove() -> None:
            try:
                self.repo.get_issue(number).remove_from_labels(label)
            except GithubException as exc:  # 404 "Label does not exist" is not UnknownObjectException
                if exc.status != 404:
                    raise

        self._call("remove label", remove)

    @verb
    def assign(self, number: int, login: str) -> None:
        self._call("assign", lambda: self.repo.get_issue(number).add_to_assignees(login))

    @verb
    def unassign(self, number: int, login: str) -> None:
        self._call("unassign", lambda: self.repo.get_issue(number).remove_from_assignees(login))
