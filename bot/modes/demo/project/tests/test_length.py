"""Length conversions, and the errors for unknown units and mixed dimensions."""

import unittest

from unitconv import convert


class LengthTest(unittest.TestCase):
    def test_kilometres_to_metres(self):
        self.assertEqual(convert(5, "km", "m"), 5000.0)

    def test_miles_to_kilometres(self):
        self.assertAlmostEqual(convert(1, "mi", "km"), 1.609344)

    def test_inches_to_centimetres(self):
        self.assertAlmostEqual(convert(10, "in", "cm"), 25.4)

    def test_unknown_unit(self):
        with self.assertRaises(KeyError):
            convert(1, "league", "m")


if __name__ == "__main__":
    unittest.main()
