"""ROS-free, device-agnostic spatial memory: frames in, consistent snapshots out."""

from reasmory_ros.memory.config import MemoryConfig
from reasmory_ros.memory.errors import MemoryFileError, SpatialMemoryError
from reasmory_ros.memory.frame import Frame, FrameError
from reasmory_ros.memory.snapshot import Keyframe, MemorySnapshot, ObjectRecord, Placement, SceneMap, Trajectory
from reasmory_ros.memory.spatial_memory import SpatialMemory, UpdateStats
from reasmory_ros.memory.working import WorkingFrame

__all__ = [
    "Frame", "FrameError", "Keyframe", "MemoryConfig", "MemoryFileError", "MemorySnapshot", "Placement",
    "ObjectRecord", "SceneMap", "SpatialMemory", "SpatialMemoryError", "Trajectory", "UpdateStats",
    "WorkingFrame",
]
