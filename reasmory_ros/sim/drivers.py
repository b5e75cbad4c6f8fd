"""Write a simulated recording the way a camera driver publishes it (replay/layouts.py's table),
so the replay's layout recognition, tf poses, compressed images and depth registration are tested
on the same scenes as the contract layout.

Per colour frame the bag gets: the colour image (raw rgb8, or jpeg/png as image_transport's
`compressed` plugin), the colour camera_info, depth either registered to colour (16UC1, raw or
`compressedDepth`) or from the depth camera's own optics, resolution and rate with its own
camera_info, and the contract's instance topics. Poses exist only as tf, as on a robot:
`/tf_static` holds map -> odom, base_link -> <camera link> -> optical frames (a static camera
mount), `/tf` holds odom -> base_link at the odometry rate, stamped between the images. Depth is
stamped a few milliseconds after its colour image (two sensors); every message reaches the bag
a little after its stamp (transport latency).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rosbags.rosbag2 import Writer
from scipy.spatial.transform import Rotation, Slerp

from ..replay.layouts import LAYOUTS, Layout
from ..streams.images import encode_compressed_color, encode_compressed_depth
from .bag import _STORAGE, BAG_VERSION, TYPESTORE, BagWriteError, _image, _stamp, camera_info, frame_messages, stamp_ns
from .ground_truth import GroundTruth
from .render import DEFAULT_HEIGHT, DEFAULT_WIDTH, default_intrinsics, render_frame, render_sequence
from .scene import Scene
from .trajectory import DEFAULT_FPS, camera_trajectory

NAMESPACES = {"realsense2_camera": "/camera/camera", "zed": "/zed/zed_node", "azure_kinect": "", "oak": "/oak"}
"""Each driver's default namespace."""
FRAMES = {
    "realsense2_camera": ("camera_link", "camera_color_optical_frame", "camera_depth_optical_frame"),
    "zed": ("zed_camera_link", "zed_left_camera_frame_optical", "zed_left_camera_frame_optical"),
    "azure_kinect": ("camera_base", "rgb_camera_link", "depth_camera_link"),
    "oak": ("oak-d-base-frame", "oak_rgb_camera_optical_frame", "oak_rgb_camera_optical_frame"),
}
"""(camera link, colour optical frame, depth optical frame) of each driver."""
METRIC_DEPTH = ("zed",)
"""Drivers publishing depth as 32FC1 metres (NaN invalid); the others 16UC1 millimetres."""

MAP_ODOM = np.eye(4)
MAP_ODOM[:3, :3] = Rotation.from_euler("z", 0.4).as_matrix()
MAP_ODOM[:3, 3] = [0.7, -0.3, 0.0]
BASE_LINK = np.eye(4)
BASE_LINK[:3, 3] = [0.12, 0.0, 0.9]  # base_link <- camera link: the camera on a mast
LINK_OPTICAL = np.eye(4)
LINK_OPTICAL[:3, :3] = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])  # REP 103 optical
LINK_OPTICAL[:3, 3] = [0.0, 0.015, 0.0]
COLOR_DEPTH = np.eye(4)
COLOR_DEPTH[:3, :3] = Rotation.from_euler("xyz", [0.3, -0.4, 0.2], degrees=True).as_matrix()
COLOR_DEPTH[:3, 3] = [-0.015, 0.0003, 0.0002]  # colour optical <- depth optical (a D435's baseline)

IMAGE_LATENCY_S = 0.012
ODOM_LATENCY_S = 0.002
DEPTH_STAMP_OFFSET_S = 0.004


@dataclass(frozen=True)
class DepthCamera:
    """Unregistered depth: its own optics, resolution and a rate that is 1/`every` of colour."""

    width: int = 96
    height: int = 72
    fov_x_deg: float = 87.0
    every: int = 2

    @property
    def K(self) -> np.ndarray:
        f = self.width / (2 * np.tan(np.radians(self.fov_x_deg) / 2))
        return np.array([[f, 0, (self.width - 1) / 2], [0, f, (self.height - 1) / 2], [0, 0, 1.0]])


def _layout(name: str) -> Layout:
    for layout in LAYOUTS:
        if layout.name == name:
            return layout
    raise BagWriteError(f"unknown layout {name!r}; expected one of {', '.join(layout.name for layout in LAYOUTS)}")


def _transform(parent: str, child: str, ns: int, T: np.ndarray):
    types = TYPESTORE.types
    qx, qy, qz, qw = Rotation.from_matrix(T[:3, :3]).as_quat()
    return types["geometry_msgs/msg/TransformStamped"](
        header=types["std_msgs/msg/Header"](stamp=_stamp(ns), frame_id=parent), child_frame_id=child,
        transform=types["geometry_msgs/msg/Transform"](
            translation=types["geometry_msgs/msg/Vector3"](x=float(T[0, 3]), y=float(T[1, 3]), z=float(T[2, 3])),
            rotation=types["geometry_msgs/msg/Quaternion"](x=float(qx), y=float(qy), z=float(qz), w=float(qw))))


