"""Errors of the stream layer: one base class so a caller can count any bad message per topic."""

from __future__ import annotations


class DecodeError(ValueError):
    """A message could not be turned into arrays; the message says which field and why."""


class ImageDecodeError(DecodeError):
    """A sensor_msgs/Image has an unsupported encoding or inconsistent size fields."""


class CameraInfoError(DecodeError):
    """A sensor_msgs/CameraInfo carries no usable intrinsics."""


class PoseError(DecodeError):
    """A pose message has a non-finite position or an unusable quaternion."""


class LabelsError(DecodeError):
    """An instance-labels String is not the JSON object {"<id>": "<category>"}."""
