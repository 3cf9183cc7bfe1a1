"""The job queue: the job table and the executors that run jobs (RQ on Redis, or in-process)."""

from bot.queue.executors import Executor, InlineExecutor, RQExecutor, SubmitResult
from bot.queue.jobs import JOBS, JobKind, JobRequest, job_id

__all__ = ["JOBS", "Executor", "InlineExecutor", "JobKind", "JobRequest", "RQExecutor", "SubmitResult", "job_id"]
