"""`orchestra bench scale`: the whole orchestra on a synthetic goal, timed and metered per worker count.

`scripted:bench` (bot/modes/bench/policy.py) is a model stand-in, not a model: it waits the
configured latency before each answer and writes each task's module and test in one reply. It is
offered to the model factory as a value (`SCRIPTS`) by local mode's processes, as the demo's is.
"""

from bot.llm.scripted import Policy, PolicyFactory
from bot.modes.bench.policy import bench_policy

BENCH_MODEL = "scripted:bench"


def _factory() -> Policy:
    return bench_policy


#: The scripted models the bench offers: ``scripted:bench``.
SCRIPTS: dict[str, PolicyFactory] = {"bench": _factory}

__all__ = ["BENCH_MODEL", "SCRIPTS", "bench_policy"]
