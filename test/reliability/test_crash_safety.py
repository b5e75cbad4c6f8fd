"""Crash safety: what a killed node loses, and that a snapshot on disk is always loadable.

The node autosaves every `autosave_period` and at shutdown, by writing a temporary file and
renaming it over the snapshot. A SIGKILL can land anywhere, during streaming or in the middle of a
save: a restart with `load_on_start` must answer exactly as the memory did at the last save.
"""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

rclpy = pytest.importorskip("rclpy")

from reliability_support import ros_helpers, wait_until  # noqa: E402

from reasmory_interfaces.srv import AskSpatial, RunProgram  # noqa: E402
from reasmory_ros import dsl  # noqa: E402
from reasmory_ros.memory import MemoryFileError, SpatialMemory  # noqa: E402
from reasmory_ros.sim.catalogue import FURNITURE  # noqa: E402

pytestmark = [pytest.mark.ros, pytest.mark.slow]

ros = ros_helpers()
recording, harness = ros.recording, ros.harness  # test/ros/conftest.py fixtures

SAVED_FRAMES = 24
AUTOSAVE = 6.0  # s: long enough to ask and kill between two saves, short enough to wait for one


@pytest.fixture
def nodes(tmp_path):
    """Start node processes (killed ones included); any still running is stopped after the test."""
    started = []

    def start(**params):
        params = {"device": "cpu", "qos": "reliable", "queue_size": 64, "status_rate": 10.0,
                  "snapshot_path": str(tmp_path / "memory.npz"), **params}
        node = ros.NodeProcess(tmp_path / f"node{len(started)}.log", params)
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()


def questions(recording) -> list[str]:
    """Counting and distance questions about objects seen in several of the saved frames, and the
    camera's displacement: together they fingerprint objects, geometry and trajectory."""
    seen = Counter(label for frame in recording.frames[:SAVED_FRAMES] for label in set(frame.labels.values()))
    counts = recording.gt.scene.counts()
    common = [label for label, n in seen.most_common() if n >= 4 and label in FURNITURE]  # big enough to be found
    unique = [label for label in common if counts[label] == 1]
    assert len(common) >= 2 and len(unique) >= 2, seen
    return [
        f"How many {common[0]}s are there?",
        f"How many {common[1]}s are there?",
        f"How far is the {unique[0]} from the {unique[1]}, in meters?",
        "How far is the camera at frame 20 from where it was at frame 1, in meters?",
    ]


def ask_all(harness, texts) -> list[tuple]:
    ask = harness.client(AskSpatial, "ask")
    replies = [harness.call(ask, AskSpatial.Request(question=q)) for q in texts]
    return [(r.success, r.answer, r.value, r.program) for r in replies]


def fresh_status(harness) -> dict:
    seen = len(harness.status)
    wait_until(lambda: len(harness.status) >= seen + 2, 20, "two new ~/status messages")
    return harness.status[-1]


def test_sigkill_during_streaming_then_restart_answers_as_the_last_autosave(recording, harness, nodes, tmp_path,
                                                                        request):
    snapshot = tmp_path / "memory.npz"
    texts = questions(recording)
    first = nodes(autosave_period=AUTOSAVE, load_on_start=True)
    harness.wait_for_subscribers()
    harness.stream(recording.frames[:SAVED_FRAMES], rate=10.0)
    harness.wait_status(lambda s: s["frames_integrated"] == SAVED_FRAMES)

    # An autosave after the last integration is the state a crash from now on must come back to.
    integrated_at = time.time()
    saved_at = wait_until(lambda: snapshot.exists() and snapshot.stat().st_mtime > integrated_at and
                          snapshot.stat().st_mtime, AUTOSAVE * 3, "an autosave after the 24th frame")
    before = ask_all(harness, texts)
    assert all(ok for ok, *_ in before), before

    # More frames stream in; the node dies in the middle of them, before its next autosave.
    later = recording.frames[SAVED_FRAMES:SAVED_FRAMES + 10]
    harness.stream(later, rate=20.0, during=lambda i: i == 5 and first.process.send_signal(signal.SIGKILL))
    assert first.process.wait(10) == -signal.SIGKILL
    assert snapshot.stat().st_mtime == saved_at, "the test meant to kill between two autosaves"

    # On disk: exactly the autosaved memory, loadable, answering the programs as the live node did.
    on_disk = SpatialMemory.from_file(snapshot).snapshot()
    assert on_disk.frame_count == SAVED_FRAMES
    for _, _, value, program in before:
        assert dsl.run(program, on_disk).value == pytest.approx(value, abs=0.01)

    # Restart with load_on_start: same answers, same programs; frames after the save are what was lost.
    # A test node in a DDS participant of its own talks to it: the one that talked to the killed
    # node sometimes never reached its successor (no request arrived in 60 s, re-sent or not),
    # while the successor's ~/status reached it.
    context = rclpy.Context()
    rclpy.init(context=context)
    successor = ros.Harness(context)
    request.addfinalizer(lambda: (successor.close(), rclpy.shutdown(context=context)))
    second = nodes(autosave_period=3600.0, load_on_start=True)
    successor.wait_for_subscribers()
    successor.wait_status(lambda s: s["memory_frames"] == SAVED_FRAMES and s["frames_integrated"] == 0, timeout=60)
    assert ask_all(successor, texts) == before
    run = successor.client(RunProgram, "run_program")
    for _, _, value, program in before:
        rerun = successor.call(run, RunProgram.Request(program=program))
        assert rerun.success and rerun.value == pytest.approx(value, abs=0.01)

    # The stream goes on after the loaded memory's last frame.
    lap = recording.frames[-1].timestamp - recording.frames[0].timestamp + 0.1
    resumed = [dataclasses.replace(f, timestamp=f.timestamp + lap) for f in recording.frames[:3]]
    successor.stream(resumed, rate=10.0)
    successor.wait_status(lambda s: s["memory_frames"] == SAVED_FRAMES + 3)
    assert fresh_status(successor)["errors"] == {}

    # SIGTERM (what a supervisor sends) is a clean shutdown too: the shutdown save has every frame.
    second.process.send_signal(signal.SIGTERM)
    assert second.process.wait(30) == 0, second.log()[-2000:]
    assert SpatialMemory.from_file(snapshot).frame_count == SAVED_FRAMES + 3


