"""Generate config/reasmory.yaml and the parameters table of docs/ros.md from the settings' field
metadata (tests check that the shipped files equal what this prints).

    python -m reasmory_ros.config.generate yaml > config/reasmory.yaml
    python -m reasmory_ros.config.generate markdown   # paste into docs/ros.md
"""

from __future__ import annotations

import argparse
import sys

from reasmory_ros.config import NODE_NAME
from reasmory_ros.config.fields import ParamSpec, number
from reasmory_ros.config.settings import parameter_specs

_GROUP_TITLES = {
    "inputs": "Inputs: topics, synchronisation, queues",
    "memory": "Memory (capacities are allocated once at start-up)",
    "perception": "Perception plug-ins: instances, depth and pose for cameras without those topics",
    "planning": "Planning",
    "outputs": "Outputs: markers, map, status",
    "persistence": "Persistence",
}

_CHECKED_BY = {"memory.": "MemoryConfig", "perception.": "PerceptionConfig"}


def _yaml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '""' if value == "" else f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_value(v) for v in value) + "]"
    return repr(value)


def _yaml_comment(spec: ParamSpec) -> str:
    unit = spec.unit or ("-" if not isinstance(spec.default, str) else "text")
    checker = next((cls for prefix, cls in _CHECKED_BY.items() if spec.name.startswith(prefix)), None)
    if spec.limits is not None:
        span = f"range {number(spec.limits[0])} .. {number(spec.limits[1])}"
    elif spec.choices:
        span = "one of " + " | ".join(spec.choices)
    elif isinstance(spec.default, bool):
        span = "true | false"
    elif isinstance(spec.default, list):
        span = "list of names" if all(isinstance(v, str) for v in spec.default) else f"{len(spec.default)} numbers"
    elif checker:
        span = f"checked by {checker} at start-up"
    else:
        span = "any"
    return f"[{unit}] {span}"


def to_yaml() -> str:
    """config/reasmory.yaml: one ros__parameters block, a unit/range comment on every line."""
    lines = [
        "# Parameters of the reasmory node (generated from the settings in reasmory_ros/config/:",
        "#   python -m reasmory_ros.config.generate yaml > config/reasmory.yaml).",
        "# Each comment gives [unit] and the accepted range; docs/ros.md describes every parameter.",
        "# `/**/reasmory` matches the node in any namespace.",
        f"/**/{NODE_NAME}:",
        "  ros__parameters:",
    ]
    specs = parameter_specs()
    opened = set()
    for group, title in _GROUP_TITLES.items():
        lines.append(f"    # --- {title}")
        for spec in (s for s in specs if s.group == group):
            name, indent = spec.name, "    "
            if "." in name:  # memory.x, perception.x: a nested block, as ROS reads it
                prefix, name = name.split(".", 1)
                if prefix not in opened:
                    lines.append(f"    {prefix}:")
                    opened.add(prefix)
                indent = "      "
            lines.append(f"{indent}{name}: {_yaml_value(spec.default)}  # {_yaml_comment(spec)}")
    return "\n".join(lines) + "\n"


def to_markdown() -> str:
    """The parameters table of docs/ros.md."""
    rows = ["| parameter | default | unit | range / choices | description |", "| --- | --- | --- | --- | --- |"]
    for spec in parameter_specs():
        if spec.limits is not None:
            span = f"{number(spec.limits[0])} .. {number(spec.limits[1])}"
        else:
            span = ", ".join(spec.choices)
        default = _yaml_value(spec.default)
        description = spec.description + ("" if spec.read_only else " (can be changed at run time)")
        rows.append(f"| `{spec.name}` | `{default}` | {spec.unit} | {span} | {description.replace('|', '/')} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reasmory_ros.config.generate",
        description="Print the node's parameters as config/reasmory.yaml or as the docs/ros.md table.")
    parser.add_argument("format", choices=("yaml", "markdown"))
    args = parser.parse_args(argv)
    sys.stdout.write(to_yaml() if args.format == "yaml" else to_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
