"""Recognise a camera driver's topic layout in a bag, so a real recording replays without a
parameters file.

A layout names each input by its topic suffix below the driver's namespace (which the user may
have changed: `/camera/camera` for realsense2_camera >= 4.54, `/camera` before it, anything after
a remap). The bag's colour topics give the namespaces to try; the layout and namespace that
resolve the most inputs win. Poses come from tf when the configured pose topic is absent and the
bag has `/tf`; when colour and depth are stamped apart (two sensors), they pair by the nearest
stamp within 0.4 colour periods (never the neighbouring image's).

The parameters file overrides every choice: a parameter set to anything but its default is kept.
The topic names below were checked against the drivers' sources and documentation:
realsense2_camera (IntelRealSense/realsense-ros, ROS 2 wrapper), zed_wrapper (stereolabs/
zed-ros2-wrapper: `rgb/image_rect_color` up to 4.x, `rgb/color/rect/image` from 5.0),
Azure_Kinect_ROS_Driver (`rgb`, `depth_to_rgb`, `depth`) and depthai_ros_driver (`oak/rgb`,
`oak/stereo`, depth aligned to rgb by default).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reasmory_ros.config.settings import Settings

IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")
INFO_TYPE = "sensor_msgs/msg/CameraInfo"
TF_TOPICS = {"/tf": False, "/tf_static": True}
"""tf topic -> whether its transforms are static."""
TF_TYPE = "tf2_msgs/msg/TFMessage"


@dataclass(frozen=True)
class Layout:
    """A driver's inputs as topic suffixes below its namespace, preferred alternative first."""

    name: str
    color: tuple[str, ...]
    camera_info: tuple[str, ...]
    depth: tuple[str, ...]
    """Depth registered to colour (same pixels)."""
    raw_depth: tuple[str, ...] = ()
    """Depth in the depth camera's own pixels: registered here from depth_info and tf."""
    depth_info: tuple[str, ...] = ()


def _image(*topics: str) -> tuple[str, ...]:
    """Raw first (lossless), then image_transport's compressed variants of the same topics."""
    return topics + tuple(f"{t}/compressed" for t in topics)


def _depth(*topics: str) -> tuple[str, ...]:
    return topics + tuple(f"{t}/compressedDepth" for t in topics)


LAYOUTS = (
    Layout("realsense2_camera", _image("/color/image_raw", "/color/image_rect_raw"), ("/color/camera_info",),
           _depth("/aligned_depth_to_color/image_raw"), _depth("/depth/image_rect_raw"), ("/depth/camera_info",)),
    Layout("zed", _image("/rgb/image_rect_color", "/rgb/color/rect/image"),
           ("/rgb/camera_info", "/rgb/color/rect/camera_info"), _depth("/depth/depth_registered")),
    Layout("azure_kinect", _image("/rgb/image_raw"), ("/rgb/camera_info",), _depth("/depth_to_rgb/image_raw"),
           _depth("/depth/image_raw"), ("/depth/camera_info",)),
    Layout("oak", _image("/rgb/image_raw", "/rgb/image_rect"), ("/rgb/camera_info",), _depth("/stereo/image_raw")),
)


@dataclass
class Recognition:
    """What the replay will read, and why: for `--inspect` and the replay summary."""

    layout: str
    """A driver's name, or 'parameters' when the configured topics are in the bag."""
    namespace: str = ""
    changes: dict[str, object] = field(default_factory=dict)
    """Parameter values chosen from the bag (never one the parameters file set)."""
    tf_topics: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _resolve(suffixes: tuple[str, ...], namespace: str, topics: dict[str, str], types: tuple[str, ...]) -> str | None:
    return next((namespace + s for s in suffixes if topics.get(namespace + s) in types), None)


