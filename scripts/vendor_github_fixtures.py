#!/usr/bin/env python3
"""Vendor the subset of GitHub's published REST/webhook/GraphQL descriptions that the tests need.

Downloads four npm packages with `npm pack` into a temporary directory (nothing else is
fetched and the tarballs are not kept), extracts only the operations, webhook schemas, example
payloads and GraphQL type definitions listed below, converts the schemas to plain JSON Schema
(draft 2020-12) and writes deterministic JSON under tests/fixtures/github/. Re-running with the same pinned versions
reproduces the same bytes. See tests/fixtures/github/README.md.

    python scripts/vendor_github_fixtures.py            # pinned versions
    python scripts/vendor_github_fixtures.py --latest   # newest versions on the registry
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "github"

PACKAGES = {
    "@octokit/openapi": "23.0.2",
    "@octokit/openapi-webhooks": "12.1.0",
    "@octokit/webhooks-examples": "7.6.1",
    "@octokit/graphql-schema": "15.26.1",
}
REST_FILE = "package/generated/api.github.com.json"
GRAPHQL_FILE = "package/schema.graphql"
WEBHOOKS_FILE = "package/generated/api.github.com.json"
EXAMPLES_FILE = "package/api.github.com/index.json"
LICENCE_FILES = {"@octokit/graphql-schema": "package/LICENSE.md"}

# "METHOD /path/template" as GitHub's spec spells them (what localhub implements).
_REST_OPERATIONS_TEXT = """
GET /user
GET /users/{username}
POST /user/repos
POST /orgs/{org}/repos
GET /repos/{owner}/{repo}
PUT /repos/{owner}/{repo}/collaborators/{username}
GET /repos/{owner}/{repo}/collaborators/{username}/permission
GET /repos/{owner}/{repo}/collaborators
GET /repos/{owner}/{repo}/contents/{path}
GET /repos/{owner}/{repo}/branches/{branch}
GET /repos/{owner}/{repo}/branches
GET /repos/{owner}/{repo}/git/ref/{ref}
PATCH /repos/{owner}/{repo}/git/refs/{ref}
DELETE /repos/{owner}/{repo}/git/refs/{ref}
POST /repos/{owner}/{repo}/git/refs
GET /repos/{owner}/{repo}/commits/{ref}
POST /repos/{owner}/{repo}/issues
GET /repos/{owner}/{repo}/issues
GET /repos/{owner}/{repo}/issues/{issue_number}
PATCH /repos/{owner}/{repo}/issues/{issue_number}
GET /repos/{owner}/{repo}/issues/{issue_number}/comments
POST /repos/{owner}/{repo}/issues/{issue_number}/comments
GET /repos/{owner}/{repo}/issues/comments/{comment_id}
PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}
DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}
GET /repos/{owner}/{repo}/issues/comments
GET /repos/{owner}/{repo}/issues/{issue_number}/events
GET /repos/{owner}/{repo}/labels
POST /repos/{owner}/{repo}/labels
GET /repos/{owner}/{repo}/labels/{name}
PATCH /repos/{owner}/{repo}/labels/{name}
DELETE /repos/{owner}/{repo}/labels/{name}
GET /repos/{owner}/{repo}/issues/{issue_number}/labels
POST /repos/{owner}/{repo}/issues/{issue_number}/labels
PUT /repos/{owner}/{repo}/issues/{issue_number}/labels
DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels
DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}
POST /repos/{owner}/{repo}/issues/{issue_number}/assignees
DELETE /repos/{owner}/{repo}/issues/{issue_number}/assignees
POST /repos/{owner}/{repo}/issues/{issue_number}/sub_issues
GET /repos/{owner}/{repo}/issues/{issue_number}/sub_issues
DELETE /repos/{owner}/{repo}/issues/{issue_number}/sub_issue
GET /repos/{owner}/{repo}/issues/{issue_number}/parent
GET /repos/{owner}/{repo}/pulls
POST /repos/{owner}/{repo}/pulls
GET /repos/{owner}/{repo}/pulls/{pull_number}
PATCH /repos/{owner}/{repo}/pulls/{pull_number}
PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge
GET /repos/{owner}/{repo}/pulls/{pull_number}/merge
GET /repos/{owner}/{repo}/pulls/{pull_number}/files
GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews
POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews
GET /repos/{owner}/{repo}/pulls/{pull_number}/comments
POST /repos/{owner}/{repo}/pulls/{pull_number}/comments
POST /repos/{owner}/{repo}/check-runs
GET /repos/{owner}/{repo}/check-runs/{check_run_id}
PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}
GET /repos/{owner}/{repo}/commits/{ref}/check-runs
GET /repos/{owner}/{repo}/commits/{ref}/check-suites
GET /repos/{owner}/{repo}/check-runs/{check_run_id}/annotations
POST /repos/{owner}/{repo}/statuses/{sha}
GET /repos/{owner}/{repo}/commits/{ref}/status
GET /repos/{owner}/{repo}/commits/{ref}/statuses
GET /repos/{owner}/{repo}/hooks
POST /repos/{owner}/{repo}/hooks
GET /repos/{owner}/{repo}/hooks/{hook_id}
DELETE /repos/{owner}/{repo}/hooks/{hook_id}
PATCH /repos/{owner}/{repo}/hooks/{hook_id}
GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries
GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}
POST /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts
GET /app
POST /app/installations/{installation_id}/access_tokens
GET /repos/{owner}/{repo}/installation
GET /app/installations
POST /app-manifests/{code}/conversions
POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches
GET /repos/{owner}/{repo}/actions/runs
GET /repos/{owner}/{repo}/actions/runs/{run_id}
GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs
GET /repos/{owner}/{repo}/actions/jobs/{job_id}
GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs
GET /repos/{owner}/{repo}/branches/{branch}/protection
PUT /repos/{owner}/{repo}/branches/{branch}/protection
DELETE /repos/{owner}/{repo}/branches/{branch}/protection
GET /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks
GET /repos/{owner}/{repo}/rulesets
POST /repos/{owner}/{repo}/rulesets
GET /repos/{owner}/{repo}/rulesets/{ruleset_id}
PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}
DELETE /repos/{owner}/{repo}/rulesets/{ruleset_id}
GET /repos/{owner}/{repo}/rules/branches/{branch}
GET /rate_limit
"""
REST_OPERATIONS = [line.strip() for line in _REST_OPERATIONS_TEXT.splitlines() if line.strip()]

# Operations GitHub serves but its spec does not describe, vendored with the schema of the
# documented operation that answers the same way (recorded in the output and the README).
REST_ALIASES = {
    # Legacy single-ref read: GitHub still answers it (PyGithub's get_git_ref may use it);
    # the spec only documents GET /git/ref/{ref}, whose answer is the same git-ref object.
    "GET /repos/{owner}/{repo}/git/refs/{ref}": "GET /repos/{owner}/{repo}/git/ref/{ref}",
}

# event -> actions whose body schemas are vendored ([] = the event has no action). Besides
# what the bot handles, the inverse actions localhub emits (unassigned, unlabeled) are here.
WEBHOOK_EVENTS: dict[str, list[str]] = {
    "issues": ["opened", "edited", "closed", "reopened", "labeled", "unlabeled", "assigned", "unassigned", "deleted"],
    "issue_comment": ["created", "edited", "deleted"],
    "pull_request": [
        "opened",
        "synchronize",
        "closed",
        "reopened",
        "edited",
        "labeled",
        "unlabeled",
        "assigned",
        "unassigned",
        "ready_for_review",
        "enqueued",
        "dequeued",
        "auto_merge_enabled",
        "auto_merge_disabled",
    ],
    "pull_request_review": ["submitted", "edited", "dismissed"],
    "pull_request_review_comment": ["created", "edited", "deleted"],
    "push": [],
    "check_suite": ["completed", "requested", "rerequested"],
    "check_run": ["created", "completed", "requested_action", "rerequested"],
    "status": [],
    "ping": [],
    "installation": ["created", "deleted"],
    "installation_repositories": ["added", "removed"],
    "workflow_dispatch": [],
    "workflow_run": ["requested", "in_progress", "completed"],
    "workflow_job": ["queued", "in_progress", "completed"],
    "merge_group": ["checks_requested", "destroyed"],
}

# GraphQL types whose definitions are vendored (descriptions dropped): the part of GitHub's
# GraphQL schema localhub serves (merge queue and auto-merge); tests check localhub's own
# schema against these definitions.
GRAPHQL_TYPES = [
    "Query",
    "Mutation",
    "Node",
    "Actor",
    "User",
    "Bot",
    "Repository",
    "PullRequest",
    "PullRequestState",
    "PullRequestMergeMethod",
    "MergeStateStatus",
    "MergeableState",
    "AutoMergeRequest",
    "MergeQueue",
    "MergeQueueConfiguration",
    "MergeQueueMergingStrategy",
    "MergeQueueEntry",
    "MergeQueueEntryState",
    "MergeQueueEntryConnection",
    "MergeQueueEntryEdge",
    "PageInfo",
    "Commit",
    "EnqueuePullRequestInput",
    "EnqueuePullRequestPayload",
    "DequeuePullRequestInput",
    "DequeuePullRequestPayload",
    "EnablePullRequestAutoMergeInput",
    "EnablePullRequestAutoMergePayload",
    "DisablePullRequestAutoMergeInput",
    "DisablePullRequestAutoMergePayload",
    "DateTime",
    "URI",
    "GitObjectID",
    "HTML",
]

# Annotations and OpenAPI-only keywords dropped from schemas (they do not constrain values).
DROPPED = {
    "description",
    "title",
    "example",
    "examples",
    "externalDocs",
    "discriminator",
    "xml",
    "deprecated",
    "default",
    "readOnly",
    "writeOnly",
    "$comment",
    "nullable",
}
SCHEMA_MAPS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
SCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
SCHEMA_ONE = {
    "additionalProperties",
    "items",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
}
REF_PREFIX = "#/components/schemas/"


def npm_pack(package: str, version: str, dest: Path) -> tuple[Path, str]:
    """Fetch one package tarball with npm; return its path and exact version."""
    spec = f"{package}@{version}"
    out = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(dest)],
        check=True,
        capture_output=True,
        text=True,
        cwd=dest,
    ).stdout
    info = json.loads(out)[0]
    return dest / info["filename"], info["version"]


def read_member(tarball: Path, name: str) -> Any:
    """Read one JSON member of a package tarball without unpacking the rest."""
    with tarfile.open(tarball, "r:gz") as tar:
        member = tar.extractfile(name)
        if member is None:
            raise SystemExit(f"{tarball.name}: {name} is not a file")
        return json.load(member)


def read_text(tarball: Path, name: str) -> str:
    with tarfile.open(tarball, "r:gz") as tar:
        member = tar.extractfile(name)
        if member is None:
            raise SystemExit(f"{tarball.name}: {name} is not a file")
        return member.read().decode("utf-8")


def to_json_schema(node: Any, openapi30: bool) -> Any:
    """Convert an OpenAPI schema object to JSON Schema 2020-12, dropping annotations."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in DROPPED or key.startswith("x-"):
            continue
        if key in SCHEMA_MAPS:
            out[key] = {name: to_json_schema(sub, openapi30) for name, sub in value.items()}
        elif key in SCHEMA_LISTS:
            out[key] = [to_json_schema(sub, openapi30) for sub in value]
        elif key in SCHEMA_ONE:
            if isinstance(value, list):
                out[key] = [to_json_schema(sub, openapi30) for sub in value]
            else:
                out[key] = to_json_schema(value, openapi30)
        elif key == "$ref":
            if not value.startswith(REF_PREFIX):
                raise SystemExit(f"unexpected $ref {value}")
            out[key] = "#/$defs/" + value[len(REF_PREFIX) :]
        else:
            out[key] = value
    if openapi30 and node.get("nullable") is True:
        out = add_null(out)
    return out


