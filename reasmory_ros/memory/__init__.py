"""ROS-free, device-agnostic spatial memory: frames in, consistent snapshots out."""

from reasmory_ros.memory.frame import Frame, FrameError
from reasmory_ros.memory.snapshot import Keyframe, MemorySnapshot, ObjectRecord, SceneMap, Trajectory

__all__ = ["Frame", "FrameError", "Keyframe", "MemorySnapshot", "ObjectRecord", "SceneMap", "Trajectory"]