# --- a kill in the middle of a save --------------------------------------------------------------

SAVER = """
import sys
from reasmory_ros.memory import SpatialMemory
memory = SpatialMemory.from_file(sys.argv[1])
while True:
    memory.save(sys.argv[2])
"""


def test_kill_during_save_never_leaves_a_damaged_snapshot(room_memory, tmp_path):
    """A process saves a memory over and over; readers load the file meanwhile (never a partial
    file: the save renames a complete temporary file), then the process is killed while a
    temporary file is being written. The snapshot is the complete previous save every time."""
    source = tmp_path / "source.npz"
    room_memory.save(source)
    expected = room_memory.snapshot().frame_count
    target = tmp_path / "saves" / "memory.npz"
    target.parent.mkdir()
    killed_mid_write = 0
    for _ in range(3):
        saver = subprocess.Popen([sys.executable, "-c", SAVER, str(source), str(target)])
        try:
            wait_until(target.exists, 60, "the first save")
            for _ in range(5):  # readers during saves
                assert SpatialMemory.from_file(target).frame_count == expected
            in_progress = wait_until(lambda: list(target.parent.glob(".memory.npz.*.tmp")), 20,
                                     "a save in progress", interval=0.001)
            saver.send_signal(signal.SIGKILL)
            saver.wait(10)
        finally:
            saver.kill()
        killed_mid_write += any(p.exists() for p in in_progress)
        try:
            loaded = SpatialMemory.from_file(target)
        except MemoryFileError as err:  # pragma: no cover - the failure this test exists to catch
            pytest.fail(f"a kill during a save damaged the snapshot: {err}")
        assert loaded.frame_count == expected
    assert killed_mid_write >= 1, "no kill landed while a temporary file was being written"


def test_damaged_snapshot_stops_load_on_start_and_is_kept(tmp_path, room_memory):
    """A snapshot that cannot be read makes load_on_start refuse to start (exit 1, naming the file)
    rather than start empty and later autosave over it: the damaged file stays for inspection."""
    snapshot = tmp_path / "memory.npz"
    room_memory.save(snapshot)
    damaged = snapshot.read_bytes()[: snapshot.stat().st_size // 3]
    snapshot.write_bytes(damaged)
    result = subprocess.run(
        [sys.executable, "-m", "reasmory_ros.ros.node", "--ros-args", "-p", "device:=cpu",
         "-p", "load_on_start:=true", "-p", "autosave_period:=1.0", "-p", f"snapshot_path:={snapshot}"],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 1, result.stderr[-2000:]
    assert "cannot start: load_on_start" in result.stderr and str(snapshot) in result.stderr
    assert snapshot.read_bytes() == damaged


def test_a_new_run_keeps_the_earlier_memory_and_clears_interrupted_saves(tmp_path, room_memory):
    """Autosave without load_on_start would overwrite yesterday's memory with an empty one: the node
    moves it aside at start-up, and removes the temporary file a killed save left behind."""
    snapshot = tmp_path / "memory.npz"
    room_memory.save(snapshot)
    earlier = snapshot.read_bytes()
    interrupted = tmp_path / ".memory.npz.abc123.tmp"
    interrupted.write_bytes(earlier[:1000])
    node = subprocess.Popen(
        [sys.executable, "-m", "reasmory_ros.ros.node", "--ros-args", "-p", "device:=cpu",
         "-p", "autosave_period:=0.5", "-p", f"snapshot_path:={snapshot}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        kept = tmp_path / "memory.previous.npz"
        wait_until(lambda: kept.exists() and snapshot.exists(), 60, "the earlier file kept and a new autosave")
    finally:
        node.send_signal(signal.SIGINT)
        log, _ = node.communicate(timeout=30)
    assert kept.read_bytes() == earlier, log[-2000:]
    assert SpatialMemory.from_file(snapshot).frame_count == 0  # the new run's own memory
    assert not interrupted.exists()
    assert "moved it to" in log and "interrupted" in log
