"""Image decoding: every supported encoding, padded rows, big-endian pixels and clear refusals."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from reasmory_ros.streams import (
    ImageDecodeError,
    decode_color,
    decode_depth,
    decode_image,
    decode_instances,
    encode_image,
)

RNG = np.random.default_rng(7)
RGB = RNG.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)


def as_rosbags(raw):
    """The same fields the way rosbags hands them over: data as a numpy uint8 array."""
    return SimpleNamespace(**{**raw.__dict__, "data": np.frombuffer(raw.data, np.uint8).copy()})


@pytest.mark.parametrize("step", [None, 7 * 3 + 5])
@pytest.mark.parametrize("wrap", [lambda r: r, as_rosbags])
def test_rgb_and_bgr_decode_to_rgb(step, wrap):
    assert np.array_equal(decode_color(wrap(encode_image(RGB, "rgb8", step=step))), RGB)
    assert np.array_equal(decode_color(wrap(encode_image(RGB[:, :, ::-1], "bgr8", step=step))), RGB)


def test_four_channel_and_mono_decode_to_rgb():
    alpha = np.full(RGB.shape[:2] + (1,), 200, np.uint8)
    assert np.array_equal(decode_color(encode_image(np.concatenate([RGB, alpha], 2), "rgba8")), RGB)
    assert np.array_equal(
        decode_color(encode_image(np.concatenate([RGB[:, :, ::-1], alpha], 2), "bgra8", step=40)), RGB
    )
    mono = RGB[:, :, 0]
    decoded = decode_color(encode_image(mono, "mono8", step=9))
    assert decoded.shape == (5, 7, 3) and all(np.array_equal(decoded[:, :, c], mono) for c in range(3))


@pytest.mark.parametrize("bigendian", [False, True])
@pytest.mark.parametrize("step", [None, 7 * 2 + 6])
def test_depth_16uc1_millimetres_to_metres(bigendian, step):
    mm = RNG.integers(0, 10000, size=(5, 7)).astype(np.uint16)
    mm[0, 0] = 0
    raw = encode_image(mm, "16UC1", step=step, bigendian=bigendian)
    depth = decode_depth(raw)
    assert depth.dtype == np.float32 and depth[0, 0] == 0.0
    np.testing.assert_allclose(depth, mm / 1000.0, rtol=1e-6)


@pytest.mark.parametrize("bigendian", [False, True])
def test_depth_32fc1_metres_padded_and_big_endian(bigendian):
    metres = RNG.uniform(0.2, 5.0, size=(5, 7)).astype(np.float32)
    depth = decode_depth(encode_image(metres, "32FC1", step=7 * 4 + 4, bigendian=bigendian))
    assert depth.dtype == np.float32 and depth.dtype.isnative
    np.testing.assert_array_equal(depth, metres)


def test_big_endian_bytes_are_really_swapped():
    # 0x0102 = 258 mm written big-endian by hand, as a big-endian camera would.
    msg = SimpleNamespace(height=1, width=1, encoding="16UC1", is_bigendian=1, step=2, data=b"\x01\x02")
    assert decode_depth(msg)[0, 0] == pytest.approx(0.258)


@pytest.mark.parametrize("encoding, dtype", [("16UC1", np.uint16), ("32SC1", np.int32)])
def test_instance_ids(encoding, dtype):
    ids = RNG.integers(0, 300, size=(5, 7)).astype(dtype)
    decoded = decode_instances(encode_image(ids, encoding, step=64, bigendian=encoding == "32SC1"))
    assert decoded.dtype == np.int32
    np.testing.assert_array_equal(decoded, ids)


def test_rclpy_array_data_is_accepted():
    import array

    raw = encode_image(RGB, "rgb8")
    msg = SimpleNamespace(**{**raw.__dict__, "data": array.array("B", raw.data)})
    assert np.array_equal(decode_color(msg), RGB)


def test_unsupported_encoding_names_the_image_and_the_choices():
    with pytest.raises(ImageDecodeError, match=r"depth image encoding 'rgb8' is not supported; expected one of 16UC1"):
        decode_depth(encode_image(RGB, "rgb8"))
    with pytest.raises(ImageDecodeError, match="'yuv422'"):
        decode_image(SimpleNamespace(height=1, width=1, encoding="yuv422", is_bigendian=0, step=2, data=b"ab"))


def test_size_mismatch_and_short_step_are_refused():
    raw = encode_image(RGB, "rgb8")
    truncated = SimpleNamespace(**{**raw.__dict__, "data": raw.data[:-1]})
    with pytest.raises(ImageDecodeError, match=r"104 bytes but height \* step = 5 \* 21 = 105"):
        decode_color(truncated)
    short = SimpleNamespace(**{**raw.__dict__, "step": 20})
    with pytest.raises(ImageDecodeError, match=r"step 20 is smaller than width \* bytes per pixel = 7 \* 3 = 21"):
        decode_color(short)
    empty = SimpleNamespace(**{**raw.__dict__, "height": 0, "data": b""})
    with pytest.raises(ImageDecodeError, match="empty"):
        decode_color(empty)


def test_image_over_the_pixel_limit_is_refused_at_decode():
    from reasmory_ros.memory.frame import MAX_IMAGE_PIXELS

    width = MAX_IMAGE_PIXELS + 1  # one row: the limit is on pixels, whatever the shape
    wide = SimpleNamespace(height=1, width=width, encoding="mono8", is_bigendian=0, step=width, data=bytes(width))
    with pytest.raises(ImageDecodeError, match=f"instance image {width}x1 exceeds the {MAX_IMAGE_PIXELS}-pixel limit"):
        decode_image(wide, what="instance image")
