"""`reasmory-replay BAG --inspect` on real bags: roles, tf tree and what is missing, no processing."""

from __future__ import annotations

import yaml

from reasmory_ros.replay.cli import main as replay_main
from reasmory_ros.sim.bag import write_scene_bag
from reasmory_ros.sim.drivers import DepthCamera, write_layout_bag
from reasmory_ros.sim.layout import generate_scene


def _params(tmp_path, **values):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"/**/reasmory": {"ros__parameters": values}}))
    return str(path)


def test_inspect_names_every_topics_use_and_the_tf_tree(tmp_path, capsys):
    write_layout_bag(generate_scene(1), tmp_path / "bag", 6, width=64, height=48, noise=False,
                     depth_camera=DepthCamera(width=48, height=36), instances=False)
    assert replay_main([str(tmp_path / "bag"), "--inspect"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  /")}
    assert "colour images" in lines["/camera/camera/color/image_raw/compressed"]
    assert "CompressedImage" in lines["/camera/camera/color/image_raw/compressed"]
    assert "depth images" in lines["/camera/camera/depth/image_rect_raw"]
    assert "registered to colour here" in lines["/camera/camera/depth/camera_info"]
    assert "pose_source tf" in lines["/tf"] and "depth -> colour extrinsic" in lines["/tf_static"]
    assert "layout: realsense2_camera (namespace /camera/camera)" in out
    tree = out.split("tf tree:\n")[1].split("missing")[0].splitlines()
    assert tree[:3] == ["  - map", "    - odom (static)", "      - base_link (dynamic)"]
    assert "          - camera_depth_optical_frame (static)" in tree
    assert "instances_topic + labels_topic" in out.split("missing:")[1]
    assert "frames integrated" not in out  # nothing was processed


def test_inspect_says_what_is_missing_and_which_parameter_supplies_it(tmp_path, capsys):
    write_scene_bag(generate_scene(1), tmp_path / "contract", 3, width=32, height=24, noise=False)
    assert replay_main([str(tmp_path / "contract"), "--inspect",
                        "--params", _params(tmp_path, pose_topic="/robot/pose")]) == 0
    out = capsys.readouterr().out
    assert "tf tree: none" in out
    assert "/robot/pose (pose)" in out.split("missing:")[1] and "*_topic parameters" in out

    write_layout_bag(generate_scene(1), tmp_path / "rs", 3, width=32, height=24, noise=False)
    assert replay_main([str(tmp_path / "rs"), "--inspect", "--params",
                        _params(tmp_path, camera_frame="camera_ir_optical_frame")]) == 0
    out = capsys.readouterr().out
    assert "'camera_ir_optical_frame' is not in the tf tree (set camera_frame)" in out.split("missing:")[1]
