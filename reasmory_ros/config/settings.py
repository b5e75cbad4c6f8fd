"""The one typed settings object of the node and the replay, with where it comes from.

`Settings` has one section per part of the pipeline: `streams` (topics and synchronisation),
`compute` (device, threads), `planner`, `node` (outputs, persistence), `memory` (`MemoryConfig`)
and `perception` (`PerceptionConfig`). It is built once, from the node's `ros__parameters` YAML
(`load_settings`) or from the values of declared ROS parameters (`Settings.from_values`), validated
then, and passed down as is. A parameter's flat name is its field name, prefixed with `memory.` or
`perception.` for those two sections, exactly as in config/reasmory.yaml.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reasmory_ros.config import NODE_NAME, PLANNER_KINDS
from reasmory_ros.config.fields import ParamSpec, check_fields, field_specs, setting
from reasmory_ros.memory.config import MemoryConfig
from reasmory_ros.perception.config import PerceptionConfig, PerceptionConfigError
from reasmory_ros.streams.camera import offset_matrix


class SettingsError(ValueError):
    """A setting cannot be used; the message names the parameter (and the file it came from)."""


def _topic(default: str, what: str) -> Any:
    return setting(default, f"Input topic: {what}.")


@dataclass(frozen=True)
class StreamSettings:
    """Input topics and how their messages become frames (the FrameAssembler's settings)."""

    color_topic: str = _topic("/camera/color/image_raw", "sensor_msgs/Image rgb8, bgr8, rgba8, bgra8 or mono8")
    depth_topic: str = _topic(
        "/camera/depth/image_raw",
        "sensor_msgs/Image 16UC1 mm or 32FC1 m, registered to color; empty = estimate depth from "
        "color with perception.depth_model_path",
    )
    camera_info_topic: str = _topic("/camera/color/camera_info", "sensor_msgs/CameraInfo of the color camera (K)")
    depth_info_topic: str = _topic(
        "",
        "sensor_msgs/CameraInfo of the depth camera, set when depth_topic carries its own unregistered "
        "image (e.g. /camera/camera/depth/camera_info): depth is then registered into the color camera "
        "with both camera_infos and the color <- depth transform from /tf_static (needs tf2_msgs); "
        "empty = depth is registered to color already",
    )
    pose_topic: str = _topic(
        "/camera/pose",
        "geometry_msgs/PoseStamped of the camera optical frame in frame_id (nav_msgs/Odometry "
        "when pose_source is odometry)",
    )
    instances_topic: str = _topic(
        "/camera/instances/image_raw", "sensor_msgs/Image 16UC1 or 32SC1 instance ids, 0 = none")
    labels_topic: str = _topic("/camera/instances/labels", 'std_msgs/String JSON {"<id>": "<category>"}')
    pose_source: str = setting(
        "pose_topic",
        "Where camera poses come from: PoseStamped or Odometry on pose_topic, a tf lookup "
        "of camera_frame in frame_id (else odom) at each image stamp (tf2_ros, else /tf and /tf_static "
        "where tf2_msgs exists; the replay reads them from the bag), or rgbd_odometry: "
        "estimated from color + depth by chained RGB-D odometry (perception.odometry_*; it "
        "drifts, use it only when the robot publishes no pose).",
        choices=("pose_topic", "odometry", "tf", "rgbd_odometry"),
    )
    camera_frame: str = setting(
        "",
        "tf frame of the camera optical frame for pose_source tf; empty uses the color image's header.frame_id.",
    )
    camera_offset: list[float] = setting(
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
        "Pose of the camera optical frame in the frame the pose source tracks, as x y z qx qy "
        "qz qw (e.g. base_link -> optical frame for odometry); identity by default.",
        unit="m, quaternion",
    )
    qos: str = setting(
        "sensor_data",
        "Subscription QoS: sensor_data (best effort, keep last 5) or reliable (keep last 10). "
        "Reliable subscriptions do not connect to best-effort publishers.",
        choices=("sensor_data", "reliable"),
    )
    wait_for_instances: bool = setting(
        True,
        "Build a frame only once its instance image and labels arrived; false builds frames "
        "from color, depth, pose and camera info alone (no new objects then, unless a detector "
        "is configured: with perception.detector_model_path set frames never wait).",
    )
    stamp_tolerance: float = setting(
        0.0, "Largest header.stamp difference between the parts of one frame; 0 = exact match.",
        unit="s", limits=(0.0, 1.0),
    )
    max_stamp_jump: float = setting(
        10.0,
        "A colour image stamped further than this from the newest one is refused as a clock "
        "glitch; when the next image agrees with it, the clock really jumped and the stream "
        "follows. Must exceed the longest normal gap between colour images.",
        unit="s", limits=(0.1, 86400.0),
    )
    labels_window: float = setting(
        0.05, "A labels String pairs with the instance image received nearest in time, if within this.",
        unit="s", limits=(0.0, 1.0),
    )
    reorder_window: float = setting(
        0.3,
        "A complete frame waits up to this long for an older one still missing a part (one "
        "topic's callback can overtake another's under load) before the older one is dropped; "
        "0 = drop at once, like message_filters.",
        unit="s", limits=(0.0, 5.0),
    )
    max_pending: int = setting(
        30,
        "Incomplete frames (and unmatched messages per topic) kept while waiting for their "
        "other parts; older ones are dropped and counted.",
        unit="frames", limits=(1, 1000),
    )
    queue_size: int = setting(
        4, "Complete frames waiting for the memory worker; when full the oldest is dropped and counted.",
        unit="frames", limits=(1, 1000),
    )
    error_report_period: float = setting(
        10.0, "A given problem of a given topic is logged at most once per period (all are counted).",
        unit="s", limits=(0.1, 3600.0),
    )

    def __post_init__(self) -> None:
        check_fields(self)
        try:
            offset_matrix(self.camera_offset)
        except ValueError as err:  # PoseError: not 7 numbers, or not a rotation quaternion
            raise SettingsError(f"parameter 'camera_offset': {err}") from err

    def topic(self, part: str) -> str:
        """The topic of a frame part ("color", "depth", "camera_info", "pose", "instances", "labels")."""
        return getattr(self, f"{part}_topic")


@dataclass(frozen=True)
class ComputeSettings:
    """Where the memory, the perception models and a local planner model run."""

    device: str = setting(
        "auto", "Torch device of the memory; auto = cuda when available, else cpu.",
        choices=("auto", "cpu", "cuda", "cuda:<n>"),
    )
    torch_threads: int = setting(
        1,
        "Intra-op threads of torch on the CPU; 0 = torch's default (one per core). One keeps the "
        "memory update steady on a busy CPU: with more, a thread waits for a descheduled partner "
        "(measured on 2 cores: p50 5.5 ms with 1 thread, 32 ms with 2; docs/benchmarks.md).",
        unit="threads", limits=(0, 256),
    )

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class PlannerSettings:
    """Which planner turns a question into a program, and how to reach its model."""

    planner: str = setting(
        "rule",
        "Question -> program planner: rule (deterministic, no model), local (transformers "
        "model in local_model_path) or remote (OpenAI-compatible endpoint). A model planner "
        "falls back to rule after max_attempts failed tries. ~/ask may override it per call.",
        choices=PLANNER_KINDS, read_only=False,
    )
    max_attempts: int = setting(
        3, "Tries of a model planner (first try + repairs) before the rule fallback.",
        unit="tries", limits=(1, 10), read_only=False,
    )
    local_model_path: str = setting("", "Directory of the local transformers model (planner local).")
    local_max_new_tokens: int = setting(
        192, "Longest program the local model may write.", unit="tokens", limits=(16, 4096))
    remote_base_url: str = setting(
        "", "OpenAI-compatible endpoint up to /v1 (planner remote), e.g. http://localhost:8000/v1.")
    remote_model: str = setting("", "Model name sent to the remote endpoint.")
    remote_api_key_env: str = setting(
        "OPENAI_API_KEY", "Name of the environment variable holding the API key (the key never sits in a file).")
    remote_timeout: float = setting(
        30.0, "Timeout of one request to the remote endpoint.", unit="s", limits=(1.0, 600.0))

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class NodeSettings:
    """The node's outputs and persistence (the replay ignores them)."""

    frame_id: str = setting(
        "map", "World frame of poses, markers and the map cloud (z up).", group="outputs")
    marker_rate: float = setting(
        1.0, "Refresh rate of ~/markers (objects, labels, latest answer); 0 = off.",
        unit="Hz", limits=(0.0, 30.0), group="outputs",
    )
    marker_lifetime: float = setting(
        0.0, "Lifetime of published markers; 0 = until replaced (every set starts with DELETEALL).",
        unit="s", limits=(0.0, 3600.0), group="outputs",
    )
    map_publish_rate: float = setting(
        0.2, "Rate of the ~/map PointCloud2 (xyz + rgb); 0 = off.", unit="Hz", limits=(0.0, 10.0), group="outputs")
    status_rate: float = setting(
        1.0, "Rate of the ~/status JSON (counters, drops, errors, latency).",
        unit="Hz", limits=(0.1, 10.0), group="outputs",
    )
    rerun: str = setting(
        "", "Log the memory to Rerun (camera, map, boxes, trajectory, answers): an .rrd file to write, or a "
        "viewer to stream to (rerun+http://HOST:9876/proxy); empty = off. Needs the optional rerun-sdk.",
        group="outputs",
    )
    snapshot_path: str = setting(
        "~/.ros/reasmory/memory.npz",
        "Memory file used by ~/save, ~/load (empty path in the request), autosave and load_on_start.",
        group="persistence",
    )
    autosave_period: float = setting(
        0.0,
        "Save the memory to snapshot_path this often, and once more at shutdown; 0 = off. "
        "Writes are atomic (temporary file + rename).",
        unit="s", limits=(0.0, 86400.0), group="persistence",
    )
    load_on_start: bool = setting(
        False, "Load snapshot_path at start-up when the file exists.", group="persistence")

    def __post_init__(self) -> None:
        check_fields(self)


SECTIONS: tuple[tuple[str, type, str, str], ...] = (
    # (attribute, class, parameter-name prefix, docs/YAML group), in the order of the docs table
    ("streams", StreamSettings, "", "inputs"),
    ("compute", ComputeSettings, "", "memory"),
    ("planner", PlannerSettings, "", "planning"),
    ("node", NodeSettings, "", "outputs"),
    ("memory", MemoryConfig, "memory.", "memory"),
    ("perception", PerceptionConfig, "perception.", "perception"),
)


def parameter_specs() -> tuple[ParamSpec, ...]:
    """Every parameter, from the sections' field metadata: what the node declares and the YAML
    and docs list."""
    return tuple(spec for _, cls, prefix, group in SECTIONS for spec in field_specs(cls, prefix, group))


@dataclass(frozen=True)
class Settings:
    """Everything the node and the replay are configured by; see the module docstring."""

    streams: StreamSettings = field(default_factory=StreamSettings)
    compute: ComputeSettings = field(default_factory=ComputeSettings)
    planner: PlannerSettings = field(default_factory=PlannerSettings)
    node: NodeSettings = field(default_factory=NodeSettings)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    perception: PerceptionConfig = field(default_factory=PerceptionConfig)

    def __post_init__(self) -> None:
        if "depth" in self.estimated_parts() and not self.perception.depth_model_path:
            raise PerceptionConfigError(
                "depth_model_path",
                "depth_topic is empty, so depth must be estimated from color: set perception.depth_model_path "
                "to a depth-estimation model directory (or set depth_topic)",
            )

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Settings:
        """Settings from flat parameter values (`memory.voxel_size`: 0.05, ...); missing ones keep
        their default. SettingsError names an unknown parameter (with the nearest known name), a
        wrong type, a value out of range, or an inconsistent combination."""
        specs = {spec.name: spec for spec in parameter_specs()}
        sections: dict[str, dict[str, Any]] = {name: {} for name, *_ in SECTIONS}
        for name, value in values.items():
            spec = specs.get(name)
            if spec is None:
                close = difflib.get_close_matches(name, specs, n=1)
                raise SettingsError(f"unknown parameter '{name}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
            problem = spec.check(value)
            if problem:
                raise SettingsError(problem)
            section, prefix = _section_of(name)
            sections[section][name[len(prefix):]] = spec.coerce(value)
        try:
            return cls(**{name: section_cls(**sections[name]) for name, section_cls, _, _ in SECTIONS})
        except SettingsError:
            raise
        except ValueError as err:  # MemoryConfig / PerceptionConfig consistency checks
            raise SettingsError(str(err)) from err

    def values(self) -> dict[str, Any]:
        """The flat parameter values (the inverse of `from_values`)."""
        flat = {}
        for name, cls, prefix, group in SECTIONS:
            section = getattr(self, name)
            for spec in field_specs(cls, prefix, group):
                value = getattr(section, spec.name[len(prefix):])
                flat[spec.name] = list(value) if isinstance(value, list) else value
        return flat

    def updated(self, values: Mapping[str, Any]) -> Settings:
        """A copy with some flat parameter values changed (checked like `from_values`)."""
        return Settings.from_values({**self.values(), **values})

    def estimated_parts(self) -> frozenset[str]:
        """The frame parts a perception plug-in estimates instead of a topic: "depth" when depth_topic
        is empty, "pose" when pose_source is rgbd_odometry (the synchroniser does not wait for them)."""
        estimated = (("depth", not self.streams.depth_topic), ("pose", self.streams.pose_source == "rgbd_odometry"))
        return frozenset(part for part, is_estimated in estimated if is_estimated)

    def perception_config(self, device: str) -> PerceptionConfig | None:
        """The plug-ins' config on `device`, or None when no plug-in is needed: a detector runs when
        one is set, depth estimation when depth_topic is empty, odometry when pose_source is
        rgbd_odometry."""
        estimated = self.estimated_parts()
        if not (self.perception.detector_model_path or estimated):
            return None
        return dataclasses.replace(
            self.perception,
            device=device,
            depth_model_path=self.perception.depth_model_path if "depth" in estimated else "",
            odometry_enabled="pose" in estimated,
        )


def _section_of(name: str) -> tuple[str, str]:
    for section, _, prefix, _ in SECTIONS:
        if prefix and name.startswith(prefix):
            return section, prefix
    return next(section for section, cls, prefix, _ in SECTIONS
                if not prefix and name in {f.name for f in dataclasses.fields(cls)}), ""


def _flatten(values: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _node_block(document: dict, path: Path) -> dict:
    """The `ros__parameters` of the reasmory node: `/**/reasmory`, `reasmory`, `/**` or `/**/*`."""
    for key in (f"/**/{NODE_NAME}", NODE_NAME, f"/{NODE_NAME}", "/**", "/**/*"):
        block = document.get(key)
        if isinstance(block, dict) and isinstance(block.get("ros__parameters"), dict):
            return block["ros__parameters"]
    raise SettingsError(f"{path}: no '/**/{NODE_NAME}: ros__parameters:' block")


def load_settings(path: str | Path | None = None) -> Settings:
    """Settings from the node's parameters file (config/reasmory.yaml format) without ROS, checked as
    the node checks them; the defaults when `path` is None. SettingsError names the file and the
    parameter."""
    if path is None:
        return Settings()
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise SettingsError(f"cannot read parameters file {path}: {err}") from err
    if not isinstance(document, dict):
        raise SettingsError(f"{path}: expected a YAML mapping")
    values = _flatten(_node_block(document, path))
    try:
        return Settings.from_values(values)
    except ValueError as err:
        raise SettingsError(f"{path}: {err}") from err