def _compressed(header, fmt: str, data: bytes):
    return TYPESTORE.types["sensor_msgs/msg/CompressedImage"](header=header, format=fmt,
                                                              data=np.frombuffer(data, np.uint8).copy())


def _odometry(poses: np.ndarray, timestamps: np.ndarray, rate: float):
    """(stamp ns, odom <- base_link) at `rate` Hz over the path, stamped between the images."""
    base_optical = BASE_LINK @ LINK_OPTICAL
    bases = np.linalg.inv(MAP_ODOM) @ poses @ np.linalg.inv(base_optical)
    slerp = Slerp(timestamps, Rotation.from_matrix(bases[:, :3, :3]))
    times = np.arange(timestamps[0] - 0.05 + 0.0037, timestamps[-1] + 0.1, 1.0 / rate)
    clamped = np.clip(times, timestamps[0], timestamps[-1])
    T = np.tile(np.eye(4), (len(times), 1, 1))
    T[:, :3, :3] = slerp(clamped).as_matrix()
    for axis in range(3):
        T[:, axis, 3] = np.interp(clamped, timestamps, bases[:, axis, 3])
    return [(stamp_ns(t), pose) for t, pose in zip(times, T)]


def write_layout_bag(
    scene: Scene,
    path: str | Path,
    n_frames: int,
    layout: str = "realsense2_camera",
    *,
    seed: int = 0,
    width: int = DEFAULT_WIDTH,
    height: int = DEFAULT_HEIGHT,
    fps: float = DEFAULT_FPS,
    storage: str = "sqlite3",
    noise: bool = True,
    color_codec: str = "jpeg",
    depth_codec: str = "raw",
    depth_camera: DepthCamera | None = None,
    odometry_rate: float = 50.0,
    odometry_gaps: tuple[tuple[float, float], ...] = (),
    instances: bool = True,
) -> GroundTruth:
    """Render `n_frames` and write them in `layout`'s topics to a new bag at `path`.

    color_codec: raw (rgb8), jpeg or png. depth_codec: raw or compressedDepth, of 16UC1 millimetres
    (32FC1 metres for ZED, as its wrapper publishes).
    depth_camera: write unregistered depth from that camera instead of depth registered to colour
    (the layout must have a raw depth topic). odometry_gaps: (start, end) seconds after the first
    image during which no odometry is published (a stalled odometry node). Returns the recording's
    ground truth (the world frame is map; the camera poses are those of the colour optical frame).
    """
    spec = _layout(layout)
    if color_codec not in ("raw", "jpeg", "png") or depth_codec not in ("raw", "compressedDepth"):
        raise BagWriteError(f"unknown codecs {color_codec!r}/{depth_codec!r}: colour raw, jpeg or png; depth raw "
                            "or compressedDepth")
    if depth_camera is not None and not spec.raw_depth:
        raise BagWriteError(f"the {layout} layout has no unregistered depth topic")
    if storage not in _STORAGE:
        raise BagWriteError(f"unknown storage {storage!r}; use one of {sorted(_STORAGE)}")
    path = Path(path)
    if path.exists():
        raise BagWriteError(f"output {path} already exists; rosbag2 writers never overwrite")
    ns = NAMESPACES[layout]
    link, color_frame, depth_frame = FRAMES[layout]
    topics = {
        "color": (ns + spec.color[0] + ("" if color_codec == "raw" else "/compressed"),
                  "sensor_msgs/msg/Image" if color_codec == "raw" else "sensor_msgs/msg/CompressedImage"),
        "info": (ns + spec.camera_info[0], "sensor_msgs/msg/CameraInfo"),
        "depth": (ns + (spec.raw_depth if depth_camera else spec.depth)[0]
                  + ("" if depth_codec == "raw" else "/compressedDepth"),
                  "sensor_msgs/msg/Image" if depth_codec == "raw" else "sensor_msgs/msg/CompressedImage"),
        "tf": ("/tf", "tf2_msgs/msg/TFMessage"),
        "tf_static": ("/tf_static", "tf2_msgs/msg/TFMessage"),
    }
    if depth_camera is not None:
        topics["depth_info"] = (ns + spec.depth_info[0], "sensor_msgs/msg/CameraInfo")
    if instances:
        topics["instances"] = ("/camera/instances/image_raw", "sensor_msgs/msg/Image")
        topics["labels"] = ("/camera/instances/labels", "std_msgs/msg/String")

    camera = camera_trajectory(scene, n_frames, seed, fps=fps)
    K = default_intrinsics(width, height)
    start = stamp_ns(camera.timestamps[0])
    odometry = [(stamp, pose) for stamp, pose in _odometry(camera.poses, camera.timestamps, odometry_rate)
                if not any(start + a * 1e9 <= stamp <= start + b * 1e9 for a, b in odometry_gaps)]
    types = TYPESTORE.types
    Header = types["std_msgs/msg/Header"]
    TFMessage = types["tf2_msgs/msg/TFMessage"]
    visibility, instance_maps = [], []
    try:
        with Writer(path, version=BAG_VERSION, storage_plugin=_STORAGE[storage]) as writer:
            connections = {key: writer.add_connection(topic, msgtype, typestore=TYPESTORE)
                           for key, (topic, msgtype) in topics.items()}

            def write(key: str, bag_ns: int, msg) -> None:
                writer.write(connections[key], bag_ns, TYPESTORE.serialize_cdr(msg, topics[key][1]))

            first = stamp_ns(camera.timestamps[0])
            static = [_transform("map", "odom", first, MAP_ODOM), _transform("base_link", link, first, BASE_LINK),
                      _transform(link, color_frame, first, LINK_OPTICAL)]
            if depth_camera is not None:
                static.append(_transform(link, depth_frame, first, LINK_OPTICAL @ COLOR_DEPTH))
            write("tf_static", first - 100_000_000, TFMessage(transforms=static))
            pending_odometry = iter(odometry)
            next_odometry = next(pending_odometry, None)
            for rendered in render_sequence(scene, camera, K, width, height, seed=seed, noise=noise):
                frame = rendered.frame
                ns_stamp = stamp_ns(frame.timestamp)
                arrival = ns_stamp + int(IMAGE_LATENCY_S * 1e9)
                while next_odometry is not None and next_odometry[0] + int(ODOM_LATENCY_S * 1e9) <= arrival:
                    stamp, pose = next_odometry
                    write("tf", stamp + int(ODOM_LATENCY_S * 1e9),
                          TFMessage(transforms=[_transform("odom", "base_link", stamp, pose)]))
                    next_odometry = next(pending_odometry, None)
                contract = frame_messages(frame, instances=instances)
                color_header = Header(stamp=_stamp(ns_stamp), frame_id=color_frame)
                if color_codec == "raw":
                    color = _image(color_header, frame.rgb, "rgb8")
                else:
                    color = _compressed(color_header, *encode_compressed_color(frame.rgb, color_codec))
                write("color", arrival, color)
                write("info", arrival, camera_info(color_header, K, width, height))
                _write_depth(write, frame, depth_camera, depth_codec, "32FC1" if layout in METRIC_DEPTH else "16UC1",
                             scene, ns_stamp, arrival,
                             depth_frame if depth_camera else color_frame, noise, seed)
                if instances and "instances" in contract:
                    contract["instances"].header.frame_id = color_frame
                    write("instances", arrival, contract["instances"])
                    write("labels", arrival, contract["labels"])
                visibility.append(rendered.pixel_counts)
                instance_maps.append(rendered.instance_to_object)
            for stamp, pose in ([next_odometry] if next_odometry else []) + list(pending_odometry):
                write("tf", stamp + int(ODOM_LATENCY_S * 1e9),
                      TFMessage(transforms=[_transform("odom", "base_link", stamp, pose)]))
    except OSError as err:
        raise BagWriteError(f"cannot write bag {path}: {err}") from err
    return GroundTruth(scene, camera, K, width, height, visibility, instance_maps, render_seed=seed, noise=noise)


