"""reasmory-replay --record OUT.mcap / --rerun OUT.rrd on a real simulated rosbag2, read back with
rosbags and with Rerun's own reader, and what bad output paths do."""

from __future__ import annotations

import json
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from rosbags.highlevel import AnyReader
from rosbags.typesys import Stores, get_typestore

from reasmory_ros.config import NODE_NAME
from reasmory_ros.config.settings import Settings
from reasmory_ros.memory import SpatialMemory
from reasmory_ros.replay.cli import main as replay_main
from reasmory_ros.replay.record import OUTPUTS, McapRecorder
from reasmory_ros.sim.cli import simulate
from reasmory_ros.visual import markers as ns
from reasmory_ros.visual.pointcloud import points_and_colors

TYPESTORE = get_typestore(Stores.ROS2_HUMBLE)


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    out = tmp_path_factory.mktemp("recording")
    return simulate(out, seed=3, frames=45, width=256, height=192, questions_per_type=1)


@pytest.fixture(scope="module")
def replayed(recording, tmp_path_factory):
    """One replay writing everything: answers, the MCAP (with the inputs), the .rrd and the memory."""
    pytest.importorskip("rerun")
    out = tmp_path_factory.mktemp("replayed")
    code = replay_main([str(recording.bag), "--questions", str(recording.questions_jsonl), "--output",
                        str(out / "answers.jsonl"), "--record", str(out / "run.mcap"), "--record-inputs",
                        "--rerun", str(out / "run.rrd"), "--save-memory", str(out / "memory.npz"), "--no-progress"])
    assert code == 0
    return out


def _messages(path: Path) -> dict[str, list]:
    """topic -> [(log time ns, msgtype, message)] in file order."""
    topics = defaultdict(list)
    with AnyReader([path], default_typestore=TYPESTORE) as reader:
        for connection, stamp, raw in reader.messages():
            topics[connection.topic].append((stamp, connection.msgtype, reader.deserialize(raw, connection.msgtype)))
    return topics


def _answers(path: Path) -> dict[str, dict]:
    return {row["id"]: row for row in map(json.loads, path.read_text().splitlines())}


def test_mcap_has_the_node_topics_with_their_types_and_stamps(replayed, recording):
    topics = _messages(replayed / "run.mcap")
    outputs = {f"/{NODE_NAME}/{name}": msgtype for name, (msgtype, _) in OUTPUTS.items()}
    assert set(outputs) <= set(topics)
    for topic, msgtype in outputs.items():
        assert {m for _, m, _ in topics[topic]} == {msgtype}, topic
        stamps = [stamp for stamp, _, _ in topics[topic]]
        assert stamps == sorted(stamps), f"{topic} goes back in time"
        for stamp, _, msg in topics[topic]:
            if hasattr(msg, "header"):  # stamped with the bag's time, like the node under sim time
                assert msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec == stamp
                assert msg.header.frame_id == "map"

    # Periodic outputs follow the node's rates over the bag's time, plus one final set.
    outputs = Settings().node
    colors = [stamp for stamp, _, _ in topics["/camera/color/image_raw"]]
    duration = (colors[-1] - colors[0]) * 1e-9
    for name, rate in (("status", outputs.status_rate), ("map", outputs.map_publish_rate)):
        periodic = len(topics[f"/{NODE_NAME}/{name}"]) - 1
        assert math.floor(duration * rate) <= periodic <= math.floor(duration * rate) + 1, name
    assert [t for t, _, _ in topics[f"/{NODE_NAME}/path"]] == [t for t, _, _ in topics[f"/{NODE_NAME}/map"]]
    status = json.loads(topics[f"/{NODE_NAME}/status"][-1][2].data)
    assert status["frames_integrated"] == status["memory_frames"] == 45


def test_markers_at_the_end_show_every_object_of_the_final_memory(replayed):
    snapshot = SpatialMemory.from_file(replayed / "memory.npz").snapshot()
    topics = _messages(replayed / "run.mcap")
    arrays = [msg for _, _, msg in topics[f"/{NODE_NAME}/markers"]]
    for array in arrays:  # each set replaces the previous one
        assert array.markers[0].action == ns.Marker.DELETEALL
        assert all(m.action == ns.Marker.ADD for m in array.markers[1:])
    end = [a for a in arrays if not any(m.ns == ns.NS_ANSWER_TEXT for m in a.markers)][-1]
    boxes = {m.id: m for m in end.markers if m.ns == ns.NS_OBJECTS}
    assert snapshot.objects and set(boxes) == {obj.id for obj in snapshot.objects}
    for obj in snapshot.objects:
        corners = {tuple(np.round([p.x, p.y, p.z], 5)) for p in boxes[obj.id].points}
        assert corners == {tuple(c) for c in np.round(obj.corners(), 5)}
    labels = {m.id: m.text for m in end.markers if m.ns == ns.NS_LABELS}
    assert labels == {obj.id: f"{obj.label} #{obj.id}" for obj in snapshot.objects}
    (strip,) = [m for m in end.markers if m.ns == ns.NS_TRAJECTORY]
    np.testing.assert_allclose([[p.x, p.y, p.z] for p in strip.points], snapshot.trajectory.poses[:, :3, 3],
                               atol=1e-9)

    path = topics[f"/{NODE_NAME}/path"][-1][2]
    assert len(path.poses) == len(snapshot.trajectory) == 45
    cloud = topics[f"/{NODE_NAME}/map"][-1][2]
    points, colors = points_and_colors(cloud)
    np.testing.assert_allclose(points, snapshot.scene_map.points, atol=1e-5)
    np.testing.assert_array_equal(colors, snapshot.scene_map.colors)


