"""sensor_msgs/Image and CompressedImage <-> numpy without ROS: the node and the replay share these.

Decoders are duck-typed on the message fields (height, width, encoding, is_bigendian, step, data),
so an rclpy message (data: array.array), a rosbags message (data: numpy uint8) and `RawImage` all
work. Rows may be padded (step > width * bytes per pixel) and multi-byte pixels may be big-endian.
Images over `Frame`'s pixel limit are refused before their data is copied: a camera misconfigured
to a huge resolution costs a size check per message, not a decode and a pending buffer of copies.

sensor_msgs/CompressedImage (fields header, format, data) is recognised by its `format` field:
colour as image_transport's `compressed` plugin writes it (jpeg or png, any channel order: the
decoded picture is RGB whatever OpenCV's memory order was) and depth as `compressedDepth` writes
it (compressed_depth_image_transport/codec.cpp): a 12-byte header (int32 format, float32 depth
quantisation A and B) then a PNG of 16UC1 millimetres, or for 32FC1 of inverse depth
q = A / z + B (z = A / (q - B), q = 0 invalid). Pillow decodes; its size is known before the
pixels are, so the pixel limit holds for compressed images too. RVL-coded depth is refused.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import numpy as np
from PIL import Image as PILImage

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


def is_compressed(msg) -> bool:
    """Whether a message is a sensor_msgs/CompressedImage (it has `format`, not `encoding`)."""
    return hasattr(msg, "format") and not hasattr(msg, "encoding")


def _open_compressed(data: bytes, what: str) -> PILImage.Image:
    """A decoded Pillow image of jpeg/png bytes, refused over the pixel limit before decoding."""
    try:
        image = PILImage.open(io.BytesIO(data))
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise ImageDecodeError(f"{what} {width}x{height} exceeds the {MAX_IMAGE_PIXELS}-pixel limit")
        image.load()
    except ImageDecodeError:
        raise
    except (OSError, ValueError, SyntaxError) as err:  # Pillow's errors for broken or unknown data
        raise ImageDecodeError(f"{what} cannot be decoded ({len(data)} bytes): {err}") from err
    return image


def decode_compressed_color(msg) -> np.ndarray:
    """H x W x 3 uint8 RGB of a jpeg or png CompressedImage."""
    image = _open_compressed(_bytes_of(msg.data).tobytes(), f"compressed color image ({msg.format!r})")
    return np.asarray(image.convert("RGB")).copy()


COMPRESSED_DEPTH_HEADER = struct.Struct("<iff")
"""compressed_depth_image_transport's ConfigHeader: format (INV_DEPTH = 0), depthParam[2]."""


def compressed_depth_encoding(format_field: str) -> tuple[str, str]:
    """(image encoding, codec) of a compressedDepth `format` field such as '16UC1; compressedDepth png'
    (codec 'png' when not named, as older publishers wrote 'compressedDepth' alone)."""
    encoding, _, rest = str(format_field).partition(";")
    codec = "png"
    if "compressedDepth " in rest:
        codec = rest.split("compressedDepth ", 1)[1].split()[0]
    return encoding.strip(), codec


def decode_compressed_depth(msg) -> np.ndarray:
    """H x W float32 metres of a compressedDepth CompressedImage (0 or NaN where invalid), or of a
    plain 16-bit png published by the `compressed` plugin."""
    data = _bytes_of(msg.data).tobytes()
    encoding, codec = compressed_depth_encoding(msg.format)
    what = f"compressed depth image ({msg.format!r})"
    if "compressedDepth" not in str(msg.format):
        pixels = np.asarray(_open_compressed(data, what))
        if pixels.dtype != np.uint16 or pixels.ndim != 2:
            raise ImageDecodeError(f"{what} is not a 16-bit single-channel png (got {pixels.dtype}, shape "
                                   f"{pixels.shape})")
        return pixels.astype(np.float32) * np.float32(0.001)
    if codec != "png":
        raise ImageDecodeError(f"{what}: the '{codec}' codec is not supported; republish depth with "
                               "the compressedDepth plugin's format png")
    if encoding not in DEPTH_ENCODINGS:
        raise ImageDecodeError(f"{what}: encoding '{encoding}' is not a depth encoding "
                               f"({', '.join(DEPTH_ENCODINGS)})")
    if len(data) <= COMPRESSED_DEPTH_HEADER.size:
        raise ImageDecodeError(f"{what} has {len(data)} bytes: no room for the 12-byte header and an image")
    _, quant_a, quant_b = COMPRESSED_DEPTH_HEADER.unpack_from(data)
    pixels = np.asarray(_open_compressed(data[COMPRESSED_DEPTH_HEADER.size:], what))
    if pixels.ndim != 2 or pixels.dtype not in (np.uint16, np.int32):
        raise ImageDecodeError(f"{what} does not hold a 16-bit single-channel png")
    pixels = pixels.astype(np.uint16, copy=False)
    if encoding != "32FC1":
        return pixels.astype(np.float32) * np.float32(0.001)
    inverse = pixels.astype(np.float32)
    with np.errstate(divide="ignore"):
        depth = np.float32(quant_a) / (inverse - np.float32(quant_b))
    depth[pixels == 0] = np.nan
    return depth


