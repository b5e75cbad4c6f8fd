"""Reasmory ROS: an explicit 3D spatial memory for robots, queried through a validated DSL."""

__version__ = "0.1.0"
