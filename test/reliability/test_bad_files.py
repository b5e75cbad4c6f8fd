"""Damaged, foreign and unwritable files: memory snapshots and rosbag2 recordings.

A snapshot that cannot be read raises MemoryFileError and leaves the memory in use exactly as it
was; a save that cannot be written says why and loses nothing. A damaged bag gives the frames
recorded before the damage, and a corrupt message costs only its own frame.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from reliability_support import SMALL, TIME_LIMIT, timed

from reasmory_ros import dsl
from reasmory_ros.config.settings import Settings
from reasmory_ros.memory import MemoryFileError, SpatialMemory
from reasmory_ros.replay.bag import BagError, open_bag
from reasmory_ros.replay.cli import main as replay_main
from reasmory_ros.sim.cli import simulate
from reasmory_ros.streams import FrameAssembler

BAG_FRAMES = 12


# --- memory snapshots ----------------------------------------------------------------------------


def probe_programs(snapshot) -> list[str]:
    """Programs whose answers fingerprint a memory: counts, a distance, the path walked."""
    labels = sorted(label for label, n in snapshot.label_counts().items() if n == 1)[:2]
    return [
        'answer(count(objects(["' + '", "'.join(sorted(snapshot.label_counts())) + '"])))',
        f'answer(distance(the(objects("{labels[0]}")), the(objects("{labels[1]}"))))',
        f"answer(travelled(camera(frame=1), camera(frame={snapshot.frame_count})))",
    ]


def answers(memory) -> list[str]:
    snapshot = memory.snapshot()
    return [dsl.run(program, snapshot).text for program in probe_programs(snapshot)]


@pytest.fixture(scope="module")
def saved(room_memory, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("snapshot") / "memory.npz"
    room_memory.save(path)
    return path


@pytest.fixture
def in_use(saved) -> SpatialMemory:
    """A memory in use (loaded from the good snapshot) that failed loads must not touch."""
    return SpatialMemory.from_file(saved)


def truncation_offsets(path: Path) -> list[int]:
    """Every zip member boundary (and the bytes around it), the first bytes, the end, and random cuts."""
    size = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        boundaries = [info.header_offset for info in archive.infolist()]
    rng = random.Random(8)
    offsets = {0, 1, 2, 3, 4, 10, 64, size - 1, size - 22, size - 100}
    offsets |= {b + d for b in boundaries for d in (-1, 0, 1, 40)}
    offsets |= {rng.randrange(size) for _ in range(40)}
    return sorted(o for o in offsets if 0 <= o < size)


def test_every_truncation_is_refused_and_the_memory_in_use_is_untouched(saved, in_use, tmp_path):
    before, frames_before = answers(in_use), in_use.frame_count
    damaged = tmp_path / "damaged.npz"
    shutil.copyfile(saved, damaged)
    offsets = truncation_offsets(saved)
    assert len(offsets) > 100
    for offset in reversed(offsets):  # cut the same copy shorter and shorter: no 25 MB rewrites
        os.truncate(damaged, offset)
        error, seconds = timed(in_use.load, damaged)
        assert isinstance(error, MemoryFileError), f"cut at {offset}: {error!r}"
        assert str(damaged) in str(error) and seconds < TIME_LIMIT
    assert in_use.frame_count == frames_before and answers(in_use) == before


def test_flipped_bytes_are_refused(saved, in_use, tmp_path):
    """Bit rot anywhere in the arrays or the header fails a checksum or a check: never loaded."""
    before = answers(in_use)
    data = bytearray(saved.read_bytes())
    rng = random.Random(3)
    damaged = tmp_path / "flipped.npz"
    for _ in range(25):
        copy = bytearray(data)
        position = rng.randrange(len(copy))
        copy[position] ^= 0xFF
        damaged.write_bytes(copy)
        error, _ = timed(in_use.load, damaged)
        assert isinstance(error, MemoryFileError), f"byte {position}: {error!r}"
    assert answers(in_use) == before


def _rewrite_header(source: Path, target: Path, change) -> None:
    with np.load(source) as data:
        arrays = {name: data[name] for name in data.files}
    header = json.loads(arrays["header"].tobytes())
    change(header)
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(target, **arrays)


def test_newer_format_version_is_refused_with_the_reason(saved, in_use, tmp_path):
    before = answers(in_use)
    newer = tmp_path / "newer.npz"
    _rewrite_header(saved, newer, lambda header: header.update(format_version=header["format_version"] + 1))
    with pytest.raises(MemoryFileError, match="newer than the supported"):
        in_use.load(newer)
    assert answers(in_use) == before


@pytest.mark.parametrize("content", [b"", b"PK", b"hello, not a memory", b"\x93NUMPY"], ids=["empty", "2-bytes", "text", "npy-magic"])
def test_files_that_are_not_memories_are_refused(content, in_use, tmp_path):
    before = answers(in_use)
    path = tmp_path / "other.npz"
    path.write_bytes(content)
    with pytest.raises(MemoryFileError) as refused:
        in_use.load(path)
    assert str(path) in str(refused.value)
    assert answers(in_use) == before


def test_a_text_file_is_reported_as_not_a_memory_file(in_use, tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("hello")
    with pytest.raises(MemoryFileError) as refused:
        in_use.load(path)
    assert "pickle" not in str(refused.value) and "not a memory file" in str(refused.value)


@pytest.mark.parametrize("where", ["parent-is-a-file", "proc", "target-is-a-directory"])
def test_unwritable_paths_fail_clearly_and_lose_nothing(where, in_use, saved, tmp_path):
    """Root ignores permission bits, so unwritable means: the parent is a file, a kernel file system
    that refuses new files, or a directory in the way of the target."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    (tmp_path / "folder.npz").mkdir()
    path = {"parent-is-a-file": blocker / "memory.npz", "proc": Path("/proc/reasmory/memory.npz"),
            "target-is-a-directory": tmp_path / "folder.npz"}[where]
    good_before = saved.read_bytes()
    with pytest.raises(MemoryFileError, match="cannot write memory file") as refused:
        in_use.save(path)
    assert str(path) in str(refused.value)
    assert blocker.read_text() == "a file, not a folder" and saved.read_bytes() == good_before
    assert not list(tmp_path.glob(".*.tmp")), "a failed save leaves no temporary file behind"
    again = tmp_path / "ok" / "memory.npz"
    again.parent.mkdir()
    in_use.save(again)  # the memory is intact and still saves
    assert answers(SpatialMemory.from_file(again)) == answers(in_use)