def encode_compressed_color(rgb: np.ndarray, codec: str = "jpeg", quality: int = 90) -> tuple[str, bytes]:
    """(format, data) of a CompressedImage as image_transport's `compressed` plugin writes it."""
    if codec not in ("jpeg", "png"):
        raise ImageDecodeError(f"cannot compress colour as '{codec}'; expected jpeg or png")
    buffer = io.BytesIO()
    PILImage.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(
        buffer, "JPEG" if codec == "jpeg" else "PNG", **({"quality": quality} if codec == "jpeg" else {}))
    return f"rgb8; {codec} compressed bgr8", buffer.getvalue()


def encode_compressed_depth(depth: np.ndarray, encoding: str = "16UC1", depth_max: float = 10.0,
                            depth_quantization: float = 100.0) -> tuple[str, bytes]:
    """(format, data) of a compressedDepth CompressedImage of metres (0 or NaN invalid), following
    codec.cpp: 16UC1 keeps millimetres up to depth_max; 32FC1 quantises inverse depth."""
    depth = np.asarray(depth, dtype=np.float32)
    if encoding == "16UC1":
        millimetres = np.nan_to_num(np.round(depth * 1000.0), nan=0.0)
        quantised = np.where(millimetres > int(depth_max * 1000.0), 0, np.clip(millimetres, 0, 65535))
        quant_a = quant_b = 0.0
    elif encoding == "32FC1":
        quant_a = np.float32(depth_quantization * (depth_quantization + 1.0))
        quant_b = np.float32(1.0 - quant_a / np.float32(depth_max))
        valid = np.isfinite(depth) & (depth > 0) & (depth < depth_max)
        with np.errstate(divide="ignore", invalid="ignore"):
            quantised = np.where(valid, np.minimum(np.trunc(quant_a / depth + quant_b), 65535), 0)  # float -> ushort
    else:
        raise ImageDecodeError(f"compressedDepth encodes 16UC1 or 32FC1, not '{encoding}'")
    buffer = io.BytesIO()
    PILImage.fromarray(quantised.astype(np.uint16)).save(buffer, "PNG")
    header = COMPRESSED_DEPTH_HEADER.pack(0, float(quant_a), float(quant_b))
    return f"{encoding}; compressedDepth png", header + buffer.getvalue()


def decode_color(msg) -> np.ndarray:
    """H x W x 3 uint8 RGB from rgb8, bgr8, rgba8, bgra8 or mono8, or a jpeg/png CompressedImage."""
    if is_compressed(msg):
        return decode_compressed_color(msg)
    pixels = decode_image(msg, COLOR_ENCODINGS, "color image")
    encoding = str(msg.encoding)
    if encoding == "mono8":
        return np.repeat(pixels[:, :, None], 3, axis=2)
    if encoding.startswith("bgr"):
        pixels = pixels[:, :, 2::-1]
    return np.ascontiguousarray(pixels[:, :, :3])


def decode_depth(msg) -> np.ndarray:
    """H x W float32 metres, 0 where invalid, from 16UC1/mono16 (mm) or 32FC1 (m), or compressedDepth."""
    if is_compressed(msg):
        return decode_compressed_depth(msg)
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
