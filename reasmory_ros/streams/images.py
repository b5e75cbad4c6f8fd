"""sensor_msgs/Image <-> numpy without ROS: the live node and the bag replay share these decoders.

Decoders are duck-typed on the message fields (height, width, encoding, is_bigendian, step, data),
so an rclpy message (data: array.array), a rosbags message (data: numpy uint8) and `RawImage` all
work. Rows may be padded (step > width * bytes per pixel) and multi-byte pixels may be big-endian.
Images over `Frame`'s pixel limit are refused before their data is copied: a camera misconfigured
to a huge resolution costs a size check per message, not a decode and a pending buffer of copies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reasmory_ros.memory.frame import MAX_IMAGE_PIXELS
from reasmory_ros.streams.errors import ImageDecodeError

# encoding -> (numpy scalar type without byte order, channels)
ENCODINGS: dict[str, tuple[str, int]] = {
    "rgb8": ("u1", 3),
    "bgr8": ("u1", 3),
    "rgba8": ("u1", 4),
    "bgra8": ("u1", 4),
    "mono8": ("u1", 1),
    "mono16": ("u2", 1),
    "16UC1": ("u2", 1),
    "32SC1": ("i4", 1),
    "32FC1": ("f4", 1),
}

COLOR_ENCODINGS = ("rgb8", "bgr8", "rgba8", "bgra8", "mono8")
DEPTH_ENCODINGS = ("16UC1", "mono16", "32FC1")
"""16UC1/mono16: millimetres, 0 = invalid; 32FC1: metres (REP 118)."""
INSTANCE_ENCODINGS = ("16UC1", "mono16", "32SC1")
"""Instance id per pixel, 0 = none."""


@dataclass(frozen=True)
class RawImage:
    """The fields of sensor_msgs/Image without the header: what `encode_image` produces."""

    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: bytes


def _bytes_of(data) -> np.ndarray:
    """The message's data field as a flat uint8 array, without a copy where possible."""
    if isinstance(data, np.ndarray):
        return np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    try:
        return np.frombuffer(data, dtype=np.uint8)
    except TypeError:
        return np.asarray(data, dtype=np.uint8).reshape(-1)


def decode_image(msg, allowed: tuple[str, ...] | None = None, what: str = "image") -> np.ndarray:
    """Pixels of an Image message: H x W (one channel) or H x W x C, native byte order, a copy.

    `allowed` restricts the encodings (the error lists them); `what` names the image in errors.
    """
    encoding = str(msg.encoding)
    supported = allowed if allowed is not None else tuple(ENCODINGS)
    if encoding not in supported or encoding not in ENCODINGS:
        raise ImageDecodeError(f"{what} encoding '{encoding}' is not supported; expected one of {', '.join(supported)}")
    scalar, channels = ENCODINGS[encoding]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise ImageDecodeError(f"{what} is empty ({width}x{height} pixels)")
    row_bytes = width * channels * int(scalar[1])
    if step < row_bytes:
        raise ImageDecodeError(
            f"{what} step {step} is smaller than width * bytes per pixel = {width} * "
            f"{row_bytes // width} = {row_bytes} ({encoding})"
        )
    buffer = _bytes_of(msg.data)
    if buffer.size != height * step:
        raise ImageDecodeError(
            f"{what} data has {buffer.size} bytes but height * step = {height} * {step} = {height * step}"
        )
    if height * width > MAX_IMAGE_PIXELS:
        raise ImageDecodeError(f"{what} {width}x{height} exceeds the {MAX_IMAGE_PIXELS}-pixel limit")
    order = ">" if msg.is_bigendian else "<"
    rows = np.ascontiguousarray(buffer.reshape(height, step)[:, :row_bytes])
    pixels = rows.view(np.dtype(order + scalar)).reshape(height, width, channels)
    native = pixels.astype(np.dtype(scalar), copy=True)
    return native[:, :, 0] if channels == 1 else native


def decode_color(msg) -> np.ndarray:
    """H x W x 3 uint8 RGB from rgb8, bgr8, rgba8, bgra8 or mono8."""
    pixels = decode_image(msg, COLOR_ENCODINGS, "color image")
    encoding = str(msg.encoding)
    if encoding == "mono8":
        return np.repeat(pixels[:, :, None], 3, axis=2)
    if encoding.startswith("bgr"):
        pixels = pixels[:, :, 2::-1]
    return np.ascontiguousarray(pixels[:, :, :3])


def decode_depth(msg) -> np.ndarray:
    """H x W float32 metres, 0 where invalid, from 16UC1/mono16 (mm) or 32FC1 (m)."""
    pixels = decode_image(msg, DEPTH_ENCODINGS, "depth image")
    if pixels.dtype == np.uint16:
        return pixels.astype(np.float32) * np.float32(0.001)
    return pixels


def decode_instances(msg) -> np.ndarray:
    """H x W int32 instance ids (0 = none) from 16UC1/mono16 or 32SC1."""
    return decode_image(msg, INSTANCE_ENCODINGS, "instance image").astype(np.int32, copy=False)


def encode_image(pixels: np.ndarray, encoding: str, step: int | None = None, bigendian: bool = False) -> RawImage:
    """The inverse of `decode_image`: publishers, the simulator and tests build messages with it.

    `step` pads each row to that many bytes; `bigendian` writes multi-byte pixels big-endian.
    """
    if encoding not in ENCODINGS:
        raise ImageDecodeError(f"cannot encode '{encoding}'; expected one of {', '.join(ENCODINGS)}")
    scalar, channels = ENCODINGS[encoding]
    pixels = np.asarray(pixels)
    height, width = pixels.shape[:2]
    if pixels.reshape(height, width, -1).shape[2] != channels:
        raise ImageDecodeError(f"{encoding} needs {channels} channel(s), got shape {pixels.shape}")
    row_bytes = width * channels * int(scalar[1])
    step = row_bytes if step is None else int(step)
    if step < row_bytes:
        raise ImageDecodeError(f"step {step} is smaller than a row ({row_bytes} bytes)")
    order = ">" if bigendian else "<"
    rows = np.zeros((height, step), dtype=np.uint8)
    rows[:, :row_bytes] = pixels.astype(np.dtype(order + scalar)).reshape(height, -1).view(np.uint8)
    return RawImage(height, width, encoding, int(bigendian), step, rows.tobytes())
