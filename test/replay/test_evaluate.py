"""VSI-Bench scoring: MRA on hand-computed cases, option letters, per-type means, CLI."""

from __future__ import annotations

import json

import pytest

from reasmory_ros.replay.evaluate import (
    EvaluationError,
    chosen_option,
    evaluate,
    main,
    mean_relative_accuracy,
    parse_number,
    read_jsonl,
)


@pytest.mark.parametrize("prediction, truth, expected", [
    (10.0, 10.0, 1.0),
    (9.0, 10.0, 0.8),    # relative error 0.10 < 1 - theta for theta = 0.50 ... 0.85 (8 of 10)
    (11.0, 10.0, 0.8),
    (17.0, 20.0, 0.7),   # 0.15 is not < 0.15: theta = 0.50 ... 0.80 (7 of 10)
    (14.0, 10.0, 0.2),   # 0.40 < 0.50, 0.45 only
    (15.0, 10.0, 0.0),   # 0.50 is not < 0.50
    (10.4, 10.0, 1.0),   # 0.04 < 0.05
    (-10.0, 10.0, 0.0),
    (0.0, 0.0, 1.0),
    (float("nan"), 3.0, 0.0),
])
def test_mean_relative_accuracy(prediction, truth, expected):
    assert mean_relative_accuracy(prediction, truth) == pytest.approx(expected)


def test_answer_parsing():
    assert parse_number(3) == 3.0 and parse_number("3.5 m") == 3.5 and parse_number("-.5") == -0.5
    assert parse_number("about 1e2 cm") == 100.0
    assert parse_number(True) is None and parse_number("left") is None and parse_number(None) is None
    options = ["left", "right", "back"]
    assert chosen_option("B", options) == "right"
    assert chosen_option(" (c) ", options) == "back"
    assert chosen_option("b.", options) == "right"
    assert chosen_option("A. left", options) == "left"
    assert chosen_option("A. right", options) is None  # letter and text disagree
    assert chosen_option("  Right ", options) == "right"
    assert chosen_option("D", options) is None
    assert chosen_option("bowl", ["bowl", "cup"]) == "bowl"
    assert chosen_option("behind", ["front", "behind"]) == "behind"


def test_evaluate_per_type_and_overall():
    gt = [
        {"id": "n1", "type": "object_abs_distance", "answer": 10.0},
        {"id": "n2", "type": "object_abs_distance", "answer": 2.0},
        {"id": "c1", "type": "object_rel_direction_easy", "answer": "right", "options": ["left", "right"]},
        {"id": "c2", "type": "object_rel_direction_easy", "answer": "left", "options": ["left", "right"]},
        {"id": "c3", "type": "object_rel_direction_easy", "answer": "left", "options": ["left", "right"]},
        {"id": "m1", "type": "room_size_estimation", "answer": 20.0},
    ]
    answers = [
        {"id": "n1", "answer": 9.0, "program": "", "ok": True},           # 0.8
        {"id": "n2", "answer": "2.0", "ok": True},                        # 1.0
        {"id": "c1", "answer": "B", "ok": True},                          # 1
        {"id": "c2", "answer": "left", "ok": False, "error": "x"},        # ok = false -> 0
        {"id": "c3", "answer": "right"},                                  # wrong -> 0
        {"id": "zz", "answer": 1.0, "ok": True},                          # unknown id, ignored
    ]                                                                     # m1 missing -> 0
    report = evaluate(answers, gt)
    assert report.per_type["object_abs_distance"].score == pytest.approx(0.9)
    assert report.per_type["object_rel_direction_easy"].score == pytest.approx(1 / 3)
    assert report.per_type["object_rel_direction_easy"].answered == 2
    assert report.per_type["room_size_estimation"].score == 0.0
    assert report.overall == pytest.approx((0.9 + 1 / 3 + 0.0) / 3)  # mean over types, not questions
    assert report.missing == ["m1"] and report.unknown == ["zz"]
    assert report.questions == 6 and report.answered == 4
    assert report.scores["n1"] == pytest.approx(0.8)
    table = report.table()
    assert "object_abs_distance" in table and "90.0%" in table and "overall" in table


def test_type_falls_back_to_answer_kind():
    report = evaluate({"a": {"answer": "A"}}, [{"id": "a", "answer": "x", "options": ["x", "y"]},
                                               {"id": "b", "answer": 4.0}])
    assert set(report.per_type) == {"multiple_choice", "numeric"}
    assert report.per_type["multiple_choice"].score == 1.0


def test_cli_table_json_and_errors(tmp_path, capsys):
    gt = tmp_path / "gt.jsonl"
    ans = tmp_path / "answers.jsonl"
    gt.write_text(json.dumps({"id": "q", "type": "object_counting", "question": "How many chairs?", "answer": 4.0})
                  + "\n\n")
    ans.write_text(json.dumps({"id": "q", "answer": 3, "program": "count(\"chair\")", "ok": True}) + "\n")
    assert main([str(ans), str(gt), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["overall"] == pytest.approx(0.5)  # |3 - 4| / 4 = 0.25 < 0.50 ... 0.30 (5 of 10)
    assert main([str(ans), str(gt)]) == 0
    assert "object_counting" in capsys.readouterr().out
    ans.write_text("{not json\n")
    assert main([str(ans), str(gt)]) == 2
    assert "answers.jsonl:1" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.jsonl"), str(gt)]) == 2
    with pytest.raises(EvaluationError, match="expected an object"):
        ans.write_text("[1, 2]\n")
        read_jsonl(ans)
