"""The code the demo's scripted workers write for each task of the plan (bot/demo/plan.py).

Each task's change is a list of tool calls (`write_file` / `edit_file`) made in one turn. The
command line's first version deliberately lacks its module docstring: the task's own acceptance
test passes, the full CI suite (tests/test_modules.py) does not, and the CI-fix job adds it.
"""

from __future__ import annotations

from typing import Any

from bot.modes.demo.plan import REGISTRY

Change = list[tuple[str, dict[str, Any]]]

DOCSTRINGS = {
    "mass": "Mass units; the base unit is the kilogram.",
    "duration": "Duration units; the base unit is the second.",
    "volume": "Volume units; the base unit is the litre.",
    "__main__": "Command line: `python3 -m unitconv VALUE FROM TO`, or `python3 -m unitconv --list`.",
}

UNIT_TABLES = {
    "mass": {"kg": "1.0", "g": "0.001", "mg": "0.000001", "t": "1000.0", "lb": "0.45359237", "oz": "0.028349523125"},
    "duration": {"s": "1.0", "min": "60.0", "h": "3600.0", "d": "86400.0", "wk": "604800.0"},
    "volume": {"l": "1.0", "ml": "0.001", "m3": "1000.0", "gal": "3.785411784", "cup": "0.2365882365"},
}

UNIT_TESTS = {
    "mass": [("kilograms_to_grams", '2, "kg", "g"', "2000.0"), ("pounds_to_kilograms", '1, "lb", "kg"', "0.45359237")],
    "duration": [("hours_to_minutes", '2, "h", "min"', "120.0"), ("weeks_to_days", '1, "wk", "d"', "7.0")],
    "volume": [
        ("litres_to_millilitres", '1.5, "l", "ml"', "1500.0"),
        ("gallons_to_litres", '1, "gal", "l"', "3.785411784"),
    ],
}


def unit_module(module: str) -> str:
    rows = "\n".join(f"    {symbol!r}: {size},".replace("'", '"') for symbol, size in UNIT_TABLES[module].items())
    return f'"""{DOCSTRINGS[module]}"""\n\nDIMENSION = "{module}"\n\nUNITS = {{\n{rows}\n}}\n'


def unit_tests(module: str) -> str:
    cases = "\n\n".join(
        f"    def test_{name}(self):\n        self.assertAlmostEqual(convert({args}), {expected})"
        for name, args, expected in UNIT_TESTS[module]
    )
    first = next(iter(UNIT_TABLES[module]))
    return (
        f'"""{module.capitalize()} conversions, and the error for mixing {module} with length."""\n\n'
        "import unittest\n\nfrom unitconv import convert\n\n\n"
        f"class {module.capitalize()}Test(unittest.TestCase):\n{cases}\n\n"
        f"    def test_mixing_{module}_and_length_fails(self):\n"
        "        with self.assertRaises(ValueError):\n"
        f'            convert(1, "{first}", "m")\n\n\n'
        'if __name__ == "__main__":\n    unittest.main()\n'
    )


def unit_change(module: str) -> Change:
    return [
        ("write_file", {"path": f"unitconv/{module}.py", "content": unit_module(module)}),
        ("write_file", {"path": f"tests/test_{module}.py", "content": unit_tests(module)}),
        (
            "edit_file",
            {
                "path": REGISTRY,
                "old_string": "from unitconv import length\n",
                "new_string": f"from unitconv import length\nfrom unitconv import {module}\n",
            },
        ),
        ("edit_file", {"path": REGISTRY, "old_string": "    length,\n", "new_string": f"    length,\n    {module},\n"}),
    ]


