"""The node's parameters: ONE table drives declaration, config/reasmory.yaml and docs/ros.md.

ROS-free on purpose: the docs, the YAML check and the replay read this table without rclpy.
The memory's parameters are not copied here: they are generated from `MemoryConfig`'s fields
(name, default, and the unit + description of the field's docstring), so a new memory field is a
new parameter with no second table to keep in step; the same for the instance plug-in's
`PerceptionConfig` fields (descriptions from the comments above them).

Regenerate the shipped files after changing the table:

    python -m reasmory_ros.ros.parameters yaml > config/reasmory.yaml
    python -m reasmory_ros.ros.parameters markdown   # paste into docs/ros.md (a test compares)
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import re
import sys
import textwrap
from dataclasses import dataclass
from functools import cache

from reasmory_ros.memory.config import MemoryConfig
from reasmory_ros.perception.config import PerceptionConfig, PerceptionConfigError

NODE_NAME = "reasmory"
MEMORY_PREFIX = "memory."
PERCEPTION_PREFIX = "perception."


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: its default fixes the type; `unit` and `limits` go into every description.

    limits: (low, high) inclusive, enforced by rclpy through the descriptor's range.
    choices: the allowed strings (checked by the node, listed in the description).
    read_only: fixed at start-up (sizes buffers or subscriptions); the others apply on next use.
    """

    name: str
    default: bool | int | float | str | list
    description: str
    unit: str = ""
    limits: tuple[float, float] | None = None
    choices: tuple[str, ...] = ()
    read_only: bool = True
    group: str = "node"

    def summary(self) -> str:
        """Description with unit, range and choices: what `ros2 param describe` and the docs show."""
        extras = []
        if self.unit:
            extras.append(f"unit: {self.unit}")
        if self.limits is not None:
            extras.append(f"range: {_number(self.limits[0])} .. {_number(self.limits[1])}")
        if self.choices:
            extras.append("one of: " + ", ".join(self.choices))
        return self.description + (f" [{'; '.join(extras)}]" if extras else "")

    def check(self, value) -> str | None:
        """Why `value` is not acceptable (None when it is); ranges are also enforced by rclpy."""
        if self.choices and not any(
            re.fullmatch(re.escape(c).replace("<n>", r"\d+"), str(value)) for c in self.choices
        ):
            return f"parameter '{self.name}' is {value!r}; expected one of {', '.join(self.choices)}"
        if self.limits is not None and not self.limits[0] <= value <= self.limits[1]:
            return f"parameter '{self.name}' is {value}; expected {self.limits[0]} .. {self.limits[1]}"
        return None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _topic(part: str, default: str, what: str) -> ParamSpec:
    return ParamSpec(f"{part}_topic", default, f"Input topic: {what}.", group="inputs")


