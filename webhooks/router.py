"""A tiny composable router: handlers registered by event and action, composed in one place."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from bot.queue.kinds import JobRequest
from webhooks.event import Event

Handler = Callable[[Event], Iterable[JobRequest]]


class Router:
    """Maps (event, action) to handlers; a handler registered without an action sees every action."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str | None], list[Handler]] = defaultdict(list)

    def register(self, event: str, action: str | None = None) -> Callable[[Handler], Handler]:
        """Decorator: `@router.register("issues", action="labeled")`."""

        def add(handler: Handler) -> Handler:
            self._routes[(event, action)].append(handler)
            return handler

        return add

    @classmethod
    def compose(cls, *routers: Router) -> Router:
        """One router holding every route of `routers`, in order."""
        combined = cls()
        for router in routers:
            for key, handlers in router._routes.items():
                combined._routes[key].extend(handlers)
        return combined

    def handlers(self, event: Event) -> list[Handler]:
        found = list(self._routes.get((event.name, None), []))
        if event.action is not None:
            found += self._routes.get((event.name, event.action), [])
        return found

    def dispatch(self, event: Event) -> list[JobRequest]:
        """The jobs every matching handler asks for, without duplicates (same job id)."""
        jobs: dict[str, JobRequest] = {}
        for handler in self.handlers(event):
            for job in handler(event):
                jobs.setdefault(job.job_id, job)
        return list(jobs.values())

    @property
    def events(self) -> set[str]:
        """Every event name some handler listens to (app.yml subscribes to these)."""
        return {name for name, _action in self._routes}
