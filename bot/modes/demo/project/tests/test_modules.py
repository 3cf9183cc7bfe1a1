"""House rules every module keeps: a module docstring, and DIMENSION/UNITS in each registered module."""

import ast
import pathlib
import unittest

from unitconv.registry import MODULES

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "unitconv"


class ModulesTest(unittest.TestCase):
    def test_every_module_has_a_docstring(self):
        for path in sorted(PACKAGE.glob("*.py")):
            tree = ast.parse(path.read_text())
            with self.subTest(module=path.name):
                self.assertTrue(ast.get_docstring(tree), f"unitconv/{path.name}: module has no docstring")

    def test_registered_modules_define_dimension_and_units(self):
        for module in MODULES:
            with self.subTest(module=module.__name__):
                self.assertIsInstance(module.DIMENSION, str)
                self.assertTrue(module.UNITS, f"{module.__name__}: UNITS is empty")


if __name__ == "__main__":
    unittest.main()
