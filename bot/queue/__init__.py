"""The job queue: the job kinds and the executors that run jobs (RQ on Redis, or in-process)."""

from bot.queue.executors import InlineExecutor, RQExecutor
from bot.queue.kinds import JOBS, Executor, JobKind, JobRequest, SubmitResult, job_id

__all__ = ["JOBS", "Executor", "InlineExecutor", "JobKind", "JobRequest", "RQExecutor", "SubmitResult", "job_id"]
