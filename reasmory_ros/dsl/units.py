"""Units of DSL numbers and conversions between them.

Geometry is computed in metres, square metres, degrees and seconds; `to_unit` converts for the
answer a question asks for. A number without unit counts as the base unit of the dimension it is
used in (a bare `within=2` means 2 m).
"""

from __future__ import annotations

import math

from .errors import OperationError
from .types import Number

UNITS: dict[str, tuple[str, float]] = {
    "m": ("length", 1.0), "cm": ("length", 0.01), "mm": ("length", 0.001),
    "km": ("length", 1000.0), "ft": ("length", 0.3048), "in": ("length", 0.0254),
    "m2": ("area", 1.0), "cm2": ("area", 1e-4), "ft2": ("area", 0.3048 ** 2),
    "deg": ("angle", 1.0), "rad": ("angle", 180.0 / math.pi),
    "s": ("time", 1.0), "min": ("time", 60.0),
}
"""unit -> (dimension, size in the dimension's base unit: m, m2, deg, s)."""

ALIASES = {"meter": "m", "meters": "m", "metre": "m", "metres": "m", "centimeters": "cm",
           "centimetres": "cm", "millimeters": "mm", "feet": "ft", "foot": "ft", "inch": "in",
           "inches": "in", "sqm": "m2", "m^2": "m2", "square meters": "m2", "sq ft": "ft2",
           "ft^2": "ft2", "degrees": "deg", "degree": "deg", "radians": "rad", "seconds": "s",
           "sec": "s", "minutes": "min"}


def canonical_unit(name: str) -> str:
    """The unit's table name; OperationError naming the known units otherwise."""
    unit = name.strip().lower()
    unit = ALIASES.get(unit, unit)
    if unit not in UNITS:
        raise OperationError(f"unknown unit {name!r}", "use one of " + ", ".join(UNITS), "unit")
    return unit


def convert(number: Number, unit: str) -> Number:
    """The same quantity in another unit of its dimension."""
    target = canonical_unit(unit)
    dimension, factor = UNITS[target]
    if number.unit == "":
        return Number(number.value / factor, target)
    source_dimension, source_factor = UNITS.get(number.unit, ("a count of " + number.unit, 0.0))
    if source_dimension != dimension:
        raise OperationError(f"cannot convert {number.unit} ({source_dimension}) to "
                             f"{target} ({dimension})",
                             f"convert to a unit of {source_dimension}", "unit")
    return Number(number.value * source_factor / factor, target)


def metres(number: Number) -> float:
    """A length in metres (a bare number is taken as metres)."""
    return convert(number, "m").value
