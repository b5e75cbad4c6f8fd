"""Driver topic layouts replay without a parameters file: a realsense2_camera recording (tf poses,
jpeg colour, depth stamped apart, contract instance topics) gives the answers and object positions
of the same recording in the contract layout. Bags are real rosbag2 files written by the simulator."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from reasmory_ros.config.settings import Settings
from reasmory_ros.replay.bag import BagError, open_bag
from reasmory_ros.replay.cli import main as replay_main
from reasmory_ros.replay.layouts import recognise
from reasmory_ros.replay.pipeline import build_memory
from reasmory_ros.sim.cli import simulate
from reasmory_ros.sim.drivers import DepthCamera, write_layout_bag
from reasmory_ros.sim.layout import generate_scene

FRAMES, WIDTH, HEIGHT = 60, 320, 240


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """The same recording of scene 3 twice: in the contract layout and as realsense2_camera."""
    out = tmp_path_factory.mktemp("layouts")
    contract = simulate(out / "contract", seed=3, frames=FRAMES, width=WIDTH, height=HEIGHT, questions_per_type=2)
    realsense = simulate(out / "realsense", seed=3, frames=FRAMES, width=WIDTH, height=HEIGHT, questions_per_type=2,
                         layout="realsense2_camera")
    return contract, realsense


def _answers(path):
    return {row["id"]: row for row in map(json.loads, path.read_text().splitlines())}


def test_realsense_bag_replays_without_parameters_like_the_contract_recording(recordings, tmp_path, capsys):
    contract, realsense = recordings
    answers = {}
    for name, recording in (("contract", contract), ("realsense", realsense)):
        output = tmp_path / f"{name}.jsonl"
        assert replay_main([str(recording.bag), "--questions", str(recording.questions_jsonl), "--output",
                            str(output), "--no-progress"]) == 0
        answers[name] = _answers(output)
    summary = capsys.readouterr().out
    assert f"frames integrated: {FRAMES}" in summary.split("questions answered")[1]  # the realsense run
    assert "layout: realsense2_camera" in summary and "pose_source=tf" in summary
    assert answers["contract"].keys() == answers["realsense"].keys()
    for question_id, expected in answers["contract"].items():
        got = answers["realsense"][question_id]
        assert got["ok"] == expected["ok"], question_id
        if isinstance(expected["answer"], (int, float)):
            assert got["answer"] == pytest.approx(expected["answer"], rel=0.02, abs=0.02), question_id
        else:
            assert got["answer"] == expected["answer"], question_id


def test_realsense_object_positions_lie_within_2_cm_of_the_contract_ones(recordings):
    contract, realsense = recordings
    # The boxes as seen: the hidden-depth completion is a decision per object (a wall found
    # behind it or not) that a few millimetres can turn, moving a vase's centre by half its
    # hidden depth; what this test compares is what the two layouts fed the memory.
    seen_only = Settings().updated({"memory.hidden_depth": False})
    memories = [build_memory(r.bag, seen_only, progress=False)[0].snapshot() for r in recordings]
    reference, layout = memories
    assert len(layout.objects) == len(reference.objects) > 3
    for obj in reference.objects:
        same_label = [o for o in layout.objects if o.label == obj.label]
        nearest = min(np.linalg.norm(np.asarray(o.center) - np.asarray(obj.center)) for o in same_label)
        assert nearest < 0.02, obj.label
    # and the trajectories agree within a centimetre: the tf poses are interpolated between 50 Hz
    # odometry samples that were themselves interpolated between the 10 Hz camera poses
    np.testing.assert_allclose(layout.trajectory.poses, reference.trajectory.poses, atol=0.01)


def test_a_parameters_file_overrides_the_recognised_layout(recordings):
    _, realsense = recordings
    topics = {"/camera/camera/color/image_raw/compressed": "sensor_msgs/msg/CompressedImage",
              "/camera/camera/color/camera_info": "sensor_msgs/msg/CameraInfo",
              "/camera/camera/aligned_depth_to_color/image_raw": "sensor_msgs/msg/Image",
              "/tf": "tf2_msgs/msg/TFMessage", "/tf_static": "tf2_msgs/msg/TFMessage"}
    chosen, recognition = recognise(topics, Settings().updated({"stamp_tolerance": 0.01}), color_period=0.1)
    assert recognition.layout == "realsense2_camera" and recognition.namespace == "/camera/camera"
    assert chosen.streams.stamp_tolerance == 0.01  # set by the file: kept
    assert chosen.streams.pose_source == "tf" and chosen.streams.color_topic.endswith("/compressed")
    # a file that names its own topics is used as it is, and a wrong one is an error naming it
    with pytest.raises(BagError, match="/robot/depth"):
        open_bag(realsense.bag, Settings().updated({"depth_topic": "/robot/depth"}))


@pytest.mark.parametrize("layout, namespace, depth", [
    ("zed", "/zed/zed_node", "/zed/zed_node/depth/depth_registered"),
    ("azure_kinect", "", "/depth_to_rgb/image_raw"),
    ("oak", "/oak", "/oak/stereo/image_raw"),
])
def test_each_driver_layout_is_recognised_from_its_own_bag(tmp_path, layout, namespace, depth):
    truth = write_layout_bag(generate_scene(1), tmp_path / "bag", 6, layout, width=64, height=48, noise=False,
                             color_codec="png", depth_codec="compressedDepth", odometry_rate=500.0)
    stream = open_bag(tmp_path / "bag", Settings())
    assert (stream.recognition.layout, stream.recognition.namespace) == (layout, namespace)
    assert stream.topics["depth"] == depth + "/compressedDepth"  # ZED's holds 32FC1 inverse depth
    memory, stats = build_memory(tmp_path / "bag", Settings(), progress=False)
    assert stats.frames == 6 and not stats.assembler["errors"]
    np.testing.assert_allclose(memory.snapshot().trajectory.poses, truth.camera.poses, atol=0.01)


def test_unregistered_depth_at_another_resolution_and_rate_is_registered(tmp_path):
    scene = generate_scene(2)
    truth = write_layout_bag(scene, tmp_path / "bag", 11, "realsense2_camera", width=128, height=96, noise=False,
                             depth_camera=DepthCamera(width=96, height=72, every=2), odometry_rate=500.0)
    stream = open_bag(tmp_path / "bag", Settings())
    assert stream.settings.streams.depth_info_topic == "/camera/camera/depth/camera_info"
    assert stream.recognition.changes["depth_info_topic"] == "/camera/camera/depth/camera_info"
    memory, stats = build_memory(tmp_path / "bag", Settings(), progress=False)
    # depth comes with every other colour image: the others have no depth within the tolerance
    assert stats.frames == 6 and stats.assembler["dropped_lacking"] == {"depth": 5}
    assert not stats.assembler["errors"]
    # 11 frames span the whole loop: fast odometry keeps the tf interpolation exact enough to compare
    trajectory = memory.snapshot().trajectory
    np.testing.assert_array_equal(trajectory.frame_indices, np.arange(0, 11, 2))
    np.testing.assert_allclose(trajectory.poses, truth.camera.poses[::2], atol=0.01)


def test_a_tf_gap_and_extrapolation_cost_only_the_frames_they_touch(tmp_path, capsys):
    # odometry (50 Hz) stalls from 0.75 s to 1.45 s: 0.72 s between samples, over the 0.5 s tf
    # interpolates across, for the images at 0.8 ... 1.4 s (frames 9-15 of a 10 Hz stream); it
    # stops at 2.25 s, so the images at 2.3 and 2.4 s would need extrapolation. Every other frame is built.
    write_layout_bag(generate_scene(2), tmp_path / "bag", 25, "realsense2_camera", width=64, height=48, noise=False,
                     odometry_gaps=((0.75, 1.45), (2.25, 9.0)))
    memory, stats = build_memory(tmp_path / "bag", Settings(), progress=False)
    refusals = stats.assembler["pose_refusals"]
    assert refusals == {"gap": 7, "extrapolation": 2}
    assert stats.frames == 25 - 9
    built = set(memory.snapshot().trajectory.frame_indices.tolist())
    assert built == set(range(25)) - set(range(8, 15)) - {23, 24}
    assert replay_main([str(tmp_path / "bag"), "--no-progress"]) == 0
    assert "images without a tf pose (dropped), by reason: {'gap': 7, 'extrapolation': 2}" in capsys.readouterr().out


def test_pose_source_tf_on_a_bag_without_tf_names_what_is_missing(recordings):
    contract, _ = recordings
    with pytest.raises(BagError, match=r"/tf \(pose_source tf\)"):
        open_bag(contract.bag, Settings().updated({"pose_source": "tf"}))


def test_an_undecodable_compressed_image_costs_only_its_frame(tmp_path):
    bag = tmp_path / "bag"
    write_layout_bag(generate_scene(1), bag, 6, width=64, height=48, noise=False)
    database = next(bag.glob("*.db3"))
    with sqlite3.connect(database) as db:  # break the jpeg signature of the third colour image
        topic_id = db.execute("SELECT id FROM topics WHERE name LIKE '%color/image_raw/compressed'").fetchone()[0]
        rowid, data = db.execute("SELECT id, data FROM messages WHERE topic_id = ? ORDER BY timestamp LIMIT 1 OFFSET 2",
                                 (topic_id,)).fetchone()
        db.execute("UPDATE messages SET data = ? WHERE id = ?", (data.replace(b"\xff\xd8\xff", b"\0\0\0", 1), rowid))
    memory, stats = build_memory(bag, Settings(), progress=False)
    assert stats.frames == 5 and stats.assembler["errors"] == {"color": 1}
    assert 2 not in memory.snapshot().trajectory.frame_indices  # frame numbers keep the bag's order


def test_without_tf_static_depth_cannot_be_registered_and_says_why(tmp_path, caplog):
    bag = tmp_path / "bag"
    write_layout_bag(generate_scene(1), bag, 6, width=64, height=48, noise=False,
                     depth_camera=DepthCamera(width=48, height=36, every=1))
    with sqlite3.connect(next(bag.glob("*.db3"))) as db:  # a recording that missed the latched /tf_static
        db.execute("DELETE FROM messages WHERE topic_id = (SELECT id FROM topics WHERE name = '/tf_static')")
    memory, stats = build_memory(bag, Settings(), progress=False)
    assert stats.frames == 0
    assert stats.assembler["errors"]["depth"] == 6 and stats.assembler["pose_refusals"] == {"unknown frame": 6}
    assert "not registered: frame 'camera_color_optical_frame' does not exist in the tf tree" in caplog.text


def test_a_bag_with_two_cameras_says_which_it_used_and_how_to_pick_the_other():
    image, info = "sensor_msgs/msg/Image", "sensor_msgs/msg/CameraInfo"
    topics = {f"/{side}/{suffix}": msgtype for side in ("front", "rear")
              for suffix, msgtype in (("color/image_raw", image), ("color/camera_info", info),
                                      ("aligned_depth_to_color/image_raw", image))}
    chosen, recognition = recognise({**topics, "/tf": "tf2_msgs/msg/TFMessage"}, Settings(), color_period=0.1)
    assert recognition.namespace == "/front" and chosen.streams.color_topic == "/front/color/image_raw"
    note = next(note for note in recognition.notes if "other cameras" in note)
    assert "/rear (realsense2_camera)" in note and "color_topic" in note
    # one camera: no such note
    single = {topic: msgtype for topic, msgtype in topics.items() if topic.startswith("/front")}
    assert not any("other cameras" in note for note in recognise(single, Settings(), color_period=0.1)[1].notes)
