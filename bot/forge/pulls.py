"""Forge verbs on pull requests and branches (merging, GitHub's merge queue); checks are in `checks.py`."""

from __future__ import annotations

import logging
from urllib.parse import quote

from github.GithubException import GithubException
from github.PullRequest import PullRequest as GhPull

from bot.errors import PermissionDenied
from bot.forge.base import ForgeBase, opt, to_pull, verb
from bot.forge.types import PullRequest, PullSummary, ReviewNote

#: What the merge queue's GraphQL mutations answer with.
QUEUE_ENTRY = "mergeQueueEntry { id position state }"
log = logging.getLogger(__name__)


class PullVerbs(ForgeBase):
    """Pull requests, branches and the checks on their heads."""

    @verb
    def find_pr(self, head_branch: str, state: str = "open") -> PullRequest | None:
        """The pull request from `head_branch` of this repository (the newest, if several)."""
        owner = self.repo_full_name.split("/")[0]

        def fetch() -> PullRequest | None:
            for raw in self.repo.get_pulls(state=state, head=f"{owner}:{head_branch}"):
                if raw.head.ref == head_branch:
                    return to_pull(raw)
            return None

        return self._call("find pr", fetch)

    @verb
    def get_pr(self, number: int) -> PullRequest:
        return self._call("get pr", lambda: to_pull(self._pull(number)))

    @verb
    def list_prs(self, state: str = "open") -> list[PullSummary]:
        """Pull requests as listed (conditional pages of 100; a list answer carries no mergeability)."""

        def fetch() -> list[PullSummary]:
            found = self._conditional_list(f"{self.repo.url}/pulls", {"state": state})
            pulls = [GhPull(self.repo._requester, headers, data, completed=True) for headers, data in found]
            return [
                PullSummary(
                    number=raw.number,
                    title=raw.title or "",
                    body=raw.body or "",
                    state="closed" if raw.state == "closed" else "open",
                    merged=raw.merged_at is not None,
                    head_ref=raw.head.ref,
                    head_sha=raw.head.sha,
                    base_ref=raw.base.ref,
                    labels=[label.name for label in raw.labels],
                )
                for raw in pulls
            ]

        return self._call("list prs", fetch)

    @verb
    def open_or_update_pr(self, head: str, base: str, title: str, body: str) -> PullRequest:
        """The one open PR for `head`: updated when it exists, else created (never two)."""
        body = self.fitted(body, f"pull request body of {head}")
        existing = self.find_pr(head)
        if existing is not None:
            if existing.title == title and existing.body == body:
                return existing
            return self.update_pr(existing.number, title=title, body=body)

        def create() -> PullRequest:
            try:
                return to_pull(self.repo.create_pull(base=base, head=head, title=title, body=body))
            except GithubException as exc:
                found = self.find_pr(head) if exc.status == 422 else None
                if found is None:
                    raise
                return found

        return self._call("open pr", create, lambda: self.find_pr(head))

    @verb
    def update_pr(self, number: int, *, body: str | None = None, title: str | None = None) -> PullRequest:
        body = None if body is None else self.fitted(body, f"body of PR #{number}")

        def edit() -> PullRequest:
            raw = self.repo.get_pull(number)
            raw.edit(title=opt(title), body=opt(body))
            return to_pull(raw)

        return self._call("update pr", edit)

    @verb
    def merge_pr(self, number: int, method: str = "squash", sha: str | None = None) -> bool:
        """Merge; False when the forge refuses (not mergeable, or the head moved past `sha`)."""

        def merge() -> bool:
            raw = self.repo.get_pull(number)
            try:
                status = raw.merge(merge_method=method, sha=sha) if sha else raw.merge(merge_method=method)
            except GithubException as exc:
                if exc.status in (405, 409, 422):
                    return False
                raise
            return bool(status.merged)

        def merged() -> bool | None:
            return True if self.repo.get_pull(number).merged else None

        return self._call("merge pr", merge, merged)

    @verb
    def enqueue_pr(self, node_id: str, head_sha: str) -> bool:
        """Put the PR (by its GraphQL id) into GitHub's merge queue at `head_sha` (GraphQL
        `enqueuePullRequest`; there is no REST call); False when GitHub refuses (not mergeable,
        checks not passed, head moved). Enqueuing a PR that is already queued is a no-op."""

        def enqueue() -> bool:
            try:
                self.repo._requester.graphql_named_mutation(
                    "enqueuePullRequest", {"pullRequestId": node_id, "expectedHeadOid": head_sha}, QUEUE_ENTRY
                )
            except GithubException as exc:
                errors = (exc.data or {}).get("errors") if isinstance(exc.data, dict) else None
                kinds = {str(e.get("type")) for e in errors or [] if isinstance(e, dict)}
                if "FORBIDDEN" in kinds:
                    raise PermissionDenied("enqueuePullRequest: needs write access to the repository") from exc
                if exc.status in (400, 422) and errors:
                    log.info("enqueue of %s in %s refused: %s", node_id, self.repo_full_name, errors)
                    return False
                raise
            return True

        return self._call("enqueue pr", enqueue)

    @verb
    def delete_branch(self, name: str) -> None:
        """Delete a branch; one already gone is not an error.

        Calls GitHub's documented `DELETE /git/refs/heads/NAME`: PyGithub's lazy `get_git_ref`
        builds the singular `/git/ref/...` URL, which answers GET only, so its `delete()` misses.
        """

        def delete() -> None:
            try:
                self.repo._requester.requestJsonAndCheck("DELETE", f"{self.repo.url}/git/refs/heads/{quote(name)}")
            except GithubException as exc:
                if exc.status not in (404, 422):
                    raise

        self._call("delete branch", delete)

    @verb
    def branch_sha(self, name: str) -> str:
        """The tip of branch `name`."""
        return self._call("get branch", lambda: str(self.repo.get_branch(name).commit.sha))

    @verb
    def approvers(self, number: int) -> list[str]:
        """The logins whose latest review of the PR approves it (whoever they are: the caller decides whose
        approval counts)."""

        def fetch() -> list[str]:
            latest: dict[str, str] = {}
            for review in self.repo.get_pull(number).get_reviews():
                if review.user is not None and review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                    latest[review.user.login] = review.state
            return sorted(login for login, state in latest.items() if state == "APPROVED")

        return self._call("list reviews", fetch)

    @verb
    def review_notes(self, number: int, review_id: int) -> list[ReviewNote]:
        """The review's body and its line comments (or, for a standalone review comment id, that comment)."""

        def fetch() -> list[ReviewNote]:
            pull = self.repo.get_pull(number)
            notes: list[ReviewNote] = []
            for review in pull.get_reviews():
                if review.id == review_id and (review.body or "").strip():
                    notes.append(ReviewNote(author=review.user.login if review.user else "", body=review.body))
            for comment in pull.get_review_comments():
                if review_id in (comment.pull_request_review_id, comment.id):
                    notes.append(
                        ReviewNote(
                            author=comment.user.login if comment.user else "",
                            body=comment.body,
                            path=comment.path or "",
                            line=comment.line or comment.original_line,
                        )
                    )
            return notes

        return self._call("read review", fetch)
