"""The node's input variants over DDS: image_transport's compressed colour and compressedDepth
topics, and the pose_source tf requirements."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time

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


@pytest.mark.skipif(importlib.util.find_spec("tf2_ros") is not None or importlib.util.find_spec("tf2_msgs") is not None,
                    reason="tf2 is installed here: pose_source tf works")
def test_pose_source_tf_without_tf2_says_what_is_missing():
    result = subprocess.run([sys.executable, "-m", "reasmory_ros.ros.node", "--ros-args", "-p", "device:=cpu",
                             "-p", "pose_source:=tf"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "needs tf2_ros or at least tf2_msgs" in result.stderr, result.stderr[-2000:]
