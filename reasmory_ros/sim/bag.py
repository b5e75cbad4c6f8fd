"""Write a simulated recording as a rosbag2 (sqlite3 or mcap) following the topic contract.

Per frame, all six messages carry the same header stamp and bag timestamp:
color (rgb8; bgr8 on request), depth (16UC1 mm, 0 = invalid; 32FC1 m on request), camera_info,
pose of the optical frame in `map`, instance image (16UC1, ids re-numbered every frame) and the
instance labels as JSON (both optional).
Uses `rosbags` only, so no ROS installation is needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore
from scipy.spatial.transform import Rotation

from ..memory.frame import Frame
from .changes import ChangeHistory, change_camera
from .ground_truth import GroundTruth
from .noise import DetectorNoise
from .render import DEFAULT_HEIGHT, DEFAULT_WIDTH, default_intrinsics
from .scene import Scene
from .trajectory import DEFAULT_FPS, CameraPath, camera_trajectory

TOPICS = {
    "color": ("/camera/color/image_raw", "sensor_msgs/msg/Image"),
    "depth": ("/camera/depth/image_raw", "sensor_msgs/msg/Image"),
    "info": ("/camera/color/camera_info", "sensor_msgs/msg/CameraInfo"),
    "pose": ("/camera/pose", "geometry_msgs/msg/PoseStamped"),
    "instances": ("/camera/instances/image_raw", "sensor_msgs/msg/Image"),
    "labels": ("/camera/instances/labels", "std_msgs/msg/String"),
}
CAMERA_FRAME_ID = "camera_color_optical_frame"
WORLD_FRAME_ID = "map"
BAG_VERSION = 8
"""rosbag2 metadata version 8 (Jazzy and later read it; Humble needs `ros2 bag reindex`)."""

TYPESTORE = get_typestore(Stores.ROS2_HUMBLE)
_STORAGE = {"sqlite3": StoragePlugin.SQLITE3, "mcap": StoragePlugin.MCAP}
COLOR_ENCODINGS = ("rgb8", "bgr8")
DEPTH_ENCODINGS = ("16UC1", "32FC1")


class BagWriteError(RuntimeError):
    """The bag could not be written (bad path, existing output, unknown storage)."""


def stamp_ns(timestamp: float) -> int:
    """Bag/header time (ns) of a frame timestamp, rounded to whole microseconds so that float
    seconds like 1700000000.1 map to clean stamps."""
    return int(round(timestamp * 1e6)) * 1000


def _stamp(ns: int):
    header_t = TYPESTORE.types["builtin_interfaces/msg/Time"]
    return header_t(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def _image(header, array: np.ndarray, encoding: str):
    """sensor_msgs/Image from a little-endian H x W (x C) array."""
    Image = TYPESTORE.types["sensor_msgs/msg/Image"]
    height, width = array.shape[:2]
    data = np.ascontiguousarray(array).view(np.uint8).reshape(-1)
    return Image(header=header, height=height, width=width, encoding=encoding, is_bigendian=0,
                 step=data.size // height, data=data)


def camera_info(header, K: np.ndarray, width: int, height: int):
    """sensor_msgs/CameraInfo of an undistorted pinhole camera (plumb_bob, zero distortion)."""
    types = TYPESTORE.types
    return types["sensor_msgs/msg/CameraInfo"](
        header=header, height=height, width=width, distortion_model="plumb_bob", d=np.zeros(5),
        k=K.reshape(-1).astype(np.float64), r=np.eye(3).reshape(-1), p=np.hstack([K, np.zeros((3, 1))]).reshape(-1),
        binning_x=0, binning_y=0,
        roi=types["sensor_msgs/msg/RegionOfInterest"](x_offset=0, y_offset=0, height=0, width=0, do_rectify=False))


def frame_messages(
    frame: Frame, *, color_encoding: str = "rgb8", depth_encoding: str = "16UC1", instances: bool = True
) -> dict[str, object]:
    """The contract's messages for one frame, keyed like TOPICS (all with the frame's stamp).

    Depth is 16UC1 millimetres (0 = invalid) or 32FC1 metres (NaN = invalid, REP 118); colour
    rgb8 or bgr8. Without `instances` (or an instance image) the two instance topics are left out.
    """
    if color_encoding not in COLOR_ENCODINGS or depth_encoding not in DEPTH_ENCODINGS:
        raise BagWriteError(f"unsupported encodings {color_encoding!r}/{depth_encoding!r}; colour: "
                            f"{', '.join(COLOR_ENCODINGS)}, depth: {', '.join(DEPTH_ENCODINGS)}")
    types = TYPESTORE.types
    ns = stamp_ns(frame.timestamp)
    Header = types["std_msgs/msg/Header"]
    camera_header = Header(stamp=_stamp(ns), frame_id=CAMERA_FRAME_ID)
    if depth_encoding == "16UC1":
        depth = np.clip(np.round(frame.depth * 1000.0), 0, 65535).astype("<u2")
    else:
        depth = np.where(frame.depth > 0, frame.depth, np.nan).astype("<f4")
    color = frame.rgb if color_encoding == "rgb8" else frame.rgb[..., ::-1]
    info = camera_info(camera_header, frame.K, frame.width, frame.height)
    qx, qy, qz, qw = Rotation.from_matrix(frame.T_world_camera[:3, :3]).as_quat()
    t = frame.T_world_camera[:3, 3]
    pose = types["geometry_msgs/msg/PoseStamped"](
        header=Header(stamp=_stamp(ns), frame_id=WORLD_FRAME_ID),
        pose=types["geometry_msgs/msg/Pose"](
            position=types["geometry_msgs/msg/Point"](x=float(t[0]), y=float(t[1]), z=float(t[2])),
            orientation=types["geometry_msgs/msg/Quaternion"](x=float(qx), y=float(qy), z=float(qz), w=float(qw)),
        ),
    )
    messages = {
        "color": _image(camera_header, color, color_encoding),
        "depth": _image(camera_header, depth, depth_encoding),
        "info": info,
        "pose": pose,
    }
    if instances and frame.instances is not None:
        labels = json.dumps({str(k): v for k, v in sorted(frame.labels.items())})
        messages["instances"] = _image(camera_header, frame.instances.astype("<u2"), "16UC1")
        messages["labels"] = types["std_msgs/msg/String"](data=labels)
    return messages


def write_scene_bag(
    scene: Scene,
    path: str | Path,
    n_frames: int,
    *,
    seed: int = 0,
    width: int = DEFAULT_WIDTH,
    height: int = DEFAULT_HEIGHT,
    fps: float = DEFAULT_FPS,
    storage: str = "sqlite3",
    noise: bool = True,
    camera: CameraPath | None = None,
    progress: bool = False,
    color_encoding: str = "rgb8",
    depth_encoding: str = "16UC1",
    instances: bool = True,
    detector_noise: DetectorNoise | None = None,
    changes: ChangeHistory | None = None,
) -> GroundTruth:
    """Render `n_frames` along the scene's camera loop and write them to a new bag at `path`.

    `camera` overrides the generated trajectory (its length then sets the frame count).
    Returns the recording's ground truth (save it with `GroundTruth.save`); the bag directory
    must not exist yet, as with `ros2 bag record`. The encodings and `instances` choose among
    the contract's alternatives (see `frame_messages`), to exercise every decoder path.
    `detector_noise` makes instances, labels and poses those of a real detector and odometry
    (see `sim.noise`); the ground truth keeps the true poses.
    With `changes` (change mode) the camera walks changes.loops loops of changes.frames_per_loop
    frames, the room changing between them, and `n_frames` is ignored.
    """
    if storage not in _STORAGE:
        raise BagWriteError(f"unknown storage {storage!r}; use one of {sorted(_STORAGE)}")
    if color_encoding not in COLOR_ENCODINGS or depth_encoding not in DEPTH_ENCODINGS:
        raise BagWriteError(f"unsupported encodings {color_encoding!r}/{depth_encoding!r}; colour: "
                            f"{', '.join(COLOR_ENCODINGS)}, depth: {', '.join(DEPTH_ENCODINGS)}")
    path = Path(path)
    if path.exists():
        raise BagWriteError(f"output {path} already exists; rosbag2 writers never overwrite")
    K = default_intrinsics(width, height)
    if camera is None:
        camera = (change_camera(scene, changes, seed, fps=fps) if changes is not None
                  else camera_trajectory(scene, n_frames, seed, fps=fps))
    gt = GroundTruth(scene, camera, K, width, height, [], [], render_seed=seed, noise=noise,
                     detector_noise=detector_noise, changes=changes)
    frames = gt.rendered()
    if progress:
        from tqdm import tqdm

        frames = tqdm(frames, total=len(camera), desc="rendering", unit="frame", mininterval=1.0)
    try:
        with Writer(path, version=BAG_VERSION, storage_plugin=_STORAGE[storage]) as writer:
            connections = {
                key: writer.add_connection(topic, msgtype, typestore=TYPESTORE)
                for key, (topic, msgtype) in TOPICS.items()
                if instances or key not in ("instances", "labels")
            }
            for rendered in frames:
                ns = stamp_ns(rendered.frame.timestamp)
                messages = frame_messages(rendered.frame, color_encoding=color_encoding,
                                          depth_encoding=depth_encoding, instances=instances)
                for key, msg in messages.items():
                    writer.write(connections[key], ns, TYPESTORE.serialize_cdr(msg, TOPICS[key][1]))
                gt.visibility.append(rendered.pixel_counts)
                gt.instances.append(rendered.instance_to_object)
    except OSError as err:
        raise BagWriteError(f"cannot write bag {path}: {err}") from err
    return gt
