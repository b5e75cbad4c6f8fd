"""Bad sensor messages at the FrameAssembler, the code both the node and the replay run.

Every case sends a good frame, a frame with one bad message, then the next good frame, and checks:
one clear message naming the input and the problem, the error counted against that input, the bad
frame not built (so the memory never sees it), and the next good frame built unchanged. Messages
are the simulator's rosbags messages, so these tests need no ROS middleware.
"""

from __future__ import annotations

import dataclasses
import json
import time

import numpy as np
import pytest
from reliability_support import TIME_LIMIT

from reasmory_ros.memory import SpatialMemory
from reasmory_ros.sim.bag import frame_messages as sim_messages
from reasmory_ros.streams import FrameAssembler, encode_image

PART_ORDER = ("color", "depth", "camera_info", "pose", "instances", "labels")


def messages(frame, timestamp: float | None = None, depth_encoding: str = "16UC1") -> dict:
    """The six contract messages of `frame` (stamped `timestamp` if given), keyed by part."""
    if timestamp is not None:
        frame = dataclasses.replace(frame, timestamp=timestamp)
    msgs = sim_messages(frame, depth_encoding=depth_encoding)
    msgs["camera_info"] = msgs.pop("info")
    return msgs


def with_image(msg, pixels: np.ndarray, encoding: str):
    """`msg` (a sensor_msgs/Image) carrying other pixels, same header."""
    raw = encode_image(pixels, encoding)
    return dataclasses.replace(msg, height=raw.height, width=raw.width, encoding=raw.encoding,
                               is_bigendian=raw.is_bigendian, step=raw.step, data=np.frombuffer(raw.data, np.uint8))


def with_orientation(msg, x, y, z, w):
    orientation = dataclasses.replace(msg.pose.orientation, x=x, y=y, z=z, w=w)
    return dataclasses.replace(msg, pose=dataclasses.replace(msg.pose, orientation=orientation))


def scaled_orientation(msg, factor: float):
    q = msg.pose.orientation
    return with_orientation(msg, q.x * factor, q.y * factor, q.z * factor, q.w * factor)


class Feed:
    """A FrameAssembler with a log collector and a hand-driven clock (0.1 s per message set)."""

    def __init__(self, **settings):
        self.lines: list[str] = []
        self.now = 100.0
        self.assembler = FrameAssembler(warn=self.lines.append, clock=lambda: self.now, **settings)

    def send(self, msgs: dict, skip: tuple[str, ...] = ()) -> list:
        self.now += 0.1
        frames = []
        for part in PART_ORDER:
            if part in msgs and part not in skip:
                msg = msgs[part]
                stamp = None if part == "labels" else msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
                frames += self.assembler.add(part, stamp, msg)
        return frames

    @property
    def errors(self) -> dict:
        return self.assembler.stats()["errors"]


def _bad(part: str, change):
    return lambda frame, msgs: {**msgs, part: change(frame, msgs[part])}


def _half(frame, msg, pixels_of):
    pixels = pixels_of(frame)[::2, ::2]
    return with_image(msg, pixels, msg.encoding)


HUGE = 4100  # > 4096 x 4096 pixels, Frame's MAX_IMAGE_PIXELS