NODE_PARAMETERS: tuple[ParamSpec, ...] = (
    # --- inputs -----------------------------------------------------------------------------
    _topic("color", "/camera/color/image_raw", "sensor_msgs/Image rgb8, bgr8, rgba8, bgra8 or mono8"),
    _topic(
        "depth",
        "/camera/depth/image_raw",
        "sensor_msgs/Image 16UC1 mm or 32FC1 m, registered to color; empty = estimate depth from "
        "color with perception.depth_model_path",
    ),
    _topic("camera_info", "/camera/color/camera_info", "sensor_msgs/CameraInfo of the color camera (K)"),
    _topic(
        "pose",
        "/camera/pose",
        "geometry_msgs/PoseStamped of the camera optical frame in frame_id (nav_msgs/Odometry "
        "when pose_source is odometry)",
    ),
    _topic("instances", "/camera/instances/image_raw", "sensor_msgs/Image 16UC1 or 32SC1 instance ids, 0 = none"),
    _topic("labels", "/camera/instances/labels", 'std_msgs/String JSON {"<id>": "<category>"}'),
    ParamSpec(
        "pose_source",
        "pose_topic",
        "Where camera poses come from: PoseStamped or Odometry on pose_topic, a tf2 lookup "
        "of camera_frame in frame_id at each image stamp (needs tf2_ros), or rgbd_odometry: "
        "estimated from color + depth by chained RGB-D odometry (perception.odometry_*; it "
        "drifts, use it only when the robot publishes no pose).",
        choices=("pose_topic", "odometry", "tf", "rgbd_odometry"),
        group="inputs",
    ),
    ParamSpec(
        "camera_frame",
        "",
        "tf frame of the camera optical frame for pose_source tf; empty uses the color image's header.frame_id.",
        group="inputs",
    ),
    ParamSpec(
        "camera_offset",
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
        "Pose of the camera optical frame in the frame the pose source tracks, as x y z qx qy "
        "qz qw (e.g. base_link -> optical frame for odometry); identity by default.",
        unit="m, quaternion",
        group="inputs",
    ),
    ParamSpec(
        "qos",
        "sensor_data",
        "Subscription QoS: sensor_data (best effort, keep last 5) or reliable (keep last 10). "
        "Reliable subscriptions do not connect to best-effort publishers.",
        choices=("sensor_data", "reliable"),
        group="inputs",
    ),
    ParamSpec(
        "wait_for_instances",
        True,
        "Build a frame only once its instance image and labels arrived; false builds frames "
        "from color, depth, pose and camera info alone (no new objects then, unless a detector "
        "is configured: with perception.detector_model_path set frames never wait).",
        group="inputs",
    ),
    ParamSpec(
        "stamp_tolerance",
        0.0,
        "Largest header.stamp difference between the parts of one frame; 0 = exact match.",
        unit="s",
        limits=(0.0, 1.0),
        group="inputs",
    ),
    ParamSpec(
        "max_stamp_jump",
        10.0,
        "A colour image stamped further than this from the newest one is refused as a clock "
        "glitch; when the next image agrees with it, the clock really jumped and the stream "
        "follows. Must exceed the longest normal gap between colour images.",
        unit="s",
        limits=(0.1, 86400.0),
        group="inputs",
    ),
    ParamSpec(
        "labels_window",
        0.05,
        "A labels String pairs with the instance image received nearest in time, if within this.",
        unit="s",
        limits=(0.0, 1.0),
        group="inputs",
    ),
    ParamSpec(
        "reorder_window",
        0.3,
        "A complete frame waits up to this long for an older one still missing a part (one "
        "topic's callback can overtake another's under load) before the older one is dropped; "
        "0 = drop at once, like message_filters.",
        unit="s",
        limits=(0.0, 5.0),
        group="inputs",
    ),
    ParamSpec(
        "max_pending",
        30,
        "Incomplete frames (and unmatched messages per topic) kept while waiting for their "
        "other parts; older ones are dropped and counted.",
        unit="frames",
        limits=(1, 1000),
        group="inputs",
    ),
    ParamSpec(
        "queue_size",
        4,
        "Complete frames waiting for the memory worker; when full the oldest is dropped and counted.",
        unit="frames",
        limits=(1, 1000),
        group="inputs",
    ),
    ParamSpec(
        "error_report_period",
        10.0,
        "A given problem of a given topic is logged at most once per period (all are counted).",
        unit="s",
        limits=(0.1, 3600.0),
        group="inputs",
    ),
    # --- memory -----------------------------------------------------------------------------
    ParamSpec(
        "device",
        "auto",
        "Torch device of the memory; auto = cuda when available, else cpu.",
        choices=("auto", "cpu", "cuda", "cuda:<n>"),
        group="memory",
    ),
    ParamSpec(
        "torch_threads",
        1,
        "Intra-op threads of torch on the CPU; 0 = torch's default (one per core). One keeps the "
        "memory update steady on a busy CPU: with more, a thread waits for a descheduled partner "
        "(measured on 2 cores: p50 5.5 ms with 1 thread, 32 ms with 2; docs/benchmarks.md).",
        unit="threads",
        limits=(0, 256),
        group="memory",
    ),
    # --- planning ---------------------------------------------------------------------------
    ParamSpec(
        "planner",
        "rule",
        "Question -> program planner: rule (deterministic, no model), local (transformers "
        "model in local_model_path) or remote (OpenAI-compatible endpoint). A model planner "
        "falls back to rule after max_attempts failed tries. ~/ask may override it per call.",
        choices=("rule", "local", "remote"),
        read_only=False,
        group="planning",
    ),
    ParamSpec(
        "max_attempts",
        3,
        "Tries of a model planner (first try + repairs) before the rule fallback.",
        unit="tries",
        limits=(1, 10),
        read_only=False,
        group="planning",
    ),
    ParamSpec("local_model_path", "", "Directory of the local transformers model (planner local).", group="planning"),
    ParamSpec(
        "local_max_new_tokens",
        192,
        "Longest program the local model may write.",
        unit="tokens",
        limits=(16, 4096),
        group="planning",
    ),
    ParamSpec(
        "remote_base_url",
        "",
        "OpenAI-compatible endpoint up to /v1 (planner remote), e.g. http://localhost:8000/v1.",
        group="planning",
    ),
    ParamSpec("remote_model", "", "Model name sent to the remote endpoint.", group="planning"),
    ParamSpec(
        "remote_api_key_env",
        "OPENAI_API_KEY",
        "Name of the environment variable holding the API key (the key never sits in a file).",
        group="planning",
    ),
    ParamSpec(
        "remote_timeout",
        30.0,
        "Timeout of one request to the remote endpoint.",
        unit="s",
        limits=(1.0, 600.0),
        group="planning",
    ),
    # --- outputs ----------------------------------------------------------------------------
    ParamSpec("frame_id", "map", "World frame of poses, markers and the map cloud (z up).", group="outputs"),
    ParamSpec(
        "marker_rate",
        1.0,
        "Refresh rate of ~/markers (objects, labels, latest answer); 0 = off.",
        unit="Hz",
        limits=(0.0, 30.0),
        group="outputs",
    ),
    ParamSpec(
        "marker_lifetime",
        0.0,
        "Lifetime of published markers; 0 = until replaced (every set starts with DELETEALL).",
        unit="s",
        limits=(0.0, 3600.0),
        group="outputs",
    ),
    ParamSpec(
        "map_publish_rate",
        0.2,
        "Rate of the ~/map PointCloud2 (xyz + rgb); 0 = off.",
        unit="Hz",
        limits=(0.0, 10.0),
        group="outputs",
    ),
    ParamSpec(
        "status_rate",
        1.0,
        "Rate of the ~/status JSON (counters, drops, errors, latency).",
        unit="Hz",
        limits=(0.1, 10.0),
        group="outputs",
    ),
    # --- persistence ------------------------------------------------------------------------
    ParamSpec(
        "snapshot_path",
        "~/.ros/reasmory/memory.npz",
        "Memory file used by ~/save, ~/load (empty path in the request), autosave and load_on_start.",
        group="persistence",
    ),
    ParamSpec(
        "autosave_period",
        0.0,
        "Save the memory to snapshot_path this often, and once more at shutdown; 0 = off. "
        "Writes are atomic (temporary file + rename).",
        unit="s",
        limits=(0.0, 86400.0),
        group="persistence",
    ),
    ParamSpec("load_on_start", False, "Load snapshot_path at start-up when the file exists.", group="persistence"),
)


