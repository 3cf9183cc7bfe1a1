"""The unit registry: every dimension module listed in MODULES contributes its UNITS table."""

from unitconv import length

MODULES = [
    length,
]


def units() -> dict[str, tuple[str, float]]:
    """Every unit symbol mapped to (dimension, size in the dimension's base unit)."""
    table: dict[str, tuple[str, float]] = {}
    for module in MODULES:
        for symbol, size in module.UNITS.items():
            if symbol in table:
                raise ValueError(f"unit {symbol!r} is defined twice")
            table[symbol] = (module.DIMENSION, size)
    return table


def convert(value: float, source: str, target: str) -> float:
    """`value` in unit `source` expressed in unit `target` (both of one dimension)."""
    table = units()
    for symbol in (source, target):
        if symbol not in table:
            raise KeyError(f"unknown unit {symbol!r}; known: {', '.join(sorted(table))}")
    (source_dim, source_size), (target_dim, target_size) = table[source], table[target]
    if source_dim != target_dim:
        raise ValueError(f"cannot convert {source_dim} ({source}) to {target_dim} ({target})")
    return value * source_size / target_size
