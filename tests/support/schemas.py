"""Check bodies against GitHub's published REST and webhook schemas (vendored in tests/fixtures/github)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "github"
REGENERATE = "add it to scripts/vendor_github_fixtures.py and re-run that script"
# Path parameters whose values may contain "/" (file paths, refs such as heads/main, branches).
SPANNING_PARAMS = frozenset({"path", "ref", "branch"})
MAX_REPORTED = 5
_PARAM = re.compile(r"\{([^}]+)\}")
_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")


@cache
def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class _Route:
    """One path template of GitHub's REST description, compiled for matching."""

    template: str
    methods: frozenset[str]
    strict: re.Pattern[str]
    loose: re.Pattern[str] | None
    rank: tuple[int, ...]

    @classmethod
    def compile(cls, template: str, methods: frozenset[str]) -> _Route:
        segments = template.strip("/").split("/")
        rank = tuple(0 if "{" not in seg else (1 if _PARAM.fullmatch(seg) else 0) for seg in segments)
        spanning = any(name in SPANNING_PARAMS for name in _PARAM.findall(template))
        return cls(
            template, methods, cls._regex(template, False), cls._regex(template, True) if spanning else None, rank
        )

    @staticmethod
    def _regex(template: str, loose: bool) -> re.Pattern[str]:
        out, last = [], 0
        for match in _PARAM.finditer(template):
            out.append(re.escape(template[last : match.start()]))
            out.append(".+" if loose and match.group(1) in SPANNING_PARAMS else "[^/]+")
            last = match.end()
        out.append(re.escape(template[last:]))
        return re.compile("".join(out))


@cache
def _routes() -> tuple[_Route, ...]:
    methods: dict[str, set[str]] = {t: set(m) for t, m in _load("rest.json")["paths"].items()}
    for key in _load("rest.json")["operations"]:
        method, template = key.split(" ", 1)
        methods.setdefault(template, set()).add(method)
    return tuple(_Route.compile(t, frozenset(m)) for t, m in sorted(methods.items()))


def _normalise(path: str) -> str:
    path = path.split("#", 1)[0].split("?", 1)[0]
    if path.startswith("/api/v3/"):
        path = path[len("/api/v3") :]
    return path.rstrip("/") or "/"


@cache
def find_operation(method: str, path: str) -> str:
    """The vendored operation ("METHOD /template") GitHub would route `method path` to."""
    method, concrete = method.upper(), _normalise(path)
    strict = [r for r in _routes() if r.strict.fullmatch(concrete)]
    if strict:
        route = min(strict, key=lambda r: r.rank)
    else:
        loose = [r for r in _routes() if r.loose is not None and r.loose.fullmatch(concrete)]
        if not loose:
            raise LookupError(f"{method} {path}: no path template of GitHub's REST description matches")
        route = min(loose, key=lambda r: (-r.rank.count(0), r.rank))
    if method not in route.methods:
        raise LookupError(
            f"{method} {path}: GitHub documents only {', '.join(sorted(route.methods))} for {route.template}"
        )
    key = f"{method} {route.template}"
    if key not in _load("rest.json")["operations"]:
        raise LookupError(f"{key} is in GitHub's REST description but not vendored; {REGENERATE}")
    return key


def rest_operations() -> list[str]:
    """Every vendored REST operation as "METHOD /path/template", sorted."""
    return sorted(_load("rest.json")["operations"])


def rest_statuses(operation: str) -> dict[str, bool]:
    """Documented status codes of a vendored operation → whether a JSON body is documented."""
    responses = _operation(operation)["responses"]
    return {status: schema is not None for status, schema in sorted(responses.items())}


def rest_examples(operation: str) -> dict[str, dict[str, Any]]:
    """The spec's response examples of an operation: status → example name → body (copies)."""
    _operation(operation)
    return copy.deepcopy(_load("rest_examples.json").get(operation, {}))


def _operation(operation: str) -> dict[str, Any]:
    try:
        return dict(_load("rest.json")["operations"][operation])
    except KeyError:
        raise LookupError(f"{operation} is not vendored; {REGENERATE}") from None


@cache
def _rest_validator(operation: str, status: str) -> Draft202012Validator | None:
    responses = _operation(operation)["responses"]
    if status not in responses:
        raise LookupError(
            f"{operation} ({_operation(operation)['operationId']}): GitHub documents "
            f"status {', '.join(sorted(responses))}, not {status}"
        )
    schema = responses[status]
    if schema is None:
        return None
    return Draft202012Validator({**schema, "$defs": _load("rest.json")["$defs"]})


def validate_rest_response(method: str, path: str, status: int, body: Any) -> None:
    """Assert `body` is what GitHub's description allows for `method path` answering `status`.

    `path` is concrete (`/repos/o/r/issues/1`); a query string and a leading `/api/v3` are
    ignored. Raises LookupError when the operation or status is not vendored.
    """
    operation = find_operation(method, path)
    validator = _rest_validator(operation, str(status))
    label = f"{operation} ({_operation(operation)['operationId']}) answering {status}"
    if validator is None:
        if status >= 400 and isinstance(body, dict):
            # Error statuses documented "without content" still carry GitHub's error body on the
            # wire (e.g. 422 "Reference does not exist" from DELETE /git/refs): hold it to that shape.
            validate_rest_error(status, body)
            return
        if body not in (None, "", b""):
            raise AssertionError(f"{label}: GitHub documents no body, got {_preview(body)}")
        return
    _check(validator, body, f"{method.upper()} {path} → {label}")


