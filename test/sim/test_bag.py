"""Bag writing: read back with rosbags and check the topic contract message by message."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest
from rosbags.rosbag2 import Reader
from scipy.spatial.transform import Rotation

from reasmory_ros.sim.bag import TOPICS, TYPESTORE, BagWriteError, write_scene_bag
from reasmory_ros.sim.ground_truth import GroundTruth
from reasmory_ros.sim.layout import generate_scene

W, H, N = 96, 72, 4


def _decode(msg) -> np.ndarray:
    dtype = {"rgb8": np.uint8, "bgr8": np.uint8, "16UC1": np.dtype("<u2")}[msg.encoding]
    channels = 3 if msg.encoding in ("rgb8", "bgr8") else 1
    assert msg.step == msg.width * channels * np.dtype(dtype).itemsize and msg.is_bigendian == 0
    return np.frombuffer(msg.data.tobytes(), dtype=dtype).reshape(msg.height, msg.width, -1).squeeze()


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_bag_follows_topic_contract(tmp_path, storage):
    scene = generate_scene(1)
    gt = write_scene_bag(scene, tmp_path / "bag", N, seed=3, width=W, height=H, storage=storage)
    expected = list(gt.rendered())

    by_stamp: dict[int, dict[str, object]] = defaultdict(dict)
    with Reader(tmp_path / "bag") as reader:
        assert {(c.topic, c.msgtype) for c in reader.connections} == set(TOPICS.values())
        assert all(c.msgcount == N for c in reader.connections)
        for connection, bag_ns, raw in reader.messages():
            msg = TYPESTORE.deserialize_cdr(raw, connection.msgtype)
            if hasattr(msg, "header"):
                assert msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec == bag_ns
            by_stamp[bag_ns][connection.topic] = msg

    stamps = sorted(by_stamp)
    assert len(stamps) == N
    assert np.allclose(np.array(stamps) / 1e9, gt.camera.timestamps, atol=1e-6)
    for i, ns in enumerate(stamps):
        msgs, frame = by_stamp[ns], expected[i].frame
        assert set(msgs) == {topic for topic, _ in TOPICS.values()}
        color = msgs["/camera/color/image_raw"]
        assert color.encoding == "rgb8" and color.header.frame_id == "camera_color_optical_frame"
        assert np.array_equal(_decode(color), frame.rgb)
        depth = msgs["/camera/depth/image_raw"]
        assert depth.encoding == "16UC1"
        assert np.array_equal(_decode(depth), np.round(frame.depth * 1000).astype(np.uint16))
        info = msgs["/camera/color/camera_info"]
        assert info.header.frame_id == "camera_color_optical_frame" and (info.width, info.height) == (W, H)
        assert np.allclose(info.k.reshape(3, 3), gt.K)
        pose = msgs["/camera/pose"]
        assert pose.header.frame_id == "map"
        q = pose.pose.orientation
        p = pose.pose.position
        assert np.allclose(Rotation.from_quat([q.x, q.y, q.z, q.w]).as_matrix(), gt.camera.poses[i, :3, :3], atol=1e-9)
        assert np.allclose([p.x, p.y, p.z], gt.camera.poses[i, :3, 3])
        instances = _decode(msgs["/camera/instances/image_raw"])
        labels = json.loads(msgs["/camera/instances/labels"].data)
        assert {int(k) for k in labels} == set(np.unique(instances)) - {0}
        assert {int(k): v for k, v in labels.items()} == frame.labels
        assert gt.visibility[i] == expected[i].pixel_counts
        assert gt.instances[i] == expected[i].instance_to_object


def test_ground_truth_file_round_trip(tmp_path):
    scene = generate_scene(2)
    gt = write_scene_bag(scene, tmp_path / "bag", 3, width=W, height=H, noise=False)
    gt.save(tmp_path / "scene.json")
    loaded = GroundTruth.load(tmp_path / "scene.json")
    assert loaded.n_frames == 3 and (loaded.width, loaded.height) == (W, H)
    assert np.allclose(loaded.camera.poses, gt.camera.poses) and np.allclose(loaded.K, gt.K)
    assert loaded.visibility == gt.visibility and loaded.instances == gt.instances
    assert (loaded.render_seed, loaded.noise) == (0, False)
    first = next(loaded.rendered()).frame
    assert np.array_equal(first.depth, next(gt.rendered()).frame.depth)
    a, b = loaded.scene.objects[:2]
    assert a.distance_to(b) == pytest.approx(scene.objects[0].distance_to(scene.objects[1]))
    doc = json.loads((tmp_path / "scene.json").read_text())
    assert doc["scene"]["room"]["floor_area"] == pytest.approx(scene.room.floor_area)
    assert {"id", "label", "center", "extent", "yaw"} <= set(doc["scene"]["objects"][0])


def test_refuses_existing_output_and_unknown_storage(tmp_path):
    scene = generate_scene(2)
    (tmp_path / "bag").mkdir()
    with pytest.raises(BagWriteError, match="already exists"):
        write_scene_bag(scene, tmp_path / "bag", 2, width=W, height=H)
    with pytest.raises(BagWriteError, match="unknown storage"):
        write_scene_bag(scene, tmp_path / "other", 2, width=W, height=H, storage="rosbag1")


def test_alternative_encodings_and_no_instances(tmp_path):
    scene = generate_scene(2)
    gt = write_scene_bag(scene, tmp_path / "bag", 2, seed=1, width=W, height=H, color_encoding="bgr8",
                         depth_encoding="32FC1", instances=False)
    frames = [r.frame for r in gt.rendered()]
    with Reader(tmp_path / "bag") as reader:
        assert {c.topic for c in reader.connections} == {TOPICS[k][0] for k in ("color", "depth", "info", "pose")}
        msgs = [(c.topic, TYPESTORE.deserialize_cdr(raw, c.msgtype)) for c, _, raw in reader.messages()]
    colors = [m for t, m in msgs if t == "/camera/color/image_raw"]
    depths = [m for t, m in msgs if t == "/camera/depth/image_raw"]
    for color, depth, frame in zip(colors, depths, frames, strict=True):
        assert color.encoding == "bgr8" and np.array_equal(_decode(color)[..., ::-1], frame.rgb)
        assert depth.encoding == "32FC1" and depth.step == W * 4
        metres = np.frombuffer(depth.data.tobytes(), dtype="<f4").reshape(H, W)
        assert np.array_equal(np.isnan(metres), frame.depth == 0)
        assert np.allclose(metres[frame.depth > 0], frame.depth[frame.depth > 0])
    with pytest.raises(BagWriteError, match="unsupported encodings"):
        write_scene_bag(scene, tmp_path / "other", 2, width=W, height=H, depth_encoding="mono16")