# id, bad part (the topic the error is counted against), change, words the message must contain
SKIPPED = [
    ("color-encoding", "color", _bad("color", lambda f, m: dataclasses.replace(m, encoding="yuv422")),
     ["color image encoding 'yuv422' is not supported"]),
    ("depth-encoding", "depth", _bad("depth", lambda f, m: with_image(m, np.zeros((*f.depth.shape, 3), np.uint8), "bgr8")),
     ["depth image encoding 'bgr8' is not supported"]),
    ("color-0x0", "color", _bad("color", lambda f, m: dataclasses.replace(m, height=0, width=0, step=0, data=np.zeros(0, np.uint8))),
     ["empty", "0x0"]),
    ("depth-size-differs", "depth", _bad("depth", lambda f, m: _half(f, m, lambda fr: np.round(fr.depth * 1000).astype(np.uint16))),
     ["depth", "does not match rgb"]),
    ("instances-size-differs", "instances", _bad("instances", lambda f, m: _half(f, m, lambda fr: fr.instances.astype(np.uint16))),
     ["instances", "does not match rgb"]),
    ("depth-all-zero", "depth", _bad("depth", lambda f, m: with_image(m, np.zeros(f.depth.shape, np.uint16), "16UC1")),
     ["no valid depth pixel"]),
    ("depth-all-nan", "depth", _bad("depth", lambda f, m: with_image(m, np.full(f.depth.shape, np.nan, np.float32), "32FC1")),
     ["no valid depth pixel"]),
    ("data-shorter-than-header", "color", _bad("color", lambda f, m: dataclasses.replace(m, data=m.data[: len(m.data) // 2])),
     ["data has", "height * step"]),
    ("header-claims-huge-image", "color", _bad("color", lambda f, m: dataclasses.replace(m, height=100_000, width=100_000, step=300_000)),
     ["height * step = 100000 * 300000"]),
    ("step-shorter-than-row", "depth", _bad("depth", lambda f, m: dataclasses.replace(m, step=m.step - 2)),
     ["step", "smaller than"]),
    ("pose-zero-quaternion", "pose", _bad("pose", lambda f, m: with_orientation(m, 0.0, 0.0, 0.0, 0.0)),
     ["quaternion is all zeros"]),
    ("pose-quaternion-norm-2", "pose", _bad("pose", lambda f, m: scaled_orientation(m, 2.0)),
     ["norm 2.0000"]),
    ("pose-nan-position", "pose", _bad("pose", lambda f, m: dataclasses.replace(
        m, pose=dataclasses.replace(m.pose, position=dataclasses.replace(m.pose.position, x=float("nan"))))),
     ["position contains NaN"]),
    ("labels-not-json", "labels", _bad("labels", lambda f, m: dataclasses.replace(m, data="{'1': chair")),
     ["not valid JSON"]),
    ("labels-not-an-object", "labels", _bad("labels", lambda f, m: dataclasses.replace(m, data='["chair"]')),
     ["must be a JSON object"]),
]


@pytest.mark.parametrize("case, part, change, words", SKIPPED, ids=[c[0] for c in SKIPPED])
def test_bad_message_costs_only_its_own_frame(small_frames, case, part, change, words):
    feed = Feed()
    first = feed.send(messages(small_frames[0]))
    assert [f.index for f in first] == [0]

    bad_msgs = change(small_frames[1], messages(small_frames[1]))
    started = time.process_time()  # CPU time: a bounded-work guard that a busy machine cannot fail
    assert feed.send(bad_msgs) == [], "the frame with a bad message must not be built"
    assert time.process_time() - started < TIME_LIMIT

    assert feed.errors == {part: 1}, "the error is counted against the bad input only"
    assert len(feed.lines) == 1, feed.lines
    line = feed.lines[0]
    assert line.startswith(f"{part}: ") and all(w in line for w in words), line
    assert len(line) < 500, "the message describes the problem, it does not dump the message"

    following = feed.send(messages(small_frames[2]))
    assert [f.index for f in following] == [2], "the next good frame is built, in its place in the stream"
    reference = Feed()
    for i in range(3):
        expected = reference.send(messages(small_frames[i]))
    np.testing.assert_array_equal(following[0].depth, expected[0].depth)
    np.testing.assert_array_equal(following[0].T_world_camera, expected[0].T_world_camera)
    assert following[0].labels == expected[0].labels
    assert feed.errors == {part: 1} and len(feed.lines) == 1


def test_huge_image_is_refused_within_bounded_time(small_frames):
    """A 4100 x 4100 colour image (over Frame's pixel limit) with its frame: refused quickly."""
    feed = Feed()
    feed.send(messages(small_frames[0]))
    msgs = messages(small_frames[1])
    msgs["color"] = with_image(msgs["color"], np.zeros((HUGE, HUGE, 3), np.uint8), "rgb8")
    started = time.process_time()
    assert feed.send(msgs) == []
    assert time.process_time() - started < TIME_LIMIT
    assert feed.errors == {"color": 1} and "exceeds the" in feed.lines[0] and "pixel limit" in feed.lines[0]
    assert [f.index for f in feed.send(messages(small_frames[2]))] == [2]


def test_huge_image_alone_is_refused_at_decode_and_not_held(small_frames):
    feed = Feed()
    msgs = messages(small_frames[0])
    msgs["color"] = with_image(msgs["color"], np.zeros((HUGE, HUGE, 3), np.uint8), "rgb8")
    feed.send({"color": msgs["color"]})
    assert feed.errors == {"color": 1}
    assert feed.assembler.stats()["pending"] == 0


def test_invalid_depth_pixels_are_ignored_and_the_frame_is_used(small_frames):
    """NaN, +-inf and negative depths (32FC1) become 0 = invalid; the frame is kept and the
    memory's map and objects stay finite."""
    feed = Feed()
    memory = SpatialMemory(device="cpu")
    for frame in small_frames[:3]:
        depth = frame.depth.astype(np.float32).copy()
        depth[:10], depth[10:20], depth[20:30], depth[30:35] = np.nan, np.inf, -1.0, -np.inf
        msgs = messages(frame)
        msgs["depth"] = with_image(msgs["depth"], depth, "32FC1")
        (built,) = feed.send(msgs)
        assert (built.depth[:35] == 0).all() and np.isfinite(built.depth).all()
        np.testing.assert_allclose(built.depth[35:], frame.depth[35:], atol=1e-6)
        memory.update(built)
    assert feed.errors == {} and feed.lines == []

    snapshot = memory.snapshot()
    assert snapshot.frame_count == 3 and len(snapshot.scene_map.points) > 0
    assert np.isfinite(snapshot.scene_map.points).all()
    assert all(np.isfinite(o.center).all() and np.isfinite(o.extent).all() for o in snapshot.objects)


def test_slightly_non_unit_quaternion_is_normalised(small_frames):
    """A quaternion with norm 1.004 (serialiser rounding) is normalised, as tf2 does."""
    feed = Feed()
    msgs = messages(small_frames[0])
    msgs["pose"] = scaled_orientation(msgs["pose"], 1.004)
    (built,) = feed.send(msgs)
    R = built.T_world_camera[:3, :3]
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-9)
    np.testing.assert_allclose(built.T_world_camera, small_frames[0].T_world_camera, atol=1e-6)
    assert feed.errors == {}


def test_bad_intrinsics_keep_the_last_good_ones(small_frames):
    """A camera_info with a zero focal length is refused and counted; its frame is built with the
    last valid intrinsics (documented: the latest camera_info is used when none matches)."""
    feed = Feed()
    feed.send(messages(small_frames[0]))
    msgs = messages(small_frames[1])
    msgs["camera_info"] = dataclasses.replace(msgs["camera_info"], k=np.r_[0.0, msgs["camera_info"].k[1:]])
    (built,) = feed.send(msgs)
    assert feed.errors == {"camera_info": 1}
    assert "focal lengths must be positive" in feed.lines[0] and feed.lines[0].startswith("camera_info: ")
    np.testing.assert_array_equal(built.K, small_frames[0].K)


def test_frames_wait_for_intrinsics_and_are_built_when_camera_info_arrives(small_frames):
    """No frame without intrinsics; the waiting ones (up to max_pending) are built, in order, with
    the first camera_info that arrives."""
    feed = Feed()
    for frame in small_frames[:3]:
        assert feed.send(messages(frame), skip=("camera_info",)) == []
    built = feed.send(messages(small_frames[3]))
    assert [f.index for f in built] == [0, 1, 2, 3]
    assert feed.assembler.stats()["dropped_incomplete"] == 0 and feed.errors == {}


def test_missing_camera_info_is_reported(small_frames):
    feed = Feed()
    for frame in small_frames[:5]:
        feed.send(messages(frame), skip=("camera_info",))
    assert any(line.startswith("camera_info: ") for line in feed.lines), feed.lines


def test_camera_info_for_another_image_size_is_refused(small_frames):
    feed = Feed()
    msgs = messages(small_frames[0])
    msgs["camera_info"] = dataclasses.replace(msgs["camera_info"], width=640, height=480)
    assert feed.send(msgs) == []
    assert feed.errors == {"camera_info": 1}


def test_labels_naming_absent_ids_are_dropped_with_a_warning(small_frames):
    """Labels naming an id that is not in the instance image: that label is dropped with one
    warning and counted, the frame and its other labels are kept."""
    feed = Feed()
    frame = small_frames[0]
    msgs = messages(frame)
    named = {**{str(k): v for k, v in frame.labels.items()}, "65000": "unicorn"}
    msgs["labels"] = dataclasses.replace(msgs["labels"], data=json.dumps(named))
    (built,) = feed.send(msgs)
    assert built.labels == frame.labels
    assert feed.assembler.stats()["unknown_label_ids"] == 1
    assert len(feed.lines) == 1 and "[65000]" in feed.lines[0] and feed.lines[0].startswith("labels: ")


def test_labels_naming_only_absent_ids_are_reported(small_frames):
    feed = Feed()
    msgs = messages(small_frames[0])
    msgs["labels"] = dataclasses.replace(msgs["labels"], data=json.dumps({"65000": "unicorn"}))
    feed.send(msgs)
    feed.send(messages(small_frames[1]))
    assert any(line.startswith("labels: ") for line in feed.lines), feed.lines


# --- timestamps ----------------------------------------------------------------------------------


def test_frame_arriving_after_a_newer_one_is_dropped_and_reported(small_frames):
    feed = Feed()
    assert [f.index for f in feed.send(messages(small_frames[1]))] == [0]
    assert feed.send(messages(small_frames[0])) == []
    assert feed.assembler.stats()["dropped_late"] == 1 and feed.errors == {"color": 1}
    assert "arrived after a newer frame" in feed.lines[0]
    assert [f.index for f in feed.send(messages(small_frames[2]))] == [2]


def test_colour_images_overtaking_each_other_are_put_back_in_order(small_frames):
    """Colour images 2 then 1 arrive before their other parts: both frames are built, in stamp order."""
    feed = Feed()
    later, earlier = messages(small_frames[2]), messages(small_frames[1])
    feed.send({"color": later["color"]})
    feed.send({"color": earlier["color"]})
    built = feed.send(earlier, skip=("color",)) + feed.send(later, skip=("color",))
    assert [f.timestamp for f in built] == pytest.approx([small_frames[1].timestamp, small_frames[2].timestamp])
    assert [f.index for f in built] == [0, 1] and feed.errors == {}


@pytest.mark.parametrize("pending", [True, False], ids=["while-pending", "after-built"])
def test_duplicate_frame_is_used_once(small_frames, pending):
    feed = Feed()
    msgs = messages(small_frames[0])
    if pending:
        feed.send({"color": msgs["color"]})
        feed.send({"color": msgs["color"]})
        built = feed.send(msgs, skip=("color",))
    else:
        built = feed.send(msgs) + feed.send(msgs)
    assert len(built) == 1 and feed.errors == {"color": 1} and len(feed.lines) == 1
    assert "stamped" in feed.lines[0]
    assert [f.index for f in feed.send(messages(small_frames[1]))] == [2]


def test_far_future_stamp_does_not_stall_the_stream(small_frames):
    feed = Feed()
    feed.send(messages(small_frames[0]))
    one_year = 365 * 24 * 3600.0
    glitch = feed.send(messages(small_frames[1], timestamp=small_frames[1].timestamp + one_year))
    later = feed.send(messages(small_frames[2])) + feed.send(messages(small_frames[3]))
    assert glitch == [] and any("future" in line for line in feed.lines)
    assert [f.index for f in later] == [2, 3]


# --- rate-limited reporting ----------------------------------------------------------------------


def test_identical_errors_are_logged_once_per_period_and_all_counted(small_frames):
    """50 identical bad depth images: one log line, 50 counted; after the period one more line
    that says how many were suppressed. Another kind of problem on the same topic gets its own line."""
    feed = Feed(report_period=10.0)
    bad = with_image(messages(small_frames[0])["depth"], np.zeros((*small_frames[0].depth.shape, 3), np.uint8), "bgr8")
    for _ in range(50):
        feed.assembler.add("depth", 1, bad)
    assert feed.errors == {"depth": 50} and len(feed.lines) == 1

    msgs = messages(small_frames[0])
    msgs["depth"] = with_image(msgs["depth"], np.zeros(small_frames[0].depth.shape, np.uint16), "16UC1")
    feed.send(msgs)
    assert len(feed.lines) == 2 and "no valid depth pixel" in feed.lines[1]

    feed.now += 11.0
    feed.assembler.add("depth", 1, bad)
    assert len(feed.lines) == 3 and "49 more like this" in feed.lines[2]
    assert feed.errors == {"depth": 52}
