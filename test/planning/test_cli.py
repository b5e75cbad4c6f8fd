"""reasmory-ask-offline on a real saved memory file, and its rendering of real results."""

from __future__ import annotations

import json

from reasmory_ros.memory import SpatialMemory
from reasmory_ros.planning import answer_question
from reasmory_ros.planning.cli import main, render


def test_saved_memory_round_trip(tmp_path, capsys):
    path = tmp_path / "memory.rsm"
    SpatialMemory().save(path)
    code = main([str(path), "How far apart are the piano and the sofa?", "--json"])
    record = json.loads(capsys.readouterr().out)
    assert code == 1 and record["ok"] is False and "'piano'" in record["error"]


def test_unreadable_memory_and_missing_settings_exit_2(tmp_path, capsys):
    (tmp_path / "bad.rsm").write_bytes(b"not a memory")
    assert main([str(tmp_path / "bad.rsm"), "How many chairs?"]) == 2
    assert main([str(tmp_path / "bad.rsm"), "How many chairs?", "--planner", "remote"]) == 2
    assert "remote_base_url" in capsys.readouterr().err  # names the missing setting


def test_text_output_shows_program_answer_and_sentence(snapshot):
    result = answer_question("How far apart are the sofa and the tv, in centimetres?", None, snapshot)
    text = render(result, as_json=False)
    assert "distance(a, b" in text and "answer: " in text and " cm" in text
    assert "The sofa is" in text and "measured between their closest points" in text
