"""reasmory-sim CLI: writes bag, scene.json and questions.jsonl that agree with each other."""

from __future__ import annotations

import json

import pytest
from rosbags.rosbag2 import Reader

from reasmory_ros.replay.evaluate import evaluate, read_jsonl
from reasmory_ros.sim.cli import main
from reasmory_ros.sim.ground_truth import GroundTruth


def test_cli_writes_consistent_outputs(tmp_path, capsys):
    out = tmp_path / "run"
    args = [str(out), "--seed", "1", "--frames", "12", "--width", "96", "--height", "72",
            "--storage", "mcap", "--questions-per-type", "2", "--quiet"]
    assert main(args) == 0
    gt = GroundTruth.load(out / "scene.json")
    assert gt.n_frames == 12 and (gt.width, gt.height) == (96, 72) and gt.scene.seed == 1
    with Reader(out / "bag") as reader:
        assert reader.message_count == 12 * 6
    rows = read_jsonl(out / "questions.jsonl")
    assert rows and all({"id", "type", "question", "answer"} <= set(r) for r in rows)
    # Answering with the ground truth itself scores 100 %.
    perfect = evaluate([{"id": r["id"], "answer": r["answer"], "ok": True} for r in rows], rows)
    assert perfect.overall == pytest.approx(1.0)

    assert main(args) == 2  # never overwrites silently
    assert "already exists" in capsys.readouterr().err
    assert main(args + ["--force", "--seed", "2"]) == 0
    assert json.loads((out / "scene.json").read_text())["scene"]["seed"] == 2


def test_cli_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "--frames" in text and "--storage" in text and "questions.jsonl" in text


def test_cli_writes_a_driver_layout(tmp_path):
    assert main([str(tmp_path / "rs"), "--layout", "realsense2_camera", "--frames", "3", "--width", "32",
                 "--height", "24", "--questions-per-type", "1", "--quiet"]) == 0
    with Reader(tmp_path / "rs" / "bag") as reader:
        topics = {c.topic: c.msgtype for c in reader.connections}
    assert topics["/camera/camera/color/image_raw/compressed"] == "sensor_msgs/msg/CompressedImage"
    assert topics["/tf"] == topics["/tf_static"] == "tf2_msgs/msg/TFMessage"
    assert "/camera/pose" not in topics  # poses only in tf, as a robot records them
    assert (tmp_path / "rs" / "questions.jsonl").exists()
