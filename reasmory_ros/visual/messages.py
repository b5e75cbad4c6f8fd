"""ROS-free mirrors of the message fields the outputs use (same names, same constants).

Both the node (rclpy) and the replay recorder (rosbags, no ROS install) convert these with one
generic field-by-field walk (`MSGTYPE` names the ROS type), so the marker content is written once.
Fields of the ROS types that are not listed here keep their default values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass
class Time:
    MSGTYPE: ClassVar[str] = "builtin_interfaces/msg/Time"
    sec: int = 0
    nanosec: int = 0

    @classmethod
    def from_ns(cls, nanoseconds: int) -> Time:
        return cls(sec=int(nanoseconds // 1_000_000_000), nanosec=int(nanoseconds % 1_000_000_000))


@dataclass
class Duration:
    MSGTYPE: ClassVar[str] = "builtin_interfaces/msg/Duration"
    sec: int = 0
    nanosec: int = 0


@dataclass
class Header:
    MSGTYPE: ClassVar[str] = "std_msgs/msg/Header"
    stamp: Time = field(default_factory=Time)
    frame_id: str = ""


@dataclass
class Point:
    MSGTYPE: ClassVar[str] = "geometry_msgs/msg/Point"
    x: float = 0.0
    y: float = 0.0
    z: float = 0.0


@dataclass
class Vector3:
    MSGTYPE: ClassVar[str] = "geometry_msgs/msg/Vector3"
    x: float = 0.0
    y: float = 0.0
    z: float = 0.0


@dataclass
class Quaternion:
    MSGTYPE: ClassVar[str] = "geometry_msgs/msg/Quaternion"
    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    w: float = 1.0


@dataclass
class Pose:
    MSGTYPE: ClassVar[str] = "geometry_msgs/msg/Pose"
    position: Point = field(default_factory=Point)
    orientation: Quaternion = field(default_factory=Quaternion)


@dataclass
class PoseStamped:
    MSGTYPE: ClassVar[str] = "geometry_msgs/msg/PoseStamped"
    header: Header = field(default_factory=Header)
    pose: Pose = field(default_factory=Pose)


@dataclass
class Path:
    MSGTYPE: ClassVar[str] = "nav_msgs/msg/Path"
    header: Header = field(default_factory=Header)
    poses: list[PoseStamped] = field(default_factory=list)


@dataclass
class ColorRGBA:
    MSGTYPE: ClassVar[str] = "std_msgs/msg/ColorRGBA"
    r: float = 0.0
    g: float = 0.0
    b: float = 0.0
    a: float = 0.0


@dataclass
class Marker:
    MSGTYPE: ClassVar[str] = "visualization_msgs/msg/Marker"
    ARROW: ClassVar[int] = 0
    CUBE: ClassVar[int] = 1
    SPHERE: ClassVar[int] = 2
    CYLINDER: ClassVar[int] = 3
    LINE_STRIP: ClassVar[int] = 4
    LINE_LIST: ClassVar[int] = 5
    CUBE_LIST: ClassVar[int] = 6
    SPHERE_LIST: ClassVar[int] = 7
    POINTS: ClassVar[int] = 8
    TEXT_VIEW_FACING: ClassVar[int] = 9
    ADD: ClassVar[int] = 0
    DELETE: ClassVar[int] = 2
    DELETEALL: ClassVar[int] = 3
    header: Header = field(default_factory=Header)
    ns: str = ""
    id: int = 0
    type: int = 0
    action: int = 0
    pose: Pose = field(default_factory=Pose)
    scale: Vector3 = field(default_factory=Vector3)
    color: ColorRGBA = field(default_factory=ColorRGBA)
    lifetime: Duration = field(default_factory=Duration)
    frame_locked: bool = False
    points: list[Point] = field(default_factory=list)
    colors: list[ColorRGBA] = field(default_factory=list)
    text: str = ""


@dataclass
class MarkerArray:
    MSGTYPE: ClassVar[str] = "visualization_msgs/msg/MarkerArray"
    markers: list[Marker] = field(default_factory=list)


@dataclass
class PointField:
    MSGTYPE: ClassVar[str] = "sensor_msgs/msg/PointField"
    FLOAT32: ClassVar[int] = 7
    name: str = ""
    offset: int = 0
    datatype: int = 0
    count: int = 0


@dataclass
class PointCloud2:
    MSGTYPE: ClassVar[str] = "sensor_msgs/msg/PointCloud2"
    header: Header = field(default_factory=Header)
    height: int = 0
    width: int = 0
    fields: list[PointField] = field(default_factory=list)
    is_bigendian: bool = False
    point_step: int = 0
    row_step: int = 0
    data: bytes = b""
    is_dense: bool = False


@dataclass
class String:
    MSGTYPE: ClassVar[str] = "std_msgs/msg/String"
    data: str = ""
