"""The typed errors of the orchestra, each with the sentence a person reads and how to recover.

One table, `ERROR_TABLE`, is derived from the classes: it is what a failure comment on the
forge says and which label it leaves. Catch these narrowly; let anything else fail the job
loudly so the queue keeps it in its failed registry.
"""

from __future__ import annotations

from dataclasses import dataclass

NEEDS_HUMAN = "needs-human"


@dataclass(frozen=True)
class Source:
    """Where a value came from, so a failure can name the place to fix it.

    `kind` is one of "flag" (a command-line option, `name` = "--model"), "env" (an environment
    variable, `name` = its name), "file" (`name` = the key in `.github/orchestra.yml` on the
    default branch), "endpoint" (`name` = a model or forge URL) or "default" (the built-in value).
    """

    kind: str
    name: str

    def describe(self) -> str:
        """A few words for a person: ``--model``, ``environment variable ORCHESTRA_MODEL``, …"""
        return {
            "flag": f"command-line option {self.name}",
            "env": f"environment variable {self.name}",
            "file": (
                ".github/orchestra.yml"
                if self.name.endswith((".yml", ".yaml"))
                else f"{self.name} in .github/orchestra.yml"
            )
            + " on the default branch",
            "endpoint": f"endpoint {self.name}",
        }.get(self.kind, "built-in default")

    def recovery(self) -> str:
        """How to fix a bad value from this source."""
        if self.kind == "flag":
            return f"Run the command again with a corrected `{self.name}`."
        if self.kind == "env":
            return (
                f"Fix the environment variable `{self.name}` where the orchestra runs (for the App server: "
                "the workers' environment, then restart them), then comment `/orchestra retry`."
            )
        if self.kind == "file":
            what = (
                "`.github/orchestra.yml`"
                if self.name.endswith((".yml", ".yaml"))
                else (f"`{self.name}` in `.github/orchestra.yml`")
            )
            return f"Fix {what} on the default branch, then comment `/orchestra retry`."
        if self.kind == "endpoint":
            return (
                f"Check that {self.name} is up and accepts the key, then comment `/orchestra retry` "
                "(`orchestra doctor` checks every role's endpoint)."
            )
        return (
            "Set the value explicitly (a flag, an environment variable or `.github/orchestra.yml`; "
            "docs/configuration.md), then comment `/orchestra retry`."
        )


class OrchestraError(Exception):
    """Something the orchestra could not do."""

    #: What a person reads on the forge (the exception's message is appended).
    headline = "Agent Orchestra could not finish this step."
    #: How a person gets things moving again.
    recovery = "Comment `/orchestra retry` to try again."
    #: The state label this failure leaves on the task (None: leave the label alone).
    label: str | None = NEEDS_HUMAN

    def __init__(self, *args: object, source: Source | None = None) -> None:
        super().__init__(*args)
        #: Where the bad value came from (a flag, an environment variable, the repo's file, an endpoint).
        self.source = source

    def with_source(self, source: Source) -> OrchestraError:
        """This error naming `source`, unless it already names one (the first, innermost, wins)."""
        if self.source is None:
            self.source = source
        return self

    def how_to_recover(self) -> str:
        """The recovery sentence: the source's when the error knows where the value came from."""
        return self.source.recovery() if self.source is not None else self.recovery

    def comment(self) -> str:
        """The Markdown a failure comment carries."""
        detail = str(self) or "(no detail)"
        return f"**{self.headline}**\n\n{detail}\n\n_How to recover:_ {self.how_to_recover()}"


class ConfigError(OrchestraError):
    """A setting or `.github/orchestra.yml` value is missing or wrong."""

    headline = "The orchestra configuration is invalid."
    recovery = (
        "Fix the setting named above (a command-line option, an environment variable, or "
        "`.github/orchestra.yml` on the default branch), then comment `/orchestra retry`."
    )


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


class SandboxUnavailable(OrchestraError):
    """No isolation the ORCHESTRA_SANDBOX setting allows can be used here, so agent commands may not run."""

    headline = "The worker cannot confine the agent's commands, so it ran none."
    recovery = (
        "The operator makes bubblewrap or the uid sandbox usable on the worker (docs/security.md), "
        "or sets ORCHESTRA_SANDBOX=none to accept unconfined commands; then comment `/orchestra retry`."
    )


class BatchExpired(OrchestraError):
    """A merge-queue batch waited for CI past `merge.batch_timeout_minutes`, again after being rebuilt."""

    headline = "CI never reported on the merge queue's batch."
    recovery = (
        "Check that CI runs on pushes to `orchestra/queue/*` branches (a workflow's `on: push` filter, a "
        "required check's name), then comment `/orchestra retry` on the PR."
    )


class PreflightFailed(OrchestraError):
    """A check made before a command starts (git, Redis, a model endpoint, the forge) failed; nothing was written."""

    headline = "A check before the start failed."
    recovery = "Fix what the line names (`orchestra doctor` shows every check), then start the command again."
    label = None


class PushRejected(OrchestraError):
    """A push was still rejected after fetching, merging and retrying."""

    headline = "The branch could not be pushed."
    recovery = "Check branch protection for `orchestra/*` branches, then comment `/orchestra retry`."


class PushDeclined(OrchestraError):
    """The forge declined a push for a reason other than a moved branch (branch protection, a ruleset, a hook)."""

    headline = "The forge declined the orchestra's push."
    recovery = (
        "Let the orchestra's App push its `orchestra/*` branches (branch protection, rulesets), "
        "then comment `/orchestra retry`."
    )


class LandingRefused(OrchestraError):
    """The merge queue could not fast-forward the default branch: the forge refuses the bot's pushes to it."""

    headline = "The merge queue may not push to the default branch."
    recovery = (
        "Let the orchestra's App bypass the rule that forbids direct pushes (a ruleset bypass actor, or "
        "classic protection without push restrictions), or require GitHub's merge queue on the branch "
        "(a ruleset; the orchestra then enqueues there), or set `merge.queue: off`; then comment "
        "`/orchestra retry`."
    )


class GitFailed(OrchestraError):
    """A git command in the worker's workspace (fetch, worktree, merge, commit) failed."""

    headline = "A git operation failed in the worker's workspace."
    recovery = "Check that the branch and the default branch exist and are readable, then comment `/orchestra retry`."


class GitMissing(GitFailed):
    """There is no `git` program on this machine's PATH."""

    headline = "git is not installed where the orchestra runs."
    recovery = "Install git on the machine (the worker's PATH), then comment `/orchestra retry`."
    label = None


class VerificationFailed(OrchestraError):
    """The task's setup or acceptance commands still failed after the agent's bounded attempts."""

    headline = "The acceptance commands did not pass."
    recovery = "Read the output above; clarify the task or fix the commands, then comment `/orchestra retry`."


class UnexpectedFailure(OrchestraError):
    """A job stopped on an error the orchestra has no name for (a bug, or an outside failure)."""

    headline = "An unexpected error stopped this step."
    recovery = (
        "The queue retries the job a few times; if this stays, the worker logs hold the traceback — "
        "comment `/orchestra retry` once it is fixed."
    )
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
    """Local mode (`orchestra run` / `orchestra demo`) ended without a closed goal or could not return the result."""

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