def test_each_answer_is_recorded_with_the_markers_it_touched(replayed, recording):
    answers = _answers(replayed / "answers.jsonl")
    topics = _messages(replayed / "run.mcap")
    recorded = [json.loads(msg.data) for _, _, msg in topics[f"/{NODE_NAME}/answers"]]
    questions = {q["id"]: q["question"] for q in map(json.loads, recording.questions_jsonl.read_text().splitlines())}
    assert [r["id"] for r in recorded] == list(answers)
    for row in recorded:
        assert row["question"] == questions[row["id"]]
        assert {k: v for k, v in row.items() if k != "question"} == answers[row["id"]]
    last_frame = max(stamp for stamp, _, _ in topics["/camera/color/image_raw"])
    answer_times = [stamp for stamp, _, _ in topics[f"/{NODE_NAME}/answers"]]
    assert min(answer_times) > last_frame  # after the stream, one at a time
    answer_sets = [msg for _, _, msg in topics[f"/{NODE_NAME}/markers"]
                   if any(m.ns == ns.NS_ANSWER_TEXT for m in msg.markers)]
    assert len(answer_sets) == sum(row["ok"] for row in answers.values())
    highlighted = [{m.id for m in a.markers if m.ns == ns.NS_ANSWER_OBJECTS} for a in answer_sets]
    assert sum(bool(ids) for ids in highlighted) >= len(answer_sets) // 2  # most answers are about objects
    for array in answer_sets:
        boxes = {m.id for m in array.markers if m.ns == ns.NS_OBJECTS}
        assert {m.id for m in array.markers if m.ns == ns.NS_ANSWER_OBJECTS} <= boxes


def test_record_inputs_copies_the_bag_topics_unchanged(replayed, recording):
    copied = defaultdict(list)
    original = defaultdict(list)
    for path, into in ((replayed / "run.mcap", copied), (recording.bag, original)):
        with AnyReader([path], default_typestore=TYPESTORE) as reader:
            for connection, stamp, raw in reader.messages():
                if not connection.topic.startswith(f"/{NODE_NAME}/"):
                    into[connection.topic].append((stamp, bytes(raw)))
    assert set(copied) == set(original) and "/camera/color/image_raw" in copied
    for topic in original:
        assert copied[topic] == original[topic], topic


def test_rerun_recording_read_back_with_rerun(replayed, recording, rerun_rows):
    rr = pytest.importorskip("rerun")
    chunks = rr.chunk.RrdReader(replayed / "run.rrd").stream().to_chunks()
    rows = rerun_rows(chunks)
    questions = len(recording.questions_jsonl.read_text().splitlines())
    assert rows["/world/camera", "Transform3D:translation"] == rows["/world/camera/image", "EncodedImage:blob"] == 45
    assert rows["/world/camera/image", "Pinhole:image_from_camera"] == 1  # logged when it changes
    assert rows["/answers"] == questions
    assert rows["/world/objects"] >= 2 and rows["/world/map"] >= 1 and rows["/world/trajectory"] >= 2
    assert rows["/world/answer/objects"] >= 1
    timelines = {name for chunk in chunks if chunk.entity_path == "/world/camera" for name in chunk.timeline_names}
    assert {"time", "frame"} <= timelines

    snapshot = SpatialMemory.from_file(replayed / "memory.npz").snapshot()
    last = [c for c in chunks if c.entity_path == "/world/objects"][-1].to_record_batch()
    labels = last.column("Boxes3D:labels").to_pylist()[-1]
    assert sorted(labels) == sorted(f"{obj.label} #{obj.id}" for obj in snapshot.objects)
    from io import BytesIO

    from PIL import Image

    images = next(c for c in chunks if c.entity_path == "/world/camera/image" and "EncodedImage:blob" in
                  c.to_record_batch().schema.names).to_record_batch()
    first = Image.open(BytesIO(bytes(images.column("EncodedImage:blob").to_pylist()[0][0])))
    assert first.format == "JPEG" and first.size == (128, 96)  # 256 x 192 strided by 2


