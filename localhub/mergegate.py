"""Whether the rules on a PR's base let it merge: GitHub's 405 texts and `mergeable_state`.

`refusal()` answers a direct merge (`PUT .../pulls/{n}/merge`): a merge queue rule refuses it,
then required checks that have not succeeded on the head, missing approvals, and (strict
policy) a head that does not contain the base tip. Admins bypass classic protection unless
`enforce_admins` is on; a ruleset is bypassed only by its `bypass_actors` (repository roles or
an App). `state()` gives `blocked` / `behind` for `mergeable_state` (the same rules, no bypass).
"""

from __future__ import annotations

from pathlib import Path

from localhub import gitops
from localhub.protection import (
    ROLE_IDS,
    RULESET_PREFIX,
    BranchRules,
    RequiredCheck,
    approvals,
    checks_message,
    rules_for,
    unmet_checks,
)
from localhub.store import Row, Store

MERGE_QUEUE_REQUIRED = "Changes must be made through the merge queue"


def role_of(store: Store, repo: Row, user: Row, app_id: int | None) -> str | None:
    """The caller's repository role for bypass purposes (an App acting is not a role holder)."""
    return None if app_id is not None else store.permission(repo, user)


def bypasses_ruleset(store: Store, repo: Row, ruleset: Row, user: Row, app_id: int | None) -> bool:
    """Whether the caller is one of the ruleset's bypass actors."""
    role = role_of(store, repo, user, app_id)
    for actor in ruleset["bypass_actors"]:
        kind, ident = actor.get("actor_type"), actor.get("actor_id")
        if kind == "RepositoryRole" and role is not None and ROLE_IDS.get(role, 0) >= int(ident or 0) > 0:
            return True
        if kind == "Integration" and app_id is not None and ident == app_id:
            return True
    return False


def _bypassed(store: Store, repo: Row, rules: BranchRules, user: Row | None, app_id: int | None) -> set[int | None]:
    """Sources the caller bypasses: None for classic protection, ruleset ids."""
    if user is None:
        return set()
    out: set[int | None] = set()
    if rules.protected and not rules.enforce_admins and role_of(store, repo, user, app_id) == "admin":
        out.add(None)
    out |= {r["id"] for r in rules.rulesets if bypasses_ruleset(store, repo, r, user, app_id)}
    return out


def _check_refusal(store: Store, repo: Row, head: str, checks: list[RequiredCheck]) -> str | None:
    unmet = unmet_checks(store, repo["id"], head, checks)
    if not unmet:
        return None
    from_protection = {c.context for c in checks if c.ruleset_id is None}
    text = checks_message(unmet, len({c.context for c in checks}))
    return text if any(context in from_protection for context, _ in unmet) else RULESET_PREFIX + text


def refusal(
    store: Store, git_dir: Path, repo: Row, pull: Row, base: str, head: str, user: Row | None, app_id: int | None
) -> str | None:
    """GitHub's 405 message when the rules refuse merging `pull` now, else None."""
    rules = rules_for(store, repo, pull["base_ref"])
    if not rules.any:
        return None
    bypassed = _bypassed(store, repo, rules, user, app_id)
    if rules.merge_queue is not None and rules.merge_queue_ruleset not in bypassed:
        return RULESET_PREFIX + MERGE_QUEUE_REQUIRED
    text = _check_refusal(store, repo, head, [c for c in rules.checks if c.ruleset_id not in bypassed])
    if text:
        return text
    if None not in bypassed and approvals(store, pull) < rules.approvals:
        count = rules.approvals
        return (
            f"At least {count} approving review{' is' if count == 1 else 's are'} required by reviewers "
            "with write access."
        )
    if rules.strict and not bypassed and not gitops.is_ancestor(git_dir, base, head):
        return "Head branch is out of date. Review and try the merge again."
    return None


def checks_pass(store: Store, repo: Row, branch: str, sha: str) -> bool:
    """Whether every required check of `branch`'s rules has succeeded on `sha` (True with none)."""
    return not unmet_checks(store, repo["id"], sha, rules_for(store, repo, branch).checks)


def state(store: Store, git_dir: Path, repo: Row, pull: Row, base: str, head: str) -> str | None:
    """`blocked` or `behind` when the base's rules hold the PR back (for anyone), else None."""
    rules = rules_for(store, repo, pull["base_ref"])
    if not rules.any:
        return None
    if unmet_checks(store, repo["id"], head, rules.checks) or approvals(store, pull) < rules.approvals:
        return "blocked"
    if rules.strict and rules.merge_queue is None and not gitops.is_ancestor(git_dir, base, head):
        return "behind"
    return None
