"""Read the node's parameters file without ROS, so replay and node share one configuration.

The file is the node's `ros__parameters` YAML (config/reasmory.yaml); values are checked against
the same parameter table the node declares, so a typo fails here as it would on the robot.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import yaml

from reasmory_ros.ros.parameters import NODE_NAME, all_parameters


class ParamsFileError(ValueError):
    """The parameters file cannot be used; the message names the file and the parameter."""


def default_parameters() -> dict:
    return {spec.name: spec.default for spec in all_parameters()}


def _flatten(values: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _node_block(document: dict, path: Path) -> dict:
    """The `ros__parameters` of the reasmory node: `/**/reasmory`, `reasmory`, `/**` or `/**/*`."""
    for key in (f"/**/{NODE_NAME}", NODE_NAME, f"/{NODE_NAME}", "/**", "/**/*"):
        block = document.get(key)
        if isinstance(block, dict) and isinstance(block.get("ros__parameters"), dict):
            return block["ros__parameters"]
    raise ParamsFileError(f"{path}: no '/**/{NODE_NAME}: ros__parameters:' block")


def load_parameters(path: str | Path | None = None) -> dict:
    """Defaults of every parameter, overridden by the file's values (all checked)."""
    values = default_parameters()
    if path is None:
        return values
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ParamsFileError(f"cannot read parameters file {path}: {err}") from err
    if not isinstance(document, dict):
        raise ParamsFileError(f"{path}: expected a YAML mapping")
    specs = {spec.name: spec for spec in all_parameters()}
    for name, value in _flatten(_node_block(document, path)).items():
        spec = specs.get(name)
        if spec is None:
            close = difflib.get_close_matches(name, specs, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ParamsFileError(f"{path}: unknown parameter '{name}'{hint}")
        if isinstance(spec.default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not type(spec.default):
            raise ParamsFileError(
                f"{path}: parameter '{name}' is {value!r}; expected a {type(spec.default).__name__}"
            )
        problem = spec.check(value)
        if problem:
            raise ParamsFileError(f"{path}: {problem}")
        values[name] = value
    return values
