"""The vendored GitHub descriptions are usable: examples validate (or lag for a recorded reason),
bad bodies fail naming the field, and concrete paths route to the operation GitHub would pick."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest

from tests.support import schemas

# --- webhooks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lag:
    """A known way @octokit/webhooks-examples payloads lag the official schemas."""

    events: str  # regex over the event name
    path: str  # regex over the JSON path of the problem
    problem: str  # regex searched in the problem text
    reason: str


REPO = r"\$(\.pull_request\.(base|head))?\.repo(sitory)?"
# Every problem of every example must be explained by one of these, and every entry must
# explain at least one problem (so a regenerated corpus that no longer lags shows up here).
WEBHOOK_LAGS = [
    Lag(
        ".*",
        REPO,
        r"'(has_discussions|topics|visibility|disabled)' is a required",
        "repository fields GitHub added after these examples were recorded",
    ),
    Lag(
        "installation.*",
        r"\$\.installation\.(created|updated)_at",
        r"^\d+ is not of type 'string'",
        "old installation examples carry Unix timestamps; the schema says date-time strings",
    ),
    Lag(
        "installation.*",
        r"\$\.installation",
        r"'(app_slug|suspended_at|suspended_by)' is a required",
        "installation fields added after the examples were recorded",
    ),
    Lag("installation_repositories", r"\$", r"'requester' is a required", "one example predates the `requester` field"),
    Lag(
        "check_run",
        r"\$\.check_run(\.check_suite)?\.app",
        r"'(events|permissions)' is a required",
        "rerequested examples carry a trimmed-down app object",
    ),
    Lag(
        "check_run",
        r"\$\.check_run",
        r"'(details_url|node_id)' is a required",
        "rerequested examples predate these check-run fields",
    ),
    Lag(
        "issues|issue_comment",
        r"\$\.issue",
        r"'(active_lock_reason|reactions)' is a required",
        "old issue examples predate lock reasons and reactions",
    ),
    Lag(
        "issues|issue_comment",
        r"\$\.issue\.labels\[\d+\]",
        r"'description' is a required",
        "old label objects had no description",
    ),
    Lag(
        "issue_comment",
        r"\$\.comment",
        r"'(performed_via_github_app|reactions)' is a required",
        "an old comment example predates these fields",
    ),
    Lag(
        "pull_request.*",
        r"\$\.pull_request",
        r"'(auto_merge|active_lock_reason|draft)' is a required",
        "old pull request examples predate drafts, auto-merge and lock reasons",
    ),
    Lag(
        "pull_request_review_comment",
        r"\$\.comment",
        r"'(line|original_line|start_line|original_start_line|side|start_side|reactions)' is a required",
        "an old review comment example predates multi-line comments and reactions",
    ),
    Lag(
        "status",
        r"\$\.commit\.commit\.verification",
        r"'verified_at' is a required",
        "status examples predate `verification.verified_at`",
    ),
    Lag(
        "workflow_job",
        r"\$\.workflow_job",
        r"'(created_at|head_branch|run_attempt|workflow_name)' is a required",
        "the oldest workflow_job example predates these job fields",
    ),
    Lag(
        "workflow_run",
        r"\$\.workflow_run",
        r"'(actor|path|triggering_actor)' is a required",
        "the oldest workflow_run example predates these run fields",
    ),
]

# Example actions the project does not vendor a schema for (the bot neither handles nor emits
# them); the examples are still vendored as input for the webhook service.
UNVENDORED_EXAMPLE_ACTIONS = {
    "installation": {"new_permissions_accepted", "suspend", "unsuspend"},
    "issues": {"demilestoned", "locked", "milestoned", "pinned", "transferred", "unlocked", "unpinned"},
    "pull_request": {"converted_to_draft", "locked", "review_request_removed", "review_requested", "unlocked"},
    "workflow_job": {"waiting"},
}


def _lag_for(event: str, problem: str) -> Lag | None:
    path, _, text = problem.partition(": ")
    for lag in WEBHOOK_LAGS:
        if re.fullmatch(lag.events, event) and re.fullmatch(lag.path, path) and re.search(lag.problem, text):
            return lag
    return None


def test_every_example_validates_or_lags_for_a_recorded_reason() -> None:
    used: set[Lag] = set()
    unexplained: list[str] = []
    skipped: dict[str, set[str]] = {}
    clean = 0
    for event in schemas.webhook_events():
        for index, body in enumerate(schemas.webhook_examples(event)):
            try:
                problems = schemas.webhook_problems(event, body)
            except LookupError:
                skipped.setdefault(event, set()).add(body["action"])
                continue
            clean += not problems
            for problem in problems:
                lag = _lag_for(event, problem)
                if lag is None:
                    unexplained.append(f"{event}[{index}] ({body.get('action')}): {problem}")
                else:
                    used.add(lag)
    assert unexplained == []
    assert [lag.reason for lag in WEBHOOK_LAGS if lag not in used] == []
    assert skipped == UNVENDORED_EXAMPLE_ACTIONS
    assert clean >= 50  # most of the corpus matches the schemas exactly


def test_every_vendored_event_has_examples() -> None:
    for event in schemas.webhook_events():
        assert schemas.webhook_examples(event), event


def test_lagging_example_fails_validate_webhook_naming_the_field() -> None:
    status = schemas.webhook_examples("status")[0]
    with pytest.raises(AssertionError, match=r"\$\.commit\.commit\.verification: 'verified_at'"):
        schemas.validate_webhook("status", status)
    status["commit"]["commit"]["verification"]["verified_at"] = None
    schemas.validate_webhook("status", status)


def test_webhook_schema_is_chosen_by_action() -> None:
    opened = next(b for b in schemas.webhook_examples("issues") if b["action"] == "opened")
    schemas.validate_webhook("issues", opened)
    with pytest.raises(AssertionError, match=r"(?s)issues\.edited webhook .*\$: 'changes' is a required"):
        schemas.validate_webhook("issues", {**opened, "action": "edited"})
    with pytest.raises(LookupError, match="issues.frobnicated"):
        schemas.validate_webhook("issues", {**opened, "action": "frobnicated"})


def test_webhook_missing_required_field_is_named() -> None:
    body = next(b for b in schemas.webhook_examples("issue_comment") if b["action"] == "edited")
    schemas.validate_webhook("issue_comment", body)
    del body["comment"]["user"]
    with pytest.raises(AssertionError, match=r"at \$\.comment: 'user' is a required property"):
        schemas.validate_webhook("issue_comment", body)


def test_webhook_examples_are_fresh_copies_and_unknown_events_are_refused() -> None:
    schemas.webhook_examples("ping")[0]["zen"] = "changed"
    assert schemas.webhook_examples("ping")[0]["zen"] != "changed"
    with pytest.raises(LookupError, match="no vendored examples"):
        schemas.webhook_examples("sponsorship")


def test_delivery_headers_are_vendored() -> None:
    headers = {name.lower(): spec for name, spec in schemas.webhook_headers().items()}
    for name in ("x-github-event", "x-github-delivery", "x-hub-signature-256", "user-agent"):
        assert headers[name]["required"] is True, name


def test_delivery_headers_are_checked_as_github_documents_them() -> None:
    good = {
        "User-Agent": "GitHub-Hookshot/localhub",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": "0b989ba4-242f-11e5-81e1-c7b6966d2516",
        "X-GitHub-Hook-ID": "7",
        "X-GitHub-Hook-Installation-Target-ID": "1",
        "X-GitHub-Hook-Installation-Target-Type": "repository",
        "X-Hub-Signature-256": "sha256=" + "ab" * 32,
    }
    schemas.validate_webhook_headers("push", good)
    bad = {**good, "X-GitHub-Event": "status", "X-Hub-Signature-256": "sha1=00"}
    del bad["X-GitHub-Delivery"]
    with pytest.raises(AssertionError) as failure:
        schemas.validate_webhook_headers("push", bad)
    message = str(failure.value)
    assert "missing X-GitHub-Delivery" in message
    assert "X-GitHub-Event is 'status'" in message and "sha256=<64 hex digits>" in message


def test_fixture_files_are_in_the_generator_canonical_form() -> None:
    for path in sorted(schemas.FIXTURES.rglob("*.json")):
        text = path.read_text(encoding="utf-8")
        canonical = json.dumps(json.loads(text), indent=0, sort_keys=True, ensure_ascii=False)
        assert text == canonical + "\n", f"{path} was edited by hand; re-run the script"


# --- REST -----------------------------------------------------------------------------------

# The spec's own response examples that do not match its schemas (recorded, not hidden).
REST_EXAMPLE_LAGS = {
    (
        "GET /app/installations",
        "200",
        "default",
    ): "the spec inlines `account` as allOf[simple-user, enterprise] here (anyOf elsewhere)",
    ("GET /repos/{owner}/{repo}", "200", "default-response"): "example lacks `language`",
    ("GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs", "200", "default"): "example job lacks `created_at`",
    ("GET /repos/{owner}/{repo}/actions/jobs/{job_id}", "200", "default"): "example job lacks `created_at`",
    (
        "GET /repos/{owner}/{repo}/branches/{branch}/protection",
        "200",
        "default",
    ): "example lacks `required_status_checks.checks`; its teams lack `type`",
    (
        "GET /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks",
        "200",
        "default",
    ): "example lacks `checks`",
    (
        "GET /repos/{owner}/{repo}/rulesets",
        "200",
        "default",
    ): "example enforcement `enabled` is not one of the schema's values (disabled, active, evaluate)",
    (
        "GET /repos/{owner}/{repo}/branches",
        "200",
        "default",
    ): "example protection lacks `required_status_checks.checks`",
    (
        "GET /repos/{owner}/{repo}/collaborators/{username}/permission",
        "200",
        "response-if-user-has-admin-permissions",
    ): "example user lacks `role_name`",
    ("GET /repos/{owner}/{repo}/commits/{ref}", "200", "default"): "example files lack `sha` and `contents_url`",
    ("GET /repos/{owner}/{repo}/pulls", "200", "default"): "example teams lack `type`",
    ("GET /repos/{owner}/{repo}/pulls/{pull_number}", "200", "default"): "example teams lack `type`",
    ("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", "200", "default"): "example teams lack `type`",
    ("POST /repos/{owner}/{repo}/pulls", "201", "default"): "example teams lack `type`",
    ("POST /orgs/{org}/repos", "201", "default"): "example lacks `has_discussions`",
    ("POST /user/repos", "201", "default"): "example lacks `has_discussions`",
}


def _concrete(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", template)


def test_spec_examples_validate_or_lag_for_a_recorded_reason() -> None:
    failing, valid = set(), 0
    for operation in schemas.rest_operations():
        method, template = operation.split(" ", 1)
        for status, examples in schemas.rest_examples(operation).items():
            for name, body in examples.items():
                try:
                    schemas.validate_rest_response(method, _concrete(template), int(status), body)
                    valid += 1
                except AssertionError:
                    failing.add((operation, status, name))
    assert failing == set(REST_EXAMPLE_LAGS)
    assert valid >= 60


def test_known_good_issue_validates_and_missing_field_is_named() -> None:
    issue = schemas.rest_examples("POST /repos/{owner}/{repo}/issues")["201"]["default"]
    schemas.validate_rest_response("POST", "/api/v3/repos/o/r/issues", 201, issue)
    schemas.validate_rest_response("PATCH", "/repos/o/r/issues/1347", 200, issue)
    del issue["user"]["login"]
    with pytest.raises(AssertionError) as failure:
        schemas.validate_rest_response("GET", "/repos/o/r/issues/1347?x=1", 200, issue)
    message = str(failure.value)
    assert "GET /repos/{owner}/{repo}/issues/{issue_number} (issues/get)" in message
    assert "$.user" in message and "'login'" in message


def test_wrong_type_is_reported_with_its_json_path() -> None:
    label = schemas.rest_examples("POST /repos/{owner}/{repo}/labels")["201"]["default"]
    with pytest.raises(AssertionError, match=r"at \$\.id: 'seven' is not of type 'integer'"):
        schemas.validate_rest_response("POST", "/repos/o/r/labels", 201, {**label, "id": "seven"})


def test_error_bodies_and_bodiless_answers() -> None:
    not_found = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}
    schemas.validate_rest_response("GET", "/repos/o/r/issues/9", 404, not_found)
    schemas.validate_rest_response("DELETE", "/repos/o/r/labels/bug", 204, None)
    with pytest.raises(AssertionError, match="documents no body"):
        schemas.validate_rest_response("DELETE", "/repos/o/r/labels/bug", 204, {"x": 1})
    unprocessable = {
        "message": "Validation Failed",
        "documentation_url": "https://docs.github.com",
        "errors": [{"resource": "Label", "code": "already_exists", "field": "name"}],
    }
    schemas.validate_rest_response("POST", "/repos/o/r/labels", 422, unprocessable)
    with pytest.raises(AssertionError, match=r"\$\.errors"):
        schemas.validate_rest_response("POST", "/repos/o/r/labels", 422, {**unprocessable, "errors": "nope"})


def test_error_bodies_for_statuses_an_operation_does_not_document() -> None:
    with pytest.raises(LookupError, match="not 401"):
        schemas.validate_rest_response("GET", "/repos/o/r/labels", 401, {"message": "Bad credentials"})
    schemas.validate_rest_error(
        401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
    )
    with pytest.raises(AssertionError, match=r"(?s)401 error body \(basic-error\).*\$\.message"):
        schemas.validate_rest_error(401, {"message": 401})
    with pytest.raises(AssertionError, match="'documentation_url' is a required property"):
        schemas.validate_rest_error(422, {"message": "Validation Failed"})


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("GET", "/repos/o/r/issues/comments/5", "GET /repos/{owner}/{repo}/issues/comments/{comment_id}"),
        ("GET", "/repos/o/r/issues/comments", "GET /repos/{owner}/{repo}/issues/comments"),
        ("GET", "/repos/o/r/issues/5", "GET /repos/{owner}/{repo}/issues/{issue_number}"),
        (
            "DELETE",
            "/repos/o/r/issues/5/labels/bug",
            "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
        ),
        ("DELETE", "/repos/o/r/issues/5/sub_issue", "DELETE /repos/{owner}/{repo}/issues/{issue_number}/sub_issue"),
        ("GET", "/repos/o/r/git/ref/heads/feature/x", "GET /repos/{owner}/{repo}/git/ref/{ref}"),
        ("GET", "/repos/o/r/git/refs/heads/main", "GET /repos/{owner}/{repo}/git/refs/{ref}"),
        ("DELETE", "/repos/o/r/git/refs/heads/a/b", "DELETE /repos/{owner}/{repo}/git/refs/{ref}"),
        ("GET", "/repos/o/r/contents/src/pkg/mod.py?ref=main", "GET /repos/{owner}/{repo}/contents/{path}"),
        ("GET", "/repos/o/r/commits/abc123/check-runs", "GET /repos/{owner}/{repo}/commits/{ref}/check-runs"),
        ("GET", "/repos/o/r/commits/feature/x/status", "GET /repos/{owner}/{repo}/commits/{ref}/status"),
        ("GET", "/repos/o/r/branches/feature/x", "GET /repos/{owner}/{repo}/branches/{branch}"),
        ("GET", "/repos/o/r/pulls/3/merge", "GET /repos/{owner}/{repo}/pulls/{pull_number}/merge"),
        (
            "POST",
            "/repos/o/r/hooks/1/deliveries/2/attempts",
            "POST /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts",
        ),
        ("get", "/api/v3/user/", "GET /user"),
    ],
)
def test_concrete_paths_route_to_the_operation_github_picks(method: str, path: str, operation: str) -> None:
    assert schemas.find_operation(method, path) == operation


def test_gaps_raise_lookup_errors_that_say_what_to_do() -> None:
    with pytest.raises(LookupError, match="not vendored; add it to scripts/vendor_github_fixtures.py"):
        schemas.validate_rest_response("GET", "/repos/o/r/git/matching-refs/heads", 200, [])
    with pytest.raises(LookupError, match="GitHub documents only"):
        schemas.validate_rest_response("PUT", "/repos/o/r/issues/comments/5", 200, {})
    with pytest.raises(LookupError, match="not 418"):
        schemas.validate_rest_response("GET", "/user", 418, {})
    with pytest.raises(LookupError, match="no path template"):
        schemas.validate_rest_response("GET", "/no/such/thing", 200, {})


def test_every_listed_operation_is_vendored_with_a_success_answer() -> None:
    operations = schemas.rest_operations()
    assert len(operations) >= 79
    for operation in operations:
        assert any(code.startswith(("2", "3")) for code in schemas.rest_statuses(operation)), operation
