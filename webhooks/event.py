"""`Event`: one verified webhook delivery, with the few accessors the routers need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.ledger.labels import Kind, kind_of_label
from bot.ledger.taskbody import task_number_from_branch
from bot.queue.kinds import JobRequest
from webhooks.payload import Fields


@dataclass(frozen=True)
class Event:
    """A delivery: the event name (`X-GitHub-Event`), its action (if any) and the payload."""

    name: str
    payload: dict[str, Any]
    delivery_id: str = ""

    @property
    def action(self) -> str | None:
        action = self.payload.get("action")
        return action if isinstance(action, str) else None

    @property
    def repo(self) -> str | None:
        repository = self.payload.get("repository") or {}
        name = repository.get("full_name") if isinstance(repository, dict) else None
        return name if isinstance(name, str) else None

    @property
    def installation_id(self) -> int | None:
        installation = self.payload.get("installation") or {}
        value = installation.get("id") if isinstance(installation, dict) else None
        return value if isinstance(value, int) else None

    @property
    def sender(self) -> dict[str, Any]:
        sender = self.payload.get("sender")
        return sender if isinstance(sender, dict) else {}

    def job(self, kind: str, **args: Any) -> JobRequest:
        """A job for this event's repository and installation."""
        return JobRequest.make(kind, repo=self.repo, installation_id=self.installation_id, **args)

    def repo_job(self, kind: str) -> JobRequest:
        """A repository-wide job (`dispatch_repo`) for this event's repository and installation."""
        return JobRequest.make(kind, repo=self.repo, installation_id=self.installation_id)


def label_names(obj: Fields | dict[str, Any] | None) -> list[str]:
    """Names of the labels on an issue or pull request payload; MalformedEvent unless an array of objects."""
    fields = obj if isinstance(obj, Fields) else Fields(obj or {})
    return [str(label.data.get("name")) for label in fields.objects("labels")]


def labelled(obj: Fields | dict[str, Any] | None, kind: Kind) -> bool:
    """True when the issue payload carries a label naming `kind` under some prefix (`<prefix>:goal`).

    The web process cannot read the repository's `label_prefix`; the job checks it.
    """
    return any(kind_of_label(name) == kind for name in label_names(obj))


def orchestra_task_number(branch: str | None) -> int | None:
    """The task number an `orchestra/<n>-…` branch works on, else None."""
    return task_number_from_branch(branch or "")
