"""Device selection, CPU/CUDA agreement, and the configuration contract."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from reasmory_ros.memory import MemoryConfig, SpatialMemory

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def test_auto_device_and_unavailable_cuda():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    small = MemoryConfig(max_objects=8, max_instances_per_frame=8)
    assert SpatialMemory(small, device="auto").device.type == expected
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            SpatialMemory(device="cuda")


@CUDA
def test_cuda_agrees_with_cpu_and_files_move_between_devices(room_scan, tmp_path):
    config = MemoryConfig(pixel_stride=2)
    memories = {device: SpatialMemory(config, device=device) for device in ("cpu", "cuda")}
    for frame in room_scan[:16]:
        for memory in memories.values():
            memory.update(frame)
    cpu, cuda = (memories[d].snapshot() for d in ("cpu", "cuda"))
    assert cpu.label_counts() == cuda.label_counts()
    for a in cpu.objects:
        b = min(cuda.objects, key=lambda o: np.linalg.norm(o.center - a.center))
        assert np.linalg.norm(a.center - b.center) < 0.02 and a.label == b.label
    assert len(cpu.scene_map.points) == len(cuda.scene_map.points)
    path = tmp_path / "cuda.npz"
    memories["cuda"].save(path)
    moved = SpatialMemory.from_file(path, device="cpu")
    assert moved.snapshot().label_counts() == cuda.label_counts()


def test_every_config_field_is_documented():
    """The node and the replay expose these as parameters; each field's metadata carries its meaning
    (and its unit where it has one), from which the parameter docs are generated."""
    fields = dataclasses.fields(MemoryConfig)
    assert all(f.metadata.get("parameter") and f.metadata["description"].strip() for f in fields)
    assert {f.name: f.metadata["unit"] for f in fields if f.name in ("voxel_size", "pixel_stride", "keyframe_rotation")} \
        == {"voxel_size": "m", "pixel_stride": "px", "keyframe_rotation": "deg"}


def test_config_rejects_bad_values_by_name():
    with pytest.raises(ValueError, match="pixel_stride"):
        MemoryConfig(pixel_stride=0)
    with pytest.raises(ValueError, match="min_overlap"):
        MemoryConfig(min_overlap=1.5)
    with pytest.raises(ValueError, match="max_instances_per_frame"):
        MemoryConfig(max_objects=4)
    with pytest.raises(ValueError, match="trajectory_capacity"):
        MemoryConfig(trajectory_capacity=3)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="detached_checks"):
            MemoryConfig(detached_checks=bad)
    assert MemoryConfig(detached_checks=0).detached_checks == 0
    for bad in (0, 2.0, True):
        with pytest.raises(ValueError, match="box_fit_interval"):
            MemoryConfig(box_fit_interval=bad)
    with pytest.raises(ValueError, match="unknown MemoryConfig fields: colour"):
        MemoryConfig.from_dict({"colour": 1})
    assert MemoryConfig.from_dict(MemoryConfig().to_dict()) == MemoryConfig()
