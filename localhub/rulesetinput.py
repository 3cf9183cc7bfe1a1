"""Validating a ruleset body (`POST`/`PUT .../rulesets`) as GitHub does, for the rules localhub enforces.

422 answers use GitHub's wording (`Invalid request.\\n\\nInvalid property /rules/0: data matches no
possible input.`). Rule types other than `required_status_checks` and `merge_queue` are refused
(localhub would store them without enforcing them). Missing merge-queue parameters get GitHub's
defaults.
"""

from __future__ import annotations

from typing import Any, NoReturn

from localhub.rest import ApiError

DOC = "https://docs.github.com/rest/repos/rules#create-a-repository-ruleset"
ENFORCEMENTS = ("disabled", "active", "evaluate")
BYPASS_TYPES = ("RepositoryRole", "Integration", "OrganizationAdmin", "Team", "DeployKey")
#: merge_queue parameters: GitHub's default and allowed range (or values).
MERGE_QUEUE_PARAMS: dict[str, tuple[Any, Any]] = {
    "check_response_timeout_minutes": (60, range(1, 361)),
    "grouping_strategy": ("ALLGREEN", ("ALLGREEN", "HEADGREEN")),
    "max_entries_to_build": (5, range(0, 101)),
    "max_entries_to_merge": (5, range(0, 101)),
    "merge_method": ("MERGE", ("MERGE", "SQUASH", "REBASE")),
    "min_entries_to_merge": (1, range(0, 101)),
    "min_entries_to_merge_wait_minutes": (5, range(0, 361)),
}


def _invalid(message: str) -> NoReturn:
    raise ApiError(422, f"Invalid request.\n\n{message}", doc=DOC)


def _rule(index: int, rule: Any) -> dict[str, Any]:
    where = f"Invalid property /rules/{index}: data matches no possible input."
    if not isinstance(rule, dict) or not isinstance(rule.get("type"), str):
        _invalid(where)
    params = rule.get("parameters") or {}
    if not isinstance(params, dict):
        _invalid(where)
    if rule["type"] == "required_status_checks":
        checks = params.get("required_status_checks")
        if (
            not isinstance(checks, list)
            or not isinstance(params.get("strict_required_status_checks_policy"), bool)
            or not all(isinstance(c, dict) and isinstance(c.get("context"), str) for c in checks)
        ):
            _invalid(where)
        kept = [{k: c[k] for k in ("context", "integration_id") if k in c} for c in checks]
        out = {
            "required_status_checks": kept,
            "strict_required_status_checks_policy": params["strict_required_status_checks_policy"],
        }
        if "do_not_enforce_on_create" in params:
            out["do_not_enforce_on_create"] = bool(params["do_not_enforce_on_create"])
        return {"type": "required_status_checks", "parameters": out}
    if rule["type"] == "merge_queue":
        values = {}
        for key, (default, allowed) in MERGE_QUEUE_PARAMS.items():
            value = params.get(key, default)
            if isinstance(value, bool) or value not in allowed:
                _invalid(where)
            values[key] = value
        return {"type": "merge_queue", "parameters": values}
    _invalid(f"{where} (localhub implements the rule types required_status_checks and merge_queue)")


def _conditions(given: Any) -> dict[str, Any] | None:
    if given is None:
        return None
    ref_name = given.get("ref_name") if isinstance(given, dict) else None
    if not isinstance(ref_name, dict):
        _invalid("Invalid property /conditions: data matches no possible input.")
    lists = {key: ref_name.get(key, []) for key in ("include", "exclude")}
    if not all(isinstance(v, list) and all(isinstance(p, str) for p in v) for v in lists.values()):
        _invalid("Invalid property /conditions/ref_name: data matches no possible input.")
    return {"ref_name": lists}


def _bypass(given: Any) -> list[dict[str, Any]]:
    if not isinstance(given, list) or not all(
        isinstance(a, dict) and a.get("actor_type") in BYPASS_TYPES for a in given
    ):
        _invalid("Invalid property /bypass_actors: data matches no possible input.")
    return [
        {"actor_id": a.get("actor_id"), "actor_type": a["actor_type"], "bypass_mode": a.get("bypass_mode", "always")}
        for a in given
    ]


def ruleset_fields(data: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """The stored fields of a new ruleset (`current` None) or of `current` updated by `data`."""
    merged = {**(current or {"target": "branch", "bypass_actors": [], "rules": [], "conditions": None}), **data}
    if not isinstance(merged.get("name"), str) or not merged["name"].strip():
        _invalid('"name" wasn\'t supplied.')
    if merged.get("enforcement") not in ENFORCEMENTS:
        _invalid(
            '"enforcement" wasn\'t supplied.'
            if "enforcement" not in merged
            else "Invalid property /enforcement: data matches no possible input."
        )
    if merged.get("target") != "branch":
        _invalid("Invalid property /target: localhub implements branch rulesets only.")
    rules = merged.get("rules") or []
    if not isinstance(rules, list):
        _invalid("Invalid property /rules: data matches no possible input.")
    return {
        "name": merged["name"],
        "target": "branch",
        "enforcement": merged["enforcement"],
        "conditions": _conditions(merged.get("conditions")),
        "bypass_actors": _bypass(merged["bypass_actors"]),
        "rules": [_rule(i, rule) for i, rule in enumerate(rules)],
    }
