"""Every feature's router, composed in this one place: the App's, and the Action's (which adds workflow events)."""

from webhooks.handlers import checks, commands, goals, pulls, tasks, workflows
from webhooks.router import Router

ROUTER = Router.compose(goals.router, tasks.router, pulls.router, checks.router, commands.router)
ACTION_ROUTER = Router.compose(ROUTER, workflows.router)

__all__ = ["ACTION_ROUTER", "ROUTER"]
