"""Suite-wide fixtures: DDS isolation for tests that start real rclpy nodes."""

from __future__ import annotations

import os
import random

import pytest

# `make test` sets a random domain; a bare `pytest` run gets one here, before rclpy is imported.
os.environ.setdefault("ROS_DOMAIN_ID", str(random.randint(10, 99)))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")


@pytest.fixture
def ros_context():
    """An initialised rclpy context of its own, shut down after the test."""
    rclpy = pytest.importorskip("rclpy")
    context = rclpy.Context()
    rclpy.init(context=context)
    yield context
    rclpy.shutdown(context=context)
