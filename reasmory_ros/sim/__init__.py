"""Procedural indoor scenes, RGB-D + instance rendering, ground truth and bag writing (no ROS)."""
