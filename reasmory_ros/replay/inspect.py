"""`reasmory-replay BAG --inspect`: what each topic of a bag will be used for, before any work.

Reads the bag's metadata and its tf messages only (no image is decoded): every topic with its type,
message count, mean rate and role; the layout recognised and the settings it chose; the tf tree;
and what is missing, with the parameter that would supply it.
"""

from __future__ import annotations

from pathlib import Path

from rosbags.highlevel import AnyReader
from rosbags.typesys import Stores, get_typestore

from reasmory_ros.config.settings import Settings
from reasmory_ros.replay.bag import BagError, BagStream, open_bag
from reasmory_ros.streams.tf import TfBuffer, TfError, fixed_frame

ROLES = {
    "color": "colour images: one frame each (color_topic)",
    "depth": "depth images (depth_topic)",
    "camera_info": "colour intrinsics K (camera_info_topic)",
    "pose": "camera poses (pose_topic)",
    "instances": "instance id images (instances_topic)",
    "labels": "instance labels (labels_topic)",
}


def _tf(path: Path, topics: dict[str, bool]) -> TfBuffer:
    """The tf tree of the whole bag."""
    buffer = TfBuffer(cache_time=1e9)  # keep everything: the tree, not lookups, is wanted here
    with AnyReader([path], default_typestore=get_typestore(Stores.ROS2_HUMBLE)) as reader:
        connections = [c for c in reader.connections if c.topic in topics]
        for connection, _, raw in reader.messages(connections=connections):
            buffer.add_message(reader.deserialize(raw, connection.msgtype), static=topics[connection.topic])
    return buffer


def _tree(buffer: TfBuffer) -> list[str]:
    """The tf tree, one frame per line, children indented under their parent."""
    children: dict[str, list[tuple[str, bool]]] = {}
    for parent, child, static in buffer.edges():
        children.setdefault(parent, []).append((child, static))
    roots = sorted(set(children) - {child for kids in children.values() for child, _ in kids})
    lines = []

    def walk(frame: str, depth: int, static: bool | None) -> None:
        kind = "" if static is None else (" (static)" if static else " (dynamic)")
        lines.append("  " * depth + f"- {frame}{kind}")
        for child, child_static in children.get(frame, []):
            walk(child, depth + 1, child_static)

    for root in roots:
        walk(root, 1, None)
    return lines


def inspect_bag(path: str | Path, settings: Settings) -> str:
    """The report `--inspect` prints. BagError when the bag cannot be opened or lacks a needed
    topic (the report is then the error's text, which names the topics and parameters)."""
    path = Path(path)
    try:
        with AnyReader([path], default_typestore=get_typestore(Stores.ROS2_HUMBLE)) as reader:
            connections = {c.topic: (c.msgtype, c.msgcount) for c in reader.connections}
            duration = max(reader.duration * 1e-9, 1e-9)
    except Exception as err:  # noqa: BLE001 - rosbags raises many types for unreadable bags
        raise BagError(f"cannot open bag {path}: {err}") from err
    lines = [f"bag {path}: {len(connections)} topics, {duration:.1f} s"]
    missing: list[str] = []
    try:
        stream: BagStream | None = open_bag(path, settings)
    except BagError as err:
        stream = None
        missing.append(str(err))
    roles = {}
    if stream is not None:
        roles = {topic: ROLES[part] for part, topic in stream.topics.items()}
        recognition = stream.recognition
        from_tf = stream.settings.streams.pose_source == "tf"
        uses = (["camera poses: the optical frame in the fixed frame (pose_source tf)"] if from_tf else []) + (
            ["the depth -> colour extrinsic"] if stream.settings.streams.depth_info_topic else [])
        for topic in recognition.tf_topics:
            if uses:
                roles[topic] = "; ".join(uses)
        if stream.settings.streams.depth_info_topic:
            roles[stream.settings.streams.depth_info_topic] = "depth camera intrinsics: depth is registered to colour here"
        lines.append(f"layout: {recognition.layout}" + (f" (namespace {recognition.namespace})"
                                                         if recognition.namespace else ""))
        for name, value in recognition.changes.items():
            lines.append(f"  chosen from the bag: {name} = {value}")
        lines += [f"  {note}" for note in recognition.notes]
    lines.append("topics:")
    width = max((len(t) for t in connections), default=0)
    for topic, (msgtype, count) in sorted(connections.items()):
        rate = f"{count / duration:6.1f} Hz" if count > 1 else "  once   " if count == 1 else "  empty  "
        lines.append(f"  {topic:<{width}}  {msgtype:<34} {count:6d} msgs {rate}  {roles.get(topic, 'not used')}")
    tf_topics = {t: t == "/tf_static" for t in ("/tf", "/tf_static")
                 if connections.get(t, ("",))[0] == "tf2_msgs/msg/TFMessage"}
    if tf_topics:
        buffer = _tf(path, tf_topics)
        lines.append("tf tree:")
        lines += _tree(buffer)
        if stream is not None and stream.settings.streams.pose_source == "tf":
            missing += _tf_problems(buffer, stream, settings)
    else:
        lines.append("tf tree: none (no /tf or /tf_static)")
    if stream is not None and not stream.has_instances:
        missing.append("instance topics: objects need instances_topic + labels_topic, or a detector "
                       "(perception.detector_model_path); without them only the map and trajectory are built")
    lines.append("missing:" if missing else "missing: nothing")
    lines += [f"  - {item}" for item in missing]
    return "\n".join(lines)


def _tf_problems(buffer: TfBuffer, stream: BagStream, settings: Settings) -> list[str]:
    """Why tf poses would fail: the fixed frame or the camera frame absent, or not connected."""
    world = fixed_frame(buffer, stream.settings.node.frame_id)
    camera = stream.settings.streams.camera_frame
    if not camera:
        with AnyReader([stream.path], default_typestore=get_typestore(Stores.ROS2_HUMBLE)) as reader:
            infos = [c for c in reader.connections if c.topic == stream.topics.get("camera_info")]
            for connection, _, raw in reader.messages(connections=infos):
                camera = reader.deserialize(raw, connection.msgtype).header.frame_id
                break
    if world not in buffer.frames:
        return [f"the fixed frame: tf has neither {settings.node.frame_id} nor odom (set frame_id)"]
    if camera not in buffer.frames:
        return [f"the camera frame '{camera}' is not in the tf tree (set camera_frame)"]
    try:
        if buffer.root(camera) != buffer.root(world):
            return [f"the camera frame '{camera}' is not connected to '{world}' in tf (set camera_frame or frame_id)"]
    except TfError as err:  # a loop in the tree
        return [f"the tf tree: {err}"]
    return []