# "m. Edge of a voxel." or "px (full resolution). An instance ...": a short unit, a full stop, text.
_UNIT_PREFIX = re.compile(r"^([^.]{1,24}?)\.\s+(.*)$", re.DOTALL)


@cache
def _memory_field_docs() -> dict[str, tuple[str, str]]:
    """{field: (unit, description)} from MemoryConfig's attribute docstrings ("unit. text")."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(MemoryConfig)))
    body = tree.body[0].body
    docs = {}
    for statement, following in zip(body, body[1:], strict=False):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            text = " ".join(following.value.value.split())
            match = _UNIT_PREFIX.match(text)
            short = match is not None and len(match.group(1).split()) <= 3
            unit, description = (match.group(1), match.group(2)) if short else ("", text)
            docs[statement.target.id] = ("" if unit == "1" else unit, description)
    return docs


def memory_parameters() -> tuple[ParamSpec, ...]:
    """One read-only parameter `memory.<field>` per MemoryConfig field (checked by MemoryConfig)."""
    docs = _memory_field_docs()
    specs = []
    for f in dataclasses.fields(MemoryConfig):
        unit, description = docs.get(f.name, ("", f"MemoryConfig.{f.name}."))
        specs.append(ParamSpec(MEMORY_PREFIX + f.name, f.default, description, unit=unit, group="memory"))
    return tuple(specs)


PERCEPTION_FIELDS = {
    "detector_model_path": "",
    "segmenter_model_path": "",
    "categories": "",
    "score_threshold": "",
    "nms_iou_threshold": "",
    "max_detections": "instances",
    "detect_every_n_frames": "frames",
    "min_instance_pixels": "px",
    "box_depth_band_m": "m",
    "depth_model_path": "",
    "depth_output": "",
    "depth_scale": "",
    "depth_min_m": "m",
    "depth_max_m": "m",
    "odometry_method": "",
    "odometry_downsample": "",
    "odometry_iterations": "iterations",
    "odometry_depth_max_m": "m",
    "odometry_depth_diff_m": "m",
    "odometry_min_valid_fraction": "",
    "odometry_min_fitness": "",
    "odometry_max_step_m": "m",
    "odometry_reset_after_failures": "frames",
    "initial_camera_height_m": "m",
    "initial_camera_pitch_deg": "deg",
}
"""The PerceptionConfig fields the node exposes (-> unit). Not exposed: `device` (the node's
`device` is used) and `odometry_enabled` (on when pose_source is rgbd_odometry)."""

_SECTION = re.compile(r"^#\s*-{3}")


@cache
def _perception_field_docs() -> dict[str, str]:
    """{field: description} from the comment lines right above each PerceptionConfig field."""
    lines, _ = inspect.getsourcelines(PerceptionConfig)
    docs, comment = {}, []
    for line in (raw.strip() for raw in lines):
        if line.startswith("#") and not _SECTION.match(line):
            comment.append(line.lstrip("# "))
            continue
        field_name = re.match(r"^(\w+)\s*:", line)
        if field_name and comment:
            docs[field_name.group(1)] = " ".join(comment)
        comment = []
    return docs


def perception_parameters() -> tuple[ParamSpec, ...]:
    """One read-only parameter `perception.<field>` per exposed PerceptionConfig field."""
    docs = _perception_field_docs()
    defaults = {
        f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()
        for f in dataclasses.fields(PerceptionConfig)
    }
    return tuple(
        ParamSpec(
            PERCEPTION_PREFIX + name,
            defaults[name],
            docs.get(name, f"PerceptionConfig.{name}."),
            unit=unit,
            group="perception",
        )
        for name, unit in PERCEPTION_FIELDS.items()
    )


def all_parameters() -> tuple[ParamSpec, ...]:
    return NODE_PARAMETERS + memory_parameters() + perception_parameters()


def apply_torch_threads(values: dict) -> None:
    """Set torch's CPU thread count from `torch_threads` (process-wide: call once at start-up)."""
    if values["torch_threads"] > 0:
        import torch

        torch.set_num_threads(values["torch_threads"])


