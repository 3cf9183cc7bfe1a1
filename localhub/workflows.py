"""Local CI as GitHub Actions shows it: a workflow run with one job, its check run, events and log.

`Workflows` (`hub.workflows`) is the sink local CI reports to. Each CI run is a workflow run of
the repository's one (virtual) workflow `CI`, with one job `ci` whose id is the id of its check
run (check suite and check run belong to the App `github-actions`, id 15368, as on GitHub).
Every change emits `workflow_run` (requested, in_progress, completed) and `workflow_job`
(queued, in_progress, completed) next to the `check_run`/`check_suite` events. A finished job
keeps its log in GitHub's format; `log_url()` signs a short-lived URL serving it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from localhub import actionslog, checkstore, workflowstore
from localhub.checkruns import ACTIONS_APP, ACTIONS_BOT
from localhub.ci import CHECK_NAME, CiJob, CiResult, Step
from localhub.shapes import JSON, Shapes, node_id
from localhub.store import Row, now_iso

WORKFLOW_NAME = "CI"
WORKFLOW_PATH = ".github/workflows/localhub-ci.yml"  # virtual: the repo's CI command or .localhub/ci.sh
LOG_URL_SECONDS = 60  # GitHub: the log download URL expires after one minute
RUNNER = {
    "labels": ["localhub"],
    "runner_id": 1,
    "runner_name": "localhub",
    "runner_group_id": 1,
    "runner_group_name": "localhub",
}


class Workflows:
    """Workflow runs and jobs of one hub: the CI sink, REST/webhook shapes, signed log URLs."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.store = hub.store
        self._key = secrets.token_bytes(32)

    # -- the sink local CI reports to -------------------------------------------------------
    def ci_queued(self, job: CiJob) -> int:
        repo = self.store.repo_by_id(job.repo_id)
        check = self.hub.checks.create_run(
            repo,
            ACTIONS_APP.id,
            CHECK_NAME,
            job.head_sha,
            job.head_branch,
            {"status": "queued", "started_at": now_iso()},
            self._bot(),
        )
        run = workflowstore.insert_run(
            self.store, repo["id"], check["suite_id"], job.head_sha, job.head_branch, job.event, job.actor_id
        )
        row = workflowstore.insert_job(self.store, int(check["id"]), run, CHECK_NAME)
        self._emit_run(repo, run, "requested")
        self._emit_job(repo, row, "queued")
        return int(check["id"])

    def ci_started(self, job_id: int) -> None:
        row = workflowstore.job(self.store, job_id)
        repo = self.store.repo_by_id(row["repo_id"])
        stamp = now_iso()
        self.hub.checks.update_run(repo, job_id, {"status": "in_progress", "started_at": stamp}, self._bot())
        workflowstore.update(self.store, "workflow_runs", row["run_id"], status="in_progress", run_started_at=stamp)
        workflowstore.update(
            self.store,
            "workflow_jobs",
            job_id,
            status="in_progress",
            started_at=stamp,
            steps=[_step_json(1, "Set up job", "in_progress", None, stamp, None)],
        )
        self._emit_run(repo, workflowstore.run(self.store, row["run_id"]), "in_progress")
        self._emit_job(repo, workflowstore.job(self.store, job_id), "in_progress")

    def ci_completed(self, job_id: int, result: CiResult) -> None:
        timeout = float(getattr(self.hub.ci, "timeout", 600.0))
        self._complete(
            job_id,
            result.conclusion,
            list(result.steps),
            actionslog.render(result, timeout),
            {"output_title": result.title, "output_summary": result.summary, "output_text": result.text},
        )

    def _complete(self, job_id: int, conclusion: str, steps: list[Step], log: str, output: dict[str, Any]) -> None:
        """Finish job, check run and workflow run (one job per run) with `conclusion`; emit the events."""
        row = workflowstore.job(self.store, job_id)
        repo = self.store.repo_by_id(row["repo_id"])
        stamp = now_iso()
        workflowstore.update(
            self.store,
            "workflow_jobs",
            job_id,
            status="completed",
            conclusion=conclusion,
            completed_at=stamp,
            log=log,
            steps=[
                _step_json(n, s.name, "completed", s.conclusion, actionslog.iso(s.started), actionslog.iso(s.completed))
                for n, s in enumerate(steps, 1)
            ],
        )
        self._emit_job(repo, workflowstore.job(self.store, job_id), "completed")
        self.hub.checks.update_run(
            repo,
            job_id,
            {"status": "completed", "conclusion": conclusion, "completed_at": stamp, **output},
            self._bot(),
        )
        workflowstore.update(self.store, "workflow_runs", row["run_id"], status="completed", conclusion=conclusion)
        self._emit_run(repo, workflowstore.run(self.store, row["run_id"]), "completed")

    def abandon_unfinished(self) -> int:
        """Complete (`cancelled`) the jobs a previous server left unfinished; how many there were."""
        rows = workflowstore.unfinished_jobs(self.store)
        now = time.time()
        for row in rows:
            self._complete(
                row["id"],
                "cancelled",
                [Step("Set up job", "cancelled", now, now)],
                actionslog.BOM + f"{actionslog.stamp(now)} ##[error]The operation was canceled.\n",
                {"output_title": "CI was cancelled", "output_summary": "localhub stopped while this run was pending."},
            )
        return len(rows)

    def _bot(self) -> Row:
        return self.store.ensure_user(ACTIONS_BOT, "Bot")

    # -- events -----------------------------------------------------------------------------
    def _sender(self, run: Row) -> Row:
        return self.store.user_by_id(run["actor_id"]) if run["actor_id"] else self._bot()

    def _emit_run(self, repo: Row, run: Row, action: str) -> None:
        shapes = self.hub.shapes()
        self.hub.events.emit(
            repo,
            "workflow_run",
            {
                "action": action,
                "workflow": self.workflow(shapes, repo),
                "workflow_run": self.run(shapes, run),
                "repository": shapes.repo(repo, webhook=True),
                "sender": shapes.user(self._sender(run)),
            },
        )

    def _emit_job(self, repo: Row, job: Row, action: str) -> None:
        shapes = self.hub.shapes()
        run = workflowstore.run(self.store, job["run_id"])
        self.hub.events.emit(
            repo,
            "workflow_job",
            {
                "action": action,
                "workflow_job": self.job(shapes, job),
                "repository": shapes.repo(repo, webhook=True),
                "sender": shapes.user(self._sender(run)),
            },
        )

    # -- shapes -----------------------------------------------------------------------------
    def workflow(self, shapes: Shapes, repo: Row) -> JSON:
        """The webhook `workflow` object of the repository's one virtual workflow."""
        full = shapes.repo_full_name(repo["id"])
        return {
            "id": repo["id"],
            "node_id": node_id("W", repo["id"]),
            "name": WORKFLOW_NAME,
            "path": WORKFLOW_PATH,
            "state": "active",
            "created_at": repo["created_at"],
            "updated_at": repo["created_at"],
            "url": f"{shapes.api}/repos/{full}/actions/workflows/{repo['id']}",
            "html_url": f"{shapes.web}/{full}/blob/{repo['default_branch']}/{WORKFLOW_PATH}",
            "badge_url": f"{shapes.web}/{full}/workflows/{WORKFLOW_NAME}/badge.svg",
        }

    def run(self, shapes: Shapes, run: Row) -> JSON:
        """`workflow-run` (REST) and the webhook `workflow_run`."""
        repo = self.store.repo_by_id(run["repo_id"])
        full = shapes.repo_full_name(repo["id"])
        api = f"{shapes.api}/repos/{full}"
        url = f"{api}/actions/runs/{run['id']}"
        commit = self.hub.checks.head_commit(repo, run["head_sha"])
        actor = shapes.user(self._sender(run))
        mini = shapes.repo(repo, webhook=True)
        return {
            "id": run["id"],
            "name": WORKFLOW_NAME,
            "node_id": node_id("WFR", run["id"]),
            "check_suite_id": run["check_suite_id"],
            "check_suite_node_id": node_id("CS", run["check_suite_id"]),
            "head_branch": run["head_branch"],
            "head_sha": run["head_sha"],
            "path": WORKFLOW_PATH,
            "display_title": commit["message"].split("\n", 1)[0],
            "run_number": run["run_number"],
            "run_attempt": 1,
            "referenced_workflows": [],
            "event": run["event"],
            "status": run["status"],
            "conclusion": run["conclusion"],
            "workflow_id": repo["id"],
            "url": url,
            "html_url": f"{shapes.web}/{full}/actions/runs/{run['id']}",
            "pull_requests": self.hub.checks.pull_minimals(shapes, repo, run["head_sha"]),
            "created_at": run["created_at"],
            "updated_at": run["updated_at"],
            "actor": actor,
            "triggering_actor": actor,
            "run_started_at": run["run_started_at"],
            "jobs_url": f"{url}/jobs",
            "logs_url": f"{url}/logs",
            "check_suite_url": f"{api}/check-suites/{run['check_suite_id']}",
            "artifacts_url": f"{url}/artifacts",
            "cancel_url": f"{url}/cancel",
            "rerun_url": f"{url}/rerun",
            "previous_attempt_url": None,
            "workflow_url": f"{api}/actions/workflows/{repo['id']}",
            "head_commit": commit,
            "repository": mini,
            "head_repository": mini,
        }

    def job(self, shapes: Shapes, job: Row) -> JSON:
        """`job` (REST) and the webhook `workflow_job`."""
        run = workflowstore.run(self.store, job["run_id"])
        full = shapes.repo_full_name(job["repo_id"])
        api = f"{shapes.api}/repos/{full}"
        runner = RUNNER if job["status"] != "queued" else {**{key: None for key in RUNNER}, "labels": RUNNER["labels"]}
        return {
            "id": job["id"],
            "run_id": run["id"],
            "run_url": f"{api}/actions/runs/{run['id']}",
            "run_attempt": 1,
            "node_id": node_id("CR", job["id"]),
            "head_sha": run["head_sha"],
            "head_branch": run["head_branch"],
            "url": f"{api}/actions/jobs/{job['id']}",
            "html_url": f"{shapes.web}/{full}/actions/runs/{run['id']}/job/{job['id']}",
            "status": job["status"],
            "conclusion": job["conclusion"],
            "created_at": job["created_at"],
            "started_at": job["started_at"],
            "completed_at": job["completed_at"],
            "name": job["name"],
            "steps": json.loads(job["steps"]),
            "check_run_url": f"{api}/check-runs/{job['id']}",
            **runner,
            "workflow_name": WORKFLOW_NAME,
        }

    # -- logs -------------------------------------------------------------------------------
    def log_url(self, web: str, job_id: int, now: float | None = None) -> str:
        """A URL serving the job's log without credentials, valid for LOG_URL_SECONDS."""
        expires = int((now or time.time()) + LOG_URL_SECONDS)
        return f"{web}/_localhub/actions/jobs/{job_id}/log?expires={expires}&signature={self._sign(job_id, expires)}"

    def log_for_signed(self, job_id: int, expires: str, signature: str) -> str | None:
        """The log text if the signature is this hub's and has not expired, else None."""
        if not expires.isdigit() or int(expires) < time.time():
            return None
        if not hmac.compare_digest(self._sign(job_id, int(expires)), signature):
            return None
        row = self.store.one("SELECT log FROM workflow_jobs WHERE id=?", (job_id,))
        return row["log"] if row else None

    def _sign(self, job_id: int, expires: int) -> str:
        return hmac.new(self._key, f"{job_id}:{expires}".encode(), hashlib.sha256).hexdigest()

    def has_run(self, repo_id: int, sha: str) -> bool:
        """Whether local CI already ran (or is running) on this commit."""
        return any(s["app_id"] == ACTIONS_APP.id for s in checkstore.suites_for(self.store, repo_id, sha))


def _step_json(
    number: int, name: str, status: str, conclusion: str | None, started: str | None, completed: str | None
) -> JSON:
    return {
        "name": name,
        "status": status,
        "conclusion": conclusion,
        "number": number,
        "started_at": started,
        "completed_at": completed,
    }
