"""reasmory-play over DDS: a simulated bag (mcap, bgr8 + 32FC1) replayed into the node with
use_sim_time and /clock, and the CLI's refusals."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from reasmory_ros.ros.conversions import message_type, to_rclpy

pytestmark = [pytest.mark.ros, pytest.mark.slow]
N = 10


@pytest.fixture(scope="module")
def bag(tmp_path_factory):
    sim = pytest.importorskip("reasmory_ros.sim")
    from reasmory_ros.sim.bag import write_scene_bag

    path = tmp_path_factory.mktemp("player") / "scene_bag"
    write_scene_bag(
        sim.generate_scene(3),
        path,
        N,
        width=160,
        height=120,
        storage="mcap",
        color_encoding="bgr8",
        depth_encoding="32FC1",
    )
    return path


def play(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "reasmory_ros.ros.player", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_bag_replays_into_the_node_with_sim_time(bag, harness, start_node):
    """The player runs in this process, on the harness's node, so that it starts only once the
    node's side of every match is complete too (the node's status counts the harness's own
    publishers and the player's): a DDS subscriber drops what a publisher sent before it matched,
    and the CLI can only wait for its own side."""
    from rosbags.highlevel import AnyReader

    from reasmory_ros.ros.player import Player, open_reader

    start_node(("-p", "use_sim_time:=true"), qos="reliable", queue_size=N, status_rate=4.0, marker_rate=4.0)
    harness.client(message_type("reasmory_interfaces/srv/AskSpatial"), "ask")

    reader = open_reader(bag)
    try:
        player = Player(harness.node, reader, None, "reliable", clock=True)
        assert player.wait_for_subscribers(120.0), "the node did not subscribe to every topic of the bag"
        harness.wait_matched(publishers=2)
        player.play_once(rate=2.0)
    finally:
        reader.close()
    assert sum(player.published.values()) == 6 * N
    status = harness.wait_status(lambda s: s["frames_integrated"] == N)
    assert status["errors"] == {} and status["frames_received"] == N
    # The node's clock follows /clock: markers published after the replay carry bag time.
    with AnyReader([bag]) as reader:
        start, end = reader.start_time * 1e-9, reader.end_time * 1e-9
    deadline, stamps = time.monotonic() + 60.0, []  # hang guard
    while time.monotonic() < deadline and not (stamps and start <= stamps[-1] <= end + 1.0):
        time.sleep(0.1)
        stamps = [a.markers[0].header.stamp.sec + a.markers[0].header.stamp.nanosec * 1e-9 for a in harness.markers]
    assert stamps and start <= stamps[-1] <= end + 1.0, (start, end, stamps[-5:])


def test_to_rclpy_copies_every_field_of_a_bag_message(bag):
    from rosbags.highlevel import AnyReader
    from rosbags.typesys import Stores, get_typestore

    from reasmory_ros.streams import decode_color

    with AnyReader([bag], default_typestore=get_typestore(Stores.ROS2_HUMBLE)) as reader:
        for connection in reader.connections:
            _, _, raw = next(reader.messages(connections=[connection]))
            original = reader.deserialize(raw, connection.msgtype)
            converted = to_rclpy(original, message_type(connection.msgtype))
            if hasattr(original, "header"):
                assert (converted.header.stamp.sec, converted.header.stamp.nanosec, converted.header.frame_id) == (
                    original.header.stamp.sec,
                    original.header.stamp.nanosec,
                    original.header.frame_id,
                )
            if connection.msgtype == "sensor_msgs/msg/Image" and original.encoding == "bgr8":
                assert (decode_color(converted) == decode_color(original)).all()
            if connection.msgtype == "sensor_msgs/msg/CameraInfo":
                assert list(converted.k) == list(original.k)


def test_the_cli_publishes_every_message_of_the_bag(bag):
    """The command line's whole path (open, publish at the bag's pace, summary); whether a node
    receives it all is the in-process test above, which can wait for the node's side."""
    result = play(bag, "--rate", 20.0, "--clock")
    assert result.returncode == 0, result.stderr
    assert f"published {6 * N} messages" in result.stdout


def test_player_refuses_what_it_cannot_play(bag, tmp_path):
    missing = play(tmp_path / "nope")
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    wrong_topic = play(bag, "--topics", "/not/there")
    assert (
        wrong_topic.returncode == 2
        and "no topic /not/there" in wrong_topic.stderr
        and "/camera/pose" in wrong_topic.stderr
    )
    assert "--clock" in play("--help").stdout