def memory_config(values: dict) -> MemoryConfig:
    """MemoryConfig from parameter values (`memory.*` keys); ValueError names a bad field."""
    fields = {name[len(MEMORY_PREFIX) :]: value for name, value in values.items() if name.startswith(MEMORY_PREFIX)}
    return MemoryConfig.from_dict(fields)


def estimated_parts(values: dict) -> frozenset[str]:
    """The frame parts a perception plug-in estimates instead of a topic: "depth" when depth_topic
    is empty, "pose" when pose_source is rgbd_odometry (the synchroniser does not wait for them)."""
    return frozenset(
        part for part, estimated in (("depth", not values["depth_topic"]),
                                     ("pose", values["pose_source"] == "rgbd_odometry")) if estimated
    )


def perception_config(values: dict, device: str) -> PerceptionConfig | None:
    """The plug-ins' config from parameter values, or None when no plug-in is needed: a detector
    runs when one is set, depth estimation when depth_topic is empty, odometry when pose_source
    is rgbd_odometry. PerceptionConfigError (a ValueError) names a bad or missing field."""
    fields = {
        name[len(PERCEPTION_PREFIX) :]: value for name, value in values.items() if name.startswith(PERCEPTION_PREFIX)
    }
    estimated = estimated_parts(values)
    if "depth" in estimated and not fields.get("depth_model_path"):
        raise PerceptionConfigError(
            "depth_model_path",
            "depth_topic is empty, so depth must be estimated from color: set perception.depth_model_path "
            "to a depth-estimation model directory (or set depth_topic)",
        )
    if not (fields.get("detector_model_path") or estimated):
        return None
    return PerceptionConfig.from_mapping(
        {
            **fields,
            "categories": list(fields.get("categories", [])),
            "odometry_iterations": list(fields.get("odometry_iterations", [])),
            "device": device,
            "depth_model_path": fields.get("depth_model_path", "") if "depth" in estimated else "",
            "odometry_enabled": "pose" in estimated,
        }
    )


