"""CompressedImage decoding: jpeg/png colour and image_transport's compressedDepth, byte for byte."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image as PILImage
from rosbags.typesys import Stores, get_typestore

from reasmory_ros.memory.frame import MAX_IMAGE_PIXELS
from reasmory_ros.streams import (
    ImageDecodeError,
    decode_color,
    decode_depth,
    encode_compressed_color,
    encode_compressed_depth,
)

TYPES = get_typestore(Stores.ROS2_HUMBLE).types
RNG = np.random.default_rng(3)


def compressed(fmt: str, data: bytes):
    """A rosbags sensor_msgs/CompressedImage, as the replay reads it."""
    header = TYPES["std_msgs/msg/Header"](stamp=TYPES["builtin_interfaces/msg/Time"](sec=1, nanosec=0),
                                          frame_id="camera_color_optical_frame")
    return TYPES["sensor_msgs/msg/CompressedImage"](header=header, format=fmt,
                                                    data=np.frombuffer(data, np.uint8).copy())


def smooth_rgb(height=48, width=64):
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)], 2).astype(np.uint8)


def png(array) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def test_jpeg_colour_decodes_to_rgb_within_compression_error():
    rgb = smooth_rgb()
    decoded = decode_color(compressed(*encode_compressed_color(rgb, "jpeg", quality=95)))
    assert decoded.shape == rgb.shape and decoded.dtype == np.uint8
    assert np.abs(decoded.astype(int) - rgb).mean() < 2.0
    assert decoded[..., 0].mean() == pytest.approx(rgb[..., 0].mean(), abs=1.5)  # channels not swapped


def test_png_colour_and_mono_are_exact():
    rgb = RNG.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    assert np.array_equal(decode_color(compressed(*encode_compressed_color(rgb, "png"))), rgb)
    mono = RNG.integers(0, 256, (9, 11), dtype=np.uint8)
    assert np.array_equal(decode_color(compressed("mono8; png compressed mono8", png(mono))),
                          np.repeat(mono[..., None], 3, 2))


def test_compressed_depth_16uc1_is_the_header_then_a_16bit_png_of_millimetres():
    millimetres = RNG.integers(0, 9000, (12, 10)).astype(np.uint16)
    data = struct.pack("<iff", 0, 0.0, 0.0) + png(millimetres)
    depth = decode_depth(compressed("16UC1; compressedDepth png", data))
    np.testing.assert_allclose(depth, millimetres * 0.001, rtol=1e-6)
    # the old format string without the codec name means png as well
    np.testing.assert_allclose(decode_depth(compressed("16UC1; compressedDepth", data)), depth)
    metres = millimetres * 0.001
    np.testing.assert_allclose(decode_depth(compressed(*encode_compressed_depth(metres, "16UC1"))), depth, atol=1e-6)


def test_compressed_depth_32fc1_inverts_the_codecs_inverse_depth_quantisation():
    z = RNG.uniform(0.3, 9.0, (12, 10)).astype(np.float32)
    z[0, :3] = np.nan
    z[1, :2] = 12.0  # beyond depth_max: invalid
    quant_a = np.float32(100.0 * 101.0)
    quant_b = np.float32(1.0 - quant_a / np.float32(10.0))
    with np.errstate(invalid="ignore"):
        inverse = np.where(np.isfinite(z) & (z < 10.0), np.trunc(quant_a / z + quant_b), 0).astype(np.uint16)
    data = struct.pack("<iff", 0, quant_a, quant_b) + png(inverse)
    depth = decode_depth(compressed("32FC1; compressedDepth png", data))
    valid = inverse > 0
    assert np.isnan(depth[~valid]).all() and (~valid).sum() == 5
    # truncation loses less than one quantisation step: dz = z^2 / A
    error = np.abs(depth[valid] - z[valid])
    assert (error <= z[valid] ** 2 / quant_a + 1e-4).all()
    ours = decode_depth(compressed(*encode_compressed_depth(z, "32FC1")))
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(depth))
    np.testing.assert_allclose(ours[valid], depth[valid], rtol=1e-6)


@pytest.mark.parametrize("fmt, data, match", [
    ("jpeg", b"not an image at all", "cannot be decoded"),
    ("16UC1; compressedDepth rvl", struct.pack("<iff", 0, 0, 0) + b"\0" * 20, "'rvl' codec is not supported"),
    ("16UC1; compressedDepth png", b"\0" * 12, "no room for the 12-byte header"),
    ("rgb8; compressedDepth png", struct.pack("<iff", 0, 0, 0) + png(np.zeros((2, 2), np.uint16)),
     "not a depth encoding"),
    ("16UC1; png compressed", png(np.zeros((2, 2, 3), np.uint8)), "not a 16-bit single-channel png"),
])
def test_bad_compressed_images_are_refused_with_the_reason(fmt, data, match):
    decode = decode_depth if "16UC1" in fmt or "compressedDepth" in fmt else decode_color
    with pytest.raises(ImageDecodeError, match=match):
        decode(compressed(fmt, data))


def test_an_oversized_compressed_image_is_refused_before_decoding():
    side = int(np.sqrt(MAX_IMAGE_PIXELS)) + 1
    huge = png(np.zeros((side, side), np.uint8))
    with pytest.raises(ImageDecodeError, match="pixel limit"):
        decode_color(compressed("mono8; png compressed mono8", huge))
