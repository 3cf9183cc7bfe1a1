"""GitHub's JSON shapes of branch protection, rulesets and the rules in force on a branch."""

from __future__ import annotations

from typing import Any

from localhub.mergegate import bypasses_ruleset
from localhub.rest import hub, urls
from localhub.shapes import JSON, node_id
from localhub.store import Row

DISABLED = (
    "required_linear_history",
    "allow_force_pushes",
    "allow_deletions",
    "block_creations",
    "required_conversation_resolution",
    "lock_branch",
    "allow_fork_syncing",
)


def protection_json(api: str, config: dict[str, Any]) -> JSON:
    """`protected-branch` (PUT) — also a valid `branch-protection` (GET): `restrictions` is absent (null)."""
    body: JSON = {
        "url": api,
        "enforce_admins": {"url": f"{api}/enforce_admins", "enabled": config["enforce_admins"]},
        "required_signatures": {"url": f"{api}/required_signatures", "enabled": False},
        **{key: {"enabled": False} for key in DISABLED},
    }
    checks = config.get("required_status_checks")
    if checks is not None:
        body["required_status_checks"] = {
            "url": f"{api}/required_status_checks",
            "strict": checks["strict"],
            "contexts": [c["context"] for c in checks["checks"]],
            "contexts_url": f"{api}/required_status_checks/contexts",
            "checks": [{"context": c["context"], "app_id": c["app_id"]} for c in checks["checks"]],
        }
    reviews = config.get("required_pull_request_reviews")
    if reviews is not None:
        body["required_pull_request_reviews"] = {"url": f"{api}/required_pull_request_reviews", **reviews}
    return body


def _source(repo: Row) -> str:
    return str(hub().shapes().repo_full_name(repo["id"]))


def ruleset_json(repo: Row, row: Row, user: Row | None, summary: bool = False) -> JSON:
    """`repository-ruleset`; the list answer (`summary`) leaves out conditions, rules and bypass actors."""
    full = _source(repo)
    api, web = urls().api, urls().web
    can = user is not None and bypasses_ruleset(hub().store, repo, row, user, None)
    body: JSON = {
        "id": row["id"],
        "name": row["name"],
        "target": row["target"],
        "source_type": "Repository",
        "source": full,
        "enforcement": row["enforcement"],
        "node_id": node_id("RRS", row["id"]),
        "current_user_can_bypass": "always" if can else "never",
        "_links": {
            "self": {"href": f"{api}/repos/{full}/rulesets/{row['id']}"},
            "html": {"href": f"{web}/{full}/rules/{row['id']}"},
        },
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
    if not summary:
        body.update({"conditions": row["conditions"], "rules": row["rules"], "bypass_actors": row["bypass_actors"]})
    return body


def rule_json(repo: Row, row: Row, rule: dict[str, Any]) -> JSON:
    """`repository-rule-detailed`: the rule plus the ruleset it comes from."""
    return {**rule, "ruleset_source_type": "Repository", "ruleset_source": _source(repo), "ruleset_id": row["id"]}
