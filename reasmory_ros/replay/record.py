"""`reasmory-replay --record OUT.mcap`: the node's outputs over the bag's own time, as an MCAP.

The topics, types and content are the node's (`reasmory_ros.visual` builds both), so one RViz
configuration and one Foxglove layout serve a live robot and a replay:

    /reasmory/markers  visualization_msgs/MarkerArray  boxes, labels, camera path; then each answer
    /reasmory/map      sensor_msgs/PointCloud2         the scene map, at map_publish_rate
    /reasmory/path     nav_msgs/Path                   the camera path, with the map
    /reasmory/status   std_msgs/String                 the ~/status JSON, at status_rate
    /reasmory/answers  std_msgs/String                 one JSON answer record per question

Rates are the node's parameters, counted in bag time. Every output is stamped (header and log
time) with the bag's recording time; after the last frame one final set is written, then one
answer per ANSWER_STEP seconds, each with the markers of what it touched (as the node republishes
~/markers after an ask). Written with rosbags (no ROS install) into a hidden folder next to OUT
and moved into place when complete, so OUT is never a half-written file.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import fields, is_dataclass
from pathlib import Path

import numpy as np
from rosbags.highlevel import AnyReader
from rosbags.interfaces import Nodetype, Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from reasmory_ros.config import NODE_NAME
from reasmory_ros.config.settings import NodeSettings
from reasmory_ros.replay.pipeline import ReplayStep, answer_record
from reasmory_ros.visual.markers import MarkerFactory, camera_path, memory_markers
from reasmory_ros.visual.messages import Header, String, Time
from reasmory_ros.visual.pointcloud import pointcloud2
from reasmory_ros.visual.status import pipeline_status

_LOG = logging.getLogger(__name__)

ANSWER_STEP = 1.0
"""s of bag time between the answers written after the stream, so a player shows each one."""

OUTPUTS = {  # node output -> message type; latched ones are TRANSIENT_LOCAL as the node offers them
    "markers": ("visualization_msgs/msg/MarkerArray", True),
    "map": ("sensor_msgs/msg/PointCloud2", True),
    "path": ("nav_msgs/msg/Path", True),
    "status": ("std_msgs/msg/String", False),
    "answers": ("std_msgs/msg/String", False),
}


class RecordError(RuntimeError):
    """An output file cannot be written; the message names the file and why."""


def output_path(path: str | Path, suffix: str) -> Path:
    """Check, before any replay work, that `path` can be written: its folder exists or can be
    created and is writable, and `path` is not a folder. Returns it as a Path."""
    path = Path(path)
    if path.suffix != suffix:
        raise RecordError(f"output {path}: expected a {suffix} file name")
    if path.is_dir():
        raise RecordError(f"output {path} is a folder, not a {suffix} file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RecordError(f"cannot create the folder of output {path}: {err.strerror or err}") from err
    if not os.access(path.parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise RecordError(f"output {path} is not writable")
    return path


def _qos(latched: bool) -> Qos:
    never = QosTime(sec=0x7FFFFFFF, nsec=0xFFFFFFFF)  # rosbag2's "infinite"
    return Qos(QosHistory.KEEP_LAST, 1 if latched else 10, QosReliability.RELIABLE,
               QosDurability.TRANSIENT_LOCAL if latched else QosDurability.VOLATILE, never, never,
               QosLiveliness.AUTOMATIC, never, False)


class McapRecorder:
    """Writes the outputs while the replay runs (`step`), the answers after it (`finish`).

    A write failure after the start (disk full) stops the recording and is kept in `error`; the
    replay and its answers go on.
    """

    def __init__(self, path: str | Path, outputs: NodeSettings):
        self.path = output_path(path, ".mcap")
        self.outputs = outputs  # the node's output rates, frame and marker lifetime
        self.typestore = get_typestore(Stores.ROS2_HUMBLE)
        self._convert = RosbagsConverter(self.typestore)
        self.error: str | None = None
        self.warnings: list[str] = []
        self.counts: dict[str, int] = {}
        self._folder = self.path.with_name(f".{self.path.name}.partial")
        shutil.rmtree(self._folder, ignore_errors=True)  # left by an interrupted run
        try:
            self._writer = Writer(self._folder, version=9, storage_plugin=StoragePlugin.MCAP)
            self._writer.open()
            self._connections = {
                name: self._writer.add_connection(f"/{NODE_NAME}/{name}", msgtype, typestore=self.typestore,
                                                  offered_qos_profiles=[_qos(latched)])
                for name, (msgtype, latched) in OUTPUTS.items()
            }
        except Exception as err:  # rosbags raises WriterError or OSError for an unusable folder
            shutil.rmtree(self._folder, ignore_errors=True)
            raise RecordError(f"cannot write {self.path}: {err}") from err
        self._due = dict.fromkeys(("markers", "map", "status"))
        self._last: ReplayStep | None = None

    def _write(self, name: str, description, bag_time: float) -> None:
        if self.error is not None:
            return
        try:
            msgtype = OUTPUTS[name][0]
            raw = self.typestore.serialize_cdr(self._convert(description), msgtype)
            self._writer.write(self._connections[name], int(round(bag_time * 1e9)), bytes(raw))
        except Exception as err:  # noqa: BLE001 - any failure ends the recording, never the replay
            self.error = f"recording {self.path} stopped at bag time {bag_time:.3f} s: {err}"
            _LOG.error("%s", self.error)
            return
        self.counts[name] = self.counts.get(name, 0) + 1

    def _period(self, name: str) -> float:
        rate = {"markers": self.outputs.marker_rate, "map": self.outputs.map_publish_rate,
                "status": self.outputs.status_rate}[name]
        return 1.0 / rate if rate > 0 else 0.0

    def step(self, step: ReplayStep) -> None:
        """After each integrated frame: the outputs whose period has passed in bag time."""
        self._last = step
        for name, due in self._due.items():
            period = self._period(name)
            if period > 0 and (due is None or step.bag_time >= due):
                self._due[name] = step.bag_time + period
                self._emit(name, step)

    def _emit(self, name: str, step: ReplayStep, answer=None) -> None:
        head = Header(stamp=Time.from_ns(int(round(step.bag_time * 1e9))), frame_id=self.outputs.frame_id)
        if name == "status":
            status = pipeline_status(step.assembler, step.integrator, step.memory)
            self._write("status", String(data=json.dumps(status)), step.bag_time)
            return
        snapshot = step.memory.snapshot()
        if name == "map":
            self._write("map", pointcloud2(snapshot.scene_map.points, snapshot.scene_map.colors, head), step.bag_time)
            self._write("path", camera_path(snapshot.trajectory, head), step.bag_time)
            return
        factory = MarkerFactory(head, self.outputs.marker_lifetime)
        self._write("markers", memory_markers(snapshot, factory, answer), step.bag_time)

    def finish(self, results) -> None:
        """The final state at the last frame's time, then each (row, QuestionResult) one
        ANSWER_STEP apart with the markers of what it touched; closes the file."""
        last = self._last
        if last is not None:
            for name in ("markers", "map", "status"):
                self._emit(name, last)
            for i, (row, result) in enumerate(results, start=1):
                step = ReplayStep(last.frame, last.bag_time + i * ANSWER_STEP, last.memory, last.assembler,
                                  last.integrator)
                record = {"question": row["question"], **answer_record(row["id"], result)}
                self._write("answers", String(data=json.dumps(record)), step.bag_time)
                if result.ok and result.dsl_answer is not None:
                    caption = result.text or str(result.answer)
                    self._emit("markers", step, answer=(result.dsl_answer.touched, caption))
        self.close()

    def copy_inputs(self, bag: str | Path) -> None:
        """Every topic of the input bag (the camera streams, tf, ...) at its recording time."""
        if self.error is not None:
            return
        ours = {connection.topic for connection in self._connections.values()}
        try:
            with AnyReader([Path(bag)], default_typestore=self.typestore) as reader:
                copies = {}
                for connection in reader.connections:
                    if connection.topic not in ours and connection.topic not in copies:
                        copies[connection.topic] = self._writer.add_connection(
                            connection.topic, connection.msgtype, typestore=reader.typestore)
                for connection, bag_time_ns, raw in reader.messages(
                        connections=[c for c in reader.connections if c.topic in copies]):
                    self._writer.write(copies[connection.topic], bag_time_ns, raw)
                    self.counts[connection.topic] = self.counts.get(connection.topic, 0) + 1
        except Exception as err:  # noqa: BLE001 - a damaged input bag costs the copy, not the outputs
            self.warnings.append(f"the input topics could not all be copied into {self.path}: {err}")
            _LOG.warning("%s", self.warnings[-1])

    def discard(self) -> None:
        """Stop without writing `path` (the replay failed before its first frame)."""
        try:
            self._writer.close()
        except Exception:  # noqa: BLE001 - the folder is removed either way
            pass
        shutil.rmtree(self._folder, ignore_errors=True)

    def close(self) -> None:
        """Finish the MCAP and move it to `path` (also after a write error: what was written is kept)."""
        try:
            self._writer.close()
            os.replace(self._folder / f"{self._folder.name}.mcap", self.path)
        except Exception as err:  # noqa: BLE001
            self.error = self.error or f"cannot finish {self.path}: {err}"
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)


def _dtype(name: str) -> np.dtype:
    return np.dtype(np.uint8 if name in ("byte", "char", "octet") else name)


def _numeric(fielddef) -> np.dtype | None:
    """The element dtype of a sequence or array of numbers (rosbags wants numpy arrays there)."""
    kind, detail = fielddef
    if kind in (Nodetype.ARRAY, Nodetype.SEQUENCE) and detail[0][0] == Nodetype.BASE:
        name = detail[0][1][0]
        return None if name in ("string", "wstring") else _dtype(name)
    return None


class RosbagsConverter:
    """`reasmory_ros.visual.messages` descriptions -> a typestore's message objects, field by field.

    A plan per description class is built once (which fields to convert and how, and the default
    value of each field the description does not have), so a long Path converts quickly.
    """

    def __init__(self, typestore):
        self.typestore = typestore
        self._plans: dict[type, tuple] = {}

    def __call__(self, description):
        cls, fixed, converted = self._plan(type(description))
        return cls(**fixed, **{name: convert(getattr(description, name)) for name, convert in converted})

    def _plan(self, kind: type) -> tuple:
        if kind not in self._plans:
            assert is_dataclass(kind), kind
            given = {item.name for item in fields(kind)}
            defs = self.typestore.fielddefs[kind.MSGTYPE][1]
            fixed = {name: self._default(sub) for name, sub in defs if name not in given}
            converted = [(name, self._converter(sub)) for name, sub in defs if name in given]
            self._plans[kind] = (self.typestore.types[kind.MSGTYPE], fixed, converted)
        return self._plans[kind]

    def _converter(self, fielddef):
        kind, detail = fielddef
        if kind == Nodetype.NAME:
            return self
        if kind == Nodetype.BASE:
            return lambda value: value
        dtype = _numeric(fielddef)
        if dtype is not None:
            return lambda value: (np.frombuffer(value, dtype=np.uint8) if isinstance(value, (bytes, bytearray))
                                  else np.asarray(value, dtype=dtype))
        item = self._converter(detail[0])
        return lambda value: [item(element) for element in value]

    def _default(self, fielddef):
        """The zero value of a field (messages are only serialized, so defaults may be shared)."""
        kind, detail = fielddef
        if kind == Nodetype.NAME:
            defs = self.typestore.fielddefs[detail][1]
            return self.typestore.types[detail](**{name: self._default(sub) for name, sub in defs})
        if kind == Nodetype.BASE:
            return "" if detail[0] in ("string", "wstring") else _dtype(detail[0]).type(0).item()
        length = detail[1] if kind == Nodetype.ARRAY else 0
        dtype = _numeric(fielddef)
        if dtype is not None:
            return np.zeros(length, dtype=dtype)
        return [self._default(detail[0]) for _ in range(length)]
