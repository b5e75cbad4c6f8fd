"""reasmory-fleet on a real Ray (embedded, and a two-node `ray.cluster_utils.Cluster`) over real
rosbag2 files written by the simulator; answers are compared byte for byte with reasmory-replay."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest
import ray

from reasmory_ros.config.settings import load_settings
from reasmory_ros.memory import SpatialMemory
from reasmory_ros.replay.cli import main as replay_main
from reasmory_ros.replay.evaluate import evaluate, read_jsonl
from reasmory_ros.replay.fleet import (
    ANSWERS,
    MEMORY,
    SUMMARY,
    BagJob,
    ManifestError,
    main,
    read_manifest,
    run_fleet,
)
from reasmory_ros.sim.cli import simulate

SEEDS = (1, 2, 3, 4)
GUARD_S = 300
"""Hang guard of the barriers below (never reached when things work; not a timing assumption)."""

pytestmark = pytest.mark.slow
# The hooks below run in Ray workers, which cannot import this test module: ship it by value.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """4 small simulated bags, a corrupt one and a missing path, their manifest, and the answers
    reasmory-replay writes for each good bag (run one after another, in this process)."""
    root = tmp_path_factory.mktemp("fleet")
    lines, expected = [], {}
    for seed in SEEDS:
        sim = simulate(root / f"sim{seed}", seed=seed, frames=40, width=160, height=120, questions_per_type=1)
        bag_id = f"robot{seed}"
        entry = {"id": bag_id, "bag": f"sim{seed}/bag", "questions": f"sim{seed}/questions.jsonl"}
        if seed % 2:  # truth for some bags only: score appears only where truth is given
            entry["truth"] = f"sim{seed}/questions.jsonl"
        lines.append(entry)
        answers = root / f"replay{seed}.jsonl"
        assert replay_main([str(sim.bag), "--questions", str(sim.questions_jsonl), "--output", str(answers),
                            "--no-progress"]) == 0
        expected[bag_id] = answers.read_bytes()
    corrupt = root / "corrupt"
    corrupt.mkdir()
    (corrupt / "metadata.yaml").write_bytes((root / "sim1/bag/metadata.yaml").read_bytes())
    (corrupt / "bag_0.db3").write_bytes(b"this is not an sqlite database" * 100)
    lines.append({"id": "corrupt", "bag": "corrupt", "questions": "sim1/questions.jsonl"})
    lines.append({"id": "missing", "bag": "no/such/bag"})
    manifest = root / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    good = root / "good.jsonl"
    good.write_text("".join(json.dumps(line) + "\n" for line in lines[: len(SEEDS)]))
    return {"root": root, "manifest": manifest, "good": good, "expected": expected}


def _summary(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / SUMMARY).read_text().splitlines()]


def _assert_ok_rows_match_replay(out: Path, rows: list[dict], fleet) -> None:
    for row in rows:
        if row["status"] != "ok":
            continue
        assert (out / row["id"] / ANSWERS).read_bytes() == fleet["expected"][row["id"]], row["id"]
        assert row["frames"] == 40
        answers = read_jsonl(out / row["id"] / ANSWERS)
        assert row["questions"] == sum(a["ok"] for a in answers) > 0


def test_local_run_gives_ok_and_failed_rows_and_the_replays_answers(fleet, tmp_path, capsys):
    out = tmp_path / "out"
    code = main([str(fleet["manifest"]), "--output-dir", str(out), "--workers", "2", "--no-progress"])
    assert code == 1  # some bags failed
    rows = _summary(out)
    assert [r["id"] for r in rows] == [f"robot{s}" for s in SEEDS] + ["corrupt", "missing"]
    by_id = {r["id"]: r for r in rows}
    assert [by_id[f"robot{s}"]["status"] for s in SEEDS] == ["ok"] * 4
    _assert_ok_rows_match_replay(out, rows, fleet)
    # The score is reasmory-eval's on the same answers, present only where truth was given.
    for seed in SEEDS:
        row = by_id[f"robot{seed}"]
        if seed % 2:
            truth = read_jsonl(fleet["root"] / f"sim{seed}/questions.jsonl")
            assert row["score"] == pytest.approx(evaluate(read_jsonl(out / row["id"] / ANSWERS), truth).overall)
            assert 0 < row["score"] <= 1
        else:
            assert "score" not in row
    memory = SpatialMemory(device="cpu")
    memory.load(out / "robot2" / MEMORY)
    assert memory.frame_count == 40
    # Failed rows name the replay's own error, and leave no outputs behind.
    assert by_id["corrupt"]["status"] == "failed" and "cannot open bag" in by_id["corrupt"]["error"]
    assert by_id["missing"]["status"] == "failed" and "does not exist" in by_id["missing"]["error"]
    assert not (out / "corrupt" / ANSWERS).exists() and not (out / "missing").exists()
    table = capsys.readouterr().out
    assert "4 ok, 2 failed, 0 not run" in table and "does not exist" in table


@pytest.mark.parametrize("line, message", [
    ('{"id": "a", "bag": "x"}\nnot json', r"manifest.jsonl:2: not JSON"),
    ('["a", "x"]', r"manifest.jsonl:1: expected an object with an 'id'"),
    ('{"id": "a", "bag": "x", "questons": "q"}', r"bag 'a': unknown key\(s\) questons"),
    ('{"id": "../etc", "bag": "x"}', r"bag '../etc': the id must be"),
    ('{"id": "summary.jsonl", "bag": "x"}', r"bag 'summary.jsonl': the id must be"),
    ('{"id": 7, "bag": "x"}', r"bag 7: the id must be"),
    ('{"id": "a", "bag": "x"}\n{"id": "a", "bag": "y"}', r"bag 'a': the id is listed twice"),
    ('{"id": "a"}', r"bag 'a': 'bag' must be a path string"),
    ('{"id": "a", "bag": "x", "truth": 3}', r"bag 'a': 'truth' must be a path string"),
    ('\n', r"no bags listed"),
])
def test_bad_manifest_lines_are_clear_errors_before_any_work(tmp_path, capsys, line, message):
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text(line + "\n")
    with pytest.raises(ManifestError, match=message):
        read_manifest(manifest)
    out = tmp_path / "out"
    assert main([str(manifest), "--output-dir", str(out), "--no-progress"]) == 2
    assert "reasmory-fleet:" in capsys.readouterr().err
    assert not out.exists() and not ray.is_initialized()


def test_manifest_paths_are_relative_to_the_manifest(tmp_path):
    manifest = tmp_path / "sub" / "manifest.jsonl"
    manifest.parent.mkdir()
    manifest.write_text('{"id": "a", "bag": "bags/a", "questions": "/abs/q.jsonl"}\n')
    assert read_manifest(manifest) == [BagJob("a", manifest.parent / "bags/a", Path("/abs/q.jsonl"))]


def _wait_for(path: Path) -> None:
    """File barrier between processes: return once `path` exists (fails at the hang guard)."""
    deadline = time.monotonic() + GUARD_S
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_a_node_removed_mid_bag_leaves_exactly_one_row_per_bag(fleet, tmp_path):
    """Two nodes of one CPU each; the bag that starts on the second node blocks there until the
    node is removed, and every bag of the head node waits for that start, so the removal happens
    while a bag is running on the removed node, whatever the scheduling order."""
    from ray.cluster_utils import Cluster

    store = 100 * 2**20
    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": 1, "object_store_memory": store, "include_dashboard": False})
    doomed = cluster.add_node(num_cpus=1, object_store_memory=store)
    started = tmp_path / "started-on-doomed-node"
    doomed_id = doomed.node_id

    def before_bag(job):  # runs in the Ray workers (pickled by value)
        import threading

        import ray

        if ray.get_runtime_context().get_node_id() == doomed_id:
            started.write_text(job.id)
            threading.Event().wait(GUARD_S)  # ends when the node and this worker are killed
        else:
            _wait_for(started)

    try:
        ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
        out = tmp_path / "out"
        result: dict = {}
        runner = threading.Thread(target=lambda: result.update(summary=run_fleet(
            read_manifest(fleet["good"]), out, load_settings(), workers=2, progress=False,
            before_bag=before_bag)))
        runner.start()
        _wait_for(started)
        cluster.remove_node(doomed, allow_graceful=False)
        runner.join(GUARD_S)
        assert not runner.is_alive() and "summary" in result
    finally:
        ray.shutdown()
        cluster.shutdown()
    rows = _summary(out)
    assert sorted(r["id"] for r in rows) == sorted(fleet["expected"])  # each bag exactly once
    assert all(r["status"] == "ok" for r in rows), rows
    assert started.read_text() in fleet["expected"]  # the interrupted bag was retried elsewhere
    _assert_ok_rows_match_replay(out, rows, fleet)


def test_an_interrupted_run_resumes_without_redoing_finished_bags(fleet, tmp_path):
    out = tmp_path / "out"
    jobs = read_manifest(fleet["good"])
    ran = tmp_path / "ran.txt"

    def record(job):  # worker side: which bags a run replays, and at which priority
        import os

        with open(ran, "a") as log:
            log.write(f"{job.id} {os.nice(0)}\n")

    def stop_after_two(row):  # driver side: Ctrl-C once two bags are in the summary
        if len(_summary(out)) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # the embedded Ray is cancelled and shut down
        run_fleet(jobs, out, load_settings(), workers=2, progress=False, on_row=stop_after_two)
    assert not ray.is_initialized()
    first = _summary(out)
    assert len(first) == 2 and all(r["status"] == "ok" for r in first)
    kept = {r["id"]: (out / r["id"] / ANSWERS).stat().st_mtime_ns for r in first}

    with pytest.raises(FileExistsError, match="--resume"):  # never overwrites a run by accident
        run_fleet(jobs, out, load_settings(), progress=False)
    run_fleet(jobs, out, load_settings(), workers=2, resume=True, progress=False, before_bag=record)
    rows = _summary(out)
    assert [r["id"] for r in rows] == [job.id for job in jobs]
    ran_ids, niceness = zip(*(line.split() for line in ran.read_text().splitlines()))
    assert sorted(ran_ids) == sorted(set(fleet["expected"]) - set(kept))
    assert set(niceness) == {str(os.nice(0))}  # bags run at the command's priority, not Ray's nice 15
    assert {i: (out / i / ANSWERS).stat().st_mtime_ns for i in kept} == kept
    assert [r for r in rows if r["id"] in kept] == first
    _assert_ok_rows_match_replay(out, rows, fleet)
