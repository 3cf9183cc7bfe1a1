"""Every feature's router, composed in this one place."""

from webhooks.handlers import checks, commands, goals, pulls, tasks
from webhooks.router import Router

ROUTER = Router.compose(goals.router, tasks.router, pulls.router, checks.router, commands.router)

__all__ = ["ROUTER"]
