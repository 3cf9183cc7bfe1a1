"""localhub's GraphQL schema is a subset of GitHub's: every type, field, argument, input field and
enum value it declares exists in GitHub's published schema (vendored from @octokit/graphql-schema)
with the same type, so an answer localhub executes against it has GitHub's shape. The endpoint
sits where PyGithub looks for it and answers like GitHub's."""

from __future__ import annotations

import json
from typing import Any

import requests
from graphql import parse, print_ast
from graphql.language import (
    DefinitionNode,
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    TypeDefinitionNode,
)

from localhub.graphqlschema import SDL
from tests.support.localhub import LocalhubHandle
from tests.support.schemas import FIXTURES


def _definitions(sdl: str) -> dict[str, DefinitionNode]:
    return {d.name.value: d for d in parse(sdl).definitions if isinstance(d, TypeDefinitionNode)}


def _github() -> dict[str, DefinitionNode]:
    types = json.loads((FIXTURES / "graphql.json").read_text())["types"]
    return {name: _definitions(sdl)[name] for name, sdl in types.items()}


def _fields(node: Any) -> dict[str, Any]:
    return {f.name.value: f for f in getattr(node, "fields", None) or []}


def _problems(ours: Any, theirs: Any) -> list[str]:
    name = ours.name.value
    if type(ours) is not type(theirs):
        return [f"{name}: localhub declares a {type(ours).__name__}, GitHub a {type(theirs).__name__}"]
    problems = []
    if isinstance(ours, EnumTypeDefinitionNode):
        extra = {v.name.value for v in ours.values or []} - {v.name.value for v in theirs.values or []}
        problems += [f"{name}.{value}: not a GitHub enum value" for value in sorted(extra)]
    if isinstance(ours, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
        extra = {i.name.value for i in ours.interfaces or []} - {i.name.value for i in theirs.interfaces or []}
        problems += [f"{name} implements {i}, GitHub's does not" for i in sorted(extra)]
    github_fields = _fields(theirs)
    for field_name, field in _fields(ours).items():
        theirs_field = github_fields.get(field_name)
        if theirs_field is None:
            problems.append(f"{name}.{field_name}: no such field on GitHub")
            continue
        if print_ast(field.type) != print_ast(theirs_field.type):
            problems.append(
                f"{name}.{field_name}: {print_ast(field.type)} here, {print_ast(theirs_field.type)} on GitHub"
            )
        github_args = {a.name.value: a for a in getattr(theirs_field, "arguments", None) or []}
        for arg in getattr(field, "arguments", None) or []:
            other = github_args.get(arg.name.value)
            if other is None or print_ast(arg.type) != print_ast(other.type):
                problems.append(f"{name}.{field_name}({arg.name.value}): not GitHub's argument")
    if isinstance(ours, InputObjectTypeDefinitionNode):
        ours_fields = _fields(ours)
        required = [f for f, d in github_fields.items() if print_ast(d.type).endswith("!") and d.default_value is None]
        problems += [f"{name}.{f}: required by GitHub, missing here" for f in required if f not in ours_fields]
    return problems


def test_localhub_schema_is_a_subset_of_githubs() -> None:
    github = _github()
    problems = []
    for name, ours in _definitions(SDL).items():
        if name not in github:
            problems.append(f"{name}: not vendored from GitHub's schema (add it to GRAPHQL_TYPES)")
            continue
        problems += _problems(ours, github[name])
    assert problems == []
    assert isinstance(github["DateTime"], ScalarTypeDefinitionNode)


def test_a_field_github_lacks_would_be_reported() -> None:
    github = _github()
    fake = _definitions("type MergeQueueEntry { position: String teleport: Int }")["MergeQueueEntry"]
    assert _problems(fake, github["MergeQueueEntry"]) == [
        "MergeQueueEntry.position: String here, Int! on GitHub",
        "MergeQueueEntry.teleport: no such field on GitHub",
    ]


def test_endpoint_is_where_pygithub_looks_and_answers_like_github(localhub: LocalhubHandle) -> None:
    localhub.add_user("alice")
    gh = localhub.github("alice")
    assert gh.requester.graphql_url == f"{localhub.url}/api/graphql"
    _, data = gh.requester.graphql_query("query { viewer { login __typename } }", {})
    assert data == {"data": {"viewer": {"login": "alice", "__typename": "User"}}}
    anonymous = requests.post(f"{localhub.url}/api/graphql", json={"query": "{ viewer { login } }"}, timeout=10)
    assert (
        anonymous.status_code == 401
        and anonymous.json()["message"] == "This endpoint requires you to be authenticated."
    )
    unknown = localhub.graphql("alice", "{ viewer { teleport } }")
    assert "data" not in unknown and "teleport" in unknown["errors"][0]["message"]