def _candidates(topics: dict[str, str]):
    """(score, order, layout, namespace, resolved) of every layout and namespace with colour and info."""
    for order, layout in enumerate(LAYOUTS):
        namespaces = {topic[: -len(s)] for topic in topics for s in layout.color if topic.endswith(s)}
        for namespace in sorted(namespaces):
            resolved = {
                "color": _resolve(layout.color, namespace, topics, IMAGE_TYPES),
                "camera_info": _resolve(layout.camera_info, namespace, topics, (INFO_TYPE,)),
                "depth": _resolve(layout.depth, namespace, topics, IMAGE_TYPES),
                "raw_depth": _resolve(layout.raw_depth, namespace, topics, IMAGE_TYPES),
                "depth_info": _resolve(layout.depth_info, namespace, topics, (INFO_TYPE,)),
            }
            if not (resolved["color"] and resolved["camera_info"]):
                continue
            has_depth = resolved["depth"] or (resolved["raw_depth"] and resolved["depth_info"])
            score = sum(bool(v) for v in resolved.values()) + (3 if has_depth else 0)
            yield score, -order, layout, namespace, resolved


def recognise(topics: dict[str, str], settings: Settings, color_period: float | None = None) -> tuple[Settings, Recognition]:
    """The settings to replay a bag with `topics` ({name: type}) and what was recognised.

    color_period: seconds between colour images (bag duration / count), for the stamp tolerance.
    """
    defaults = Settings().values()
    configured = settings.values()
    explicit = {name for name, value in configured.items() if value != defaults[name]}
    tf_topics = {topic: static for topic, static in TF_TOPICS.items() if topics.get(topic) == TF_TYPE}
    streams = settings.streams
    estimated = settings.estimated_parts()
    needed = ["color", "camera_info"] + (["depth"] if "depth" not in estimated else [])
    recognition = Recognition("parameters", tf_topics=tf_topics)
    changes: dict[str, object] = {}
    if not all(streams.topic(part) in topics for part in needed):
        candidates = sorted(_candidates(topics), key=lambda c: c[:2], reverse=True)
        best = candidates[0] if candidates else None
        if best is not None:
            _, _, layout, namespace, resolved = best
            recognition.layout, recognition.namespace = layout.name, namespace
            others = sorted({f"{c[3] or '/'} ({c[2].name})" for c in candidates[1:] if c[3] != namespace})
            if others:  # a robot with several cameras: say which one was taken and how to pick another
                recognition.notes.append(f"camera {namespace or '/'} used; the bag has other cameras too: "
                                         f"{', '.join(others)} (set color_topic, camera_info_topic and depth_topic "
                                         "to replay one of them)")
            depth = resolved["depth"]
            if depth is None and resolved["raw_depth"] and resolved["depth_info"] and "depth_topic" not in explicit:
                depth = resolved["raw_depth"]
                changes["depth_info_topic"] = resolved["depth_info"]
                recognition.notes.append(f"{depth} is not registered to colour: registered here with "
                                         f"{resolved['depth_info']} and the tf between the two optical frames")
            for part, topic in (("color", resolved["color"]), ("camera_info", resolved["camera_info"]),
                                ("depth", depth)):
                if part != "depth" or (topic and "depth" not in estimated):
                    changes[f"{part}_topic"] = topic
            if color_period and "stamp_tolerance" not in explicit:
                # Colour and depth come from two sensors: pair them by nearest stamp.
                changes["stamp_tolerance"] = round(min(0.4 * color_period, 1.0), 4)
    pose_missing = streams.pose_source in ("pose_topic", "odometry") and streams.pose_topic not in topics
    if pose_missing and "/tf" in tf_topics and "pose_source" not in explicit:
        changes["pose_source"] = "tf"
        recognition.notes.append(f"poses from tf: the camera's optical frame in "
                                 f"{settings.node.frame_id} (else odom) at each image stamp")
    changes = {name: value for name, value in changes.items() if name not in explicit}
    recognition.changes = changes
    return (settings.updated(changes) if changes else settings), recognition
