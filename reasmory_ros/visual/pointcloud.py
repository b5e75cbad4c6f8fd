"""numpy points + colours -> the ~/map cloud (sensor_msgs/PointCloud2: x, y, z float32 + packed rgb), and back.

The rgb field follows PCL and RViz: a float32 whose bytes are the uint32 0x00RRGGBB, so RViz's
"RGB8" colour transformer shows the map in its colours.
"""

from __future__ import annotations

import numpy as np

from reasmory_ros.visual.messages import Header, PointCloud2, PointField

_POINT = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("rgb", "<u4")])
FIELDS = [
    PointField(name="x", offset=0, datatype=PointField.FLOAT32, count=1),
    PointField(name="y", offset=4, datatype=PointField.FLOAT32, count=1),
    PointField(name="z", offset=8, datatype=PointField.FLOAT32, count=1),
    PointField(name="rgb", offset=12, datatype=PointField.FLOAT32, count=1),
]


def pointcloud2(points: np.ndarray, colors: np.ndarray, head: Header) -> PointCloud2:
    """An unordered cloud (height 1) of N points (N x 3 metres) with N x 3 uint8 colours."""
    points = np.asarray(points, dtype=np.float32).reshape(-1, 3)
    colors = np.asarray(colors, dtype=np.uint8).reshape(-1, 3)
    if len(points) != len(colors):
        raise ValueError(f"{len(points)} points but {len(colors)} colours")
    cloud = np.empty(len(points), dtype=_POINT)
    cloud["x"], cloud["y"], cloud["z"] = points[:, 0], points[:, 1], points[:, 2]
    rgb = colors.astype(np.uint32)
    cloud["rgb"] = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    return PointCloud2(
        header=head,
        height=1,
        width=len(points),
        fields=FIELDS,
        is_bigendian=False,
        point_step=_POINT.itemsize,
        row_step=_POINT.itemsize * len(points),
        data=cloud.tobytes(),
        is_dense=True,
    )


def points_and_colors(msg) -> tuple[np.ndarray, np.ndarray]:
    """The inverse for clouds written by `pointcloud2` (tests and tools reading ~/map)."""
    cloud = np.frombuffer(bytes(msg.data), dtype=_POINT, count=msg.width * msg.height)
    points = np.column_stack([cloud["x"], cloud["y"], cloud["z"]])
    rgb = cloud["rgb"]
    colors = np.column_stack([(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255]).astype(np.uint8)
    return points, colors