def add_null(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.0 `nullable: true` → JSON Schema that also accepts null."""
    if "enum" in schema and None not in schema["enum"]:
        schema = {**schema, "enum": [*schema["enum"], None]}
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    if isinstance(kind, list):
        return {**schema, "type": kind if "null" in kind else [*kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def collect_refs(node: Any, found: set[str]) -> None:
    """Add every `#/$defs/NAME` referenced under `node` to `found` (names only)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            found.add(ref[len("#/$defs/") :])
        for value in node.values():
            collect_refs(value, found)
    elif isinstance(node, list):
        for value in node:
            collect_refs(value, found)


def bundle_defs(roots: Any, components: dict[str, Any], openapi30: bool) -> dict[str, Any]:
    """Transitive closure of the component schemas `roots` reference, converted."""
    defs: dict[str, Any] = {}
    pending: set[str] = set()
    collect_refs(roots, pending)
    while pending:
        name = pending.pop()
        if name in defs:
            continue
        defs[name] = to_json_schema(components[name], openapi30)
        more: set[str] = set()
        collect_refs(defs[name], more)
        pending |= more - defs.keys()
    return defs


def child_slots(schema: Any) -> Iterator[tuple[Any, Any]]:
    """(container, key) of every direct subschema of `schema` (not of annotation values)."""
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        if key in SCHEMA_MAPS:
            yield from ((value, name) for name in value)
        elif key in SCHEMA_LISTS or (key in SCHEMA_ONE and isinstance(value, list)):
            yield from ((value, index) for index in range(len(value)))
        elif key in SCHEMA_ONE:
            yield schema, key


def share_repeated(defs: dict[str, Any], min_size: int = 400) -> dict[str, Any]:
    """Hoist subschemas repeated verbatim (the 3.1 webhook schemas inline a lot) into
    `$defs` as `shared-<hash>`, largest saving first; validation is unchanged."""
    while True:
        counts: Counter[str] = Counter()
        slots: list[tuple[Any, Any, str]] = []
        stack = [schema for schema in defs.values()]
        while stack:
            for container, key in child_slots(stack.pop()):
                text = json.dumps(container[key], sort_keys=True)
                if len(text) >= min_size:
                    counts[text] += 1
                    slots.append((container, key, text))
                stack.append(container[key])
        repeated = [text for text, count in counts.items() if count > 1]
        if not repeated:
            return defs
        best = max(repeated, key=lambda text: (len(text) * (counts[text] - 1), text))
        name = "shared-" + hashlib.sha256(best.encode()).hexdigest()[:12]
        defs[name] = json.loads(best)
        for container, key, text in slots:
            if text == best:
                container[key] = {"$ref": f"#/$defs/{name}"}


def deref(spec: dict[str, Any], node: Any) -> Any:
    """Follow a non-schema `$ref` (responses, examples) inside the spec."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def example_value(spec: dict[str, Any], example: dict[str, Any]) -> Any:
    """The body of a media-type example, which may be an Example Object or point at one."""
    value = deref(spec, example).get("value")
    if isinstance(value, dict) and value.get("$ref", "").startswith("#/components/examples/"):
        value = deref(spec, value).get("value")
    return value


def json_content(response: dict[str, Any]) -> dict[str, Any] | None:
    """The application/json (or first JSON-like) media type object of a response."""
    content = response.get("content") or {}
    for media in ["application/json", *sorted(content)]:
        if media in content and "json" in media:
            return dict(content[media])
    return None


def extract_rest(spec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Return (rest document, response examples, missing operation notes)."""
    operations: dict[str, Any] = {}
    examples: dict[str, Any] = {}
    missing: list[str] = []
    for key in [*REST_OPERATIONS, *REST_ALIASES]:
        source_key = REST_ALIASES.get(key, key)
        method, template = source_key.split(" ", 1)
        operation = spec["paths"].get(template, {}).get(method.lower())
        if operation is None:
            missing.append(key)
            continue
        responses: dict[str, Any] = {}
        for status, response in sorted(operation["responses"].items()):
            media = json_content(deref(spec, response))
            responses[status] = to_json_schema(media["schema"], True) if media and "schema" in media else None
            for name, example in sorted((media or {}).get("examples", {}).items()):
                value = example_value(spec, example)
                if value is not None:
                    examples.setdefault(key, {}).setdefault(status, {})[name] = value
        entry: dict[str, Any] = {"operationId": operation["operationId"], "responses": responses}
        if key != source_key:
            entry["aliasOf"] = source_key
        operations[key] = entry
    paths = {template: sorted(m.upper() for m in ops if m != "parameters") for template, ops in spec["paths"].items()}
    document = {
        "paths": dict(sorted(paths.items())),
        "operations": operations,
        # The error bodies GitHub answers on any endpoint are kept even if no operation cites them.
        "$defs": bundle_defs(
            [operations, {"$ref": "#/$defs/basic-error"}, {"$ref": "#/$defs/validation-error"}],
            spec["components"]["schemas"],
            True,
        ),
    }
    return document, examples, missing


def webhook_key(event: str, action: str | None) -> str:
    return event if not action else f"{event}.{action}"


def extract_webhooks(spec: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return (webhook document, missing schema notes)."""
    schemas: dict[str, Any] = {}
    missing: list[str] = []
    headers: dict[str, Any] = {}
    for event, actions in WEBHOOK_EVENTS.items():
        for action in actions or [""]:
            name = f"webhook-{event}-{action}" if action else f"webhook-{event}"
            name = name.replace("_", "-")
            hook = spec["webhooks"].get(name.removeprefix("webhook-"), {}).get("post")
            if name not in spec["components"]["schemas"] or hook is None:
                missing.append(f"{webhook_key(event, action)} ({name})")
                continue
            schemas[webhook_key(event, action)] = {"$ref": f"#/$defs/{name}"}
            for param in hook.get("parameters", []):
                if param.get("in") == "header":
                    headers[param["name"]] = {
                        "required": bool(param.get("required")),
                        "schema": param.get("schema", {}),
                        "example": param.get("example"),
                    }
    defs = bundle_defs(
        [{"$ref": f"#/$defs/{s['$ref'].split('/')[-1]}"} for s in schemas.values()],
        spec["components"]["schemas"],
        False,
    )
    return {"headers": headers, "schemas": schemas, "$defs": share_repeated(defs)}, missing


def extract_examples(index: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Example payloads of the vendored events, by event name."""
    by_event = {entry["name"]: entry["examples"] for entry in index}
    return {event: by_event.get(event, []) for event in WEBHOOK_EVENTS}


_SDL_DESCRIPTION = re.compile(r'^\s*"""(?:.|\n)*?"""\n|^\s*"[^"\n]*"\n', re.MULTILINE)
_SDL_DEFINITION = re.compile(
    r"^(?:type|input|enum|interface|union|scalar) (\w+)[^{\n]*(?:\{\n(?:.*\n)*?^\}|$)", re.MULTILINE
)


def extract_graphql(sdl: str) -> tuple[dict[str, str], list[str]]:
    """The SDL of each type in GRAPHQL_TYPES (descriptions dropped); names not found."""
    bare = _SDL_DESCRIPTION.sub("", sdl)
    found = {m.group(1): m.group(0) for m in _SDL_DEFINITION.finditer(bare)}
    types = {name: found[name] for name in GRAPHQL_TYPES if name in found}
    return types, [f"graphql type {name}" for name in GRAPHQL_TYPES if name not in found]


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # indent=0: one value per line (readable diffs) without the bytes of indentation.
    text = json.dumps(data, indent=0, sort_keys=True, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--latest", action="store_true", help="use the newest published versions instead of the pinned ones"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gh-fixtures-") as tmp:
        tarballs: dict[str, Path] = {}
        versions: dict[str, str] = {}
        for package, pinned in PACKAGES.items():
            tarballs[package], versions[package] = npm_pack(package, "latest" if args.latest else pinned, Path(tmp))
        rest_spec = read_member(tarballs["@octokit/openapi"], REST_FILE)
        hooks_spec = read_member(tarballs["@octokit/openapi-webhooks"], WEBHOOKS_FILE)
        index = read_member(tarballs["@octokit/webhooks-examples"], EXAMPLES_FILE)
        sdl = read_text(tarballs["@octokit/graphql-schema"], GRAPHQL_FILE)
        licences = {
            p: read_text(t, LICENCE_FILES.get(p, "package/LICENSE"))
            for p, t in tarballs.items()
            if p != "@octokit/webhooks-examples"
        }
    rest, rest_examples, rest_missing = extract_rest(rest_spec)
    hooks, hooks_missing = extract_webhooks(hooks_spec)
    graphql, graphql_missing = extract_graphql(sdl)
    source = {
        "packages": versions,
        "files": {
            "@octokit/openapi": REST_FILE,
            "@octokit/openapi-webhooks": WEBHOOKS_FILE,
            "@octokit/webhooks-examples": EXAMPLES_FILE,
            "@octokit/graphql-schema": GRAPHQL_FILE,
        },
        "openapi": {"rest": rest_spec["openapi"], "webhooks": hooks_spec["openapi"]},
        "missing": {"rest": rest_missing, "webhooks": hooks_missing, "graphql": graphql_missing},
        "aliases": REST_ALIASES,
        "licences": licences,
    }
    write_json(OUT / "source.json", source)
    write_json(OUT / "rest.json", rest)
    write_json(OUT / "rest_examples.json", rest_examples)
    write_json(OUT / "webhooks.json", hooks)
    write_json(OUT / "graphql.json", {"types": graphql})
    for event, payloads in extract_examples(index).items():
        write_json(OUT / "examples" / f"{event}.json", payloads)
    for note in rest_missing + hooks_missing + graphql_missing:
        print(f"not found in the spec: {note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
