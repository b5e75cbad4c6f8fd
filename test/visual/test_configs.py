"""The RViz config and the Foxglove layout in config/ show the topics the node publishes (read from
node.py with ast, no ROS needed) and the replay records, with the QoS the node offers."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import yaml

from reasmory_ros.config import NODE_NAME
from reasmory_ros.replay.record import OUTPUTS
from reasmory_ros.visual import markers

REPO = Path(__file__).resolve().parents[2]


def node_publishers() -> dict[str, str]:
    """'~/name' -> message class name of every create_publisher call in the node."""
    tree = ast.parse((REPO / "reasmory_ros" / "ros" / "node.py").read_text())
    found = {}
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "create_publisher":
            msg_type, topic = call.args[:2]
            found[topic.value] = msg_type.id
    return found


def test_the_replay_records_exactly_the_node_outputs():
    aliases = {"PathMsg": "Path"}  # node.py imports nav_msgs Path under another name
    published = {topic: aliases.get(name, name) for topic, name in node_publishers().items()}
    assert published == {f"~/{name}": msgtype.rsplit("/", 1)[1] for name, (msgtype, _) in OUTPUTS.items()}


def test_rviz_config_shows_every_latched_output_and_marker_namespace():
    config = yaml.safe_load((REPO / "config" / "reasmory.rviz").read_text())
    displays = {d["Topic"]["Value"]: d for d in config["Visualization Manager"]["Displays"] if "Topic" in d}
    for name, (msgtype, latched) in OUTPUTS.items():
        if latched:  # the JSON strings are not drawn
            display = displays[f"/{NODE_NAME}/{name}"]
            assert display["Class"] == "rviz_default_plugins/" + msgtype.rsplit("/", 1)[1]
            assert display["Topic"]["Durability Policy"] == "Transient Local"
    namespaces = {value for key, value in vars(markers).items() if key.startswith("NS_")}
    shown = displays[f"/{NODE_NAME}/markers"]["Namespaces"]
    assert set(shown) == namespaces and all(shown.values())


def test_foxglove_layout_shows_the_outputs():
    layout = json.loads((REPO / "config" / "foxglove_layout.json").read_text())
    panels = layout["configById"]
    three_d = next(config for key, config in panels.items() if key.startswith("3D!"))
    assert three_d["followTf"] == "map"
    latched = {f"/{NODE_NAME}/{name}" for name, (_, is_latched) in OUTPUTS.items() if is_latched}
    assert set(three_d["topics"]) == latched and all(t["visible"] for t in three_d["topics"].values())
    assert three_d["topics"][f"/{NODE_NAME}/map"]["colorMode"] == "rgb"
    raw = {config["topicPath"] for key, config in panels.items() if key.startswith("RawMessages!")}
    assert raw == {f"/{NODE_NAME}/answers", f"/{NODE_NAME}/status"}

    def leaves(node):
        return [node] if isinstance(node, str) else leaves(node["first"]) + leaves(node["second"])

    assert sorted(leaves(layout["layout"])) == sorted(panels)  # every panel is placed, none is missing
