"""reasmory-replay on real rosbag2 files written by the simulator into tmp_path."""

from __future__ import annotations

import json
import shutil
import sqlite3

import numpy as np
import pytest
import yaml

from reasmory_ros.config.settings import SettingsError, load_settings
from reasmory_ros.replay.cli import main as replay_main
from reasmory_ros.replay.pipeline import build_memory
from reasmory_ros.sim.cli import simulate


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """A short, low-resolution recording of scene 3 with its questions and ground truth."""
    out = tmp_path_factory.mktemp("recording")
    return simulate(out, seed=3, frames=60, width=320, height=240, questions_per_type=2)


def _answers(path):
    return {row["id"]: row for row in map(json.loads, path.read_text().splitlines())}


def test_replay_answers_every_question_in_the_contract_format(recording, tmp_path, capsys):
    answers_path = tmp_path / "answers.jsonl"
    plot = tmp_path / "top.png"
    code = replay_main([str(recording.bag), "--questions", str(recording.questions_jsonl),
                        "--output", str(answers_path), "--plot", str(plot), "--no-progress"])
    assert code == 0
    answers = _answers(answers_path)
    questions = [json.loads(line) for line in recording.questions_jsonl.read_text().splitlines()]
    assert set(answers) == {q["id"] for q in questions}
    for row in answers.values():
        assert set(row) <= {"id", "answer", "program", "ok", "error", "position", "stamp", "objects"}
        assert isinstance(row["ok"], bool)
        if row["ok"]:
            assert isinstance(row["answer"], (int, float, str)) and row["program"].strip().endswith(")")
        else:
            assert row["error"]
    # Camera questions depend only on the trajectory, so they must match the ground truth closely.
    for q in questions:
        if q["type"] == "camera_displacement":
            assert answers[q["id"]]["ok"]
            assert answers[q["id"]]["answer"] == pytest.approx(q["answer"], rel=0.05, abs=0.02)
    assert plot.stat().st_size > 10_000
    assert "frames integrated: 60" in capsys.readouterr().out


def test_params_file_topics_are_used_and_checked(recording, tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"/**/reasmory": {"ros__parameters": {"pose_topic": "/robot/pose"}}}))
    code = replay_main([str(recording.bag), "--params", str(params), "--no-progress"])
    assert code == 1
    err = capsys.readouterr().err
    assert "/robot/pose (pose)" in err and "/camera/pose" in err  # names the missing and the present

    params.write_text(yaml.safe_dump({"/**/reasmory": {"ros__parameters": {"memory": {"voxel_sise": 0.1}}}}))
    with pytest.raises(SettingsError, match="memory.voxel_sise.*did you mean 'memory.voxel_size'"):
        load_settings(params)
    params.write_text(yaml.safe_dump({"reasmory": {"ros__parameters": {"marker_rate": "fast"}}}))
    with pytest.raises(SettingsError, match="marker_rate"):
        load_settings(params)


