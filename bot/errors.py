"""The typed errors of the orchestra, each with the sentence a person reads and how to recover.

One table, `ERROR_TABLE`, is derived from the classes: it is what a failure comment on the
forge says and which label it leaves. Catch these narrowly; let anything else fail the job
loudly so the queue keeps it in its failed registry.
"""

from __future__ import annotations

NEEDS_HUMAN = "needs-human"


class OrchestraError(Exception):
    """Something the orchestra could not do."""

    #: What a person reads on the forge (the exception's message is appended).
    headline = "Agent Orchestra could not finish this step."
    #: How a person gets things moving again.
    recovery = "Comment `/orchestra retry` to try again."
    #: The state label this failure leaves on the task (None: leave the label alone).
    label: str | None = NEEDS_HUMAN

    def comment(self) -> str:
        """The Markdown a failure comment carries."""
        detail = str(self) or "(no detail)"
        return f"**{self.headline}**\n\n{detail}\n\n_How to recover:_ {self.recovery}"


class ConfigError(OrchestraError):
    """A setting or `.github/orchestra.yml` value is missing or wrong."""

    headline = "The orchestra configuration is invalid."
    recovery = "Fix the file named above on the default branch, then comment `/orchestra retry`."


class ForgeError(OrchestraError):
    """The forge (GitHub, GHES or localhub) refused or failed a request."""

    headline = "A request to the forge failed."
    recovery = "Check the app's permissions and the forge's status, then comment `/orchestra retry`."


class ForgeUnavailable(ForgeError):
    """The forge answered 5xx or could not be reached after bounded retries."""

    headline = "The forge was unavailable after several attempts."
    recovery = "Wait until the forge is back, then comment `/orchestra retry`."
    label = None


class RateLimited(ForgeError):
    """The forge's primary or secondary rate limit is spent and the wait would exceed the bound."""

    headline = "The forge's rate limit is spent."
    recovery = "The work resumes by itself once the limit resets; or comment `/orchestra retry` later."
    label = None


class PermissionDenied(ForgeError):
    """The app or token lacks a permission the step needs."""

    headline = "The orchestra lacks a permission on this repository."
    recovery = "Grant the permission named above to the app (see app.yml), then comment `/orchestra retry`."


class ModelError(OrchestraError):
    """The model provider failed after bounded retries, or refused the request."""

    headline = "The model provider failed."
    recovery = "Check the model spec and API key for this role, then comment `/orchestra retry`."


class ModelUnavailable(ModelError):
    """The provider kept answering 429/5xx/overloaded or timing out past the retry bound."""

    headline = "The model provider stayed unavailable after several attempts."
    recovery = "Wait a few minutes, then comment `/orchestra retry`."
    label = None


class BudgetExceeded(OrchestraError):
    """An agent run or a goal reached its step, token, money or time budget."""

    headline = "The work stopped at its budget."
    recovery = "Raise the budget in `.github/orchestra.yml` or split the task, then comment `/orchestra retry`."


class PlanInvalid(OrchestraError):
    """The planner's plan failed validation more times than allowed."""

    headline = "The planner could not produce a valid plan."
    recovery = "Clarify the goal (or comment `/orchestra replan <guidance>`), then `/orchestra plan`."


class GoalNotApproved(OrchestraError):
    """The planner has no goal text that someone with write access filed or approved."""

    headline = "The goal's text is not approved by someone with write access."
    recovery = "Someone with write access comments `/orchestra plan` on the goal to approve its current text."


class AgentFailed(OrchestraError):
    """The coding agent ended without finishing the task (it gave up or said it could not)."""

    headline = "The agent could not complete this task."
    recovery = "Add guidance in a comment and then comment `/orchestra retry`."


class SandboxViolation(OrchestraError):
    """A tool call tried to leave the worktree or touch a protected path."""

    headline = "The agent tried to act outside what it may touch."
    recovery = "Check the task's owned paths and `protected_paths`, then comment `/orchestra retry`."


class PushRejected(OrchestraError):
    """A push was still rejected after fetching, merging and retrying."""

    headline = "The branch could not be pushed."
    recovery = "Check branch protection for `orchestra/*` branches, then comment `/orchestra retry`."


class GitFailed(OrchestraError):
    """A git command in the worker's workspace (fetch, worktree, merge, commit) failed."""

    headline = "A git operation failed in the worker's workspace."
    recovery = "Check that the branch and the default branch exist and are readable, then comment `/orchestra retry`."


class VerificationFailed(OrchestraError):
    """The task's setup or acceptance commands still failed after the agent's bounded attempts."""

    headline = "The acceptance commands did not pass."
    recovery = "Read the output above; clarify the task or fix the commands, then comment `/orchestra retry`."


class UnexpectedFailure(OrchestraError):
    """A job stopped on an error the orchestra has no name for (a bug, or an outside failure)."""

    headline = "An unexpected error stopped this step."
    recovery = ("The queue retries the job a few times; if this stays, the worker logs hold the traceback — "
                "comment `/orchestra retry` once it is fixed.")
    label = None


class ConflictUnresolved(OrchestraError):
    """The PR still conflicts with the default branch after the bounded conflict attempts."""

    headline = "The merge conflict could not be resolved automatically."
    recovery = "Resolve the conflict on the branch by hand, or comment `/orchestra retry`."


class CIAttemptsExhausted(OrchestraError):
    """CI kept failing after the bounded number of fix attempts."""

    headline = "CI still fails after the allowed fix attempts."
    recovery = "Push a fix to the branch, or comment `/orchestra fix <instructions>` on the PR."


class QueueUnavailable(OrchestraError):
    """The job queue (Redis) could not be reached, so a job could not be enqueued."""

    headline = "The orchestra's job queue is unreachable."
    recovery = "Check that Redis is running and ORCHESTRA_REDIS_URL points at it; redeliver the webhook."
    label = None


class LocalRunFailed(OrchestraError):
    """Local mode (`orchestra run` / `orchestra demo`) ended without a closed goal, or could not bring the result back."""

    headline = "The local run did not finish."
    recovery = "Open the localhub pages named above to see what each task needs, then run again."
    label = None


def _table() -> list[tuple[str, str, str, str | None]]:
    rows: list[tuple[str, str, str, str | None]] = []
    pending: list[type[OrchestraError]] = [OrchestraError]
    while pending:
        cls = pending.pop(0)
        rows.append((cls.__name__, cls.headline, cls.recovery, cls.label))
        pending.extend(cls.__subclasses__())
    return rows


#: (error class, headline, recovery, label) — the one table of failure comments.
ERROR_TABLE = _table()