FULL_DISK_SAVER = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))
from reasmory_ros.memory import MemoryFileError, SpatialMemory
memory = SpatialMemory.from_file(sys.argv[1])
try:
    memory.save(sys.argv[2])
except MemoryFileError as err:
    print("refused:", err)
"""


def test_save_that_runs_out_of_space_keeps_the_previous_snapshot(saved, tmp_path):
    """A disk that fills up mid-save (a 1 MB file size limit here): the save fails with a message
    and the previous snapshot under the same name is untouched, with no temporary file left."""
    target = tmp_path / "memory.npz"
    shutil.copyfile(saved, target)
    previous = target.read_bytes()
    result = subprocess.run([sys.executable, "-c", FULL_DISK_SAVER, str(saved), str(target)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("refused: cannot write memory file") and str(target) in result.stdout
    assert target.read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["memory.npz"]


# --- rosbag2 recordings --------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite3", "mcap"])
def recording(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"bag-{request.param}")
    return simulate(out, seed=3, frames=BAG_FRAMES, width=SMALL[0], height=SMALL[1], questions_per_type=1,
                    storage=request.param)


@pytest.fixture(scope="module")
def params():
    return Settings().updated({"device": "cpu"})


def frames_of(bag: Path, settings) -> tuple[list, object, FrameAssembler]:
    stream = open_bag(bag, settings)
    assembler = FrameAssembler.from_settings(settings, instance_topics=stream.has_instances, clock=stream.clock)
    return list(stream.frames(assembler)), stream, assembler


def storage_file(bag: Path) -> Path:
    return next(p for p in bag.iterdir() if p.suffix in (".db3", ".mcap"))


@pytest.mark.parametrize("fraction", [0.35, 0.7, 0.97])
def test_truncated_bag_keeps_the_frames_before_the_damage(recording, params, tmp_path, fraction):
    """A storage file cut at `fraction` of its bytes (copy interrupted, recorder killed): the frames
    wholly before the cut come back exactly as from the intact bag, in order, with a warning."""
    intact, *_ = frames_of(recording.bag, params)
    bag = tmp_path / "bag"
    shutil.copytree(recording.bag, bag)
    cut = storage_file(bag)
    with cut.open("r+b") as handle:
        handle.truncate(int(cut.stat().st_size * fraction))
    kept, stream, assembler = frames_of(bag, params)
    assert 0 < len(kept) < len(intact)
    assert len(kept) >= int(fraction * len(intact)) - 2, "frames far before the cut must survive"
    for got, want in zip(kept, intact):
        assert got.index == want.index and got.timestamp == want.timestamp
        np.testing.assert_array_equal(got.depth, want.depth)
        np.testing.assert_array_equal(got.rgb, want.rgb)
    assert stream.truncated and "damage" in stream.truncated
    assert any("reading its records up to the damage" in w for w in stream.warnings)


def test_recorder_killed_before_writing_metadata(recording, params, tmp_path):
    """No metadata.yaml (rosbag2 writes it on close): every frame is still read."""
    intact, *_ = frames_of(recording.bag, params)
    bag = tmp_path / "bag"
    shutil.copytree(recording.bag, bag)
    (bag / "metadata.yaml").unlink()
    kept, stream, assembler = frames_of(bag, params)
    assert [f.index for f in kept] == [f.index for f in intact] and stream.truncated is None


@pytest.fixture(scope="module")
def sqlite_recording(tmp_path_factory):
    """The recording in sqlite3 storage, whose message rows a test can overwrite."""
    return simulate(tmp_path_factory.mktemp("bag-sqlite3"), seed=3, frames=BAG_FRAMES, width=SMALL[0],
                    height=SMALL[1], questions_per_type=1)


@pytest.mark.slow
def test_truncated_bag_through_the_cli_answers_from_what_was_kept(sqlite_recording, tmp_path, capsys):
    recording = sqlite_recording
    bag = tmp_path / "bag"
    shutil.copytree(recording.bag, bag)
    cut = storage_file(bag)
    with cut.open("r+b") as handle:
        handle.truncate(int(cut.stat().st_size * 0.6))
    answers_path = tmp_path / "answers.jsonl"
    code = replay_main([str(bag), "--questions", str(recording.questions_jsonl), "--output", str(answers_path),
                        "--no-progress", "--device", "cpu"])
    out = capsys.readouterr().out
    assert code == 0, out
    frames = int(out.split("frames integrated: ")[1].split()[0])
    assert 0 < frames < BAG_FRAMES and "warning: the bag is damaged" in out
    rows = [json.loads(line) for line in answers_path.read_text().splitlines()]
    assert rows and all(row["ok"] or row["error"] for row in rows)


def test_corrupt_message_costs_only_its_frame(params, tmp_path, capsys, sqlite_recording):
    """One serialized depth image overwritten with garbage in the sqlite3 database."""
    recording = sqlite_recording
    intact, *_ = frames_of(recording.bag, params)
    bag = tmp_path / "bag"
    shutil.copytree(recording.bag, bag)
    with sqlite3.connect(storage_file(bag)) as db:
        row, size = db.execute(
            "SELECT m.id, length(m.data) FROM messages m JOIN topics t ON t.id = m.topic_id "
            "WHERE t.name = '/camera/depth/image_raw' ORDER BY m.timestamp LIMIT 1 OFFSET 5").fetchone()
        db.execute("UPDATE messages SET data = ? WHERE id = ?", (random.Random(0).randbytes(size), row))
    kept, stream, assembler = frames_of(bag, params)
    assert [f.index for f in kept] == [f.index for f in intact if f.index != 5]
    stats = assembler.stats()
    assert stats["errors"] == {"depth": 1} and stats["dropped_incomplete"] == 1

    assert replay_main([str(bag), "--no-progress", "--device", "cpu"]) == 0
    captured = capsys.readouterr()
    assert f"frames integrated: {BAG_FRAMES - 1}" in captured.out
    assert "input errors: {'depth': 1}" in captured.out


@pytest.mark.parametrize("content", [b"", b"garbage" * 100], ids=["empty", "garbage"])
def test_unreadable_bag_is_a_clear_error(content, tmp_path, capsys):
    bag = tmp_path / "bag"
    bag.mkdir()
    (bag / "bag.db3").write_bytes(content)
    with pytest.raises(BagError, match="cannot open bag"):
        open_bag(bag, Settings())
    assert replay_main([str(bag), "--no-progress"]) == 1
    assert "cannot open bag" in capsys.readouterr().err