@pytest.mark.parametrize("flag, suffix", [("--record", ".mcap"), ("--rerun", ".rrd")])
def test_a_bad_output_path_fails_before_the_replay(recording, tmp_path, capsys, flag, suffix):
    if flag == "--rerun":
        pytest.importorskip("rerun")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    folder = tmp_path / f"folder{suffix}"
    folder.mkdir()
    for bad, reason in ((blocker / f"out{suffix}", "cannot create the folder"), (folder, "is a folder"),
                        (tmp_path / "out.txt", f"expected a {suffix} file name")):
        answers = tmp_path / "answers.jsonl"
        code = replay_main([str(recording.bag), "--questions", str(recording.questions_jsonl),
                            "--output", str(answers), flag, str(bad)])
        captured = capsys.readouterr()
        assert code == 1 and reason in captured.err and str(bad) in captured.err
        assert "frames integrated" not in captured.out and not answers.exists()  # no work was done
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", f"folder{suffix}"]  # nothing left behind


def test_missing_rerun_sdk_is_a_clear_error(recording, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "rerun", None)  # as if rerun-sdk were not installed
    code = replay_main([str(recording.bag), "--rerun", str(tmp_path / "x.rrd"), "--record", str(tmp_path / "x.mcap")])
    assert code == 1 and "pip install 'rerun-sdk==0.41.0'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # the MCAP opened first was discarded too


def test_a_recording_that_fails_midway_keeps_the_answers(recording, tmp_path, capsys, monkeypatch):
    """A full disk, stood in for by a writer that raises after a few messages (the only double here)."""
    real_write = McapRecorder._write
    calls = []

    def failing(self, name, description, bag_time):
        calls.append(name)
        if len(calls) > 3:
            self._writer.write = _disk_full
        real_write(self, name, description, bag_time)

    monkeypatch.setattr(McapRecorder, "_write", failing)
    answers = tmp_path / "answers.jsonl"
    code = replay_main([str(recording.bag), "--questions", str(recording.questions_jsonl), "--output", str(answers),
                        "--record", str(tmp_path / "run.mcap"), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 1 and "No space left on device" in captured.err and "recording" in captured.err
    assert len(answers.read_text().splitlines()) == len(recording.questions_jsonl.read_text().splitlines())
    assert "questions answered" in captured.out
    with AnyReader([tmp_path / "run.mcap"], default_typestore=TYPESTORE) as reader:  # what was written is kept
        assert sum(c.msgcount for c in reader.connections) == 3


def _disk_full(*_):
    raise OSError(28, "No space left on device")


def test_recorded_markers_render_headless(replayed, tmp_path):
    """What docs/visualisation.md shows: the recorded messages drawn with matplotlib (no RViz here)."""
    from reasmory_ros.visual.render import main as render_main
    from reasmory_ros.visual.render import read_recorded

    answers = _answers(replayed / "answers.jsonl")
    answered = next(i for i, row in answers.items() if row["ok"] and "distance" in row["program"])
    end, cloud, _ = read_recorded(replayed / "run.mcap")
    assert not any(m.ns == ns.NS_ANSWER_TEXT for m in end.markers) and cloud.width > 0
    with_answer, _, caption = read_recorded(replayed / "run.mcap", answered)
    assert {m.ns for m in with_answer.markers} >= {ns.NS_ANSWER_OBJECTS, ns.NS_DISTANCES, ns.NS_ANSWER_TEXT}
    assert str(answers[answered]["answer"]) in caption
    assert render_main([str(replayed / "run.mcap"), str(tmp_path / "end.png")]) == 0
    assert render_main([str(replayed / "run.mcap"), str(tmp_path / "answer.png"), "--answer", answered, "--top"]) == 0
    assert (tmp_path / "end.png").stat().st_size > 50_000 and (tmp_path / "answer.png").stat().st_size > 50_000
    assert render_main([str(replayed / "run.mcap"), str(tmp_path / "x.png"), "--answer", "no-such-id"]) == 1


def test_object_history_over_the_recording(replayed):
    """--timeline's data: each object from its first marker set on, ending at its final box."""
    from reasmory_ros.visual.render import object_history, read_marker_sets, render_timeline

    snapshot = SpatialMemory.from_file(replayed / "memory.npz").snapshot()
    sets = read_marker_sets(replayed / "run.mcap")
    history = object_history(sets)
    assert set(history) == {obj.id for obj in snapshot.objects}
    for obj in snapshot.objects:
        entry = history[obj.id]
        assert entry["label"] == f"{obj.label} #{obj.id}"
        np.testing.assert_allclose(entry["centers"][-1], obj.center, atol=1e-5)
        assert entry["times"][-1] == sets[-1][0] * 1e-9 and np.all(np.diff(entry["times"]) > 0)
    first = next(stamp for stamp, array in sets if any(m.ns == ns.NS_OBJECTS for m in array.markers))
    assert min(e["times"][0] for e in history.values()) == first * 1e-9
    assert render_timeline(history, replayed / "timeline.png").stat().st_size > 20_000
