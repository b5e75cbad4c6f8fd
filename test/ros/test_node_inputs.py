"""The node's input variants over DDS: image_transport's compressed colour and compressedDepth
topics, a driver's recording played live (tf poses, unregistered depth), and what pose_source tf
and depth registration need."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from reasmory_ros.streams import encode_compressed_color, encode_compressed_depth

pytestmark = [pytest.mark.ros, pytest.mark.slow]

COLOR = "/camera/color/image_raw/compressed"
DEPTH = "/camera/depth/image_raw/compressedDepth"


def test_compressed_colour_and_depth_topics_build_frames(recording, harness, start_node):
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import CompressedImage

    from reasmory_ros.ros.conversions import frame_messages

    frames = recording.frames[:8]
    start_node(qos="reliable", queue_size=len(frames), status_rate=4.0, color_topic=COLOR, depth_topic=DEPTH)
    reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    color_pub = harness.node.create_publisher(CompressedImage, COLOR, reliable)
    depth_pub = harness.node.create_publisher(CompressedImage, DEPTH, reliable)
    others = ("camera_info", "pose", "instances", "labels")
    harness.wait_for_subscribers(timeout=120.0, parts=others)  # hang guard: start-up is slow on a busy machine
    deadline = time.monotonic() + 30.0  # hang guard: it subscribed to the others already
    while color_pub.get_subscription_count() == 0 or depth_pub.get_subscription_count() == 0:
        assert time.monotonic() < deadline, "the node did not subscribe to the compressed topics"
        time.sleep(0.05)
    for frame in frames:
        header = frame_messages(frame)["color"].header
        color_pub.publish(CompressedImage(header=header, **dict(zip(("format", "data"),
                                                                    encode_compressed_color(frame.rgb, "jpeg")))))
        depth_pub.publish(CompressedImage(header=header, **dict(zip(("format", "data"),
                                                                    encode_compressed_depth(frame.depth)))))
        harness.publish_frame(frame, parts=others)
    status = harness.wait_status(lambda s: s["frames_integrated"] == len(frames))
    assert status["errors"] == {} and status["messages_received"]["color"] == len(frames)
    assert status["pose_refusals"] == {}


def test_a_realsense_recording_with_tf_poses_and_unregistered_depth_builds_the_replays_memory(harness, start_node,
                                                                                                tmp_path):
    """A realsense2_camera bag (tf poses only, jpeg colour, the depth camera's own 96 x 72 image at
    half the colour rate, its camera_info) played over DDS into the node, configured with what the
    replay recognises in the bag: the node's memory equals the replay's within 2 cm."""
    from reasmory_interfaces.srv import MemoryFile
    from reasmory_ros.config.settings import Settings
    from reasmory_ros.memory import SpatialMemory
    from reasmory_ros.replay.bag import open_bag
    from reasmory_ros.replay.pipeline import build_memory
    from reasmory_ros.sim.drivers import DepthCamera, write_layout_bag
    from reasmory_ros.sim.layout import generate_scene

    bag = tmp_path / "realsense"
    write_layout_bag(generate_scene(2), bag, 24, "realsense2_camera", width=128, height=96, noise=False,
                     depth_camera=DepthCamera(width=96, height=72, every=2), odometry_rate=100.0)
    recognised = open_bag(bag, Settings()).recognition.changes
    assert recognised["pose_source"] == "tf" and recognised["depth_info_topic"] == "/camera/camera/depth/camera_info"
    reference, stats = build_memory(bag, Settings(), progress=False)
    assert stats.frames == 12 and not stats.assembler["errors"]

    start_node(qos="reliable", queue_size=24, status_rate=4.0, **recognised)
    harness.wait_status(lambda s: True, timeout=120.0)  # hang guard: the node is up and subscribed
    played = subprocess.run([sys.executable, "-m", "reasmory_ros.ros.player", str(bag), "--wait-for-subscribers"],
                            capture_output=True, text=True, timeout=300)
    assert played.returncode == 0, played.stderr
    # Depth comes with every other colour image: those 12 frames are built, the others lack depth.
    status = harness.wait_status(lambda s: s["frames_integrated"] == 12 and s["messages_received"].get("depth") == 12)
    assert status["errors"] == {} and status["pose_refusals"] == {}, status

    saved = tmp_path / "node_memory.npz"
    assert harness.call(harness.client(MemoryFile, "save"), MemoryFile.Request(path=str(saved))).success
    node_memory = SpatialMemory(Settings().memory)
    node_memory.load(saved)
    live, replayed = node_memory.snapshot(), reference.snapshot()
    np.testing.assert_allclose(live.trajectory.poses, replayed.trajectory.poses, atol=0.01)
    assert len(live.objects) == len(replayed.objects) > 3
    for obj in replayed.objects:
        nearest = min(np.linalg.norm(np.asarray(o.center) - np.asarray(obj.center))
                      for o in live.objects if o.label == obj.label)
        assert nearest < 0.02, obj.label


def _node_without(modules: tuple[str, ...], *params: str) -> subprocess.CompletedProcess:
    """Start the node in a Python where `modules` cannot be imported (as on a machine without them)."""
    hide = "; ".join(f"sys.modules[{m!r}] = None" for m in modules)
    code = f"import sys; {hide}; from reasmory_ros.ros.node import main; sys.exit(main(sys.argv))"
    args = ["--ros-args", "-p", "device:=cpu"] + [arg for p in params for arg in ("-p", p)]
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)


def test_pose_source_tf_without_tf2_says_what_is_missing():
    result = _node_without(("tf2_ros", "tf2_msgs", "tf2_msgs.msg"), "pose_source:=tf")
    assert result.returncode == 1 and "needs tf2_ros or at least tf2_msgs" in result.stderr, result.stderr[-2000:]


def test_depth_registration_without_tf2_msgs_says_what_is_missing():
    result = _node_without(("tf2_ros", "tf2_msgs", "tf2_msgs.msg"), "depth_info_topic:=/camera/depth/camera_info")
    assert result.returncode == 1 and "depth_info_topic is set" in result.stderr, result.stderr[-2000:]
    assert "tf2_msgs is not installed" in result.stderr
