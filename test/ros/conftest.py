"""Real DDS for the node tests: the node runs in its own process, the test talks to it over topics
and services from an rclpy node of its own (spun in a background thread).

A rendered scene from the simulator (ray-cast RGB-D + instances + ground truth) is the input.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

rclpy = pytest.importorskip("rclpy")
pytest.importorskip("reasmory_interfaces.srv")

from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy  # noqa: E402
from std_msgs.msg import String  # noqa: E402
from visualization_msgs.msg import MarkerArray  # noqa: E402

from reasmory_ros.config.settings import StreamSettings  # noqa: E402
from reasmory_ros.ros.conversions import frame_messages, message_type  # noqa: E402
from reasmory_ros.streams import PARTS  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 320, 240
N_FRAMES = 48
NODE = "/reasmory"
TOPICS = {part: StreamSettings().topic(part) for part in PARTS}
PART_TYPES = {
    "color": "sensor_msgs/msg/Image",
    "depth": "sensor_msgs/msg/Image",
    "camera_info": "sensor_msgs/msg/CameraInfo",
    "pose": "geometry_msgs/msg/PoseStamped",
    "instances": "sensor_msgs/msg/Image",
    "labels": "std_msgs/msg/String",
}


@dataclass
class Recording:
    frames: list  # memory.Frame, in stream order
    gt: object  # sim.GroundTruth


@pytest.fixture(scope="session")
def recording() -> Recording:
    """A furnished room rendered along the simulator's camera loop, with its ground truth."""
    sim = pytest.importorskip("reasmory_ros.sim")
    scene = sim.generate_scene(3)
    camera = sim.camera_trajectory(scene, N_FRAMES, 0)
    K = sim.default_intrinsics(WIDTH, HEIGHT)
    rendered = list(sim.render_sequence(scene, camera, K, WIDTH, HEIGHT, seed=0))
    gt = sim.GroundTruth(scene, camera, K, WIDTH, HEIGHT, [r.pixel_counts for r in rendered])
    return Recording([r.frame for r in rendered], gt)


class NodeProcess:
    """`python -m reasmory_ros.ros.node` in a subprocess; stderr/stdout captured to a log file."""

    def __init__(self, log_path: Path, params: dict, extra_args: tuple[str, ...] = ()):
        args = [sys.executable, "-m", "reasmory_ros.ros.node", "--ros-args", *extra_args]
        for name, value in params.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            args += ["-p", f"{name}:={text}"]
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            args, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT, env=os.environ.copy()
        )

    def log(self) -> str:
        if not self._log.closed:  # stop() closes it, and the teardown reads the log after stop()
            self._log.flush()
        return self.log_path.read_text()

    def stop(self, timeout: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


class Harness:
    """The test's own rclpy node: publishers for the contract topics, clients, subscriptions."""

    def __init__(self, context):
        self.node = rclpy.create_node("reasmory_test_client", context=context)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        self.publishers = {
            part: self.node.create_publisher(message_type(PART_TYPES[part]), topic, reliable)
            for part, topic in TOPICS.items()
        }
        latched = QoSProfile(
            depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
        )
        self.status: list[dict] = []
        self.markers: list[MarkerArray] = []
        self.node.create_subscription(
            String, f"{NODE}/status", lambda m: self.status.append(__import__("json").loads(m.data)), 10
        )
        self.node.create_subscription(MarkerArray, f"{NODE}/markers", self.markers.append, latched)
        self._spinner = threading.Thread(target=self.executor.spin, daemon=True)
        self._spinner.start()

    def client(self, srv_type, name: str, timeout: float = 60.0):
        # Deep enough for a burst of replies (rclpy's default keeps the last 10 and drops the rest).
        client = self.node.create_client(srv_type, f"{NODE}/{name}", qos_profile=QoSProfile(depth=100))
        assert client.wait_for_service(timeout_sec=timeout), f"service {NODE}/{name} did not appear"
        return client

    def call(self, client, request, timeout: float = 60.0):
        future = client.call_async(request)
        deadline = time.monotonic() + timeout
        while not future.done():
            assert time.monotonic() < deadline, f"no reply from {client.srv_name} within {timeout} s"
            time.sleep(0.005)
        return future.result()

    def wait_for_subscribers(self, timeout: float = 120.0, parts=None) -> None:
        """Until the node subscribed to every input topic (to `parts` when given). The bound is a
        hang guard: a node process importing torch and loading its embedder took over 20 s on a
        2-core machine shared with other test runs."""
        publishers = [p for part, p in self.publishers.items() if parts is None or part in parts]
        deadline = time.monotonic() + timeout
        while any(p.get_subscription_count() == 0 for p in publishers):
            assert time.monotonic() < deadline, "the node did not subscribe to every input topic"
            time.sleep(0.05)
        self.wait_matched(parts, timeout)

    def wait_matched(self, parts=None, timeout: float = 120.0, publishers: int = 1) -> None:
        """Until the node's status says each of its input subscriptions (those of `parts` when
        given) matched `publishers` publishers: a DDS match completes on each side separately,
        and a sample sent before the subscriber's side matched is lost to a volatile
        subscription."""
        wanted = set(self.publishers if parts is None else parts)
        self.wait_status(lambda s: "input_publishers" in s and all(
            n >= publishers for part, n in s["input_publishers"].items() if part in wanted), timeout)

    def publish_frame(self, frame, parts=None) -> None:
        for part, msg in frame_messages(frame).items():
            if parts is None or part in parts:
                self.publishers[part].publish(msg)

    def stream(self, frames, rate: float, during=None, parts=None) -> None:
        """Publish frames (only `parts` of them when given) at `rate` Hz; `during(i)` runs between
        frames (e.g. to ask)."""
        period = 1.0 / rate
        start = time.monotonic()
        for i, frame in enumerate(frames):
            self.publish_frame(frame, parts)
            if during is not None:
                during(i)
            delay = start + (i + 1) * period - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def wait_markers(self, predicate, timeout: float) -> MarkerArray:
        """The newest marker array once `predicate(all arrays received)` holds; `timeout` is a hang guard."""
        deadline = time.monotonic() + timeout
        while not predicate(self.markers):
            assert time.monotonic() < deadline, f"no marker array as expected within {timeout} s"
            time.sleep(0.05)
        return self.markers[-1]

    def wait_status(self, predicate, timeout: float = 90.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status and predicate(self.status[-1]):
                return self.status[-1]
            time.sleep(0.1)
        raise AssertionError(f"status never satisfied the condition; last: {self.status[-1] if self.status else None}")

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()


@pytest.fixture
def harness(ros_context):
    h = Harness(ros_context)
    yield h
    h.close()


@pytest.fixture
def start_node(tmp_path):
    """Start the node with parameters; it is stopped (SIGINT) after the test, its log attached."""
    started: list[NodeProcess] = []

    def start(extra_args: tuple[str, ...] = (), **params) -> NodeProcess:
        params = {"device": "cpu", "snapshot_path": str(tmp_path / "memory.npz"), **params}
        node = NodeProcess(tmp_path / f"node{len(started)}.log", params, extra_args)
        started.append(node)
        return node

    yield start
    for node in started:
        code = node.stop()
        if code not in (0, None):
            print(node.log())
        assert code == 0, f"node exited with {code}:\n{node.log()[-3000:]}"
