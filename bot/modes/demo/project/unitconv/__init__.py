"""unitconv: convert quantities between units of the same dimension."""

from unitconv.registry import convert, units

__all__ = ["convert", "units"]
