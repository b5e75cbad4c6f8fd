"""Field metadata of the settings dataclasses: every parameter is described where it is defined.

`setting(...)` is a `dataclasses.field` whose metadata carries the unit, range, choices and
description; the ROS parameter declarations, config/reasmory.yaml and the docs/ros.md table are
all generated from it (`reasmory_ros.config.generate`), so nothing is parsed out of comments.
Dependency-free on purpose: the memory and perception configs use it too.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

Value = bool | int | float | str | list


def setting(default: Value, description: str, *, unit: str = "", limits: tuple[float, float] | None = None,
            choices: tuple[str, ...] = (), read_only: bool = True, group: str | None = None,
            parameter: bool = True) -> Any:
    """A dataclass field that is also a parameter.

    limits: (low, high) inclusive. choices: allowed strings ("<n>" stands for a number).
    read_only: fixed at start-up; the others may change at run time. group: the docs/YAML section
    (default: the section's). parameter: False keeps the field out of the parameters (it is
    derived from others by the pipeline).
    """
    metadata = {"description": description, "unit": unit, "limits": limits, "choices": tuple(choices),
                "read_only": read_only, "group": group, "parameter": parameter}
    if isinstance(default, list):
        return dataclasses.field(default_factory=lambda: list(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class ParamSpec:
    """One parameter as ROS, the YAML and the docs see it: flat name (`memory.voxel_size`), default
    (which fixes its type) and the field's metadata."""

    name: str
    default: Value
    description: str
    unit: str = ""
    limits: tuple[float, float] | None = None
    choices: tuple[str, ...] = ()
    read_only: bool = True
    group: str = "node"

    def summary(self) -> str:
        """Description with unit, range and choices: what `ros2 param describe` and the docs show."""
        extras = []
        if self.unit:
            extras.append(f"unit: {self.unit}")
        if self.limits is not None:
            extras.append(f"range: {number(self.limits[0])} .. {number(self.limits[1])}")
        if self.choices:
            extras.append("one of: " + ", ".join(self.choices))
        return self.description + (f" [{'; '.join(extras)}]" if extras else "")

    def coerce(self, value):
        """`value` in the default's type where that loses nothing: an int for a float, a ROS array
        (array.array, tuple) for a list; other values unchanged (`check` then names them)."""
        if isinstance(self.default, float) and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if isinstance(self.default, list) and not isinstance(value, (str, bytes, dict)) and hasattr(value, "__iter__"):
            return list(value)
        return value

    def check(self, value) -> str | None:
        """Why `value` is not acceptable (None when it is): type, choices and range."""
        value = self.coerce(value)
        expected = type(self.default)
        if type(value) is not expected:
            return f"parameter '{self.name}' is {value!r}; expected a {expected.__name__}"
        if self.choices and not any(
            re.fullmatch(re.escape(c).replace("<n>", r"\d+"), str(value)) for c in self.choices
        ):
            return f"parameter '{self.name}' is {value!r}; expected one of {', '.join(self.choices)}"
        if self.limits is not None and not self.limits[0] <= value <= self.limits[1]:
            return f"parameter '{self.name}' is {value}; expected {self.limits[0]} .. {self.limits[1]}"
        return None


def field_specs(cls: type, prefix: str = "", group: str = "node") -> tuple[ParamSpec, ...]:
    """The parameters of one settings dataclass, in field order (fields without metadata or with
    parameter=False are not parameters)."""
    specs = []
    for f in dataclasses.fields(cls):
        meta = f.metadata
        if not meta.get("parameter"):
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        specs.append(ParamSpec(prefix + f.name, default, meta["description"], meta["unit"], meta["limits"],
                               meta["choices"], meta["read_only"], meta["group"] or group))
    return tuple(specs)


def check_fields(instance) -> None:
    """Refuse a value outside its field's declared type, choices or range, naming the field."""
    for spec in field_specs(type(instance)):
        problem = spec.check(getattr(instance, spec.name))
        if problem:
            raise ValueError(problem)


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
