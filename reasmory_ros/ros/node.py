"""The reasmory node: camera topics in, spatial memory, `~/ask` and RViz markers out.

Thin by design: the settings come from `reasmory_ros.config` (declared here as ROS parameters),
the frame path (assembler, perception, memory) from `reasmory_ros.pipeline`, exactly as the bag
replay builds it, question answering from `reasmory_ros.planning`. This file only wires them to
ROS. Threading (the ros2/demos and image_pipeline pattern):

- one SingleThreadedExecutor runs every callback. rclpy's MultiThreadedExecutor lost 12-28% of
  the frames of a 10 Hz 640 x 480 stream while the node sat idle (docs/ros.md); a single thread
  lost none. Sensor callbacks only decode and hand parts to the FrameAssembler; complete frames go
  into a bounded drop-oldest queue and the callback returns;
- ONE worker thread pops frames, runs the perception plug-ins when configured (detector, depth
  from color, RGB-D odometry), and `SpatialMemory.update` (on the GPU when configured);
- services are async callbacks whose work runs, one request at a time, on a services thread and
  answers from `memory.snapshot()`, which never waits for more than the frame being integrated:
  the executor keeps taking sensor messages and publishing ~/status during a slow ask or save.

Run: `ros2 run reasmory_ros reasmory_node --ros-args --params-file config/reasmory.yaml`
or `python -m reasmory_ros.ros.node --ros-args -p planner:=rule`.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import rclpy
from builtin_interfaces.msg import Time as TimeMsg
from geometry_msgs.msg import Point, Pose, PoseStamped, Quaternion
from nav_msgs.msg import Odometry
from nav_msgs.msg import Path as PathMsg
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.clock import Clock, ClockType
from rclpy.duration import Duration
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rclpy.signals import SignalHandlerOptions
from rclpy.subscription import Subscription
from rclpy.task import Future
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2
from std_msgs.msg import Header as HeaderMsg
from std_msgs.msg import String
from std_srvs.srv import Trigger
from visualization_msgs.msg import MarkerArray

from reasmory_interfaces.msg import PlannerAttempt
from reasmory_interfaces.srv import AskSpatial, MemoryFile, RunProgram
from reasmory_ros import dsl
from reasmory_ros.config import NODE_NAME
from reasmory_ros.config.fields import ParamSpec
from reasmory_ros.config.settings import Settings, parameter_specs
from reasmory_ros.dsl.types import format_number
from reasmory_ros.memory.errors import SpatialMemoryError
from reasmory_ros.memory.persistence import discard_interrupted_saves
from reasmory_ros.pipeline import Pipeline
from reasmory_ros.planning.answering import answer_question
from reasmory_ros.planning.base import QuestionResult, quoted
from reasmory_ros.planning.factory import build_planner
from reasmory_ros.planning.rules import RuleBasedPlanner
from reasmory_ros.replay.pipeline import answer_record
from reasmory_ros.replay.record import RecordError
from reasmory_ros.replay.rerun_log import RerunLogger
from reasmory_ros.ros.markers import to_msg
from reasmory_ros.streams import DropOldestQueue, stamp_ns
from reasmory_ros.streams.inputs import StreamInputs
from reasmory_ros.visual.markers import MarkerFactory, answer_markers, camera_path, marker_array, memory_markers
from reasmory_ros.visual.messages import Header, Time
from reasmory_ros.visual.pointcloud import pointcloud2
from reasmory_ros.visual.status import pipeline_status

try:  # tf2_ros is not on the package registry; pose_source "tf" uses it where a ROS install has it
    import tf2_ros
except ImportError:
    tf2_ros = None
try:  # without tf2_ros, the ROS-free buffer (streams/tf.py) listens to /tf and /tf_static itself
    from tf2_msgs.msg import TFMessage
except ImportError:
    TFMessage = None

_MESSAGE_INFO = hasattr(Subscription, "CallbackType")
"""Whether subscription callbacks can receive the message info (rclpy >= Iron; not Humble)."""

SERVICE_QUEUE_DEPTH = 100
"""Requests a service keeps while busy: a burst of questions from many clients all get answers."""

SMALL_MESSAGE_DEPTH = 50
"""History of the pose, camera_info and labels subscriptions (images keep the `qos` depth)."""


class StartupError(RuntimeError):
    """A parameter or resource makes the node unable to start; the message says which and why."""


def _descriptor(spec: ParamSpec) -> ParameterDescriptor:
    descriptor = ParameterDescriptor(name=spec.name, description=spec.summary(), read_only=spec.read_only)
    if spec.limits is not None:
        low, high = spec.limits
        if isinstance(spec.default, int) and not isinstance(spec.default, bool):
            descriptor.integer_range = [IntegerRange(from_value=int(low), to_value=int(high), step=1)]
        else:
            descriptor.floating_point_range = [
                FloatingPointRange(from_value=float(low), to_value=float(high), step=0.0)
            ]
    return descriptor


class ReasmoryNode(Node):
    """See the module docstring; `close()` stops the worker and performs the shutdown save."""

    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        self._specs = {spec.name: spec for spec in parameter_specs()}
        self.settings = self._declare_parameters()
        self.add_on_set_parameters_callback(self._check_parameter_update)

        try:
            self.pipeline = Pipeline.build(self.settings, warn=self.get_logger().warning)
        except ValueError as err:  # PipelineError: the memory or a perception model refused
            raise StartupError(str(err)) from err
        self.memory, self.assembler, self.integrator = (
            self.pipeline.memory, self.pipeline.assembler, self.pipeline.integrator)
        self.snapshot_path = Path(os.path.expanduser(self.settings.node.snapshot_path))
        self._protect_earlier_memory()
        if self.settings.node.load_on_start and self.snapshot_path.is_file():
            try:
                self.memory.load(self.snapshot_path)
            except SpatialMemoryError as err:
                raise StartupError(f"load_on_start: {err}") from err
            self.pipeline.restart_stream()  # frame numbers continue after the loaded memory's
            self.get_logger().info(f"loaded memory from {self.snapshot_path} ({self.memory.frame_count} frames)")

        perception = self.pipeline.perception
        if perception is not None:
            self.get_logger().info(
                "perception plug-ins: " + ", ".join(stage.name for stage in perception.stages)
                + f" on {self.pipeline.perception_config.device}")
        if self.settings.streams.depth_topic and self.settings.perception.depth_model_path:
            self.get_logger().warning("perception.depth_model_path is not used: depth comes from depth_topic "
                                      "(set depth_topic to '' to estimate depth from color)")
        self.queue: DropOldestQueue = DropOldestQueue(self.settings.streams.queue_size)
        self._generation = 0
        self._generation_lock = threading.Lock()
        self._rerun = None
        if self.settings.node.rerun:
            try:
                self._rerun = RerunLogger(os.path.expanduser(self.settings.node.rerun), self.settings.node)
            except RecordError as err:
                raise StartupError(f"parameter 'rerun': {err}") from err
        self._answer: tuple[dsl.Touched, str] | None = None
        self._rules = RuleBasedPlanner()
        if self._rules.embedder is None:  # loads it now (seconds), not during the first ~/ask
            self.get_logger().info("no label embedder installed: labels in questions are matched by words only")
        self._planners: dict[str, object] = {}

        self._service_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reasmory-services")
        self._tf_buffer = self._setup_tf()
        self._subscribe()

        latched = QoSProfile(
            depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
        )
        self.markers_pub = self.create_publisher(MarkerArray, "~/markers", latched)
        self.map_pub = self.create_publisher(PointCloud2, "~/map", latched)
        self.path_pub = self.create_publisher(PathMsg, "~/path", latched)
        self.answers_pub = self.create_publisher(String, "~/answers", 10)
        self.status_pub = self.create_publisher(String, "~/status", 10)

        # rclpy's default service QoS keeps the last 10 requests: a burst of questions would lose some.
        requests = QoSProfile(depth=SERVICE_QUEUE_DEPTH)
        for srv_type, name, callback in (
            (AskSpatial, "~/ask", self._on_ask),
            (RunProgram, "~/run_program", self._on_run_program),
            (MemoryFile, "~/save", self._on_save),
            (MemoryFile, "~/load", self._on_load),
            (Trigger, "~/reset", self._on_reset),
        ):
            self.create_service(srv_type, name, self._off_executor(callback), qos_profile=requests)

        steady = Clock(clock_type=ClockType.STEADY_TIME)
        for rate, callback in (
            (self.settings.node.marker_rate, self.publish_markers),
            (self.settings.node.map_publish_rate, self.publish_map),
            (self.settings.node.status_rate, self.publish_status),
            (1.0 / self.settings.node.autosave_period if self.settings.node.autosave_period > 0 else 0.0,
             self._autosave),
        ):
            if rate > 0:  # steady time: outputs keep flowing while a bag (sim time) is paused
                self.create_timer(1.0 / rate, callback, clock=steady)
        if self.settings.streams.reorder_window > 0:  # frames held for a late part leave when no message comes
            self.create_timer(self.settings.streams.reorder_window, self._release_held, clock=steady)

        self._worker = threading.Thread(target=self._work, name="reasmory-memory", daemon=True)
        self._worker.start()
        self.get_logger().info(
            f"memory on {self.memory.device}, planner {self.settings.planner.planner}, listening on "
            + ", ".join(self.settings.streams.topic(part) for part, _ in self._inputs())
        )

    # --- parameters ---------------------------------------------------------------------------

    def _declare_parameters(self) -> Settings:
        """Declare every parameter (with its descriptor) and build the settings from their values,
        checked once, here."""
        values = {}
        for spec in self._specs.values():
            try:
                values[spec.name] = self.declare_parameter(spec.name, spec.default, _descriptor(spec)).value
            except ParameterException as err:
                raise StartupError(f"parameter '{spec.name}': {err}") from err
        try:
            settings = Settings.from_values(values)
        except ValueError as err:  # SettingsError, naming the parameter
            raise StartupError(str(err)) from err
        if settings.streams.pose_source == "tf" and tf2_ros is None and TFMessage is None:
            raise StartupError("pose_source 'tf' needs tf2_ros or at least tf2_msgs, neither is installed; use "
                               "pose_topic or odometry")
        if settings.streams.depth_info_topic and TFMessage is None:
            raise StartupError("depth_info_topic is set (register depth into the colour camera), which needs the "
                               "colour <- depth transform from /tf_static, but tf2_msgs is not installed")
        return settings

    def _check_parameter_update(self, parameters) -> SetParametersResult:
        for parameter in parameters:
            spec = self._specs.get(parameter.name)
            problem = spec.check(parameter.value) if spec is not None else None
            if problem:
                return SetParametersResult(successful=False, reason=problem)
        return SetParametersResult(successful=True)

    def _setup_tf(self):
        """Poses from tf: tf2_ros's buffer and listener where installed (returned). The stream's
        ROS-free buffer (the replay's) is fed by our own /tf and /tf_static subscriptions (static
        ones latched, as tf2's listener subscribes) where it is used: for poses without tf2_ros,
        and for the colour <- depth transform that registers depth."""
        self._tf_refusals: Counter = Counter()  # tf2_ros lookups that failed, per reason
        buffer = None
        if self.settings.streams.pose_source == "tf" and tf2_ros is not None:
            buffer = tf2_ros.Buffer()
            self._tf_listener = tf2_ros.TransformListener(buffer, self)
        self.inputs = StreamInputs(self.settings, self.assembler, tf_poses=buffer is None)
        if self.inputs.needs_tf:
            static = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                                durability=DurabilityPolicy.TRANSIENT_LOCAL)
            for part, qos in (("tf", QoSProfile(depth=100)), ("tf_static", static)):
                self.create_subscription(TFMessage, f"/{part}", lambda msg, part=part: self._on_message(part, msg), qos)
        return buffer

    # --- inputs -------------------------------------------------------------------------------

    def _inputs(self) -> list[tuple[str, type]]:
        """(part, message type) of each subscribed topic: no depth topic when depth is estimated,
        no pose topic when poses come from tf or RGB-D odometry."""
        streams = self.settings.streams
        inputs = [("color", _image_type(streams.color_topic)), ("camera_info", CameraInfo), ("instances", Image),
                  ("labels", String)]
        if "depth" not in self.settings.estimated_parts():
            inputs.append(("depth", _image_type(streams.depth_topic)))
            if streams.depth_info_topic:
                inputs.append(("depth_info", CameraInfo))
        if self.settings.streams.pose_source in ("pose_topic", "odometry"):
            inputs.append(("pose", Odometry if self.settings.streams.pose_source == "odometry" else PoseStamped))
        return inputs

    def _subscribe(self) -> None:
        qos = qos_profile_sensor_data if self.settings.streams.qos == "sensor_data" else QoSProfile(depth=10)
        # Small messages get a deep history: after a transport stall a burst must not overwrite the
        # pose of an image that is still on its way (costs bytes; images keep the shallow one).
        small = QoSProfile(depth=SMALL_MESSAGE_DEPTH, reliability=qos.reliability, durability=qos.durability)
        self._input_subscriptions = {}
        for part, msg_type in self._inputs():
            if _MESSAGE_INFO:
                callback = lambda msg, info, part=part: self._on_message(part, msg, info)  # noqa: E731
            else:
                callback = lambda msg, part=part: self._on_message(part, msg)  # noqa: E731
            self._input_subscriptions[part] = self.create_subscription(
                msg_type, self.settings.streams.topic(part), callback,
                qos if msg_type in (Image, CompressedImage) else small
            )

    def _input_publishers(self) -> dict[str, int]:
        """Publishers each input subscription is matched with (this node's side of the DDS match;
        the graph's count where rclpy cannot tell, before Iron): a publisher may only count on
        its first message arriving once this side matched it too."""
        return {part: (sub.get_publisher_count() if hasattr(sub, "get_publisher_count")
                       else self.count_publishers(sub.topic_name))
                for part, sub in self._input_subscriptions.items()}

    def _on_message(self, part: str, msg, info=None) -> None:
        """Decode + hand over; never blocks on the memory.

        The publisher's send time (message info, rclpy >= Iron) pairs labels with their instance
        image even when this node's callbacks run late; without it the callback time is used.
        """
        stamp = stamp_ns(msg.header.stamp) if hasattr(msg, "header") else None  # labels and tf have none
        sent = info.get("source_timestamp") if info else None
        generation = self._generation
        frames = self.inputs.add(part, stamp, msg, now=time.monotonic(), received=sent * 1e-9 if sent else None)
        if part == "color" and self._tf_buffer is not None:
            frames += self._pose_from_tf(msg, stamp)
        self._enqueue(frames, generation)

    def _release_held(self) -> None:
        """Frames held for an older, incomplete one whose reorder window ran out meanwhile."""
        generation = self._generation
        self._enqueue(self.assembler.release(), generation)

    def _enqueue(self, frames: list, generation: int) -> None:
        """Hand frames to the worker, tagged with the stream generation they were assembled in
        (read before assembling: a reset in between discards them)."""
        for frame in frames:
            self.queue.put((generation, frame))

    def _pose_from_tf(self, image: Image, stamp: int) -> list:
        camera = self.settings.streams.camera_frame or image.header.frame_id
        world = self.settings.node.frame_id
        try:
            transform = self._tf_buffer.lookup_transform(world, camera, image.header.stamp, timeout=Duration(seconds=0.1))
        except (tf2_ros.LookupException, tf2_ros.ConnectivityException, tf2_ros.ExtrapolationException) as err:
            reason = {tf2_ros.ExtrapolationException: "extrapolation",
                      tf2_ros.ConnectivityException: "disconnected"}.get(type(err), "unknown frame")
            self._tf_refusals[reason] += 1
            self.assembler.report("pose", f"tf {reason}", f"no transform {world} <- {camera}: {err}")
            return []
        return self.assembler.add("pose", stamp, transform)

    def _work(self) -> None:
        """The one thread that writes the memory."""
        while True:
            item = self.queue.get(timeout=0.5)
            if item is None:
                if self.queue.closed:
                    return
                continue
            generation, frame = item
            with self._generation_lock:
                # A frame assembled before a reset or load (older generation) is dropped.
                current = generation == self._generation
                if current and self.integrator.integrate(frame) and self._rerun is not None:
                    self._rerun.log_frame(self.integrator.last_frame, self.memory, frame.timestamp)

    def _restart_stream(self, change) -> None:
        """Run `change` (reset or load) with no frame of the old stream integrated afterwards."""
        with self._generation_lock:
            change()
            self._generation += 1
            self.queue.clear()
            self.pipeline.restart_stream()
            self._answer = None

    # --- services -----------------------------------------------------------------------------

    def _off_executor(self, handler):
        """An async service callback running `handler` on the services thread: the executor goes on
        taking sensor messages meanwhile, and requests are still answered one at a time."""

        async def callback(request, response):
            done = Future()
            done.add_done_callback(lambda _: self.executor and self.executor.wake())  # resume the await now

            def run():
                try:
                    done.set_result(handler(request, response))
                except BaseException as err:  # noqa: BLE001 - re-raised in the executor by the await
                    done.set_exception(err)

            self._service_thread.submit(run)
            return await done

        return callback

    def _planner(self, name: str):
        """The planner `name` (None for rule) from the shared factory, built once (its settings are
        read-only) so a local model loads once. ValueError names a missing setting."""
        if name not in self._planners:
            self._planners[name] = build_planner(name, self.settings.planner, device=str(self.memory.device))
        return self._planners[name]

    def _on_ask(self, request, response):
        name = request.planner or self.get_parameter("planner").value
        problem = self._specs["planner"].check(name)
        if not request.question.strip():
            problem = "the question is empty"
        if problem:
            response.success, response.error = False, problem
            return response
        try:
            planner = self._planner(name)
        except ValueError as err:  # a setting the planner needs is missing
            response.success, response.error = False, str(err)
            return response
        started = time.perf_counter()
        snapshot = self.memory.snapshot()
        try:
            result = answer_question(
                request.question,
                list(request.options) or None,
                snapshot,
                planner=planner,
                max_attempts=self.get_parameter("max_attempts").value,
                rules=self._rules,
            )
        except Exception as err:  # a defect must answer as an error, never kill the executor
            self.get_logger().error(f"~/ask failed on {quoted(request.question)}: {type(err).__name__}: {err}")
            response.success, response.error = False, f"internal error: {type(err).__name__}: {err}"
            return response
        _fill_ask(response, result, self.settings.node.frame_id, self.get_clock().now().to_msg())
        record = {key: value for key, value in answer_record(None, result).items() if key != "id"}
        self.answers_pub.publish(String(data=json.dumps({"question": request.question, **record})))
        if self._rerun is not None:
            self._rerun.log_answer(request.question, result, snapshot, self.get_clock().now().nanoseconds * 1e-9)
        if result.ok and result.dsl_answer is not None:
            response.markers = self._show_answer(result.dsl_answer.touched, response.answer, snapshot)
        outcome = response.answer if result.ok else "error: " + response.error.splitlines()[0]
        self.get_logger().info(
            f"ask {quoted(request.question)} -> {outcome} "
            f"({len(result.attempts)} attempt(s), {1000 * (time.perf_counter() - started):.0f} ms)"
        )
        return response

    def _on_run_program(self, request, response):
        snapshot = self.memory.snapshot()
        try:
            answer = dsl.run(request.program, snapshot)
        except dsl.DslError as err:
            response.success, response.error = False, err.format()
            return response
        response.success = True
        response.answer = answer.text
        response.is_numeric = answer.kind == "Number"
        if response.is_numeric:
            response.value, response.unit = float(answer.value), answer.unit
        response.markers = self._show_answer(answer.touched, answer.text, snapshot)
        return response

    def _memory_path(self, requested: str) -> Path:
        return Path(os.path.expanduser(requested)) if requested else self.snapshot_path

    def _on_save(self, request, response):
        path = self._memory_path(request.path)
        response.success, response.message = self._save(path)
        return response

    def _save(self, path: Path) -> tuple[bool, str]:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)  # the default folder may not exist yet
            self.memory.save(path)
        except SpatialMemoryError as err:
            message = str(err)
        except OSError as err:
            message = f"cannot write memory file '{path}': cannot create its folder: {err.strerror or err}"
        else:
            return True, f"saved {self.memory.frame_count} frames to {path}"
        self.get_logger().error(f"saving the memory failed: {message}")
        return False, message

    def _on_load(self, request, response):
        path = self._memory_path(request.path)
        try:
            self._restart_stream(lambda: self.memory.load(path))
        except (OSError, SpatialMemoryError) as err:
            response.success, response.message = False, str(err)
            return response
        response.success, response.message = True, f"loaded {self.memory.frame_count} frames from {path}"
        self.publish_markers()
        return response

    def _on_reset(self, request, response):
        self._restart_stream(self.memory.reset)
        self.publish_markers()
        response.success, response.message = True, "memory cleared"
        return response

    # --- outputs ------------------------------------------------------------------------------

    def _factory(self) -> MarkerFactory:
        return MarkerFactory(
            Header(stamp=Time.from_ns(self.get_clock().now().nanoseconds), frame_id=self.settings.node.frame_id),
            self.settings.node.marker_lifetime,
        )

    def _show_answer(self, touched, caption: str, snapshot) -> MarkerArray:
        """Remember the answer for the periodic refresh, publish it now, return its own markers."""
        self._answer = (touched, caption)
        self.publish_markers(snapshot)
        factory = self._factory()
        return to_msg(marker_array(answer_markers(touched, snapshot.objects + snapshot.removed, factory, caption),
                                    factory.header))

    def publish_markers(self, snapshot=None) -> None:
        """~/markers (boxes, labels, camera path, last answer), at marker_rate."""
        snapshot = self.memory.snapshot() if snapshot is None else snapshot
        factory = self._factory()
        self.markers_pub.publish(to_msg(memory_markers(snapshot, factory, self._answer)))

    def publish_map(self) -> None:
        """The large, cumulative outputs at map_publish_rate: ~/map and ~/path."""
        snapshot = self.memory.snapshot()
        factory = self._factory()
        self.map_pub.publish(to_msg(pointcloud2(snapshot.scene_map.points, snapshot.scene_map.colors, factory.header)))
        self.path_pub.publish(to_msg(camera_path(snapshot.trajectory, factory.header)))

    def status(self) -> dict:
        """Counters of the whole pipeline: what came in, what was integrated, what was lost and why."""
        # pose_refusals: images tf gave no pose for, per reason
        return {**pipeline_status(self.assembler, self.integrator, self.memory, self.queue),
                "pose_refusals": dict(self._tf_refusals + Counter(self.inputs.pose_refusals)),
                "input_publishers": self._input_publishers()}

    def publish_status(self) -> None:
        self.status_pub.publish(String(data=json.dumps(self.status())))

    def _protect_earlier_memory(self) -> None:
        """Remove what killed saves left behind, and keep an earlier memory file that this run would
        otherwise overwrite with a new, empty memory (autosave on, load_on_start off)."""
        for stale in discard_interrupted_saves(self.snapshot_path):
            self.get_logger().info(f"removed {stale}, left by a save that was interrupted")
        if self.settings.node.autosave_period > 0 and not self.settings.node.load_on_start and self.snapshot_path.is_file():
            kept = self.snapshot_path.with_name(f"{self.snapshot_path.stem}.previous{self.snapshot_path.suffix}")
            os.replace(self.snapshot_path, kept)
            self.get_logger().warning(
                f"{self.snapshot_path} holds an earlier memory and load_on_start is false: moved it to {kept} "
                "so that autosave does not overwrite it (set load_on_start to continue from it)")

    def _autosave(self) -> None:
        self._service_thread.submit(self._save, self.snapshot_path)  # writing a file must not block the inputs

    def close(self) -> None:
        """Stop the worker (after the frame it is on; queued frames are dropped) and save once more
        when autosave is on."""
        self.queue.clear()
        self.queue.close()
        self._worker.join(timeout=10.0)
        self._service_thread.shutdown(wait=True)
        if self._rerun is not None:
            self._rerun.close()
        if self.settings.node.autosave_period > 0:
            _, message = self._save(self.snapshot_path)
            print(f"[reasmory] shutdown save: {message}", file=sys.stderr)


def _fill_ask(response, result: QuestionResult, frame_id: str, now) -> None:
    """QuestionResult -> AskSpatial response fields; the goal is stamped `now` in `frame_id`."""
    response.success = bool(result.ok)
    response.program = result.program or ""
    response.error = result.error or ""
    response.attempts = [
        PlannerAttempt(planner=a.planner, program=a.program or "", ok=a.ok, error=a.error or "")
        for a in result.attempts
    ]
    if not result.ok:
        return
    value = result.answer
    response.is_numeric = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if response.is_numeric:
        response.value, response.unit = float(value), result.unit
        response.value_text = format_number(float(value))
    else:
        response.value_text = str(value)
    response.answer = result.text or response.value_text
    if result.position is not None:
        response.has_position = True
        response.position = Point(x=result.position[0], y=result.position[1], z=result.position[2])
    if result.goal is not None:
        x, y, z = result.goal["position"]
        half = result.goal["yaw"] / 2.0
        response.has_goal = True
        response.goal = PoseStamped(
            header=HeaderMsg(stamp=now, frame_id=frame_id),
            pose=Pose(position=Point(x=x, y=y, z=z),
                      orientation=Quaternion(z=math.sin(half), w=math.cos(half))))
    if result.stamp is not None:
        seconds = math.floor(result.stamp)
        response.has_stamp = True
        response.stamp = TimeMsg(sec=seconds, nanosec=min(int(round((result.stamp - seconds) * 1e9)), 999_999_999))
    response.object_ids = [int(o["id"]) for o in result.objects]
    response.object_labels = [str(o["label"]) for o in result.objects]


def _image_type(topic: str) -> type:
    """CompressedImage for image_transport's compressed topics (jpeg/png, compressedDepth), else Image."""
    return CompressedImage if topic.rsplit("/", 1)[-1] in ("compressed", "compressedDepth") else Image


STOP_POLL_S = 0.1
"""The spin loop looks for a stop request (SIGINT, SIGTERM) at least this often."""


def main(argv: list[str] | None = None) -> int:
    """Owns rclpy init/shutdown; exit status 1 when the node cannot start (reason on stderr).

    SIGINT and SIGTERM end the spin loop between two callbacks, and the context goes down only
    after the node has closed (worker joined, last save written). rclpy's own handlers shut the
    context down at once, so a timer callback running at that moment failed to publish and the
    node exited with status 1 on Ctrl-C now and then.
    """
    rclpy.init(args=argv if argv is not None else sys.argv, signal_handler_options=SignalHandlerOptions.NO)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    node = None
    try:
        node = ReasmoryNode()
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        while not stop.is_set():
            executor.spin_once(timeout_sec=STOP_POLL_S)
    except StartupError as err:
        print(f"[reasmory] cannot start: {err}", file=sys.stderr)
        return 1
    except ExternalShutdownException:
        pass
    finally:
        if node is not None:
            node.close()
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
