"""Branch protection (`.../branches/{b}/protection`), rulesets and the rules in force on a branch.

Protection and ruleset changes need admin rights; reading a ruleset or `rules/branches/{b}`
needs read access, as on GitHub. Subset: protection's `required_status_checks`,
`enforce_admins`, `required_pull_request_reviews` (approving review count) with `restrictions`
null; ruleset rules `required_status_checks` and `merge_queue`, condition `ref_name`.
"""

from __future__ import annotations

from typing import Any, NoReturn
from urllib.parse import quote

from flask import Blueprint, Response

from localhub import protection
from localhub.protectionshapes import protection_json, rule_json, ruleset_json
from localhub.repos import git_for
from localhub.rest import (
    ApiError,
    authorized_repo,
    body_json,
    caller,
    hub,
    json_response,
    no_content,
    not_found,
    paginate,
    urls,
)
from localhub.rulesetinput import ruleset_fields
from localhub.store import Row

bp = Blueprint("protection", __name__)
DOC = "https://docs.github.com/rest/branches/branch-protection"
PROTECTION = "/repos/<owner>/<name>/branches/<path:branch>/protection"
REQUIRED_KEYS = ("required_status_checks", "enforce_admins", "required_pull_request_reviews", "restrictions")


def _invalid(message: str) -> NoReturn:
    raise ApiError(422, f"Invalid request.\n\n{message}", doc=DOC + "#update-branch-protection")


def _branch_or_404(repo: Row, branch: str) -> None:
    if branch not in git_for(hub().store, repo).branches():
        raise ApiError(404, "Branch not found", doc=DOC)


def _protection_or_404(repo: Row, branch: str) -> dict[str, Any]:
    config = protection.protection(hub().store, repo["id"], branch)
    if config is None:
        raise ApiError(404, "Branch not protected", doc=DOC + "#get-branch-protection")
    return config


def _status_checks(given: Any) -> dict[str, Any] | None:
    if given is None:
        return None
    if not isinstance(given, dict) or not isinstance(given.get("strict"), bool):
        _invalid('"strict" wasn\'t supplied.')
    checks = given.get("checks")
    if checks is None:
        contexts = given.get("contexts")
        if not isinstance(contexts, list) or not all(isinstance(c, str) for c in contexts):
            _invalid('"contexts" wasn\'t supplied.')
        checks = [{"context": c, "app_id": None} for c in contexts]
    if not isinstance(checks, list) or not all(
        isinstance(c, dict) and isinstance(c.get("context"), str) for c in checks
    ):
        _invalid("For 'properties/checks', each item needs a string `context`.")
    return {"strict": given["strict"], "checks": [{"context": c["context"], "app_id": c.get("app_id")} for c in checks]}


def _reviews(given: Any) -> dict[str, Any] | None:
    if given is None:
        return None
    if not isinstance(given, dict):
        _invalid("For 'properties/required_pull_request_reviews', it is not an object.")
    count = given.get("required_approving_review_count", 1)
    if not isinstance(count, int) or not 0 <= count <= 6:
        _invalid("required_approving_review_count must be between 0 and 6.")
    return {
        "dismiss_stale_reviews": bool(given.get("dismiss_stale_reviews")),
        "require_code_owner_reviews": bool(given.get("require_code_owner_reviews")),
        "required_approving_review_count": count,
        "require_last_push_approval": bool(given.get("require_last_push_approval")),
    }


def _protection_config(data: dict[str, Any]) -> dict[str, Any]:
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        _invalid(
            ", ".join(f'"{key}"' for key in missing) + (" wasn't" if len(missing) == 1 else " weren't") + " supplied."
        )
    if data["restrictions"] is not None:
        _invalid("localhub implements no push restrictions: `restrictions` must be null.")
    if not isinstance(data["enforce_admins"], bool | None):
        _invalid("For 'properties/enforce_admins', it is not a boolean.")
    return {
        "required_status_checks": _status_checks(data["required_status_checks"]),
        "enforce_admins": bool(data["enforce_admins"]),
        "required_pull_request_reviews": _reviews(data["required_pull_request_reviews"]),
    }


def _rules_changed(repo: Row) -> None:
    """Rules changed: the merge queue and auto-merge look at the repository's PRs again."""
    for name in ("merge_queue", "auto_merge"):
        part = getattr(hub(), name, None)
        if part is not None:
            part.rules_changed(repo)