def _write_depth(write, frame, depth_camera, codec, encoding, scene, ns_stamp, arrival, frame_id, noise, seed):
    """The depth of one colour frame (16UC1 mm or 32FC1 m): registered (the colour render's own
    depth) or, on every `every`-th frame, rendered by the depth camera from its own pose."""
    types = TYPESTORE.types
    header = types["std_msgs/msg/Header"](stamp=_stamp(ns_stamp + int(DEPTH_STAMP_OFFSET_S * 1e9)), frame_id=frame_id)
    if depth_camera is None:
        depth = frame.depth
    else:
        if frame.index % depth_camera.every:
            return
        depth = render_frame(scene, frame.T_world_camera @ COLOR_DEPTH, depth_camera.K, depth_camera.width,
                             depth_camera.height, index=frame.index, rng=np.random.default_rng([seed, frame.index]),
                             noise=noise).depth
        write("depth_info", arrival, camera_info(header, depth_camera.K, depth_camera.width, depth_camera.height))
    if codec != "raw":
        write("depth", arrival, _compressed(header, *encode_compressed_depth(depth, encoding)))
    elif encoding == "32FC1":
        write("depth", arrival, _image(header, np.where(depth > 0, depth, np.nan).astype("<f4"), "32FC1"))
    else:
        millimetres = np.clip(np.round(depth * 1000.0), 0, 65535).astype("<u2")
        write("depth", arrival, _image(header, millimetres, "16UC1"))
