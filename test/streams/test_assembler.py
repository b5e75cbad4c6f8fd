"""FrameAssembler: exact and tolerant matching, bounded buffers, instances/labels, error reports."""

from __future__ import annotations

import json
from types import SimpleNamespace as NS

import numpy as np
import pytest

from reasmory_ros.perception import FrameInputs
from reasmory_ros.streams import FrameAssembler, LabelsError, encode_image, parse_labels

H, W = 6, 8
SEC = 1_000_000_000


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def color(value=10):
    return encode_image(np.full((H, W, 3), value, np.uint8), "rgb8")


def depth(metres=2.0, shape=(H, W)):
    return encode_image(np.full(shape, metres, np.float32), "32FC1")


def info(fx=50.0, width=W, height=H):
    return NS(k=[fx, 0, W / 2, 0, fx, H / 2, 0, 0, 1], width=width, height=height)


def pose(x=0.0):
    return NS(pose=NS(position=NS(x=x, y=0.0, z=1.0), orientation=NS(x=0.0, y=0.0, z=0.0, w=1.0)))


def instances():
    ids = np.zeros((H, W), np.uint16)
    ids[:3] = 1
    ids[3:, :4] = 2
    return encode_image(ids, "16UC1")


def labels(mapping=None):
    return NS(data=json.dumps(mapping if mapping is not None else {"1": "chair", "2": "table"}))


def feed(assembler, stamp, parts=("color", "depth", "camera_info", "pose", "instances", "labels"), received=None):
    makers = {
        "color": color,
        "depth": depth,
        "camera_info": info,
        "pose": pose,
        "instances": instances,
        "labels": labels,
    }
    frames = []
    for part in parts:
        frames += assembler.add(part, None if part == "labels" else stamp, makers[part](), received=received)
    return frames


def make(**kwargs):
    warnings = []
    kwargs.setdefault("warn", warnings.append)
    return FrameAssembler(**kwargs), warnings


def test_exact_stamps_build_one_frame_with_instances_and_labels():
    assembler, warnings = make()
    frames = feed(assembler, 5 * SEC)
    assert len(frames) == 1
    frame = frames[0]
    assert frame.index == 0 and frame.timestamp == pytest.approx(5.0)
    assert frame.rgb.shape == (H, W, 3) and frame.K[0, 0] == 50.0 and frame.T_world_camera[2, 3] == 1.0
    assert frame.labels == {1: "chair", 2: "table"} and frame.instances.dtype == np.int32
    assert warnings == [] and assembler.stats()["frames"] == 1


def test_parts_in_any_order_and_interleaved_frames():
    assembler, _ = make()
    order = ["labels", "pose", "instances", "depth", "camera_info", "color"]
    assert feed(assembler, 1 * SEC, order[:3]) == []
    assert feed(assembler, 2 * SEC, ["color"]) == []
    frames = feed(assembler, 1 * SEC, order[3:])
    frames += feed(assembler, 2 * SEC, order[:-1])
    assert [f.timestamp for f in frames] == [1.0, 2.0]
    # The image stamped 2 s overtook the 1 s one: indices still follow stamps.
    assert [f.index for f in frames] == [0, 1]


def test_instances_optional_when_not_waiting():
    assembler, _ = make(wait_for_instances=False)
    frames = feed(assembler, SEC, ("color", "depth", "camera_info", "pose"))
    assert len(frames) == 1 and frames[0].instances is None and frames[0].labels == {}


def test_waiting_for_instances_holds_the_frame_until_labels_arrive():
    assembler, _ = make()
    assert feed(assembler, SEC, ("color", "depth", "camera_info", "pose", "instances")) == []
    assert len(feed(assembler, SEC, ("labels",))) == 1


def test_camera_info_falls_back_to_the_latest():
    assembler, _ = make(wait_for_instances=False)
    feed(assembler, SEC, ("camera_info", "color", "depth", "pose"))
    frames = feed(assembler, 2 * SEC, ("color", "depth", "pose"))
    assert len(frames) == 1 and frames[0].K[0, 0] == 50.0


