"""The node in its own process over DDS: streaming, asking during and after, markers, overload."""

from __future__ import annotations

import dataclasses
import statistics
import time

import numpy as np
import pytest

from reasmory_interfaces.srv import AskSpatial
from reasmory_ros.visual import markers as ns

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def ids_of(array, namespace: str) -> set[int]:
    return {m.id for m in array.markers if m.ns == namespace and m.action == m.ADD}


def furniture_questions(gt):
    """Counting and closest-point distance questions about furniture seen in at least 3 frames,
    with answers from the scene geometry (small objects at 320x240 would test the memory's recall,
    not the node)."""
    from reasmory_ros.sim.catalogue import FURNITURE

    seen = [o for o in gt.scene.objects if o.label in FURNITURE and len(gt.frames_seen(o.id)) >= 3]
    labels = sorted({o.label for o in seen})
    unique = [o for o in seen if gt.scene.counts()[o.label] == 1]
    questions = [(f"How many {label}s are there?", gt.scene.counts()[label], "") for label in labels[:2]]
    for a, b in list(zip(unique, unique[1:], strict=False))[:2]:
        questions.append(
            (
                f"How far is the {a.label} from the {b.label}, measured between their closest points, in meters?",
                a.distance_to(b),
                "m",
            )
        )
    assert len(questions) == 4, "the scene should support two counting and two distance questions"
    return questions


def ask(harness, client, question, options=()):
    request = AskSpatial.Request(question=question, options=list(options))
    started = time.monotonic()
    response = harness.call(client, request)
    return response, time.monotonic() - started


def test_streamed_scene_answers_match_ground_truth_and_markers_show_them(recording, harness, start_node):
    n_frames = len(recording.frames)
    start_node(qos="reliable", queue_size=n_frames, marker_rate=2.0, status_rate=4.0)
    ask_client = harness.client(AskSpatial, "ask")
    harness.wait_for_subscribers()
    during = []

    def ask_midway(i):
        if i == n_frames // 2:
            question = "How far is the camera at frame 5 from where it was at frame 1, in meters?"
            during.append(ask(harness, ask_client, question))

    harness.stream(recording.frames, rate=10.0, during=ask_midway)
    status = harness.wait_status(lambda s: s["frames_integrated"] == n_frames)
    assert status["frames_received"] == n_frames and status["errors"] == {}
    assert sum(status["frames_dropped"].values()) == 0
    # Asked while frames streamed: answered at once, from the frames integrated so far.
    response, seconds = during[0]
    moved = recording.frames[4].T_world_camera[:3, 3] - recording.frames[0].T_world_camera[:3, 3]
    assert response.success and response.value == pytest.approx(np.linalg.norm(moved), abs=0.02), response.error
    assert seconds < 5.0

    for question, expected, unit in furniture_questions(recording.gt):
        response, _ = ask(harness, ask_client, question)
        assert response.success, f"{question}: {response.error}"
        assert response.program and response.attempts and response.attempts[-1].ok
        assert response.is_numeric and response.unit == unit, question
        if unit == "":
            assert response.value == expected, question
        else:
            assert response.value == pytest.approx(expected, abs=0.3), question
            kinds = {m.ns for m in response.markers.markers}
            assert {ns.NS_ANSWER_OBJECTS, ns.NS_DISTANCES, ns.NS_ANSWER_TEXT} <= kinds
            assert response.markers.markers[0].action == response.markers.markers[0].DELETEALL

    # The periodic set: DELETEALL first, one box and one label per object, all in the map frame,
    # and the latest answer highlighted in the same array (the bound only guards against a hang).
    asked = len(harness.markers)
    latest = harness.wait_markers(lambda arrays: len(arrays) > asked, timeout=30.0)
    assert latest.markers[0].action == latest.markers[0].DELETEALL
    boxes, labels = ids_of(latest, ns.NS_OBJECTS), ids_of(latest, ns.NS_LABELS)
    assert len(boxes) == harness.status[-1]["objects"] > 0 and boxes == labels
    assert {m.header.frame_id for m in latest.markers[1:]} == {"map"}
    assert ids_of(latest, ns.NS_ANSWER_OBJECTS) <= boxes and ids_of(latest, ns.NS_ANSWER_OBJECTS)


def test_node_stays_responsive_when_frames_arrive_faster_than_it_integrates(recording, harness, start_node):
    # Every pixel sampled: an update then takes longer than the 12.5 ms between frames.
    start_node(queue_size=2, status_rate=4.0, **{"memory.pixel_stride": 1})
    ask_client = harness.client(AskSpatial, "ask")
    harness.wait_for_subscribers()
    # Two laps of the recording at 80 Hz.
    lap = recording.frames[-1].timestamp - recording.frames[0].timestamp + 0.1
    frames = recording.frames + [dataclasses.replace(f, timestamp=f.timestamp + lap) for f in recording.frames]
    latencies = []

    def ask_every_tenth(i):
        if i % 10 == 5:
            response, seconds = ask(harness, ask_client, "How many beds are there?")
            assert response.success or response.error
            latencies.append(seconds)

    harness.stream(frames, rate=80.0, during=ask_every_tenth)
    assert statistics.median(latencies) < 1.0, latencies
    status = harness.wait_status(lambda s: s["queue_length"] == 0 and s["pending_frames"] <= 1, timeout=60)
    assert status["queue_size"] == 2
    assert status["frames_dropped"]["queue_full"] > 0
    accounted = status["frames_integrated"] + sum(status["frames_dropped"].values())
    assert status["frames_integrated"] > 0 and accounted <= status["frames_received"] <= len(frames)


