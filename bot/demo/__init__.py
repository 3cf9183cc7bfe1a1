"""The offline demo: local mode on a bundled example project with the scripted model `scripted:demo`.

`scripted:demo` is a demonstration device, not a model (bot/demo/policy.py): it is registered
when this package is imported.
"""

from bot.demo.policy import demo_policy
from bot.llm.scripted import Policy, register_script

DEMO_MODEL = "scripted:demo"


def _factory() -> Policy:
    return demo_policy


register_script("demo", _factory)

__all__ = ["DEMO_MODEL", "demo_policy"]
