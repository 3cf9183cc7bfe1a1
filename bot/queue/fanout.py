"""`DispatchExecutor`: in Action mode each task's `implement` job becomes its own workflow run.

Events made with an Action's `GITHUB_TOKEN` start no workflow runs, except `workflow_dispatch`
and `repository_dispatch`. So the Action runs every job in-process except `implement`: that one
is handed to `dispatch` (a `workflow_dispatch` with input `task`), and the run started for it
executes the task's implement job in its own process (`local_tasks`). One dispatch per job id
per process; across runs, the workflow's concurrency group keeps one run per task and the
worker's claim on the forge makes a second run for the same task a no-op.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from bot.queue.kinds import Executor, JobRequest, SubmitResult

#: The job kind that leaves this process.
FANNED_OUT = "implement"


class DispatchExecutor:
    """Runs jobs on `inner`, except `implement` jobs for tasks not in `local_tasks`: those go to `dispatch`."""

    def __init__(
        self,
        inner: Executor,
        dispatch: Callable[[JobRequest], None],
        local_tasks: Iterable[tuple[str, int]] = (),
    ) -> None:
        self.inner = inner
        self._dispatch = dispatch
        self.local_tasks = frozenset((repo.lower(), number) for repo, number in local_tasks)
        self._lock = threading.Lock()
        self._dispatched: dict[str, JobRequest] = {}

    def submit(self, job: JobRequest) -> SubmitResult:
        if job.kind != FANNED_OUT or self._is_local(job):
            return self.inner.submit(job)
        jid = job.job_id
        with self._lock:
            if jid in self._dispatched:
                return SubmitResult(jid, job.kind, new=False)
            self._dispatched[jid] = job
        try:
            self._dispatch(job)
        except BaseException:
            with self._lock:  # not dispatched after all: a later submission may try again
                self._dispatched.pop(jid, None)
            raise
        return SubmitResult(jid, job.kind, new=True)

    def _is_local(self, job: JobRequest) -> bool:
        return (str(job.args["repo"]).lower(), int(job.args["number"])) in self.local_tasks

    def live(self, job_id: str) -> bool:
        """True for a job waiting or running here, and for a task dispatched from here: its run was
        started and will claim the task (so the repo's parallel-task cap counts it)."""
        with self._lock:
            if job_id in self._dispatched:
                return True
        live = getattr(self.inner, "live", None)
        return bool(live(job_id)) if live is not None else False

    def failed(self, job_id: str) -> bool:
        """The inner executor's record (a dispatched run's failure shows on its own workflow run)."""
        check = getattr(self.inner, "failed", None)
        return bool(check(job_id)) if check is not None else False

    def cancel(self, job_id: str) -> bool:
        """Drop a job waiting here. A dispatched run is not stopped: its worker finds the task closed."""
        with self._lock:
            if job_id in self._dispatched:
                return False
        cancel = getattr(self.inner, "cancel", None)
        return bool(cancel(job_id)) if cancel is not None else False

    @property
    def dispatched(self) -> list[JobRequest]:
        """The implement jobs handed to `dispatch`, in order."""
        with self._lock:
            return list(self._dispatched.values())

    def queue_depths(self) -> dict[str, int]:
        depths = getattr(self.inner, "queue_depths", None)
        return dict(depths()) if depths is not None else {}
