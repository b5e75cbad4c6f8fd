"""StreamInputs, the node's and the replay's one front door: depth from a depth camera of its own
waits for both camera_infos and the colour <- depth transform (DDS delivers each topic on its
own), in a bounded queue, and what cannot be registered is refused with the reason. Messages are
rosbags' message types, as the replay reads them."""

from __future__ import annotations

import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore

from reasmory_ros.config.settings import Settings
from reasmory_ros.streams import FrameAssembler, encode_image
from reasmory_ros.streams.inputs import StreamInputs

T = get_typestore(Stores.ROS2_HUMBLE).types
S = 1_000_000_000
H, W = 12, 16
K = [20.0, 0.0, (W - 1) / 2, 0.0, 20.0, (H - 1) / 2, 0.0, 0.0, 1.0]
COLOR_FRAME, DEPTH_FRAME = "camera_color_optical_frame", "camera_depth_optical_frame"


def header(stamp: int, frame: str):
    return T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=stamp // S, nanosec=stamp % S),
                                    frame_id=frame)


def image(stamp: int, frame: str, pixels: np.ndarray, encoding: str):
    raw = encode_image(pixels, encoding)
    return T["sensor_msgs/msg/Image"](header=header(stamp, frame), height=raw.height, width=raw.width,
                                      encoding=raw.encoding, is_bigendian=raw.is_bigendian, step=raw.step,
                                      data=np.frombuffer(raw.data, np.uint8))


def info(stamp: int, frame: str):
    return T["sensor_msgs/msg/CameraInfo"](
        header=header(stamp, frame), height=H, width=W, distortion_model="plumb_bob", d=np.zeros(5), k=np.array(K),
        r=np.eye(3).ravel(), p=np.zeros(12), binning_x=0, binning_y=0,
        roi=T["sensor_msgs/msg/RegionOfInterest"](x_offset=0, y_offset=0, height=0, width=0, do_rectify=False))


def mount(stamp: int = 0):
    """/tf_static: the depth camera 2 cm right of the colour camera (the colour <- depth transform)."""
    transform = T["geometry_msgs/msg/Transform"](translation=T["geometry_msgs/msg/Vector3"](x=0.02, y=0.0, z=0.0),
                                                  rotation=T["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=0.0, w=1.0))
    return T["tf2_msgs/msg/TFMessage"](transforms=[T["geometry_msgs/msg/TransformStamped"](
        header=header(stamp, COLOR_FRAME), child_frame_id=DEPTH_FRAME, transform=transform)])


def pose(stamp: int):
    return T["geometry_msgs/msg/PoseStamped"](header=header(stamp, "map"), pose=T["geometry_msgs/msg/Pose"](
        position=T["geometry_msgs/msg/Point"](x=0.0, y=0.0, z=1.0),
        orientation=T["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=0.0, w=1.0)))


@pytest.fixture
def inputs():
    settings = Settings().updated({"depth_info_topic": "/camera/depth/camera_info", "wait_for_instances": False,
                                   "max_pending": 3, "reorder_window": 0.0})
    warnings: list[str] = []
    assembler = FrameAssembler.from_settings(settings, clock=lambda: 0.0, warn=warnings.append)
    assembler.warnings = warnings
    return StreamInputs(settings, assembler), assembler


def colour_parts(inputs: StreamInputs, stamp: int) -> list:
    frames = inputs.add("color", stamp, image(stamp, COLOR_FRAME, np.full((H, W, 3), 90, np.uint8), "rgb8"), 0.0)
    frames += inputs.add("camera_info", stamp, info(stamp, COLOR_FRAME), 0.0)
    return frames + inputs.add("pose", stamp, pose(stamp), 0.0)


def depth(stamp: int, metres: float = 2.0):
    return image(stamp, DEPTH_FRAME, np.full((H, W), metres, np.float32), "32FC1")


def test_depth_before_its_calibration_waits_and_is_registered_when_it_comes(inputs):
    stream, assembler = inputs
    assert stream.add("depth", 1 * S, depth(1 * S), 0.0) == []  # nothing known yet: it waits
    assert colour_parts(stream, 1 * S) == []  # the frame lacks its depth
    assert stream.add("depth_info", 1 * S, info(1 * S, DEPTH_FRAME), 0.0) == []  # still no transform
    frames = stream.add("tf_static", None, mount(), 0.0)
    assert len(frames) == 1 and assembler.stats()["errors"] == {}
    registered = frames[0].depth
    # a flat wall at 2 m seen 2 cm to the left: 20 px * 0.02 / 2 = 0.2 px shift, so every pixel but
    # the last column keeps its 2 m depth
    assert np.allclose(registered[:, :-1], 2.0) and registered.shape == (H, W)


def test_depth_that_waits_too_long_is_refused_with_what_it_waited_for(inputs):
    stream, assembler = inputs
    stream.add("camera_info", 0, info(0, COLOR_FRAME), 0.0)
    stream.add("tf_static", None, mount(), 0.0)
    for i in range(5):  # max_pending 3: the two oldest are refused
        stream.add("depth", i * S, depth(i * S), 0.0)
    assert assembler.stats()["errors"] == {"depth": 2}
    assert "3 newer depth images came while it waited for depth camera_info" in assembler.warnings[0]
    assert stream.finish() == []  # the end of the stream: the three still waiting are refused too
    assert assembler.stats()["errors"] == {"depth": 5}


def test_a_depth_image_of_the_wrong_size_costs_only_itself(inputs):
    stream, assembler = inputs
    stream.add("depth_info", 0, info(0, DEPTH_FRAME), 0.0)
    stream.add("tf_static", None, mount(), 0.0)
    stream.add("depth", 1 * S, image(1 * S, DEPTH_FRAME, np.full((H // 2, W), 2.0, np.float32), "32FC1"), 0.0)
    assert assembler.stats()["errors"] == {}  # still waiting for the colour camera_info
    assert colour_parts(stream, 1 * S) == []
    assert assembler.stats()["errors"] == {"depth": 1}  # refused once calibration came: wrong size
    stream.add("depth", 2 * S, depth(2 * S), 0.0)
    assert len(colour_parts(stream, 2 * S)) == 1
