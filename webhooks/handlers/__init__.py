"""Every feature's router, composed in this one place: the App's, and the Action's (which adds workflow events).

The Action's has no `merge_group` route: a workflow cannot be started by `merge_group` `destroyed`.
"""

from webhooks.handlers import checks, commands, goals, mergegroups, pulls, tasks, workflows
from webhooks.router import Router

_SHARED = Router.compose(goals.router, tasks.router, pulls.router, checks.router, commands.router)
ROUTER = Router.compose(_SHARED, mergegroups.router)
ACTION_ROUTER = Router.compose(_SHARED, workflows.router)

__all__ = ["ACTION_ROUTER", "ROUTER"]