# ---------------------------------------------------------------------------------------------
# Generated files

_GROUP_TITLES = {
    "inputs": "Inputs: topics, synchronisation, queues",
    "memory": "Memory (capacities are allocated once at start-up)",
    "perception": "Perception plug-ins: instances, depth and pose for cameras without those topics",
    "planning": "Planning",
    "outputs": "Outputs: markers, map, status",
    "persistence": "Persistence",
}


def _yaml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '""' if value == "" else f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_value(v) for v in value) + "]"
    return repr(value)


def _yaml_comment(spec: ParamSpec) -> str:
    unit = spec.unit or ("-" if not isinstance(spec.default, str) else "text")
    if spec.limits is not None:
        span = f"range {_number(spec.limits[0])} .. {_number(spec.limits[1])}"
    elif spec.choices:
        span = "one of " + " | ".join(spec.choices)
    elif isinstance(spec.default, bool):
        span = "true | false"
    elif isinstance(spec.default, list):
        span = "list of names" if all(isinstance(v, str) for v in spec.default) else f"{len(spec.default)} numbers"
    elif spec.name.startswith(MEMORY_PREFIX):
        span = "checked by MemoryConfig at start-up"
    elif spec.name.startswith(PERCEPTION_PREFIX):
        span = "checked by PerceptionConfig at start-up"
    else:
        span = "any"
    return f"[{unit}] {span}"


def to_yaml() -> str:
    """config/reasmory.yaml: one ros__parameters block, a unit/range comment on every line."""
    lines = [
        "# Parameters of the reasmory node (generated from reasmory_ros/ros/parameters.py:",
        "#   python -m reasmory_ros.ros.parameters yaml > config/reasmory.yaml).",
        "# Each comment gives [unit] and the accepted range; docs/ros.md describes every parameter.",
        "# `/**/reasmory` matches the node in any namespace.",
        f"/**/{NODE_NAME}:",
        "  ros__parameters:",
    ]
    specs = all_parameters()
    opened = set()
    for group, title in _GROUP_TITLES.items():
        lines.append(f"    # --- {title}")
        for spec in (s for s in specs if s.group == group):
            name, indent = spec.name, "    "
            if "." in name:  # memory.x, perception.x: a nested block, as ROS reads it
                prefix, name = name.split(".", 1)
                if prefix not in opened:
                    lines.append(f"    {prefix}:")
                    opened.add(prefix)
                indent = "      "
            lines.append(f"{indent}{name}: {_yaml_value(spec.default)}  # {_yaml_comment(spec)}")
    return "\n".join(lines) + "\n"


def to_markdown() -> str:
    """The parameters table of docs/ros.md."""
    rows = ["| parameter | default | unit | range / choices | description |", "| --- | --- | --- | --- | --- |"]
    for spec in all_parameters():
        if spec.limits is not None:
            span = f"{_number(spec.limits[0])} .. {_number(spec.limits[1])}"
        else:
            span = ", ".join(spec.choices)
        default = _yaml_value(spec.default)
        description = spec.description + ("" if spec.read_only else " (can be changed at run time)")
        rows.append(f"| `{spec.name}` | `{default}` | {spec.unit} | {span} | {description.replace('|', '/')} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the node's parameters as YAML or as a Markdown table.")
    parser.add_argument("format", choices=("yaml", "markdown"))
    args = parser.parse_args(argv)
    sys.stdout.write(to_yaml() if args.format == "yaml" else to_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