def _api(repo: Row, branch: str) -> str:
    full = hub().shapes().repo_full_name(repo["id"])
    return f"{urls().api}/repos/{full}/branches/{quote(branch, safe='')}/protection"


@bp.put(PROTECTION)
def put_protection(owner: str, name: str, branch: str) -> Response:
    repo = authorized_repo(owner, name, "admin")
    _branch_or_404(repo, branch)
    config = _protection_config(body_json())
    protection.set_protection(hub().store, repo["id"], branch, config)
    _rules_changed(repo)
    return json_response(protection_json(_api(repo, branch), config))


@bp.get(PROTECTION)
def get_protection(owner: str, name: str, branch: str) -> Response:
    repo = authorized_repo(owner, name, "admin")
    return json_response(protection_json(_api(repo, branch), _protection_or_404(repo, branch)))


@bp.delete(PROTECTION)
def delete_protection(owner: str, name: str, branch: str) -> Response:
    repo = authorized_repo(owner, name, "admin")
    _protection_or_404(repo, branch)
    protection.delete_protection(hub().store, repo["id"], branch)
    _rules_changed(repo)
    return no_content()


@bp.get(PROTECTION + "/required_status_checks")
def get_required_checks(owner: str, name: str, branch: str) -> Response:
    repo = authorized_repo(owner, name, "admin")
    body = protection_json(_api(repo, branch), _protection_or_404(repo, branch))
    if "required_status_checks" not in body:
        raise ApiError(404, "Required status checks not enabled", doc=DOC + "#get-status-checks-protection")
    return json_response(body["required_status_checks"])


# -- rulesets ------------------------------------------------------------------------------------
def _ruleset_or_404(repo: Row, ruleset_id: int) -> Row:
    row = protection.ruleset(hub().store, repo["id"], ruleset_id)
    if row is None:
        not_found()
    return row


@bp.post("/repos/<owner>/<name>/rulesets")
def create_ruleset(owner: str, name: str) -> Response:
    repo = authorized_repo(owner, name, "admin")
    ruleset_id = protection.save_ruleset(hub().store, repo["id"], ruleset_fields(body_json(), None))
    _rules_changed(repo)
    return json_response(ruleset_json(repo, _ruleset_or_404(repo, ruleset_id), caller()), 201)


@bp.get("/repos/<owner>/<name>/rulesets")
def list_rulesets(owner: str, name: str) -> Response:
    repo = authorized_repo(owner, name, "read")
    rows = protection.rulesets(hub().store, repo["id"])
    return paginate(rows, lambda row: ruleset_json(repo, row, caller(), summary=True))


@bp.get("/repos/<owner>/<name>/rulesets/<int:ruleset_id>")
def get_ruleset(owner: str, name: str, ruleset_id: int) -> Response:
    repo = authorized_repo(owner, name, "read")
    return json_response(ruleset_json(repo, _ruleset_or_404(repo, ruleset_id), caller()))


@bp.put("/repos/<owner>/<name>/rulesets/<int:ruleset_id>")
def update_ruleset(owner: str, name: str, ruleset_id: int) -> Response:
    repo = authorized_repo(owner, name, "admin")
    current = _ruleset_or_404(repo, ruleset_id)
    protection.save_ruleset(hub().store, repo["id"], ruleset_fields(body_json(), current), ruleset_id)
    _rules_changed(repo)
    return json_response(ruleset_json(repo, _ruleset_or_404(repo, ruleset_id), caller()))


@bp.delete("/repos/<owner>/<name>/rulesets/<int:ruleset_id>")
def delete_ruleset(owner: str, name: str, ruleset_id: int) -> Response:
    repo = authorized_repo(owner, name, "admin")
    _ruleset_or_404(repo, ruleset_id)
    protection.delete_ruleset(hub().store, ruleset_id)
    _rules_changed(repo)
    return no_content()


@bp.get("/repos/<owner>/<name>/rules/branches/<path:branch>")
def rules_for_branch(owner: str, name: str, branch: str) -> Response:
    """Every rule of the active rulesets targeting `branch` (classic protection is not listed)."""
    repo = authorized_repo(owner, name, "read")
    rules = [
        rule_json(repo, row, rule)
        for row in protection.rules_for(hub().store, repo, branch).rulesets
        for rule in row["rules"]
    ]
    return paginate(rules, lambda rule: rule)
