"""The demo's goal and the plan its scripted planner submits (the `submit_plan` schema of bot/planner/plan.py).

Shaped to show the whole life cycle on the bundled `unitconv` project: three unit tasks run in
parallel and each appends one line at the same spot of `unitconv/registry.py` (so the ones
merged second and third meet a merge conflict their workers resolve); the command line waits
for the three, and its first push lacks a module docstring that only the full CI suite checks
(so its CI fails and the fix job corrects it); the README waits for the command line.
"""

from __future__ import annotations

from typing import Any

GOAL_TITLE = "Add mass, duration and volume units and a command line"
GOAL_BODY = """\
unitconv only knows lengths. Add:

- mass units (kg, g, mg, t, lb, oz), duration units (s, min, h, d, wk) and volume units
  (l, ml, m3, gal, cup), each in its own module registered in `unitconv/registry.py`;
- a command line, `python3 -m unitconv 5 km m` and `python3 -m unitconv --list`;
- a README that documents the command line and lists every unit.

Tests with unittest for each part; no new dependencies.
"""

NOTES = [
    "A dimension is a module unitconv/<dimension>.py with a module docstring, DIMENSION (its name) and "
    "UNITS (symbol -> size in the base unit); tests/test_modules.py enforces this in CI.",
    "Each unit task registers its module in unitconv/registry.py by adding one import line after "
    "`from unitconv import length` and one MODULES entry after `length,`. Three tasks add there in "
    "parallel: whoever merges later keeps every entry when resolving the conflict.",
    "Tests use unittest (python3 -m unittest); no new dependencies.",
]

REGISTRY = "unitconv/registry.py"
UNIT_TASKS = {
    "mass-units": ("mass", "kilogram"),
    "duration-units": ("duration", "second"),
    "volume-units": ("volume", "litre"),
}


def _unit_task(key: str, module: str, base: str, symbols: str) -> dict[str, Any]:
    return {
        "key": key,
        "title": f"Add {module} units",
        "objective": (
            f'Add `unitconv/{module}.py` with a module docstring, `DIMENSION = "{module}"` and `UNITS` '
            f"mapping {symbols} to their size in {base}s; register it in `{REGISTRY}` (one import line "
            f"after `from unitconv import length`, one MODULES entry after `length,`); add "
            f"`tests/test_{module}.py` covering conversions within {module} and the error for mixing "
            f"{module} with length."
        ),
        "context_files": ["unitconv/length.py", REGISTRY, "tests/test_length.py", "tests/test_modules.py"],
        "owned_paths": [f"unitconv/{module}.py", f"tests/test_{module}.py"],
        "acceptance_commands": [f"python3 -m unittest tests.test_{module}"],
        "acceptance_outcomes": [f"convert() knows {symbols}"],
        "size": "s",
    }


def demo_plan() -> dict[str, Any]:
    """The arguments of the scripted planner's `submit_plan` call."""
    tasks = [
        _unit_task("mass-units", "mass", "kilogram", "kg, g, mg, t, lb and oz"),
        _unit_task("duration-units", "duration", "second", "s, min, h, d and wk"),
        _unit_task("volume-units", "volume", "litre", "l, ml, m3, gal and cup"),
        {
            "key": "command-line",
            "title": "Add the unitconv command line",
            "objective": (
                "Add `unitconv/__main__.py`: `python3 -m unitconv VALUE FROM TO` prints the converted value "
                "and the target unit (`5000 m`); `--list` prints one line per dimension, `dimension: symbols` "
                "sorted; unknown units or mixed dimensions print the error to stderr and exit 2. "
                "Expose `main(argv) -> int`. Add `tests/test_cli.py`."
            ),
            "context_files": [REGISTRY, "unitconv/__init__.py"],
            "owned_paths": ["unitconv/__main__.py", "tests/test_cli.py"],
            "acceptance_commands": ["python3 -m unittest tests.test_cli"],
            "acceptance_outcomes": ["`python3 -m unitconv --list` lists duration, length, mass and volume"],
            "depends_on": ["mass-units", "duration-units", "volume-units"],
            "size": "s",
        },
        {
            "key": "readme",
            "title": "Document the command line and every unit in the README",
            "objective": (
                "Rewrite README.md: what unitconv does, the Python API, the command line (both forms, with "
                "output), and a table of every unit by dimension. Add `tests/test_readme.py` checking that "
                "every registered unit symbol appears in the README."
            ),
            "context_files": ["README.md", "unitconv/__main__.py", REGISTRY],
            "owned_paths": ["README.md", "tests/test_readme.py"],
            "acceptance_commands": ["python3 -m unittest tests.test_readme"],
            "depends_on": ["command-line"],
            "size": "s",
        },
    ]
    return {"tasks": tasks, "notes": NOTES, "obsolete": [], "done": False}
