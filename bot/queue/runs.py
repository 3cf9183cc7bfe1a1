"""Never lose a trigger: a job submitted while the same job is running runs once more afterwards.

Deduplication by job id folds triggers into one job, which is what keeps one planner per goal
and one worker per task. But a trigger that arrives while the job is *running* may come after
the job's last look at the forge; dropping it would leave that news unhandled (a handoff nobody
reads, a goal nobody closes). So a running job is marked in Redis, a submission during the run
leaves an "again" flag, and the job's wrapper (`run_job`) runs the function once more when it
finds the flag at its end. The end-of-run check and the submitter's check are each one Lua
script, so no trigger falls between them.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from rq import get_current_job

from bot.queue.kinds import JobRequest

log = logging.getLogger(__name__)

#: How many extra runs one job may take for triggers that arrived while it ran.
MAX_RERUNS = 5

_SUBMIT = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[1])
  return 'again'
end
if redis.call('EXISTS', KEYS[3]) == 1 then return 'finished' end
return 'idle'
"""
_FINISH = """
if redis.call('DEL', KEYS[2]) == 1 then return 1 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[3], '1', 'EX', ARGV[1])
return 0
"""


def keys(job_id: str) -> list[str]:
    """The running marker, the again flag and the finished marker of one job id."""
    return [f"orchestra:run:{job_id}", f"orchestra:again:{job_id}", f"orchestra:done:{job_id}"]


def note_submission(connection: redis.Redis, job_id: str, ttl: int) -> str:
    """For a duplicate submission: 'again' (the running job will run once more), 'finished'
    (the job made its last check; a new one must be enqueued) or 'idle' (not running)."""
    answer = connection.eval(_SUBMIT, 3, *keys(job_id), ttl)
    return answer.decode() if isinstance(answer, bytes) else str(answer)


#: The job's kind travels in RQ's `job.meta`, so its kwargs stay the kind's plain arguments.
KIND_META = "orchestra_kind"


def run_job(**args: Any) -> Any:
    """What RQ runs: the kind's function (with the runtime this worker process installed at start),
    again while triggers arrived during the run."""
    from bot import runtime

    job = get_current_job()
    if job is None:
        raise RuntimeError("run_job runs inside an RQ worker; call the kind's function directly instead")
    request = JobRequest(job.meta[KIND_META], args)
    spec = request.spec
    rt = runtime.current()
    connection = job.connection
    running, again, done = keys(job.id)
    connection.delete(done)
    connection.set(running, "1", ex=spec.timeout + 60)
    result: Any = None
    for round_ in range(MAX_RERUNS + 1):
        try:
            result = rt.perform(request)
        except Exception:
            # RQ's retry (if any) runs it again with fresh state; a later submission replaces it.
            connection.delete(running, again)
            connection.set(done, "1", ex=60)
            raise
        if round_ == MAX_RERUNS or not connection.eval(_FINISH, 3, running, again, done, 60):
            connection.delete(running)
            return result
        log.info("job %s runs again: triggered while it ran", job.id)
    return result