@cache
def _error_validator(name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": _load("rest.json")["$defs"]})


def validate_rest_error(status: int, body: Any) -> None:
    """Assert an error answer GitHub may give on any endpoint (401 bad credentials, 403 rate
    limit, 404, …) matches `basic-error` (`validation-error` for 422), for statuses the
    operation itself does not document."""
    name = "validation-error" if status == 422 else "basic-error"
    _check(_error_validator(name), body, f"{status} error body ({name})")


@cache
def _webhook_validator(key: str) -> tuple[str, Draft202012Validator]:
    document = _load("webhooks.json")
    schema = document["schemas"][key]
    return schema["$ref"].rsplit("/", 1)[-1], Draft202012Validator({**schema, "$defs": document["$defs"]})


def webhook_schema_key(event: str, body: dict[str, Any]) -> str:
    """ "event.action" (or "event" for events without an action) of a vendored body schema."""
    schemas = _load("webhooks.json")["schemas"]
    action = body.get("action")
    key = f"{event}.{action}" if action else event
    if key in schemas:
        return key
    known = sorted(k for k in schemas if k == event or k.startswith(f"{event}."))
    raise LookupError(
        f"no vendored webhook schema for {key!r} (vendored for this event: {', '.join(known) or 'none'}); {REGENERATE}"
    )


def validate_webhook(event: str, body: dict[str, Any]) -> None:
    """Assert `body` matches GitHub's official schema for `event` and `body["action"]`."""
    key = webhook_schema_key(event, body)
    name, validator = _webhook_validator(key)
    _check(validator, body, f"{key} webhook ({name})")


def webhook_problems(event: str, body: dict[str, Any]) -> list[str]:
    """Every way `body` departs from its webhook schema, as sorted "JSON path: reason" lines."""
    _, validator = _webhook_validator(webhook_schema_key(event, body))
    return sorted(f"{e.json_path}: {_reason(e)}" for e in validator.iter_errors(body))


def webhook_events() -> dict[str, list[str]]:
    """Vendored webhook events → actions with a vendored schema ([] when the event has none)."""
    events: dict[str, list[str]] = {}
    for key in sorted(_load("webhooks.json")["schemas"]):
        event, _, action = key.partition(".")
        events.setdefault(event, [])
        if action:
            events[event].append(action)
    return events


def webhook_headers() -> dict[str, dict[str, Any]]:
    """GitHub's documented delivery headers: name → {required, schema, example}."""
    return copy.deepcopy(_load("webhooks.json")["headers"])


def validate_webhook_headers(event: str, headers: Mapping[str, str]) -> None:
    """Assert a delivery carries every header GitHub documents as required, well formed."""
    present = {name.lower(): value for name, value in headers.items()}
    problems = [
        f"missing {name}"
        for name, spec in sorted(webhook_headers().items())
        if spec["required"] and name.lower() not in present
    ]
    if present.get("x-github-event", event) != event:
        problems.append(f"X-GitHub-Event is {present['x-github-event']!r}, expected {event!r}")
    signature = present.get("x-hub-signature-256")
    if signature is not None and not _SIGNATURE.fullmatch(signature):
        problems.append(f"X-Hub-Signature-256 {signature!r} is not sha256=<64 hex digits>")
    agent = present.get("user-agent")
    if agent is not None and not agent.startswith("GitHub-Hookshot/"):
        problems.append(f"User-Agent {agent!r} does not start with GitHub-Hookshot/")
    if problems:
        raise AssertionError(f"{event} delivery headers: " + "; ".join(problems))


def webhook_examples(event: str) -> list[dict[str, Any]]:
    """@octokit/webhooks-examples payloads for `event` (fresh copies, safe to mutate)."""
    try:
        return copy.deepcopy(_load(f"examples/{event}.json"))
    except FileNotFoundError:
        raise LookupError(f"no vendored examples for event {event!r}; {REGENERATE}") from None


def _check(validator: Draft202012Validator, instance: Any, label: str) -> None:
    errors = list(validator.iter_errors(instance))
    if not errors:
        return
    first = best_match(errors)
    lines = [
        f"{label}: body does not match GitHub's schema ({len(errors)} error(s))",
        f"  at {first.json_path}: {_reason(first)}",
    ]
    for error in sorted(errors, key=lambda e: e.json_path):
        if error is not first and len(lines) <= MAX_REPORTED:
            lines.append(f"  at {error.json_path}: {_reason(error)}")
    raise AssertionError("\n".join(lines))


def _reason(error: ValidationError) -> str:
    if error.validator in ("anyOf", "oneOf") and error.context:
        closest = best_match(error.context)
        where = "" if closest.json_path == error.json_path else f" at {closest.json_path}"
        return f"matches none of the {error.validator} alternatives (closest{where}: {_reason(closest)})"
    return _preview(error.message)


def _preview(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
