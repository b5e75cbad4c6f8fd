"""rosbag2 -> `Frame`s with `rosbags` alone: no ROS middleware is needed to analyse a recording.

A driver's own topic layout is recognised (replay/layouts.py); poses may come from `/tf` +
`/tf_static` (streams/tf.py: looked up once tf covers an image's stamp, refusals counted by reason);
colour and depth may be compressed; depth not registered to colour is registered here from both
camera_infos and the tf between the optical frames (streams/registration.py).

Messages go through the same `FrameAssembler` as the live node's callbacks (built by
`reasmory_ros.pipeline`), so a bag and a live stream give the same frames, the same frame numbers
and the same error counts. The assembler's clock is the bag's recording time (`BagStream.clock`),
so its reorder window and log rate limits mean what they mean live, however fast the bag is read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rosbags.highlevel import AnyReader
from rosbags.typesys import Stores, get_typestore

from reasmory_ros.config.settings import Settings
from reasmory_ros.memory.frame import Frame
from reasmory_ros.perception.stage import FrameInputs
from reasmory_ros.replay.layouts import IMAGE_TYPES, Recognition, recognise
from reasmory_ros.replay.salvage import Salvage, SalvageError, salvage
from reasmory_ros.streams.assembler import FrameAssembler
from reasmory_ros.streams.camera import stamp_ns
from reasmory_ros.streams.inputs import COUNTED_AS, StreamInputs

_LOG = logging.getLogger(__name__)

SENSOR_PARTS = ("color", "depth", "camera_info", "pose")
"""Needed in the bag unless a perception plug-in estimates them (depth, pose)."""
OPTIONAL_PARTS = ("instances", "labels")
POSE_TYPES = ("geometry_msgs/msg/PoseStamped", "nav_msgs/msg/Odometry")


class BagError(RuntimeError):
    """The bag cannot be replayed: unreadable, or a needed topic is missing or of the wrong type."""


@dataclass
class BagClock:
    """The recording time (s) of the message being read: the assembler's clock in a replay."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class BagStream:
    """The messages of a bag plus what is known before reading them (for progress and summaries)."""

    path: Path
    topics: dict[str, str]
    """{part: topic} of the parts read (no instances and labels when the bag lacks either)."""
    color_messages: int
    warnings: list[str] = field(default_factory=list)
    truncated: str | None = None
    salvage: Salvage | None = None
    """Set when rosbags could not open the bag: its storage files are read up to the damage."""
    clock: BagClock = field(default_factory=BagClock)
    settings: Settings = field(default_factory=Settings)
    """The settings the bag is read with: the given ones plus what its layout implies."""
    recognition: Recognition = field(default_factory=lambda: Recognition("parameters"))

    def __post_init__(self) -> None:
        self._inputs: StreamInputs | None = None

    @property
    def pose_refusals(self) -> dict[str, int]:
        """Images whose pose tf could not give, per reason (extrapolation, gap, ...)."""
        return {} if self._inputs is None else self._inputs.pose_refusals

    @property
    def has_instances(self) -> bool:
        """Whether the bag has both instance topics (else frames cannot wait for them)."""
        return all(part in self.topics for part in OPTIONAL_PARTS)

    def frames(self, assembler: FrameAssembler) -> Iterator[Frame | FrameInputs]:
        """The bag's messages through `assembler` (whose clock must be `self.clock`): frames in
        stream order (FrameInputs where perception estimates depth or pose). A bag that ends in a
        broken record yields what was readable and records why in `truncated` (the frames already
        read are kept)."""
        self._inputs = StreamInputs(self.settings, assembler)
        yield from self._messages(assembler)
        yield from self._inputs.finish()
        yield from assembler.flush()

    def _messages(self, assembler: FrameAssembler) -> Iterator[Frame | FrameInputs]:
        if self.salvage is not None:
            yield from self._salvaged_frames(assembler)
            return
        try:
            with AnyReader([self.path], default_typestore=get_typestore(Stores.ROS2_HUMBLE)) as reader:
                connections = [c for c in reader.connections if c.topic in self._parts]
                for connection, bag_time_ns, raw in reader.messages(connections=connections):
                    yield from self._add(assembler, connection.topic, connection.msgtype, bag_time_ns, raw,
                                         reader.deserialize)
        except BagError:
            raise
        except Exception as err:  # a truncated file surfaces as sqlite/mcap/rosbags errors
            self.truncated = f"the bag ended in an unreadable record: {err}"
            _LOG.warning("%s: %s; keeping the frames read so far", self.path, self.truncated)

    @property
    def _parts(self) -> dict[str, str]:
        """{topic: part} of every topic read: frame parts, tf topics and the depth camera's info."""
        parts = {topic: part for part, topic in self.topics.items()}
        depth_info = self.settings.streams.depth_info_topic
        if self.settings.streams.pose_source == "tf" or depth_info:
            parts.update({topic: "tf_static" if static else "tf"
                          for topic, static in self.recognition.tf_topics.items()})
        if depth_info:
            parts[depth_info] = "depth_info"
        return parts

    def _salvaged_frames(self, assembler: FrameAssembler) -> Iterator[Frame | FrameInputs]:
        typestore = get_typestore(Stores.ROS2_HUMBLE)
        parts = self._parts
        for topic, msgtype, bag_time_ns, raw in self.salvage.messages():
            if topic in parts:
                yield from self._add(assembler, topic, msgtype, bag_time_ns, raw, typestore.deserialize_cdr)
        if self.salvage.damage:
            self.truncated = f"the bag is damaged, frames up to the damage were kept: {self.salvage.damage}"
            _LOG.warning("%s: %s", self.path, self.truncated)

    def _add(self, assembler: FrameAssembler, topic: str, msgtype: str, bag_time_ns: int, raw,
             deserialize) -> list[Frame | FrameInputs]:
        """One serialized message into the assembler; a corrupt one is counted against its part
        (the key ~/status uses too) and costs only its own frame."""
        part = self._parts[topic]
        self.clock.now = bag_time_ns * 1e-9
        try:
            msg = deserialize(raw, msgtype)
            header = getattr(msg, "header", None)
            stamp = None if header is None else stamp_ns(header.stamp)
        except Exception as err:  # rosbags raises several types for a corrupt record
            assembler.report(COUNTED_AS.get(part, part), "corrupt message", f"cannot deserialize a {msgtype} message on {topic}: {err}")
            return []
        return self._inputs.add(part, stamp, msg, self.clock.now)


