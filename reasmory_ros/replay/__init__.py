"""Offline rosbag2 replay, answering and evaluation (no ROS middleware needed)."""
