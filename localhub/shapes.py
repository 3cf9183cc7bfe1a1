"""GitHub's JSON shapes of users, repositories, issues, comments and labels (REST and webhooks)."""

from __future__ import annotations

import base64
from typing import Any

from localhub.store import Row, Store

JSON = dict[str, Any]


def node_id(kind: str, ident: int) -> str:
    return base64.b64encode(f"0:{kind}{ident}".encode()).decode().rstrip("=")


class Shapes:
    """Serializers bound to one store and one web root (`http://host:port`)."""

    def __init__(self, store: Store, web: str) -> None:
        self.store = store
        self.web = web
        self.api = web + "/api/v3"

    # -- users ------------------------------------------------------------------------------
    def user(self, row: Row | None) -> JSON | None:
        if row is None:
            return None
        login, api = row["login"], f"{self.api}/users/{row['login']}"
        return {
            "login": login,
            "id": row["id"],
            "node_id": node_id("U", row["id"]),
            "avatar_url": f"{self.web}/avatars/{login}",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.web}/{login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": row["type"],
            "user_view_type": "public",
            "site_admin": False,
        }

    def user_by_id(self, user_id: int | None) -> JSON | None:
        return self.user(self.store.user_by_id(user_id)) if user_id else None

    def full_user(self, row: Row, private: bool = False) -> JSON:
        public_repos = len(self.store.all("SELECT id FROM repos WHERE owner_id=? AND private=0", (row["id"],)))
        data = {
            **(self.user(row) or {}),
            "name": row["name"] or row["login"],
            "company": None,
            "blog": "",
            "location": None,
            "email": row["email"],
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "public_repos": public_repos,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": row["created_at"],
            "updated_at": row["created_at"],
        }
        if private:
            data.update(
                {
                    "private_gists": 0,
                    "total_private_repos": 0,
                    "owned_private_repos": 0,
                    "disk_usage": 0,
                    "collaborators": 0,
                    "two_factor_authentication": False,
                    "plan": {"name": "enterprise", "space": 976562499, "private_repos": 10000, "collaborators": 0},
                }
            )
        return data

    # -- repositories -----------------------------------------------------------------------
    def repo(self, row: Row, permissions: JSON | None = None, webhook: bool = False) -> JSON:
        owner = self.store.user_by_id(row["owner_id"])
        full = f"{owner['login']}/{row['name']}"
        api = f"{self.api}/repos/{full}"
        open_issues = self.store.one("SELECT COUNT(*) AS n FROM issues WHERE repo_id=? AND state='open'", (row["id"],))[
            "n"
        ]  # type: ignore[index]
        host = self.web.split("://")[1]
        data: JSON = {
            "id": row["id"],
            "node_id": node_id("R", row["id"]),
            "name": row["name"],
            "full_name": full,
            "private": bool(row["private"]),
            "owner": self.user(owner),
            "html_url": f"{self.web}/{full}",
            "description": row["description"],
            "fork": False,
            "url": api,
            **_repo_urls(api),
            "git_url": f"git://{host}/{full}.git",
            "ssh_url": f"git@{host.split(':')[0]}:{full}.git",
            "clone_url": f"{self.web}/{full}.git",
            "mirror_url": None,
            "svn_url": f"{self.web}/{full}",
            "homepage": None,
            "language": None,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "size": 0,
            "default_branch": row["default_branch"],
            "open_issues_count": open_issues,
            "is_template": False,
            "topics": [],
            "has_issues": True,
            "has_projects": True,
            "has_wiki": True,
            "has_pages": False,
            "has_downloads": True,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "visibility": "private" if row["private"] else "public",
            "pushed_at": row["pushed_at"] or row["created_at"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "allow_forking": True,
            "web_commit_signoff_required": False,
            "license": None,
            "forks": 0,
            "open_issues": open_issues,
            "watchers": 0,
        }
        if permissions is not None:
            data["permissions"] = permissions
        if not webhook:
            data.update(
                {
                    "temp_clone_token": None,
                    "allow_squash_merge": True,
                    "allow_merge_commit": True,
                    "allow_rebase_merge": True,
                    "allow_auto_merge": self.store.setting(f"allow_auto_merge:{row['id']}") == "1",
                    "delete_branch_on_merge": False,
                    "allow_update_branch": False,
                    "use_squash_pr_title_as_default": False,
                    "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
                    "squash_merge_commit_message": "COMMIT_MESSAGES",
                    "merge_commit_title": "MERGE_MESSAGE",
                    "merge_commit_message": "PR_TITLE",
                    "network_count": 0,
                    "subscribers_count": 0,
                }
            )
        return data

    def repo_full_name(self, repo_id: int) -> str:
        row = self.store.repo_by_id(repo_id)
        return f"{self.store.user_by_id(row['owner_id'])['login']}/{row['name']}"

    # -- labels -----------------------------------------------------------------------------
    def label(self, row: Row) -> JSON:
        full = self.repo_full_name(row["repo_id"])
        return {
            "id": row["id"],
            "node_id": node_id("LA", row["id"]),
            "url": f"{self.api}/repos/{full}/labels/{_quote(row['name'])}",
            "name": row["name"],
            "color": row["color"],
            "default": False,
            "description": row["description"],
        }

    def issue_labels(self, issue_id: int) -> list[Row]:
        return self.store.all(
            "SELECT l.* FROM labels l JOIN issue_labels il ON il.label_id=l.id WHERE il.issue_id=? ORDER BY l.name",
            (issue_id,),
        )

    # -- issues -----------------------------------------------------------------------------
    def issue(self, row: Row) -> JSON:
        full = self.repo_full_name(row["repo_id"])
        api = f"{self.api}/repos/{full}/issues/{row['number']}"
        kind = "pull" if row["is_pull"] else "issues"
        assignees = [
            self.user(u)
            for u in self.store.all(
                "SELECT u.* FROM users u JOIN issue_assignees a ON a.user_id=u.id WHERE a.issue_id=? ORDER BY u.login",
                (row["id"],),
            )
        ]
        comments = self.store.one("SELECT COUNT(*) AS n FROM comments WHERE issue_id=?", (row["id"],))
        data: JSON = {
            "id": row["id"],
            "node_id": node_id("I", row["id"]),
            "url": api,
            "repository_url": f"{self.api}/repos/{full}",
            "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
            "html_url": f"{self.web}/{full}/{kind}/{row['number']}",
            "number": row["number"],
            "state": row["state"],
            "state_reason": row["state_reason"],
            "title": row["title"],
            "body": row["body"],
            "user": self.user_by_id(row["user_id"]),
            "labels": [self.label(lab) for lab in self.issue_labels(row["id"])],
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "milestone": None,
            "locked": bool(row["locked"]),
            "active_lock_reason": None,
            "comments": comments["n"] if comments else 0,
            "closed_at": row["closed_at"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "closed_by": self.user_by_id(row["closed_by_id"]),
            "author_association": self.association(row),
            "reactions": self.reactions(api),
            "timeline_url": f"{api}/timeline",
            "performed_via_github_app": None,
            "sub_issues_summary": self.sub_issues_summary(row["id"]),
        }
        if row["is_pull"]:
            pulls = f"{self.api}/repos/{full}/pulls/{row['number']}"
            data["pull_request"] = {
                "url": pulls,
                "html_url": data["html_url"],
                "diff_url": data["html_url"] + ".diff",
                "patch_url": data["html_url"] + ".patch",
                "merged_at": row["merged_at"],
            }
            data["draft"] = False
        return data

    def sub_issues_summary(self, issue_id: int) -> JSON:
        rows = self.store.all("SELECT state FROM issues WHERE parent_id=?", (issue_id,))
        total = len(rows)
        done = sum(1 for r in rows if r["state"] == "closed")
        return {"total": total, "completed": done, "percent_completed": (done * 100 // total) if total else 0}

    def association(self, row: Row) -> str:
        repo = self.store.repo_by_id(row["repo_id"])
        if row["user_id"] == repo["owner_id"]:
            return "OWNER"
        user = self.store.user_by_id(row["user_id"])
        return "COLLABORATOR" if self.store.permission(repo, user) else "NONE"

    @staticmethod
    def reactions(url: str) -> JSON:
        return {
            "url": f"{url}/reactions",
            "total_count": 0,
            "+1": 0,
            "-1": 0,
            "laugh": 0,
            "hooray": 0,
            "confused": 0,
            "heart": 0,
            "rocket": 0,
            "eyes": 0,
        }

    # -- comments ---------------------------------------------------------------------------
    def comment(self, row: Row) -> JSON:
        full = self.repo_full_name(row["repo_id"])
        issue = self.store.issue_by_id(row["issue_id"]) or {}
        api = f"{self.api}/repos/{full}/issues/comments/{row['id']}"
        kind = "pull" if issue.get("is_pull") else "issues"
        return {
            "id": row["id"],
            "node_id": node_id("IC", row["id"]),
            "url": api,
            "html_url": f"{self.web}/{full}/{kind}/{issue.get('number')}#issuecomment-{row['id']}",
            "body": row["body"],
            "user": self.user_by_id(row["user_id"]),
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "issue_url": f"{self.api}/repos/{full}/issues/{issue.get('number')}",
            "author_association": self.association(row),
            "performed_via_github_app": None,
            "reactions": self.reactions(api),
        }

    # -- installations ----------------------------------------------------------------------
    def installation(self, installation_id: int, app_id: int, slug: str, account: Row) -> JSON:
        return {
            "id": installation_id,
            "account": self.user(account),
            "repository_selection": "all",
            "access_tokens_url": f"{self.api}/app/installations/{installation_id}/access_tokens",
            "repositories_url": f"{self.api}/installation/repositories",
            "html_url": f"{self.web}/settings/installations/{installation_id}",
            "app_id": app_id,
            "app_slug": slug,
            "target_id": account["id"],
            "target_type": account["type"],
            "client_id": f"Iv1.localhub{app_id}",
            "permissions": dict(APP_PERMISSIONS),
            "events": list(APP_EVENTS),
            "created_at": account["created_at"],
            "updated_at": account["created_at"],
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None,
            "suspended_at": None,
        }


def _repo_urls(api: str) -> JSON:
    """The `*_url` templates of a repository whose API URL is `api`."""
    return {
        "archive_url": f"{api}/{{archive_format}}{{/ref}}",
        "assignees_url": f"{api}/assignees{{/user}}",
        "blobs_url": f"{api}/git/blobs{{/sha}}",
        "branches_url": f"{api}/branches{{/branch}}",
        "collaborators_url": f"{api}/collaborators{{/collaborator}}",
        "comments_url": f"{api}/comments{{/number}}",
        "commits_url": f"{api}/commits{{/sha}}",
        "compare_url": f"{api}/compare/{{base}}...{{head}}",
        "contents_url": f"{api}/contents/{{+path}}",
        "contributors_url": f"{api}/contributors",
        "deployments_url": f"{api}/deployments",
        "downloads_url": f"{api}/downloads",
        "events_url": f"{api}/events",
        "forks_url": f"{api}/forks",
        "git_commits_url": f"{api}/git/commits{{/sha}}",
        "git_refs_url": f"{api}/git/refs{{/sha}}",
        "git_tags_url": f"{api}/git/tags{{/sha}}",
        "hooks_url": f"{api}/hooks",
        "issue_comment_url": f"{api}/issues/comments{{/number}}",
        "issue_events_url": f"{api}/issues/events{{/number}}",
        "issues_url": f"{api}/issues{{/number}}",
        "keys_url": f"{api}/keys{{/key_id}}",
        "labels_url": f"{api}/labels{{/name}}",
        "languages_url": f"{api}/languages",
        "merges_url": f"{api}/merges",
        "milestones_url": f"{api}/milestones{{/number}}",
        "notifications_url": f"{api}/notifications{{?since,all,participating}}",
        "pulls_url": f"{api}/pulls{{/number}}",
        "releases_url": f"{api}/releases{{/id}}",
        "stargazers_url": f"{api}/stargazers",
        "statuses_url": f"{api}/statuses/{{sha}}",
        "subscribers_url": f"{api}/subscribers",
        "subscription_url": f"{api}/subscription",
        "tags_url": f"{api}/tags",
        "teams_url": f"{api}/teams",
        "trees_url": f"{api}/git/trees{{/sha}}",
    }


APP_PERMISSIONS = {
    "checks": "write",
    "contents": "write",
    "issues": "write",
    "metadata": "read",
    "pull_requests": "write",
    "statuses": "write",
}
APP_EVENTS = [
    "check_run",
    "check_suite",
    "issue_comment",
    "issues",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "push",
    "status",
]


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
