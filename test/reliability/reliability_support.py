"""Helpers shared by the reliability tests (imported by name: conftest puts this folder on the path)."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

SMALL = (160, 120)
TIME_LIMIT = 2.0
"""Seconds within which any bad question, program or file must be answered with an error."""

_ROS_CONFTEST = Path(__file__).resolve().parents[1] / "ros" / "conftest.py"


def render_frames(n: int, width: int, height: int, seed: int = 3) -> list:
    """`n` frames of simulator scene `seed` along its camera loop (deterministic)."""
    from reasmory_ros import sim

    scene = sim.generate_scene(seed)
    camera = sim.camera_trajectory(scene, n, 0)
    K = sim.default_intrinsics(width, height)
    return [r.frame for r in sim.render_sequence(scene, camera, K, width, height, seed=0)]


def ros_helpers():
    """test/ros/conftest.py as a module (NodeProcess, Harness, fixtures), loaded once.

    Its owner is still working on it, so it is imported rather than moved or copied."""
    name = "reasmory_test_ros_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, _ROS_CONFTEST)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
    return sys.modules[name]


def timed(call, *args, **kwargs):
    """(result or raised exception, seconds)."""
    started = time.perf_counter()
    try:
        result = call(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - the caller asserts on what came back
        result = err
    return result, time.perf_counter() - started


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05):
    """Poll `predicate` until it returns something truthy; AssertionError naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
