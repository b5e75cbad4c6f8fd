"""Memory files: identical round trip, clear errors, and a failed load changes nothing."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import zipfile

import numpy as np
import pytest

from reasmory_ros.memory import MemoryConfig, MemoryFileError, SpatialMemory, SpatialMemoryError
from reasmory_ros.planning.language import default_embedder

CONFIG = MemoryConfig(pixel_stride=2, max_objects=32, max_keyframes=8, map_capacity=16384)


@pytest.fixture(scope="module")
def saved(room_scan, tmp_path_factory):
    memory = SpatialMemory(CONFIG)
    for frame in room_scan[:20]:
        memory.update(frame)
    path = tmp_path_factory.mktemp("memory") / "room.npz"
    memory.save(path)
    return memory, path


def assert_same_snapshot(a, b):
    """Field-by-field equality of two snapshots (arrays exactly equal)."""
    def same(x, y, where):
        if dataclasses.is_dataclass(x):
            assert type(x) is type(y), where
            for f in dataclasses.fields(x):
                same(getattr(x, f.name), getattr(y, f.name), f"{where}.{f.name}")
        elif isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=where)
        elif isinstance(x, (tuple, list)):
            assert len(x) == len(y), where
            for i, (p, q) in enumerate(zip(x, y)):
                same(p, q, f"{where}[{i}]")
        else:
            assert x == y, where
    same(a, b, "snapshot")


def test_round_trip_is_identical_and_continues_identically(saved, room_scan):
    memory, path = saved
    loaded = SpatialMemory.from_file(path)
    assert loaded.config == CONFIG
    assert_same_snapshot(memory.snapshot(), loaded.snapshot())
    assert loaded.allocated_bytes() == memory.allocated_bytes()

    other = SpatialMemory(MemoryConfig())  # load replaces the configuration too
    other.load(path)
    assert_same_snapshot(memory.snapshot(), other.snapshot())

    clone = SpatialMemory.from_file(path)
    for frame in room_scan[20:24]:
        clone.update(frame)
        loaded.update(frame)
    assert_same_snapshot(clone.snapshot(), loaded.snapshot())


def _corrupt_variants(data: bytes):
    yield "empty", b""
    for fraction in (0.1, 0.5, 0.9, 0.999):
        yield f"truncated at {fraction}", data[: int(len(data) * fraction)]
    yield "garbage", os.urandom(2048)
    yield "text", b"hello, not a memory"
    flipped = bytearray(data)
    middle = len(flipped) // 2
    flipped[middle : middle + 16] = bytes(b ^ 0xFF for b in flipped[middle : middle + 16])
    yield "flipped bytes", bytes(flipped)


def _rewritten(path, edit_header=None, edit_arrays=None) -> bytes:
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    header = json.loads(arrays["header"].tobytes())
    if edit_header:
        edit_header(header)
    if edit_arrays:
        edit_arrays(arrays)
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_bad_files_raise_and_leave_memory_untouched(saved, room_scan, tmp_path):
    memory, path = saved
    data = path.read_bytes()
    target = SpatialMemory(CONFIG)
    for frame in room_scan[:3]:
        target.update(frame)
    before = target.snapshot()

    def newer(header):
        header["format_version"] += 1

    def wrong_capacity(header):
        header["config"]["max_objects"] = 64

    def missing(arrays):
        del arrays["objects/points"]

    def overfull_trajectory(header):
        header["scalars"]["trajectory"]["count"] = 10**6

    def category_of_no_word(arrays):
        arrays["objects/category"][0] = CONFIG.max_labels - 1  # past the vocabulary

    variants = list(_corrupt_variants(data)) + [
        ("newer version", _rewritten(path, edit_header=newer)),
        ("arrays of another capacity", _rewritten(path, edit_header=wrong_capacity)),
        ("missing array", _rewritten(path, edit_arrays=missing)),
        ("counters out of range", _rewritten(path, edit_header=overfull_trajectory)),
        ("label category out of the vocabulary", _rewritten(path, edit_arrays=category_of_no_word)),
        ("not a memory file", _rewritten(path, edit_header=lambda h: h.update(format="other"))),
    ]
    for name, content in variants:
        bad = tmp_path / "bad.npz"
        bad.write_bytes(content)
        with pytest.raises(MemoryFileError) as info:
            target.load(bad)
        assert str(bad) in str(info.value), name
        assert "pickle" not in str(info.value), name  # np.load's hint would be wrong and unsafe
        if name == "newer version":
            assert "newer" in str(info.value)
        assert target.snapshot() is before, name
        assert target.frame_count == 3
    with pytest.raises(SpatialMemoryError):
        target.load(tmp_path / "does-not-exist.npz")


def test_unwritable_path_raises_and_leaves_no_temp_file(saved, tmp_path):
    memory, _ = saved
    with pytest.raises(MemoryFileError, match="cannot write"):
        memory.save(tmp_path / "missing-dir" / "memory.npz")
    with pytest.raises(MemoryFileError, match="cannot write"):
        memory.save("/proc/reasmory-memory.npz")  # not writable, not even for root
    target = tmp_path / "dir-in-the-way"
    target.mkdir()
    with pytest.raises(MemoryFileError):
        memory.save(target)
    assert [p.name for p in tmp_path.iterdir()] == ["dir-in-the-way"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_directory_without_write_permission(saved, tmp_path):
    memory, _ = saved
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(MemoryFileError, match="ermission"):
            memory.save(locked / "memory.npz")
    finally:
        locked.chmod(0o700)


def test_save_replaces_atomically(saved, tmp_path):
    memory, path = saved
    target = tmp_path / "memory.npz"
    target.write_bytes(b"old content")
    memory.save(target)
    assert zipfile.is_zipfile(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["memory.npz"]
    assert SpatialMemory.from_file(target).frame_count == memory.frame_count


def test_words_filed_by_embedding_stay_filed_in_a_file_read_without_the_embedder(room_scan, tmp_path):
    """The categories are saved: a memory that filed "office chair" under chair with the packaged
    embedder reads back the same labels, aliases and first sightings where no embedder is given
    (a snapshot for a CLI, an evaluation)."""
    memory = SpatialMemory(CONFIG, label_embedder=default_embedder())
    for k, frame in enumerate(room_scan[:20]):
        memory.update(dataclasses.replace(frame, labels={
            i: ("office chair" if k % 3 == 1 and v == "chair" else v) for i, v in frame.labels.items()}))
    memory.save(tmp_path / "filed.npz")
    loaded = SpatialMemory.from_file(tmp_path / "filed.npz")
    assert_same_snapshot(memory.snapshot(), loaded.snapshot())
    assert {o.label for o in loaded.snapshot().objects if "office chair" in o.label_histogram} == {"chair"}
