"""Branch protection and rulesets: what they store, which rules are in force on a branch, and
whether a PR's head satisfies them (required checks, approvals, up to date, merge queue).

Classic protection is set per branch name (`PUT .../branches/{b}/protection`); rulesets apply to
the branches their `conditions.ref_name` select (`~DEFAULT_BRANCH`, `~ALL`, `refs/heads/<glob>`)
while `enforcement` is `active`. A required check is satisfied by the newest check run of that name
(from the given App when `app_id`/`integration_id` is set) or the newest commit status of that
context, concluding success, neutral or skipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from localhub import checkstore, pullstore
from localhub.store import Row, Store, now_iso, register_schema

register_schema("""CREATE TABLE IF NOT EXISTS branch_protections (
    repo_id INTEGER NOT NULL, branch TEXT NOT NULL, config TEXT NOT NULL, PRIMARY KEY (repo_id, branch))""")
register_schema("""CREATE TABLE IF NOT EXISTS rulesets (
    id INTEGER PRIMARY KEY AUTOINCREMENT, repo_id INTEGER NOT NULL, name TEXT NOT NULL,
    target TEXT NOT NULL, enforcement TEXT NOT NULL, conditions TEXT, rules TEXT NOT NULL,
    bypass_actors TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""")

PASSING = {"success", "neutral", "skipped"}
#: GitHub's ids of the built-in repository roles in ruleset `bypass_actors` (`RepositoryRole`).
ROLE_IDS = {"maintain": 2, "write": 4, "admin": 5}
RULESET_PREFIX = "Repository rule violations found\n\n"


@dataclass(frozen=True)
class RequiredCheck:
    """A check that must pass: a check run name or status context, optionally from one App."""

    context: str
    app_id: int | None
    ruleset_id: int | None  # None: from classic branch protection


@dataclass
class BranchRules:
    """Every rule in force on one branch (classic protection and active rulesets together)."""

    checks: list[RequiredCheck] = field(default_factory=list)
    strict: bool = False
    approvals: int = 0
    enforce_admins: bool = False
    merge_queue: dict[str, Any] | None = None
    merge_queue_ruleset: int | None = None
    rulesets: list[Row] = field(default_factory=list)
    protected: bool = False

    @property
    def any(self) -> bool:
        return self.protected or bool(self.rulesets)


# -- storage -------------------------------------------------------------------------------------
def protection(store: Store, repo_id: int, branch: str) -> dict[str, Any] | None:
    row = store.one("SELECT config FROM branch_protections WHERE repo_id=? AND branch=?", (repo_id, branch))
    return json.loads(row["config"]) if row else None


def set_protection(store: Store, repo_id: int, branch: str, config: dict[str, Any]) -> None:
    with store.write() as db:
        db.execute(
            "INSERT OR REPLACE INTO branch_protections(repo_id, branch, config) VALUES (?,?,?)",
            (repo_id, branch, json.dumps(config)),
        )


def delete_protection(store: Store, repo_id: int, branch: str) -> bool:
    with store.write() as db:
        cur = db.execute("DELETE FROM branch_protections WHERE repo_id=? AND branch=?", (repo_id, branch))
    return cur.rowcount == 1


def protected_branches(store: Store, repo_id: int) -> set[str]:
    return {r["branch"] for r in store.all("SELECT branch FROM branch_protections WHERE repo_id=?", (repo_id,))}


def rulesets(store: Store, repo_id: int) -> list[Row]:
    return [_decode(r) for r in store.all("SELECT * FROM rulesets WHERE repo_id=? ORDER BY id", (repo_id,))]


def ruleset(store: Store, repo_id: int, ruleset_id: int) -> Row | None:
    row = store.one("SELECT * FROM rulesets WHERE repo_id=? AND id=?", (repo_id, ruleset_id))
    return _decode(row) if row else None


def _decode(row: Row) -> Row:
    return {
        **row,
        "conditions": json.loads(row["conditions"]) if row["conditions"] else None,
        "rules": json.loads(row["rules"]),
        "bypass_actors": json.loads(row["bypass_actors"]),
    }


def save_ruleset(store: Store, repo_id: int, fields: dict[str, Any], ruleset_id: int | None = None) -> int:
    """Insert (or replace the fields of) a ruleset; its id."""
    stamp = now_iso()
    values = (
        fields["name"],
        fields["target"],
        fields["enforcement"],
        json.dumps(fields["conditions"]) if fields.get("conditions") is not None else None,
        json.dumps(fields["rules"]),
        json.dumps(fields["bypass_actors"]),
    )
    with store.write() as db:
        if ruleset_id is None:
            cur = db.execute(
                "INSERT INTO rulesets(repo_id, name, target, enforcement, conditions, rules, bypass_actors,"
                " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (repo_id, *values, stamp, stamp),
            )
            return int(cur.lastrowid or 0)
        db.execute(
            "UPDATE rulesets SET name=?, target=?, enforcement=?, conditions=?, rules=?, bypass_actors=?,"
            " updated_at=? WHERE id=?",
            (*values, stamp, ruleset_id),
        )
    return ruleset_id


def delete_ruleset(store: Store, ruleset_id: int) -> None:
    with store.write() as db:
        db.execute("DELETE FROM rulesets WHERE id=?", (ruleset_id,))


# -- which rules apply ---------------------------------------------------------------------------
def _glob(pattern: str) -> re.Pattern[str]:
    """fnmatch as rulesets use it: `*` stops at `/`, `**` does not."""
    out = ""
    for part in re.split(r"(\*\*|\*|\?)", pattern):
        out += {"**": ".*", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part))
    return re.compile(out)


def ref_matches(patterns: list[str], ref: str, default_branch: str) -> bool:
    for pattern in patterns:
        if pattern == "~ALL" or (pattern == "~DEFAULT_BRANCH" and ref == f"refs/heads/{default_branch}"):
            return True
        if _glob(pattern).fullmatch(ref):
            return True
    return False


def applies(ruleset_row: Row, branch: str, default_branch: str) -> bool:
    """Whether an active branch ruleset targets `branch`."""
    if ruleset_row["enforcement"] != "active" or ruleset_row["target"] != "branch":
        return False
    ref_name = (ruleset_row["conditions"] or {}).get("ref_name") or {}
    ref = f"refs/heads/{branch}"
    return ref_matches(ref_name.get("include") or [], ref, default_branch) and not ref_matches(
        ref_name.get("exclude") or [], ref, default_branch
    )


def rules_for(store: Store, repo: Row, branch: str) -> BranchRules:
    """The rules in force on `branch` of `repo`."""
    rules = BranchRules()
    config = protection(store, repo["id"], branch)
    if config is not None:
        rules.protected = True
        rules.enforce_admins = bool(config.get("enforce_admins"))
        status = config.get("required_status_checks")
        if status:
            rules.strict = bool(status["strict"])
            rules.checks += [RequiredCheck(c["context"], c.get("app_id"), None) for c in status["checks"]]
        reviews = config.get("required_pull_request_reviews")
        if reviews:
            rules.approvals = int(reviews.get("required_approving_review_count", 1))
    for row in rulesets(store, repo["id"]):
        if not applies(row, branch, repo["default_branch"]):
            continue
        rules.rulesets.append(row)
        for rule in row["rules"]:
            params = rule.get("parameters") or {}
            if rule["type"] == "required_status_checks":
                rules.strict = rules.strict or bool(params.get("strict_required_status_checks_policy"))
                rules.checks += [
                    RequiredCheck(c["context"], c.get("integration_id"), row["id"])
                    for c in params.get("required_status_checks", [])
                ]
            elif rule["type"] == "merge_queue" and rules.merge_queue is None:
                rules.merge_queue, rules.merge_queue_ruleset = params, row["id"]
    return rules


# -- whether a commit satisfies them -------------------------------------------------------------
def check_state(store: Store, repo_id: int, sha: str, required: RequiredCheck) -> str:
    """`success`, `pending`, `failure` or `expected` (nothing reported yet) for one required check."""
    states = []
    for run in checkstore.runs_for(store, repo_id, sha):
        if run["name"] == required.context and required.app_id in (None, run["app_id"]):
            states.append(
                "pending" if run["status"] != "completed" else "success" if run["conclusion"] in PASSING else "failure"
            )
    if required.app_id is None:
        for status in checkstore.statuses_for(store, repo_id, sha, latest=True):
            if status["context"] == required.context:
                states.append("failure" if status["state"] == "error" else str(status["state"]))
    for state in ("failure", "pending", "success"):
        if state in states:
            return state
    return "expected"


def unmet_checks(store: Store, repo_id: int, sha: str, required: list[RequiredCheck]) -> list[tuple[str, str]]:
    """(context, state) of each required check (once per context) that has not succeeded on `sha`."""
    seen: dict[str, str] = {}
    for check in required:
        state = check_state(store, repo_id, sha, check)
        if seen.get(check.context) in (None, "success"):
            seen[check.context] = state
    return [(context, state) for context, state in seen.items() if state != "success"]


def checks_message(unmet: list[tuple[str, str]], total: int) -> str:
    """GitHub's 405 text for required checks that have not succeeded."""
    expected = [c for c, s in unmet if s in ("expected", "pending")]
    failing = [c for c, s in unmet if s == "failure"]
    if len(unmet) == 1:
        return f'Required status check "{unmet[0][0]}" is {"failing" if failing else "expected"}.'
    if not failing:
        return f"{len(unmet)} of {total} required status checks are expected."
    if not expected:
        return f"{len(unmet)} of {total} required status checks are failing."
    return (
        f"{len(unmet)} of {total} required status checks have not succeeded: "
        f"{len(expected)} expected and {len(failing)} failing."
    )


def approvals(store: Store, pull: Row) -> int:
    """Approving reviews that count: each reviewer's latest APPROVED/CHANGES_REQUESTED, on any commit."""
    latest: dict[int, str] = {}
    for review in pullstore.reviews(store, pull["issue_id"]):
        if review["state"] in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[review["user_id"]] = review["state"]
    return sum(1 for state in latest.values() if state == "APPROVED")
