"""Forge verbs on CI signal as GitHub gives it: check runs and commit statuses, the checks a branch
requires, and the failing step's log of a GitHub Actions job.

Check runs and commit statuses (the older Status API) both count, by name. When branch protection
or a ruleset names required checks, only those gate (`CheckState.failures`, pending while one is
missing); the other failing ones are reported as `advisory`. A failing check run that GitHub
Actions made (`app.slug == "github-actions"`; its id is the job id) gets the failing step's log
tail from `GET .../actions/jobs/{id}/logs` — only for failing runs that gate, at most a few per call.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
from github.GithubException import GithubException

from bot.forge.actionslog import failing_step_tail
from bot.forge.base import ForgeBase, verb
from bot.forge.types import BranchRules, CheckFailure, CheckState

log = logging.getLogger(__name__)

#: Check-run conclusions that mean the check failed (success, neutral and skipped do not).
FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "cancelled", "action_required", "startup_failure", "stale"})
#: GitHub Actions' App: its check runs are jobs whose logs can be read.
ACTIONS_SLUG = "github-actions"
#: Failing Actions jobs whose logs one `check_state` reads.
MAX_LOGS = 3
PAGE = 100
LOG_TIMEOUT_S = 30


@dataclass
class _Check:
    """One check run or status context on a commit, as far as gating goes."""

    name: str
    state: str  # pending | success | failure
    failure: CheckFailure | None = None
    actions_job: int | None = None


class CheckVerbs(ForgeBase):
    """Check runs, statuses, required checks and Actions job logs."""

    _rules: dict[str, BranchRules]

    @verb
    def check_state(self, sha: str, required: Collection[str] | None = None, *, logs: bool = False) -> CheckState:
        """The checks on `sha`, summarised (see the module docstring).

        Without `required` every check gates: any failure makes the state `failure` (even while
        others still run), otherwise any check in progress makes it `pending`, and a commit with
        no checks is `success`. With `required`, a required name that has not reported is pending.
        `logs`: read the failing step's log of failing Actions jobs that gate (for a fixer).
        """
        return self._call("check state", lambda: self._check_state(sha, set(required or ()), logs))

    def _check_state(self, sha: str, required: set[str], with_logs: bool) -> CheckState:
        checks = [*self._runs(sha), *self._statuses(sha)]
        gate = required or {check.name for check in checks}
        failures: list[CheckFailure] = []
        advisory: list[CheckFailure] = []
        pending = bool(required - {check.name for check in checks})
        logs = 0
        for check in checks:
            if check.name not in gate:
                if check.failure is not None:
                    advisory.append(check.failure)
                continue
            if check.state == "pending":
                pending = True
            elif check.failure is not None:
                failure = check.failure
                if with_logs and check.actions_job is not None and logs < MAX_LOGS:
                    logs += 1
                    failure = failure.model_copy(update={"log_tail": self._job_log_tail(check.actions_job)})
                failures.append(failure)
        seen = list(dict.fromkeys(check.name for check in checks))
        if failures:
            return CheckState(state="failure", failures=failures, advisory=advisory, seen=seen)
        return CheckState(state="pending" if pending else "success", advisory=advisory, seen=seen)

    def _pages(self, url: str, params: dict[str, Any], key: str | None = None) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            _headers, data = self.repo._requester.requestJsonAndCheck(
                "GET", url, parameters={**params, "per_page": PAGE, "page": page}
            )
            items = (data or {}).get(key, []) if key else (data or [])
            yield from items
            if len(items) < PAGE:
                return
            page += 1

    def _runs(self, sha: str) -> Iterator[_Check]:
        for run in self._pages(f"{self.repo.url}/commits/{sha}/check-runs", {"filter": "latest"}, "check_runs"):
            name = str(run.get("name") or "")
            if run.get("status") != "completed":
                yield _Check(name, "pending")
            elif run.get("conclusion") in FAILED_CONCLUSIONS:
                app = run.get("app") or {}
                job = int(run["id"]) if app.get("slug") == ACTIONS_SLUG and run.get("id") else None
                yield _Check(name, "failure", self._run_failure(run), job)
            else:
                yield _Check(name, "success")

    def _statuses(self, sha: str) -> Iterator[_Check]:
        latest: dict[str, dict[str, Any]] = {}
        for status in self._pages(f"{self.repo.url}/commits/{sha}/statuses", {}):  # newest first
            latest.setdefault(str(status.get("context") or "default"), status)
        for context, status in latest.items():
            state = status.get("state")
            if state == "pending":
                yield _Check(context, "pending")
            elif state in ("failure", "error"):
                yield _Check(
                    context,
                    "failure",
                    CheckFailure(name=context, conclusion=str(state), summary=status.get("description") or ""),
                )
            else:
                yield _Check(context, "success")

    def _run_failure(self, run: dict[str, Any]) -> CheckFailure:
        output = run.get("output") or {}
        annotations: list[str] = []
        if (output.get("annotations_count") or 0) > 0 and output.get("annotations_url"):
            annotations = [
                f"{a.get('path')}:{a.get('start_line')}: {a.get('annotation_level')}: {a.get('message')}"
                for a in self._pages(str(output["annotations_url"]), {})
            ]
        return CheckFailure(
            name=str(run.get("name") or ""),
            conclusion=str(run.get("conclusion") or ""),
            title=output.get("title") or "",
            summary=output.get("summary") or "",
            text=output.get("text") or "",
            annotations=annotations,
        )

    def _job_log_tail(self, job_id: int) -> str:
        """The failing step's tail of an Actions job's log; "" when the log cannot be read (never raises)."""
        try:
            headers, _ = self.repo._requester.requestBlobAndCheck("GET", f"{self.repo.url}/actions/jobs/{job_id}/logs")
            location = next((v for k, v in headers.items() if k.lower() == "location"), None)
            if not location:
                return ""
            # A short-lived signed URL, often on another host: it gets no credentials.
            answer = requests.get(location, timeout=LOG_TIMEOUT_S)
            answer.raise_for_status()
        except (GithubException, requests.RequestException) as exc:
            log.info("no log for Actions job %s of %s: %s", job_id, self.repo_full_name, exc)
            return ""
        return failing_step_tail(answer.content.decode("utf-8", errors="replace"))

    @verb
    def branch_rules(self, branch: str) -> BranchRules:
        """The required checks and merge queue in force on `branch`, read once per Forge (one job).

        Rulesets come from `GET .../rules/branches/{branch}` (read access); classic protection's
        required checks from `GET .../branches/{branch}` (its `protection` object, also read access).
        """
        cache = self.__dict__.setdefault("_rules", {})
        if branch not in cache:
            cache[branch] = self._call("branch rules", lambda: self._branch_rules(branch))
        return cache[branch]

    def _branch_rules(self, branch: str) -> BranchRules:
        required: list[str] = []
        queue: dict[str, Any] | None = None
        try:
            for rule in self._pages(f"{self.repo.url}/rules/branches/{quote(branch, safe='')}", {}):
                parameters = rule.get("parameters") or {}
                if rule.get("type") == "required_status_checks":
                    required += [str(c.get("context")) for c in parameters.get("required_status_checks") or []]
                elif rule.get("type") == "merge_queue":
                    queue = parameters
        except GithubException as exc:
            if exc.status != 404:  # a forge without rulesets
                raise
        _headers, data = self.repo._requester.requestJsonAndCheck(
            "GET", f"{self.repo.url}/branches/{quote(branch, safe='')}"
        )
        classic = (data or {}).get("protection") or {}
        checks = classic.get("required_status_checks") or {}
        if classic.get("enabled") and checks.get("enforcement_level", "everyone") != "off":
            required += [str(c) for c in checks.get("contexts") or []]
        method = str((queue or {}).get("merge_method") or "MERGE")
        return BranchRules(required=list(dict.fromkeys(required)), merge_queue=queue is not None, merge_method=method)
