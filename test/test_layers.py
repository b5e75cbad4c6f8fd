"""Enforced layers: the offline core never imports ROS, checked on the source (ast), not by importing.

Only reasmory_ros/ros/ may import rclpy, ROS message packages or `reasmory_ros.ros`; everything else
must run from a rosbag2 file on a machine without ROS. The walk covers function-level imports too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "reasmory_ros"
CORE = ("memory", "dsl", "planning", "streams", "perception", "sim", "replay", "config", "visual", "pipeline.py")
ROS_MODULES = (
    "rclpy", "rcl_interfaces", "builtin_interfaces", "std_msgs", "std_srvs", "sensor_msgs", "geometry_msgs",
    "nav_msgs", "visualization_msgs", "reasmory_interfaces", "tf2_ros", "message_filters", "launch",
    "launch_ros", "rosidl_runtime_py", "reasmory_ros.ros",
)


def imported_modules(source: str, module: str) -> set[str]:
    """Absolute names of every module `source` (the module `module`, dotted) imports, anywhere in it."""
    names = set()
    package = module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            stem = ".".join(base + ([node.module] if node.module else []))
            names.add(stem)
            names.update(f"{stem}.{alias.name}" for alias in node.names)  # `from reasmory_ros import ros`
    return names


def ros_imports(source: str, module: str) -> list[str]:
    return sorted(name for name in imported_modules(source, module)
                  if any(name == ros or name.startswith(ros + ".") for ros in ROS_MODULES))


def core_files() -> list[Path]:
    files = []
    for part in CORE:
        path = PACKAGE / part
        files += [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))
    return files


@pytest.mark.parametrize("path", core_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_core_does_not_import_ros(path):
    module = ".".join(("reasmory_ros", *path.relative_to(PACKAGE).with_suffix("").parts))
    assert ros_imports(path.read_text(), module) == [], f"{path.relative_to(PACKAGE.parent)} imports ROS"


def test_the_checker_finds_every_form_of_ros_import():
    """The walk must see plain, from-, relative, aliased and function-level imports."""
    source = (
        "import rclpy.node\n"
        "from sensor_msgs.msg import Image\n"
        "from ..ros import node\n"
        "from reasmory_ros import ros as r\n"
        "def late():\n    import std_msgs.msg as m\n"
        "import numpy\nfrom reasmory_ros.memory import SpatialMemory\nfrom . import bag\n"
    )
    found = ros_imports(source, "reasmory_ros.replay.cli")
    assert {"rclpy.node", "sensor_msgs.msg", "reasmory_ros.ros", "std_msgs.msg"} <= set(found)
    assert not any(name.startswith(("numpy", "reasmory_ros.memory", "reasmory_ros.replay")) for name in found)
    assert len(core_files()) > 50, "the walk lost the core's files"


LOWER_LAYERS = {
    # layer -> the reasmory_ros packages it must not import (everything that is built on top of it)
    "memory": ("dsl", "planning", "streams", "perception", "sim", "replay", "visual", "pipeline", "ros"),
    "dsl": ("planning", "streams", "perception", "sim", "replay", "visual", "pipeline", "ros"),
}


@pytest.mark.parametrize("layer", sorted(LOWER_LAYERS))
def test_lower_layers_do_not_import_the_layers_above(layer):
    """The memory is the bottom (torch only), the DSL sits on the memory alone."""
    above = tuple(f"reasmory_ros.{name}" for name in LOWER_LAYERS[layer])
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        module = ".".join(("reasmory_ros", *path.relative_to(PACKAGE).with_suffix("").parts))
        found += [f"{path.relative_to(PACKAGE.parent)}: {name}" for name in imported_modules(path.read_text(), module)
                  if any(name == a or name.startswith(a + ".") for a in above)]
    assert found == []
