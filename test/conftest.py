"""Suite-wide fixtures: DDS isolation for tests that start real rclpy nodes."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

# `make test` sets these (see the Makefile); a bare `pytest` run gets them here, before rclpy is
# imported: a random domain, and the Fast DDS profile that carries whole images in shared memory.
os.environ.setdefault("ROS_DOMAIN_ID", str(random.randint(10, 99)))
os.environ.setdefault(
    "FASTDDS_DEFAULT_PROFILES_FILE", str(Path(__file__).resolve().parents[1] / "config" / "fastdds_large_images.xml"))


@pytest.fixture
def ros_context():
    """An initialised rclpy context of its own, shut down after the test."""
    rclpy = pytest.importorskip("rclpy")
    context = rclpy.Context()
    rclpy.init(context=context)
    yield context
    rclpy.shutdown(context=context)


@pytest.fixture
def rerun_rows():
    """Counts in Rerun chunks (read back with rerun.chunk.RrdReader): entity path -> rows, and
    (entity path, component column) -> rows holding a value."""

    def count(chunks) -> dict:
        rows: dict = {}
        for chunk in chunks:
            rows[chunk.entity_path] = rows.get(chunk.entity_path, 0) + chunk.num_rows
            batch = chunk.to_record_batch()
            for name in batch.schema.names:
                if ":" in name:
                    key = (chunk.entity_path, name)
                    rows[key] = rows.get(key, 0) + batch.num_rows - batch.column(name).null_count
        return rows

    return count
