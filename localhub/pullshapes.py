"""GitHub's JSON shapes of pull requests, their files, reviews and review comments."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from localhub import gitops, queuestore
from localhub.shapes import JSON, Shapes, node_id
from localhub.store import Row


class PullShapes:
    """Serializers of PR-side objects, on top of the core's `Shapes`."""

    def __init__(self, shapes: Shapes, git_dir: Path) -> None:
        self.shapes = shapes
        self.store = shapes.store
        self.git_dir = git_dir

    def _full(self, repo_id: int) -> str:
        return self.shapes.repo_full_name(repo_id)

    def _branch(self, pull: Row, side: str, repo: Row, webhook: bool) -> JSON:
        owner = self.store.user_by_id(repo["owner_id"])
        ref, sha = pull[f"{side}_ref"], pull[f"{side}_sha"]
        repo_json = self.shapes.repo(repo, webhook=webhook)
        repo_json.pop("temp_clone_token", None)  # `repository` (unlike `full-repository`) has no null here
        return {
            "label": f"{owner['login']}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.shapes.user(owner),
            "repo": repo_json,
        }

    def pull(
        self,
        pull: Row,
        *,
        full: bool = True,
        webhook: bool = False,
        mergeable: bool | None = None,
        mergeable_state: str = "unknown",
    ) -> JSON:
        """`pull-request` (full) or `pull-request-simple`; webhook=True for event payloads."""
        repo = self.store.repo_by_id(pull["repo_id"])
        issue = self.shapes.issue(pull)
        full_name = self._full(pull["repo_id"])
        api = f"{self.shapes.api}/repos/{full_name}"
        url = f"{api}/pulls/{pull['number']}"
        html = f"{self.shapes.web}/{full_name}/pull/{pull['number']}"
        data: JSON = {
            "url": url,
            "id": pull["issue_id"],
            "node_id": node_id("PR", pull["issue_id"]),
            "html_url": html,
            "diff_url": html + ".diff",
            "patch_url": html + ".patch",
            "issue_url": f"{api}/issues/{pull['number']}",
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}",
            "comments_url": f"{api}/issues/{pull['number']}/comments",
            "statuses_url": f"{api}/statuses/{pull['head_sha']}",
            "number": pull["number"],
            "state": issue["state"],
            "locked": issue["locked"],
            "title": issue["title"],
            "user": issue["user"],
            "body": issue["body"],
            "labels": issue["labels"],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": issue["created_at"],
            "updated_at": issue["updated_at"],
            "closed_at": issue["closed_at"],
            "merged_at": pull["merged_at"],
            "merge_commit_sha": pull["merge_commit_sha"] or pull["test_merge_sha"],
            "assignee": issue["assignee"],
            "assignees": issue["assignees"],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": self._branch(pull, "head", repo, webhook),
            "base": self._branch(pull, "base", repo, webhook),
            "_links": {
                name: {"href": href}
                for name, href in (
                    ("self", url),
                    ("html", html),
                    ("issue", f"{api}/issues/{pull['number']}"),
                    ("comments", f"{api}/issues/{pull['number']}/comments"),
                    ("review_comments", f"{url}/comments"),
                    ("review_comment", f"{api}/pulls/comments{{/number}}"),
                    ("commits", f"{url}/commits"),
                    ("statuses", f"{api}/statuses/{pull['head_sha']}"),
                )
            },
            "author_association": issue["author_association"],
            "auto_merge": self._auto_merge(pull),
            "draft": bool(pull["draft"]),
        }
        if full or webhook:
            data.update(self._details(pull, issue, mergeable, mergeable_state))
        if webhook:
            data.update(
                {
                    "allow_auto_merge": self.store.setting(f"allow_auto_merge:{repo['id']}") == "1",
                    "allow_update_branch": False,
                    "delete_branch_on_merge": False,
                    "merge_commit_message": "PR_TITLE",
                    "merge_commit_title": "MERGE_MESSAGE",
                    "squash_merge_commit_message": "COMMIT_MESSAGES",
                    "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
                    "use_squash_pr_title_as_default": False,
                }
            )
        return data

    def _auto_merge(self, pull: Row) -> JSON | None:
        """`auto-merge`: who enabled it, the merge method and the commit title/message, or None."""
        request = queuestore.auto_merge(self.store, pull["issue_id"])
        if request is None:
            return None
        return {
            "enabled_by": self.shapes.user_by_id(request["enabled_by_id"]),
            "merge_method": request["merge_method"].lower(),
            "commit_title": request["commit_headline"] or "",
            "commit_message": request["commit_body"] or "",
        }

    def _details(self, pull: Row, issue: JSON, mergeable: bool | None, state: str) -> JSON:
        files = self.files(pull)
        review_comments = self.store.one(
            "SELECT COUNT(*) AS n FROM review_comments WHERE pull_id=?", (pull["issue_id"],)
        )
        return {
            "merged": bool(pull["merged"]),
            "mergeable": mergeable,
            "rebaseable": mergeable,
            "mergeable_state": state,
            "merged_by": self.shapes.user_by_id(pull["merged_by_id"]),
            "comments": issue["comments"],
            "review_comments": review_comments["n"] if review_comments else 0,
            "maintainer_can_modify": bool(pull["maintainer_can_modify"]),
            "commits": len(self.commits(pull)),
            "additions": sum(f.additions for f in files),
            "deletions": sum(f.deletions for f in files),
            "changed_files": len(files),
        }

    def commits(self, pull: Row) -> list[str]:
        return gitops.commits_between(self.git_dir, pull["base_sha"], pull["head_sha"])

    def files(self, pull: Row) -> list[gitops.ChangedFile]:
        return gitops.changed_files(self.git_dir, pull["base_sha"], pull["head_sha"])

    def file(self, pull: Row, entry: gitops.ChangedFile) -> JSON:
        """`diff-entry`."""
        full_name = self._full(pull["repo_id"])
        path = quote(entry.filename)
        data: JSON = {
            "sha": entry.sha,
            "filename": entry.filename,
            "status": entry.status,
            "additions": entry.additions,
            "deletions": entry.deletions,
            "changes": entry.changes,
            "blob_url": f"{self.shapes.web}/{full_name}/blob/{pull['head_sha']}/{path}",
            "raw_url": f"{self.shapes.web}/{full_name}/raw/{pull['head_sha']}/{path}",
            "contents_url": f"{self.shapes.api}/repos/{full_name}/contents/{path}?ref={pull['head_sha']}",
        }
        if entry.patch is not None:
            data["patch"] = entry.patch
        if entry.previous_filename is not None:
            data["previous_filename"] = entry.previous_filename
        return data

    def review(self, review: Row, pull: Row) -> JSON:
        """`pull-request-review` (also the webhook `review`)."""
        full_name = self._full(pull["repo_id"])
        html = f"{self.shapes.web}/{full_name}/pull/{pull['number']}#pullrequestreview-{review['id']}"
        pr_url = f"{self.shapes.api}/repos/{full_name}/pulls/{pull['number']}"
        return {
            "id": review["id"],
            "node_id": node_id("PRR", review["id"]),
            "user": self.shapes.user_by_id(review["user_id"]),
            "body": review["body"],
            "state": review["state"],
            "html_url": html,
            "pull_request_url": pr_url,
            "_links": {"html": {"href": html}, "pull_request": {"href": pr_url}},
            "submitted_at": review["submitted_at"],
            "commit_id": review["commit_id"],
            "author_association": self.shapes.association({**review, "repo_id": pull["repo_id"]}),
        }

    def review_comment(self, comment: Row, pull: Row) -> JSON:
        """`pull-request-review-comment`."""
        full_name = self._full(pull["repo_id"])
        api = f"{self.shapes.api}/repos/{full_name}/pulls/comments/{comment['id']}"
        html = f"{self.shapes.web}/{full_name}/pull/{pull['number']}#discussion_r{comment['id']}"
        pr_url = f"{self.shapes.api}/repos/{full_name}/pulls/{pull['number']}"
        position = diff_position(comment["diff_hunk"], comment["line"], comment["side"])
        data: dict[str, Any] = {
            "url": api,
            "id": comment["id"],
            "node_id": node_id("PRRC", comment["id"]),
            "pull_request_review_id": comment["review_id"],
            "diff_hunk": comment["diff_hunk"],
            "path": comment["path"],
            "commit_id": comment["commit_id"],
            "original_commit_id": comment["commit_id"],
            "user": self.shapes.user_by_id(comment["user_id"]),
            "body": comment["body"],
            "created_at": comment["created_at"],
            "updated_at": comment["updated_at"],
            "html_url": html,
            "pull_request_url": pr_url,
            "author_association": self.shapes.association({**comment, "repo_id": pull["repo_id"]}),
            "_links": {"self": {"href": api}, "html": {"href": html}, "pull_request": {"href": pr_url}},
            "start_line": comment["start_line"],
            "original_start_line": comment["start_line"],
            "start_side": comment["side"] if comment["start_line"] else None,
            "line": comment["line"],
            "original_line": comment["line"],
            "side": comment["side"],
            "position": position,
            "original_position": position,
            "subject_type": "line" if comment["line"] else "file",
            "reactions": self.shapes.reactions(api),
        }
        if comment["in_reply_to_id"]:
            data["in_reply_to_id"] = comment["in_reply_to_id"]
        return data


def diff_position(patch: str, line: int | None, side: str = "RIGHT") -> int | None:
    """GitHub's (legacy) `position`: the line's index in the file's diff, counted after the first `@@`."""
    if not patch or line is None:
        return None
    old = new = 0
    for position, text in enumerate(patch.split("\n")):
        if text.startswith("@@"):
            ranges = text.split(" ")
            old = int(ranges[1].lstrip("-").split(",")[0]) - 1
            new = int(ranges[2].lstrip("+").split(",")[0]) - 1
            continue
        if not text.startswith("+"):
            old += 1
        if not text.startswith("-"):
            new += 1
        if (new if side == "RIGHT" else old) == line and not text.startswith("-" if side == "RIGHT" else "+"):
            return position
    return None