def open_bag(path: str | Path, settings: Settings) -> BagStream:
    """Check the bag's topics against the settings' topic names and prepare to read them.

    Where the configured topics are absent, a driver layout recognised in the bag supplies the
    settings the parameters left at their defaults (`BagStream.settings`, `.recognition`).
    Raises BagError naming the topic when a required topic is missing or has the wrong type;
    depth and pose are not required when perception estimates them (depth_topic '', pose_source
    rgbd_odometry). Instance topics are optional (`BagStream.has_instances`).
    """
    path = Path(path)
    if not path.exists():
        raise BagError(f"bag {path} does not exist")
    salvaged = None
    try:
        with AnyReader([path], default_typestore=get_typestore(Stores.ROS2_HUMBLE)) as reader:
            available = {c.topic: c.msgtype for c in reader.connections}
            counts = {c.topic: c.msgcount for c in reader.connections}
            duration = reader.duration * 1e-9
    except Exception as err:
        # A recorder that died or a copy cut short: read the storage files up to the damage.
        try:
            salvaged = salvage(path)
        except (SalvageError, OSError) as salvage_err:
            raise BagError(f"cannot open bag {path}: {err} (reading it record by record: {salvage_err})") from err
        available, counts, duration = dict(salvaged.topics), {}, 0.0
        damaged = f"cannot open bag {path} normally ({err}): reading its records up to the damage"

    settings, recognition = recognise(available, settings, _color_period(available, counts, duration))
    required = [part for part in SENSOR_PARTS if part not in settings.estimated_parts()]
    from_tf = settings.streams.pose_source == "tf"
    topics = {part: settings.streams.topic(part) for part in required + list(OPTIONAL_PARTS)
              if not (part == "pose" and from_tf)}
    missing = [f"{topics[part]} ({part})" for part in required if part in topics and topics[part] not in available]
    if from_tf and "pose" in required and "/tf" not in recognition.tf_topics:
        missing.append("/tf (pose_source tf)")
    depth_info = settings.streams.depth_info_topic
    if depth_info and "depth" in required:
        missing += [f"{depth_info} (depth_info)"] if depth_info not in available else []
        missing += [] if recognition.tf_topics else ["/tf_static (the colour <- depth transform, depth_info_topic)"]
    if missing:
        listing = ", ".join(f"{t} [{m}]" for t, m in sorted(available.items())) or "none"
        raise BagError(f"bag {path} lacks the topic(s) {', '.join(missing)}; it has: {listing}. "
                       "Set the *_topic parameters (--params) to the bag's topic names "
                       "(reasmory-replay BAG --inspect lists what each topic would be used for).")
    pose_type = available.get(topics.get("pose"))
    if pose_type is not None and pose_type not in POSE_TYPES:
        raise BagError(f"topic {topics['pose']} is {pose_type}; expected one of {', '.join(POSE_TYPES)}")

    warnings = [damaged] if salvaged is not None else []
    if not all(topics[part] in available for part in OPTIONAL_PARTS):
        topics = {part: topic for part, topic in topics.items() if part not in OPTIONAL_PARTS}
    return BagStream(path, topics, counts.get(topics["color"], 0), warnings, salvage=salvaged, settings=settings,
                     recognition=recognition)


def _color_period(available: dict[str, str], counts: dict[str, int], duration: float) -> float | None:
    """Mean time between the images of the bag's most frequent non-depth image topic (the colour
    camera of a driver layout): duration / count. None when unknown (a salvaged bag)."""
    images = max((counts.get(topic, 0) for topic, msgtype in available.items()
                  if msgtype in IMAGE_TYPES and "depth" not in topic and "instances" not in topic), default=0)
    return duration / (images - 1) if images > 1 and duration > 0 else None
