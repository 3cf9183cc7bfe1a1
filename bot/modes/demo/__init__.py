"""The offline demo: local mode on a bundled example project with the scripted model `scripted:demo`.

`scripted:demo` is a demonstration device, not a model (bot/modes/demo/policy.py). It is offered
to the model factory as a value (`SCRIPTS`) by every way of running the orchestra, so the default
model spec builds in any of their processes; nothing registers itself on import.
"""

from bot.llm.scripted import Policy, PolicyFactory
from bot.modes.demo.policy import demo_policy

DEMO_MODEL = "scripted:demo"


def _factory() -> Policy:
    return demo_policy


#: The scripted models the demo offers: ``scripted:demo``.
SCRIPTS: dict[str, PolicyFactory] = {"demo": _factory}

__all__ = ["DEMO_MODEL", "SCRIPTS", "demo_policy"]