#: The first version has no module docstring (the CI fixer adds DOCSTRINGS["__main__"]).
CLI = """import argparse
import sys

from unitconv.registry import convert, units


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="unitconv", description="Convert a quantity between units.")
    parser.add_argument("value", nargs="?", type=float)
    parser.add_argument("source", nargs="?")
    parser.add_argument("target", nargs="?")
    parser.add_argument("--list", action="store_true", help="list the units of every dimension")
    args = parser.parse_args(argv)
    if args.list:
        by_dimension = {}
        for symbol, (dimension, _size) in sorted(units().items()):
            by_dimension.setdefault(dimension, []).append(symbol)
        for dimension in sorted(by_dimension):
            print(f"{dimension}: {', '.join(by_dimension[dimension])}")
        return 0
    if args.target is None:
        parser.error("give VALUE FROM TO, or --list")
    try:
        result = convert(args.value, args.source, args.target)
    except (KeyError, ValueError) as exc:
        print(f"unitconv: {exc.args[0]}", file=sys.stderr)
        return 2
    print(f"{result:g} {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
"""

CLI_TESTS = '''"""The command line: a conversion, the unit list, and the exit code of a bad conversion."""

import contextlib
import io
import unittest

from unitconv.__main__ import main


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


class CommandLineTest(unittest.TestCase):
    def test_converts(self):
        self.assertEqual(run("5", "km", "m"), (0, "5000 m\\n", ""))

    def test_lists_every_dimension(self):
        code, out, _err = run("--list")
        self.assertEqual(code, 0)
        dimensions = [line.split(":")[0] for line in out.splitlines()]
        self.assertEqual(dimensions, ["duration", "length", "mass", "volume"])

    def test_mixed_dimensions_exit_2(self):
        code, _out, err = run("1", "kg", "m")
        self.assertEqual(code, 2)
        self.assertIn("cannot convert", err)


if __name__ == "__main__":
    unittest.main()
'''

README = """# unitconv

Convert quantities between units of the same dimension: length, mass, duration and volume.

## Python

```python
from unitconv import convert

convert(5, "km", "m")  # 5000.0
```

`convert` raises `KeyError` for an unknown unit and `ValueError` for units of two dimensions.

## Command line

```
$ python3 -m unitconv 5 km m
5000 m
$ python3 -m unitconv --list
duration: d, h, min, s, wk
length: cm, ft, in, km, m, mi, mm
mass: g, kg, lb, mg, oz, t
volume: cup, gal, l, m3, ml
```

## Units

| dimension | base unit | symbols |
|---|---|---|
| length | metre (`m`) | `m`, `km`, `cm`, `mm`, `in`, `ft`, `mi` |
| mass | kilogram (`kg`) | `kg`, `g`, `mg`, `t`, `lb`, `oz` |
| duration | second (`s`) | `s`, `min`, `h`, `d`, `wk` |
| volume | litre (`l`) | `l`, `ml`, `m3`, `gal`, `cup` |

Each dimension lives in its own module under `unitconv/` with a `DIMENSION` name and a `UNITS`
table; `unitconv/registry.py` lists the modules.

Run the tests with `python3 -m unittest discover -s tests -t .`.
"""

README_TESTS = '''"""The README lists every registered unit symbol."""

import pathlib
import unittest

from unitconv import units

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


class ReadmeTest(unittest.TestCase):
    def test_every_unit_is_documented(self):
        text = README.read_text()
        for symbol in units():
            with self.subTest(unit=symbol):
                self.assertIn(f"`{symbol}`", text)


if __name__ == "__main__":
    unittest.main()
'''

CHANGES: dict[str, Change] = {
    "mass-units": unit_change("mass"),
    "duration-units": unit_change("duration"),
    "volume-units": unit_change("volume"),
    "command-line": [
        ("write_file", {"path": "unitconv/__main__.py", "content": CLI}),
        ("write_file", {"path": "tests/test_cli.py", "content": CLI_TESTS}),
    ],
    "readme": [
        ("write_file", {"path": "README.md", "content": README}),
        ("write_file", {"path": "tests/test_readme.py", "content": README_TESTS}),
    ],
}


def docstring_for(path: str) -> str:
    """The module docstring the CI fixer adds to `unitconv/<module>.py`."""
    stem = path.rsplit("/", 1)[-1].removesuffix(".py")
    return DOCSTRINGS.get(stem, f"The {stem} module of unitconv.")
