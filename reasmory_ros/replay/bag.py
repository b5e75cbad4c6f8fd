"""rosbag2 -> `Frame`s with `rosbags` alone: no ROS middleware is needed to analyse a recording.

Messages go through the same `FrameAssembler` as the live node's callbacks, so a bag and a live
stream give the same frames, the same frame numbers and the same error counts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rosbags.highlevel import AnyReader
from rosbags.typesys import Stores, get_typestore

from reasmory_ros.memory.frame import Frame
from reasmory_ros.streams.assembler import FrameAssembler

_LOG = logging.getLogger(__name__)

REQUIRED_PARTS = ("color", "depth", "camera_info", "pose")
OPTIONAL_PARTS = ("instances", "labels")
POSE_TYPES = ("geometry_msgs/msg/PoseStamped", "nav_msgs/msg/Odometry")


class BagError(RuntimeError):
    """The bag cannot be replayed: unreadable, or a needed topic is missing or of the wrong type."""


@dataclass
class BagStream:
    """The frames of a bag plus what is known before reading them (for progress and summaries)."""

    path: Path
    topics: dict[str, str]
    color_messages: int
    assembler: FrameAssembler
    warnings: list[str] = field(default_factory=list)
    truncated: str | None = None

    def frames(self) -> Iterator[Frame]:
        """Frames in stream order. A bag that ends in a broken record yields what was readable
        and records why in `truncated` (the frames already read are kept)."""
        parts_by_topic = {topic: part for part, topic in self.topics.items()}
        try:
            with AnyReader([self.path], default_typestore=get_typestore(Stores.ROS2_HUMBLE)) as reader:
                connections = [c for c in reader.connections if c.topic in parts_by_topic]
                for connection, bag_time_ns, raw in reader.messages(connections=connections):
                    part = parts_by_topic[connection.topic]
                    try:
                        msg = reader.deserialize(raw, connection.msgtype)
                    except Exception as err:  # rosbags raises several types for a corrupt record
                        self.assembler.report(connection.topic, "corrupt message",
                                              f"cannot deserialize a {connection.msgtype} message: {err}")
                        continue
                    header = getattr(msg, "header", None)
                    stamp = None if header is None else header.stamp.sec * 1_000_000_000 + header.stamp.nanosec
                    yield from self.assembler.add(part, stamp, msg, received=bag_time_ns * 1e-9)
        except BagError:
            raise
        except Exception as err:  # a truncated file surfaces as sqlite/mcap/rosbags errors
            self.truncated = f"the bag ended in an unreadable record: {err}"
            _LOG.warning("%s: %s; keeping the frames read so far", self.path, self.truncated)


def open_bag(path: str | Path, params: dict) -> BagStream:
    """Check the bag's topics against the parameters' topic names and prepare its frames.

    Raises BagError naming the topic when a required topic is missing or has the wrong type.
    Without instance topics frames are built from geometry alone, with a warning.
    """
    path = Path(path)
    if not path.exists():
        raise BagError(f"bag {path} does not exist")
    try:
        with AnyReader([path], default_typestore=get_typestore(Stores.ROS2_HUMBLE)) as reader:
            available = {c.topic: c.msgtype for c in reader.connections}
            counts = {c.topic: c.msgcount for c in reader.connections}
    except Exception as err:
        raise BagError(f"cannot open bag {path}: {err}") from err

    topics = {part: params[f"{part}_topic"] for part in REQUIRED_PARTS + OPTIONAL_PARTS}
    missing = [f"{topics[part]} ({part})" for part in REQUIRED_PARTS if topics[part] not in available]
    if missing:
        listing = ", ".join(f"{t} [{m}]" for t, m in sorted(available.items())) or "none"
        raise BagError(f"bag {path} lacks the topic(s) {', '.join(missing)}; it has: {listing}. "
                       "Set the *_topic parameters (--params) to the bag's topic names.")
    pose_type = available[topics["pose"]]
    if pose_type not in POSE_TYPES:
        raise BagError(f"topic {topics['pose']} is {pose_type}; expected one of {', '.join(POSE_TYPES)}")

    warnings = []
    with_instances = all(topics[part] in available for part in OPTIONAL_PARTS)
    if not with_instances:
        topics = {part: topic for part, topic in topics.items() if part not in OPTIONAL_PARTS}
        warnings.append("the bag has no instance topics: the map and trajectory are built, but no "
                        "objects (configure a perception detector to find them)")
    assembler = FrameAssembler(
        wait_for_instances=with_instances and params["wait_for_instances"],
        stamp_tolerance=params["stamp_tolerance"],
        labels_window=params["labels_window"],
        max_pending=params["max_pending"],
        report_period=params["error_report_period"],
    )
    return BagStream(path, topics, counts.get(topics["color"], 0), assembler, warnings)