def test_tolerance_matches_near_stamps_only():
    exact, _ = make(wait_for_instances=False)
    assert feed(exact, SEC, ("color", "camera_info")) + feed(exact, SEC + 1_000_000, ("depth", "pose")) == []
    tolerant, _ = make(wait_for_instances=False, stamp_tolerance=0.005)
    frames = feed(tolerant, SEC, ("color", "camera_info")) + feed(tolerant, SEC + 1_000_000, ("depth", "pose"))
    assert len(frames) == 1 and frames[0].timestamp == pytest.approx(1.0)


def test_completed_frame_drops_older_incomplete_ones_and_late_images():
    assembler, warnings = make(wait_for_instances=False)
    feed(assembler, 1 * SEC, ("color", "depth"))  # pose lost
    frames = feed(assembler, 2 * SEC, ("color", "depth", "camera_info", "pose"))
    assert [f.index for f in frames] == [1]
    assert feed(assembler, 1 * SEC, ("pose",)) == []  # too late now
    assert feed(assembler, SEC // 2, ("color",)) == []
    stats = assembler.stats()
    assert stats["dropped_incomplete"] == 1 and stats["dropped_late"] == 1 and stats["pending"] == 0
    assert any("arrived after a newer frame" in w for w in warnings)


def test_pending_buffers_are_bounded():
    assembler, _ = make(max_pending=4, wait_for_instances=False)
    for i in range(10):
        feed(assembler, (i + 1) * SEC, ("color",))
        feed(assembler, (i + 100) * SEC, ("depth",))
    stats = assembler.stats()
    assert stats["pending"] == 4 and stats["dropped_incomplete"] == 6 and stats["unmatched"]["depth"] == 6


def test_labels_pair_by_receive_time_within_the_window():
    assembler, _ = make(labels_window=0.05)
    feed(assembler, SEC, ("color", "depth", "camera_info", "pose", "instances"), received=10.0)
    assert assembler.add("labels", None, labels(), received=10.2) == []  # too far from the instances
    feed(assembler, 2 * SEC, ("color", "depth", "camera_info", "pose", "instances"), received=10.19)
    frames = assembler.stats()["frames"]
    assert frames == 1  # the 2 s frame took the labels received at 10.2


def test_bad_message_is_counted_and_only_its_frame_is_lost():
    assembler, warnings = make(wait_for_instances=False)
    assert (
        assembler.add(
            "depth", SEC, NS(height=H, width=W, encoding="bgr8", is_bigendian=0, step=W * 3, data=bytes(H * W * 3))
        )
        == []
    )
    feed(assembler, SEC, ("color", "camera_info", "pose"))
    frames = feed(assembler, 2 * SEC, ("color", "depth", "camera_info", "pose"))
    assert [f.index for f in frames] == [1]
    assert assembler.stats()["errors"] == {"depth": 1}
    assert warnings and "depth: depth image encoding 'bgr8' is not supported" in warnings[0]


def test_frame_errors_are_reported_against_the_right_topic():
    assembler, warnings = make(wait_for_instances=False)
    frames = feed(assembler, SEC, ("color", "camera_info", "pose"))
    frames += assembler.add("depth", SEC, depth(shape=(H - 1, W)))
    assert frames == [] and assembler.stats()["errors"] == {"depth": 1}
    assert "frame field 'depth': shape (5, 8) does not match rgb (6, 8)" in warnings[0]
    assert len(feed(assembler, 2 * SEC, ("color", "depth", "camera_info", "pose"))) == 1


def test_errors_are_rate_limited_per_topic_and_kind():
    clock = FakeClock()
    assembler, warnings = make(report_period=10.0, clock=clock)
    bad_info = NS(k=[0.0] * 9)
    for _ in range(5):
        assembler.add("camera_info", SEC, bad_info)
    assembler.add("labels", None, NS(data="{not json"))
    assert len(warnings) == 2 and assembler.stats()["errors"] == {"camera_info": 5, "labels": 1}
    clock.now += 11
    assembler.add("camera_info", SEC, bad_info)
    assert len(warnings) == 3 and "4 more like this" in warnings[2]


def test_labels_for_absent_ids_are_dropped_with_a_warning():
    assembler, warnings = make()
    feed(assembler, SEC, ("color", "depth", "camera_info", "pose", "instances"))
    frames = assembler.add("labels", None, labels({"1": "chair", "2": "table", "9": "ghost"}))
    assert frames[0].labels == {1: "chair", 2: "table"}
    assert assembler.stats()["unknown_label_ids"] == 1 and "[9]" in warnings[0]


@pytest.mark.parametrize(
    "text, message",
    [
        ("{oops", "labels are not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"x": "chair"}', "key 'x' is not an integer"),
        ('{"3": 4}', "label of instance 3 must be a non-empty string"),
    ],
)
def test_parse_labels_errors_are_clear(text, message):
    with pytest.raises(LabelsError, match=message):
        parse_labels(text)


def test_reset_restarts_numbering():
    assembler, _ = make(wait_for_instances=False)
    feed(assembler, SEC, ("color", "depth", "camera_info", "pose"))
    assembler.reset()
    frames = feed(assembler, SEC // 2, ("color", "depth", "camera_info", "pose"))
    assert [f.index for f in frames] == [0]


def test_camera_offset_is_applied_to_every_pose():
    offset = np.eye(4)
    offset[:3, 3] = [0.1, 0.0, 0.5]
    assembler, _ = make(wait_for_instances=False, camera_offset=offset)
    frames = feed(assembler, SEC, ("color", "depth", "camera_info", "pose"))
    np.testing.assert_allclose(frames[0].T_world_camera[:3, 3], [0.1, 0.0, 1.5])


def test_labels_pair_with_the_image_whose_ids_they_name_when_arrivals_jitter():
    # Two frames 10 ms apart, both labels messages within the window of both instance images.
    assembler, warnings = make(labels_window=0.05)
    first = np.zeros((H, W), np.uint16)
    first[:2] = 7
    second = np.zeros((H, W), np.uint16)
    second[:2] = 9
    assembler.add("labels", None, labels({"9": "sofa"}), received=10.000)
    assembler.add("labels", None, labels({"7": "lamp"}), received=10.001)
    frames = []
    for stamp, ids, received in ((SEC, first, 10.002), (2 * SEC, second, 10.012)):
        feed(assembler, stamp, ("color", "depth", "camera_info", "pose"), received=received)
        frames += assembler.add("instances", stamp, encode_image(ids, "16UC1"), received=received)
    assert [f.labels for f in frames] == [{7: "lamp"}, {9: "sofa"}]
    assert warnings == [] and assembler.stats()["unknown_label_ids"] == 0


def test_labels_naming_none_of_the_ids_belong_to_another_frame():
    assembler, _ = make()
    feed(assembler, SEC, ("color", "depth", "camera_info", "pose", "instances"))
    assert assembler.add("labels", None, labels({"5": "sofa"})) == []  # ids 1 and 2 are in the image
    assert len(assembler.add("labels", None, labels({"1": "chair"}))) == 1


def test_from_settings_uses_the_stream_settings():
    from reasmory_ros.config.settings import Settings

    settings = Settings().updated(
        {"wait_for_instances": False, "camera_offset": [0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 1.0], "max_stamp_jump": 1.0})
    assembler = FrameAssembler.from_settings(settings, warn=print)
    frames = feed(assembler, SEC, ("color", "depth", "camera_info", "pose"))
    assert frames[0].T_world_camera[2, 3] == pytest.approx(1.5)
    assert feed(assembler, 3 * SEC, ("color", "depth", "camera_info", "pose")) == []  # a 2 s jump


def test_dropped_frame_is_reported_naming_what_it_lacked():
    assembler, warnings = make(wait_for_instances=False)
    feed(assembler, SEC, ("color", "depth", "camera_info"))  # pose lost
    assert len(feed(assembler, 2 * SEC, ("color", "depth", "camera_info", "pose"))) == 1
    assert warnings == ["pose: frame 1 (stamped 1.000 s) dropped: no pose message with its stamp"]
    stats = assembler.stats()
    assert stats["dropped_incomplete"] == 1 and stats["dropped_lacking"] == {"pose": 1}
    assert stats["errors"] == {}, "a lost message is not a bad one"


def test_a_refused_part_is_reported_once_not_again_when_its_frame_is_dropped():
    assembler, warnings = make(wait_for_instances=False)
    feed(assembler, SEC, ("color", "depth", "camera_info"))
    assembler.report("pose", "tf", "no transform map <- camera")  # e.g. the node's tf lookup
    feed(assembler, 2 * SEC, ("color", "depth", "camera_info", "pose"))
    assert warnings == ["pose: no transform map <- camera"] and assembler.stats()["errors"] == {"pose": 1}
    assert assembler.stats()["dropped_lacking"] == {"pose": 1}


def test_labels_naming_other_ids_are_named_when_their_frame_is_dropped():
    assembler, warnings = make()
    feed(assembler, SEC, ("color", "depth", "camera_info", "pose", "instances"), received=10.0)
    assembler.add("labels", None, labels({"5": "sofa"}), received=10.0)
    feed(assembler, 2 * SEC, received=11.0)
    assert warnings == [
        "labels: frame 1 (stamped 1.000 s) dropped: the labels received with its instance image name only "
        "ids absent from it ([5]; the image has ids [1, 2])"
    ]


def test_frames_waiting_for_camera_info_are_noted_and_dropped_ones_reported():
    assembler, warnings = make(wait_for_instances=False, max_pending=2)
    for second in (1, 2):
        feed(assembler, second * SEC, ("color", "depth", "pose"))
    assert warnings[0].startswith("camera_info: no usable camera_info received yet: 2 frames wait")
    assert assembler.stats()["errors"] == {}, "waiting is normal at start-up: not an error"
    feed(assembler, 3 * SEC, ("color", "depth", "pose"))
    assert "camera_info: frame 1 (stamped 1.000 s) dropped: no usable camera_info received" in warnings
    assert assembler.stats()["dropped_lacking"] == {"camera_info": 1}
    assert [f.index for f in feed(assembler, 4 * SEC)] == [2, 3]


@pytest.mark.parametrize("width, height", [(2 * W, 2 * H), (W, 2 * H)])
def test_camera_info_for_another_image_size_skips_the_frame(width, height):
    assembler, warnings = make(wait_for_instances=False)
    assert assembler.add("camera_info", SEC, info(width=width, height=height)) == []
    assert feed(assembler, SEC, ("color", "depth", "pose")) == []
    assert assembler.stats()["errors"] == {"camera_info": 1}
    assert f"camera_info is for {width}x{height} images but the color image is {W}x{H}" in warnings[0]
    assert len(feed(assembler, 2 * SEC, ("camera_info", "color", "depth", "pose"))) == 1


def test_camera_info_without_a_size_fits_any_image():
    assembler, warnings = make(wait_for_instances=False)
    assembler.add("camera_info", SEC, info(width=0, height=0))
    assert len(feed(assembler, SEC, ("color", "depth", "pose"))) == 1 and warnings == []


def test_a_glitched_stamp_is_refused_and_the_stream_goes_on():
    assembler, warnings = make(wait_for_instances=False, max_stamp_jump=5.0)
    built = feed(assembler, SEC, ("color", "depth", "camera_info", "pose"))
    assert feed(assembler, 1000 * SEC, ("color", "depth", "camera_info", "pose")) == []
    built += feed(assembler, 2 * SEC, ("color", "depth", "camera_info", "pose"))
    assert [f.index for f in built] == [0, 2] and assembler.stats()["errors"] == {"color": 1}
    assert "999.000 s in the future of the stream's newest image (1.000 s)" in warnings[0]


@pytest.mark.parametrize("new_time", [1000, 100], ids=["forward", "back"])
def test_a_real_clock_jump_costs_one_frame(new_time):
    assembler, warnings = make(wait_for_instances=False, max_stamp_jump=5.0)
    built = []
    for second in (200, 201, new_time, new_time + 1, new_time + 2):
        built += feed(assembler, second * SEC, ("color", "depth", "camera_info", "pose"))
    assert [f.index for f in built] == [0, 1, 3, 4]
    assert any("stream time jumped" in w and "following it" in w for w in warnings)
    assert assembler.stats()["errors"] == {"color": 1} and assembler.stats()["dropped_late"] == 0


def test_a_first_frame_with_a_glitched_stamp_does_not_stall_the_stream():
    assembler, _ = make(wait_for_instances=False, max_stamp_jump=5.0)
    built = []
    for second in (1000, 1, 2, 3):
        built += feed(assembler, second * SEC, ("color", "depth", "camera_info", "pose"))
    assert [f.index for f in built] == [0, 2, 3]


SENSOR = ("color", "depth", "camera_info", "pose")


def test_a_late_pose_within_the_reorder_window_keeps_both_frames_in_order():
    clock = FakeClock()
    assembler, warnings = make(wait_for_instances=False, reorder_window=0.3, clock=clock)
    assert feed(assembler, 1 * SEC, ("color", "depth", "camera_info")) == []  # its pose is overtaken
    clock.now += 0.05
    assert feed(assembler, 2 * SEC, SENSOR) == []  # complete, but held for frame 0
    clock.now += 0.1
    built = feed(assembler, 1 * SEC, ("pose",))
    assert [f.index for f in built] == [0, 1] and [f.timestamp for f in built] == [1.0, 2.0]
    assert assembler.stats()["dropped_incomplete"] == 0 and warnings == []


def test_a_frame_still_incomplete_after_the_reorder_window_is_dropped_on_release():
    clock = FakeClock()
    assembler, warnings = make(wait_for_instances=False, reorder_window=0.3, clock=clock)
    feed(assembler, 1 * SEC, ("color", "depth", "camera_info"))
    assert feed(assembler, 2 * SEC, SENSOR) == []
    assert assembler.release() == []  # still inside the window
    clock.now += 0.31
    assert [f.index for f in assembler.release()] == [1]
    assert assembler.stats()["dropped_lacking"] == {"pose": 1}
    assert "frame 1 (stamped 1.000 s) dropped: no pose message with its stamp" in warnings[0]
    assert feed(assembler, 1 * SEC, ("pose",)) == []  # too late now: frame 0 is gone


def test_flush_releases_held_frames_at_the_end_of_a_stream():
    clock = FakeClock()
    assembler, _ = make(wait_for_instances=False, reorder_window=5.0, clock=clock)
    feed(assembler, 1 * SEC, ("color", "depth", "camera_info"))
    assert feed(assembler, 2 * SEC, SENSOR) + feed(assembler, 3 * SEC, SENSOR) == []
    assert [f.index for f in assembler.flush()] == [1, 2]
    assert assembler.stats()["dropped_incomplete"] == 1 and assembler.stats()["pending"] == 0


@pytest.mark.parametrize("missing, field", [("depth", "depth"), ("pose", "T_world_camera")])
def test_a_part_perception_estimates_is_not_waited_for(missing, field):
    assembler, _ = make(wait_for_instances=False, **{f"wait_for_{missing}": False})
    parts = tuple(p for p in SENSOR if p != missing)
    (partial,) = feed(assembler, SEC, parts)
    assert isinstance(partial, FrameInputs) and getattr(partial, field) is None
    assert partial.rgb.shape == (H, W, 3) and partial.K[0, 0] == 50.0 and partial.index == 0
    strict, _ = make(wait_for_instances=False)
    assert feed(strict, SEC, parts) == []
