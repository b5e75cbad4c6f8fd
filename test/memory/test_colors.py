"""Object colours: the palette names, the per-object vote, and memory files with and without it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reasmory_ros.memory import MemoryConfig, SpatialMemory
from reasmory_ros.memory.colors import (
    HUE_BINS,
    PALETTE,
    color_bins,
    color_name,
    dominant_color,
)
from reasmory_ros.memory.persistence import read_memory_file, write_memory_file

CONFIG = MemoryConfig(pixel_stride=2, max_objects=32, max_keyframes=8, map_capacity=16384)


@pytest.mark.parametrize("rgb,name", [
    ((0, 0, 0), "black"), ((30, 30, 32), "black"), ((128, 128, 128), "gray"), ((240, 240, 235), "white"),
    ((200, 30, 30), "red"), ((230, 130, 20), "orange"), ((230, 220, 40), "yellow"), ((40, 160, 60), "green"),
    ((30, 80, 200), "blue"), ((120, 40, 170), "purple"), ((240, 150, 190), "pink"), ((110, 70, 35), "brown"),
    ((215, 195, 150), "beige"), ((60, 40, 25), "brown"),
])
def test_palette_names_canonical_colours(rgb, name):
    assert name in PALETTE
    assert color_name(np.array(rgb)) == name


def test_two_tone_object_is_named_after_its_larger_part():
    """A white top over a smaller set of wooden legs: the vote goes to white, not to their mix."""
    rgb = torch.tensor([[235, 235, 230]] * 70 + [[120, 80, 40]] * 30, dtype=torch.uint8)
    bins = color_bins(rgb)
    assert int(bins[0]) == HUE_BINS and int(bins[-1]) < HUE_BINS
    counts = torch.bincount(bins, minlength=HUE_BINS + 1).float().numpy()
    sums = np.zeros((HUE_BINS + 1, 3))
    np.add.at(sums, bins.numpy(), rgb.numpy().astype(float))
    assert dominant_color(counts, sums)[0] == "white"
    assert dominant_color(np.zeros(HUE_BINS + 1), sums)[0] == ""


def test_colours_are_saved_and_old_files_load_without_them(room_scan, tmp_path):
    memory = SpatialMemory(CONFIG)
    for frame in room_scan[:12]:
        memory.update(frame)
    colours = {o.id: o.color for o in memory.snapshot().objects}
    assert colours and all(colours.values()), "every object shown was observed in colour"
    path = tmp_path / "room.npz"
    memory.save(path)
    assert {o.id: o.color for o in SpatialMemory.from_file(path).snapshot().objects} == colours

    header, arrays = read_memory_file(path)
    old = tmp_path / "before_colours.npz"
    write_memory_file(old, {k: v for k, v in header.items() if not k.startswith("format")},
                      {k: v for k, v in arrays.items() if not k.startswith("objects/color_")})
    loaded = SpatialMemory.from_file(old)
    assert all(o.color == "" for o in loaded.snapshot().objects), "unknown until seen again"
    for frame in room_scan[12:14]:
        loaded.update(frame)
    assert any(o.color for o in loaded.snapshot().objects)
