"""`reasmory-play BAG`: publish a rosbag2 recording like `ros2 bag play` (which is not always installed).

The bag is read with `rosbags` (sqlite3 or mcap, any rosbag2 metadata version it knows), each
message is converted field by field into the rclpy message of the same type and published with the
recording's timing scaled by --rate. --clock publishes /clock from the bag time, so nodes started
with use_sim_time follow the recording.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import rclpy
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rclpy.signals import SignalHandlerOptions
from rclpy.utilities import remove_ros_args
from rosbags.highlevel import AnyReader
from rosbags.typesys import Stores, get_typestore
from rosgraph_msgs.msg import Clock

from reasmory_ros.ros.conversions import ConversionError, message_type, time_msg, to_rclpy

WAIT_FOR_SUBSCRIBERS_S = 30.0
LATCHED_TOPICS = ("/tf_static",)
"""Published latched, as tf2's static broadcaster does (and `ros2 bag play` from the recorded QoS):
tf listeners subscribe to them with transient-local durability, which a volatile publisher never matches."""
LATCHED = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
MATCH_SETTLE_S = 1.0


class PlayError(RuntimeError):
    """The bag cannot be played: missing, unreadable, or a topic's type is unknown to rclpy."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reasmory-play",
        description="Publish a rosbag2 recording with its original timing (like `ros2 bag play`).",
        epilog="ROS arguments (e.g. topic remapping) go after --ros-args:\n"
        "  reasmory-play demo_bag --clock --ros-args -r /camera/pose:=/robot/camera_pose",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("bag", type=Path, help="rosbag2 directory (or a single .db3 / .mcap file)")
    parser.add_argument("--rate", type=float, default=1.0, help="playback speed factor (default: %(default)s)")
    parser.add_argument(
        "--loop",
        action="store_true",
        help="start over at the end (stamps repeat: a node drops repeated frames as late, so this is for RViz demos)",
    )
    parser.add_argument("--topics", nargs="+", metavar="TOPIC", help="publish only these topics")
    parser.add_argument("--clock", action="store_true", help="publish /clock from the bag time (for use_sim_time)")
    parser.add_argument(
        "--delay", type=float, default=0.0, help="seconds to wait before playing (default: %(default)s)"
    )
    parser.add_argument(
        "--wait-for-subscribers",
        action="store_true",
        help=f"before playing, wait (up to {WAIT_FOR_SUBSCRIBERS_S:g} s) until every topic has a subscriber",
    )
    parser.add_argument(
        "--qos",
        choices=("reliable", "sensor_data"),
        default="reliable",
        help="publisher QoS; reliable reaches both reliable and best-effort subscribers (default)",
    )
    return parser


def open_reader(bag: Path) -> AnyReader:
    if not bag.exists():
        raise PlayError(f"bag {bag} does not exist")
    reader = AnyReader([bag], default_typestore=get_typestore(Stores.ROS2_HUMBLE))
    try:
        reader.open()
    except Exception as err:  # rosbags raises format-specific errors for unreadable bags
        raise PlayError(f"cannot open bag {bag}: {err}") from err
    return reader


class Player:
    """Publishers for the bag's topics and a paced publishing loop."""

    def __init__(self, node, reader: AnyReader, topics: list[str] | None, qos_name: str, clock: bool):
        self.node = node
        self.reader = reader
        available = {c.topic: c.msgtype for c in reader.connections}
        unknown = sorted(set(topics or []) - set(available))
        if unknown:
            listing = ", ".join(f"{t} [{m}]" for t, m in sorted(available.items()))
            raise PlayError(f"the bag has no topic {', '.join(unknown)}; it has: {listing}")
        self.connections = [c for c in reader.connections if not topics or c.topic in topics]
        qos = (
            qos_profile_sensor_data
            if qos_name == "sensor_data"
            else QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
        )
        self.types, self.publishers = {}, {}
        for connection in self.connections:
            try:
                self.types[connection.topic] = message_type(connection.msgtype)
            except ConversionError as err:
                raise PlayError(f"topic {connection.topic}: {err}") from err
            if connection.topic not in self.publishers:
                self.publishers[connection.topic] = node.create_publisher(
                    self.types[connection.topic], connection.topic,
                    LATCHED if connection.topic in LATCHED_TOPICS else qos
                )
        self.clock = node.create_publisher(Clock, "/clock", 10) if clock else None
        self.published: Counter = Counter()

    def wait_for_subscribers(self, timeout: float) -> bool:
        publishers = [*self.publishers.values(), *([self.clock] if self.clock is not None else [])]
        deadline = time.monotonic() + timeout
        while any(p.get_subscription_count() == 0 for p in publishers):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        # A DDS match completes on each side separately: the subscriber may not know this writer
        # yet, and a volatile reliable sample written now could be lost. Let both sides settle.
        time.sleep(MATCH_SETTLE_S)
        return True

    def play_once(self, rate: float) -> None:
        """One pass over the bag: message i goes out at start + (t_i - t_0) / rate."""
        start_wall, start_bag = time.monotonic(), None
        for connection, bag_time, raw in self.reader.messages(connections=self.connections):
            start_bag = bag_time if start_bag is None else start_bag
            msg = to_rclpy(self.reader.deserialize(raw, connection.msgtype), self.types[connection.topic])
            delay = start_wall + (bag_time - start_bag) * 1e-9 / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if self.clock is not None:
                self.clock.publish(Clock(clock=time_msg(bag_time)))
            self.publishers[connection.topic].publish(msg)
            self.published[connection.topic] += 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(remove_ros_args(["reasmory-play", *argv])[1:])
    if args.rate <= 0:
        print("error: --rate must be positive", file=sys.stderr)
        return 2
    try:
        reader = open_reader(args.bag)
    except PlayError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    # No rclpy signal handlers: Ctrl-C is then a KeyboardInterrupt between two publishes, not a
    # context shut down under a publish in progress (which fails with an RCLError).
    rclpy.init(args=["reasmory-play", *argv], signal_handler_options=SignalHandlerOptions.NO)
    node = rclpy.create_node("reasmory_player")
    try:
        player = Player(node, reader, args.topics, args.qos, args.clock)
        if args.wait_for_subscribers and not player.wait_for_subscribers(WAIT_FOR_SUBSCRIBERS_S):
            lonely = [t for t, p in player.publishers.items() if p.get_subscription_count() == 0]
            print(f"warning: no subscriber on {', '.join(lonely)}; playing anyway", file=sys.stderr)
        time.sleep(max(args.delay, 0.0))
        while True:
            player.play_once(args.rate)
            if not args.loop:
                break
        summary = ", ".join(f"{topic}: {n}" for topic, n in sorted(player.published.items()))
        print(f"published {sum(player.published.values())} messages ({summary})")
        return 0
    except PlayError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    finally:
        reader.close()
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    sys.exit(main())
