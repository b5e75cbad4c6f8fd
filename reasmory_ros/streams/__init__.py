"""ROS-free stream layer: message-like objects -> numpy -> validated `Frame`s.

Shared by the live node (rclpy messages) and the bag replay (rosbags messages): both have the same
field names, so every decoder here is duck-typed on fields and imports nothing from ROS.
"""

from reasmory_ros.streams.assembler import PARTS, FrameAssembler, RateLimitedReporter, parse_labels
from reasmory_ros.streams.camera import Intrinsics, intrinsics, pose_matrix, quaternion_from_rotation, stamp_ns
from reasmory_ros.streams.errors import CameraInfoError, DecodeError, ImageDecodeError, LabelsError, PoseError
from reasmory_ros.streams.images import (
    RawImage,
    decode_color,
    decode_depth,
    decode_image,
    decode_instances,
    encode_compressed_color,
    encode_compressed_depth,
    encode_image,
    is_compressed,
)
from reasmory_ros.streams.queue import DropOldestQueue

__all__ = [
    "PARTS",
    "FrameAssembler",
    "RateLimitedReporter",
    "parse_labels",
    "Intrinsics",
    "intrinsics",
    "pose_matrix",
    "quaternion_from_rotation",
    "stamp_ns",
    "CameraInfoError",
    "DecodeError",
    "ImageDecodeError",
    "LabelsError",
    "PoseError",
    "RawImage",
    "decode_color",
    "decode_depth",
    "decode_image",
    "decode_instances",
    "encode_image",
    "encode_compressed_color",
    "encode_compressed_depth",
    "is_compressed",
    "DropOldestQueue",
]