def test_bag_without_instances_builds_geometry_and_warns(recording, tmp_path, capsys):
    bag = tmp_path / "bag"
    shutil.copytree(recording.bag, bag)
    database = next(bag.glob("*.db3"))
    with sqlite3.connect(database) as db:
        db.execute("DELETE FROM messages WHERE topic_id IN "
                   "(SELECT id FROM topics WHERE name LIKE '/camera/instances/%')")
        db.execute("DELETE FROM topics WHERE name LIKE '/camera/instances/%'")
    _drop_topics_from_metadata(bag, "/camera/instances/")
    assert replay_main([str(bag), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "frames integrated: 60" in out and "no instance topics" in out


def test_truncated_bag_keeps_the_frames_before_the_damage(recording, tmp_path, capsys):
    bag = tmp_path / "bag"
    shutil.copytree(recording.bag, bag)
    database = next(bag.glob("*.db3"))
    with sqlite3.connect(database) as db:  # the recorder died: the last 40 % of the rows are gone
        (count,) = db.execute("SELECT COUNT(*) FROM messages").fetchone()
        db.execute("DELETE FROM messages WHERE id > ?", (int(count * 0.6),))
    assert replay_main([str(bag), "--no-progress"]) == 0
    frames = int(capsys.readouterr().out.split("frames integrated: ")[1].split()[0])
    assert 30 <= frames < 60


def test_missing_bag_and_bad_questions_file_are_clear_errors(recording, tmp_path, capsys):
    assert replay_main([str(tmp_path / "nope"), "--no-progress"]) == 1
    assert "does not exist" in capsys.readouterr().err
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "a", "question": "how many chairs?"}\nnot json\n')
    assert replay_main([str(recording.bag), "--questions", str(questions), "--no-progress"]) == 1
    assert "q.jsonl:2: not JSON" in capsys.readouterr().err


def _drop_topics_from_metadata(bag, prefix):
    metadata = bag / "metadata.yaml"
    document = yaml.safe_load(metadata.read_text())
    info = document["rosbag2_bagfile_information"]
    kept = [t for t in info["topics_with_message_count"] if not t["topic_metadata"]["name"].startswith(prefix)]
    info["message_count"] = int(np.sum([t["message_count"] for t in kept]))
    info["topics_with_message_count"] = kept
    metadata.write_text(yaml.safe_dump(document))


def test_a_detector_fills_in_instances_for_a_bag_without_them(tmp_path):
    """The node's perception parameters work offline too: the detector runs on every 2nd frame."""
    testing = pytest.importorskip("reasmory_ros.perception.testing")
    detector = testing.save_random_owl(tmp_path / "owl")  # random weights: plumbing, not accuracy
    plain = simulate(tmp_path / "plain", seed=3, frames=8, width=160, height=120, instances=False)
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump({"/**/reasmory": {"ros__parameters": {"perception": {
        "detector_model_path": str(detector), "detect_every_n_frames": 2}}}}))
    memory, stats = build_memory(plain.bag, load_settings(params_file), progress=False)
    assert stats.frames == 8 and memory.frame_count == 8
    assert stats.assembler["perception"]["instances"]["detector_runs"] == 4
    assert not any("no instance topics" in warning for warning in stats.warnings)


def _params(tmp_path, **ros_parameters):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"/**/reasmory": {"ros__parameters": ros_parameters}}))
    return load_settings(path)


def test_rgbd_odometry_stands_in_for_a_missing_pose_topic(tmp_path):
    """pose_source rgbd_odometry ignores the bag's poses; the chained estimate must follow them.

    A full 300-frame loop at 30 fps (walking pace; the 60-frame fixture moves 5x faster per frame
    than a person walks) at 160 x 120, so odometry runs at full resolution.
    """
    loop = simulate(tmp_path / "loop", seed=3, frames=300, width=160, height=120, questions_per_type=1)
    truth, _ = build_memory(loop.bag, _params(tmp_path), progress=False)
    estimated, stats = build_memory(
        loop.bag, _params(tmp_path, pose_source="rgbd_odometry", perception={"odometry_downsample": 1}),
        progress=False)
    from reasmory_ros.perception.odometry import absolute_trajectory_error

    assert stats.assembler["perception"]["pose"]["tracked"] >= 295 and stats.frames >= 295
    gt, est = truth.snapshot().trajectory, estimated.snapshot().trajectory
    common = np.intersect1d(gt.frame_indices, est.frame_indices)
    pick = lambda t: t.poses[np.searchsorted(t.frame_indices, common)]  # noqa: E731
    walked = np.linalg.norm(np.diff(pick(gt)[:, :3, 3], axis=0), axis=1).sum()
    assert len(common) >= 100 and walked > 5.0  # the whole loop: drift has had time to build up
    assert absolute_trajectory_error(pick(est), pick(gt)) < 0.06  # measured 0.026 m
    assert estimated.snapshot().objects  # instances from the bag still land in the map


def test_a_depth_model_stands_in_for_a_missing_depth_topic(recording, tmp_path):
    testing = pytest.importorskip("reasmory_ros.perception.testing")
    model = testing.save_random_depth_anything(tmp_path / "depth", "metric")  # random weights: plumbing
    params = _params(tmp_path, depth_topic="", perception={"depth_model_path": str(model)})
    memory, stats = build_memory(recording.bag, params, progress=False)
    assert stats.frames == memory.frame_count == 60 and stats.assembler["perception"]["skipped_frames"] == 0
    assert "depth" in stats.assembler["perception"]


def test_no_depth_topic_and_no_depth_model_is_a_clear_error(recording, tmp_path, capsys):
    """Refused when the settings are loaded, before the bag is read."""
    with pytest.raises(SettingsError, match="depth_model_path.*depth_topic is empty"):
        _params(tmp_path, depth_topic="")
    assert replay_main([str(recording.bag), "--params", str(tmp_path / "params.yaml"), "--no-progress"]) == 1
    assert "depth_topic is empty" in capsys.readouterr().err