def test_detector_fills_in_instances_for_a_camera_without_instance_topics(recording, harness, start_node, tmp_path):
    testing = pytest.importorskip("reasmory_ros.perception.testing")
    detector = testing.save_random_owl(tmp_path / "owl")  # random weights: plumbing, not accuracy
    frames = recording.frames[:8]
    start_node(
        qos="reliable",
        queue_size=len(frames),
        status_rate=4.0,
        **{"perception.detector_model_path": str(detector), "perception.detect_every_n_frames": 2},
    )
    harness.client(AskSpatial, "ask")
    harness.wait_for_subscribers()
    harness.stream(frames, rate=5.0, parts=("color", "depth", "camera_info", "pose"))
    status = harness.wait_status(lambda s: s["frames_integrated"] == len(frames))
    assert status["perception"]["instances"]["detector_runs"] == len(frames) // 2
    assert status["errors"] == {} and status["perception"]["skipped_frames"] == 0


def test_rgbd_odometry_gives_the_pose_for_a_camera_without_a_pose_topic(harness, start_node, tmp_path):
    """No pose topic: the node chains RGB-D odometry; its trajectory, read back from ~/save, must
    follow the rendered ground truth. 40 frames of the simulator's loop at walking pace."""
    from reasmory_interfaces.srv import MemoryFile
    from reasmory_ros.memory import SpatialMemory
    from reasmory_ros.perception.odometry import absolute_trajectory_error
    from reasmory_ros.sim import CameraPath, camera_trajectory, default_intrinsics, generate_scene, render_sequence

    scene = generate_scene(3)
    loop = camera_trajectory(scene, n_frames=300, seed=0)
    path = CameraPath(loop.poses[:40], loop.timestamps[:40])
    frames = [r.frame for r in render_sequence(scene, path, default_intrinsics(160, 120), 160, 120, seed=0)]
    start_node(qos="reliable", queue_size=len(frames), status_rate=4.0, pose_source="rgbd_odometry",
               **{"perception.odometry_downsample": 1})
    save = harness.client(MemoryFile, "save")
    sent = ("color", "depth", "camera_info", "instances", "labels")
    harness.wait_for_subscribers(parts=sent)
    assert harness.node.count_subscribers(harness.publishers["pose"].topic_name) == 0  # no pose subscription
    harness.stream(frames, rate=10.0, parts=sent)
    status = harness.wait_status(lambda s: s["frames_integrated"] == len(frames))
    assert status["perception"]["pose"]["tracked"] == len(frames) - 1  # the first frame anchors the world
    assert status["errors"] == {} and status["perception"]["skipped_frames"] == 0

    saved = harness.call(save, MemoryFile.Request(path=str(tmp_path / "odometry.npz")))
    assert saved.success, saved.message
    trajectory = SpatialMemory.from_file(tmp_path / "odometry.npz").snapshot().trajectory
    truth = np.array(path.poses)[trajectory.frame_indices]
    assert np.linalg.norm(truth[-1, :3, 3] - truth[0, :3, 3]) > 0.3  # it moved
    assert absolute_trajectory_error(trajectory.poses, truth) < 0.02


def test_path_answers_and_rerun_recording_of_the_node(recording, harness, start_node, tmp_path, rerun_rows):
    """~/path and ~/answers over DDS, and the `rerun` parameter's .rrd read back with Rerun's reader."""
    rr = pytest.importorskip("rerun")
    import json

    from nav_msgs.msg import Path
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
    from std_msgs.msg import String

    frames = recording.frames[:12]
    rrd = tmp_path / "node.rrd"
    node = start_node(qos="reliable", queue_size=len(frames), status_rate=4.0, marker_rate=4.0,
                      map_publish_rate=2.0, rerun=str(rrd))
    latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    paths, answers = [], []
    harness.node.create_subscription(Path, "/reasmory/path", paths.append, latched)
    harness.node.create_subscription(String, "/reasmory/answers", lambda m: answers.append(json.loads(m.data)), 10)
    ask_client = harness.client(AskSpatial, "ask")
    harness.wait_for_subscribers()
    harness.stream(frames, rate=10.0)
    harness.wait_status(lambda s: s["frames_integrated"] == len(frames))
    question = "How far is the camera at frame 5 from where it was at frame 1, in meters?"
    response, _ = ask(harness, ask_client, question)
    assert response.success, response.error
    deadline = time.monotonic() + 30.0  # hang guard: the answer and a full path arrive over DDS
    while not (answers and paths and len(paths[-1].poses) == len(frames)):
        assert time.monotonic() < deadline, (answers, [len(p.poses) for p in paths])
        time.sleep(0.05)
    assert answers[-1]["question"] == question and answers[-1]["ok"]
    assert answers[-1]["answer"] == pytest.approx(response.value) and answers[-1]["program"] == response.program
    for pose, frame in zip(paths[-1].poses, frames):
        p = pose.pose.position
        np.testing.assert_allclose([p.x, p.y, p.z], frame.T_world_camera[:3, 3], atol=1e-6)
    assert node.stop() == 0

    rows = rerun_rows(rr.chunk.RrdReader(rrd).stream().to_chunks())
    images = rows["/world/camera/image", "EncodedImage:blob"]
    assert rows["/world/camera", "Transform3D:translation"] == images == len(frames)
    assert rows["/answers"] == 1 and rows["/world/objects"] >= 1
