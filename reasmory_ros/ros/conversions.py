"""Thin glue between rclpy messages and the ROS-free layers.

Decoding goes the other way through `reasmory_ros.streams` (duck-typed on field names); here are
the builders a publisher needs (a `Frame` as the six contract messages, for tests, demos and the
simulator's live mode) and the generic converter `to_rclpy` that turns a rosbags message into the
rclpy message of the same type, used by `reasmory-play`.
"""

from __future__ import annotations

import array
import importlib
import json

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point, Pose, PoseStamped, Quaternion
from rosidl_parser.definition import AbstractNestedType, Array, NamespacedType
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header, String

from reasmory_ros.memory.frame import Frame
from reasmory_ros.streams import encode_image, quaternion_from_rotation

CAMERA_FRAME_ID = "camera_color_optical_frame"


def time_msg(ns: int) -> Time:
    return Time(sec=int(ns) // 1_000_000_000, nanosec=int(ns) % 1_000_000_000)


def header(ns: int, frame_id: str) -> Header:
    return Header(stamp=time_msg(ns), frame_id=frame_id)


def image_msg(pixels: np.ndarray, encoding: str, head: Header) -> Image:
    raw = encode_image(pixels, encoding)
    return Image(
        header=head,
        height=raw.height,
        width=raw.width,
        encoding=raw.encoding,
        is_bigendian=raw.is_bigendian,
        step=raw.step,
        data=raw.data,
    )


def camera_info_msg(K: np.ndarray, width: int, height: int, head: Header) -> CameraInfo:
    P = np.hstack([np.asarray(K, dtype=np.float64), np.zeros((3, 1))])
    return CameraInfo(
        header=head,
        width=width,
        height=height,
        distortion_model="plumb_bob",
        d=[0.0] * 5,
        k=np.asarray(K, dtype=np.float64).reshape(-1),
        r=np.eye(3).reshape(-1),
        p=P.reshape(-1),
    )


def pose_msg(T: np.ndarray, head: Header) -> PoseStamped:
    x, y, z = (float(v) for v in np.asarray(T)[:3, 3])
    qx, qy, qz, qw = quaternion_from_rotation(np.asarray(T)[:3, :3])
    return PoseStamped(
        header=head, pose=Pose(position=Point(x=x, y=y, z=z), orientation=Quaternion(x=qx, y=qy, z=qz, w=qw))
    )


def labels_msg(labels: dict[int, str]) -> String:
    return String(data=json.dumps({str(k): v for k, v in sorted(labels.items())}))


def frame_messages(
    frame: Frame, world_frame_id: str = "map", camera_frame_id: str = CAMERA_FRAME_ID
) -> dict[str, object]:
    """The contract's messages of one frame, keyed by part (streams.PARTS), all with its stamp.

    Depth goes out as 16UC1 millimetres and instances as 16UC1, the encodings the simulator's bags
    use, so the live path and the replay path decode the same bytes.
    """
    ns = int(round(frame.timestamp * 1e6)) * 1000
    camera = header(ns, camera_frame_id)
    depth_mm = np.clip(np.round(frame.depth * 1000.0), 0, 65535).astype(np.uint16)
    instances = frame.instances if frame.instances is not None else np.zeros(frame.depth.shape, np.int32)
    return {
        "color": image_msg(frame.rgb, "rgb8", camera),
        "depth": image_msg(depth_mm, "16UC1", camera),
        "camera_info": camera_info_msg(frame.K, frame.width, frame.height, camera),
        "pose": pose_msg(frame.T_world_camera, header(ns, world_frame_id)),
        "instances": image_msg(instances.astype(np.uint16), "16UC1", camera),
        "labels": labels_msg(frame.labels),
    }


# ---------------------------------------------------------------------------------------------
# rosbags message -> rclpy message


class ConversionError(ValueError):
    """A message type is not available to rclpy, or a field does not fit."""


def message_type(name: str):
    """The rclpy class of 'pkg/msg/Name' (or 'pkg/Name'); ConversionError when not installed."""
    parts = name.split("/")
    if len(parts) == 2:
        parts = [parts[0], "msg", parts[1]]
    if len(parts) != 3:
        raise ConversionError(f"'{name}' is not a message type name like sensor_msgs/msg/Image")
    package, kind, type_name = parts
    try:
        return getattr(importlib.import_module(f"{package}.{kind}"), type_name)
    except (ImportError, AttributeError) as err:
        raise ConversionError(f"message type {name} is not installed for rclpy ({err})") from err


def _namespaced_class(slot: NamespacedType):
    return message_type("/".join([*slot.namespaces, slot.name]))


# rosidl basic type -> (array.array typecode for sequences, numpy dtype for fixed-size arrays)
_NUMERIC = {
    "float": ("f", np.float32),
    "double": ("d", np.float64),
    "int8": ("b", np.int8),
    "uint8": ("B", np.uint8),
    "octet": ("B", np.uint8),
    "int16": ("h", np.int16),
    "uint16": ("H", np.uint16),
    "int32": ("i", np.int32),
    "uint32": ("I", np.uint32),
    "int64": ("q", np.int64),
    "uint64": ("Q", np.uint64),
}


def _convert(value, slot):
    if isinstance(slot, NamespacedType):
        return to_rclpy(value, _namespaced_class(slot))
    if not isinstance(slot, AbstractNestedType):
        return value.item() if isinstance(value, np.generic) else value
    item = slot.value_type
    if isinstance(item, NamespacedType):
        cls = _namespaced_class(item)
        return [to_rclpy(v, cls) for v in value]
    numeric = _NUMERIC.get(getattr(item, "typename", ""))
    if numeric is None:  # strings, booleans
        return [v.item() if isinstance(v, np.generic) else v for v in value]
    typecode, dtype = numeric
    values = np.ascontiguousarray(value, dtype=dtype)
    if isinstance(slot, Array):  # rclpy keeps fixed-size numeric arrays as numpy arrays
        return values
    # Bulk copy: element-wise conversion of a 1 MB image would take seconds.
    return array.array(typecode, values.tobytes())


def to_rclpy(msg, cls):
    """Copy a message-like object (a rosbags message) field by field into a new `cls()`."""
    out = cls()
    for (field, _), slot in zip(cls.get_fields_and_field_types().items(), cls.SLOT_TYPES, strict=True):
        try:
            setattr(out, field, _convert(getattr(msg, field), slot))
        except (AttributeError, TypeError, ValueError, AssertionError) as err:
            raise ConversionError(f"{cls.__name__}.{field}: {err}") from err
    return out
