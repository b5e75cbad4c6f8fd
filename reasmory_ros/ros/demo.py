"""`make demo`: the whole product on the embedded demo scene, over real DDS.

Generates (once, cached) a simulated recording, starts the node in its own process, plays the bag
to it with `reasmory-play`, asks one question of every type through `~/ask`, prints answer,
ground truth and program side by side, and draws one answer on a top-down picture of the memory.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import rclpy
from std_msgs.msg import String

from reasmory_interfaces.srv import AskSpatial, MemoryFile
from reasmory_ros.replay.evaluate import evaluate
from reasmory_ros.sim.cli import simulate

PICTURE_TYPES = ("object_abs_distance", "route_planning", "object_rel_direction_medium")
"""Question types whose answer draws well on the picture, in order of preference."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reasmory-demo",
        description="Stream the demo scene to the reasmory node and ask it one question of every type.")
    parser.add_argument("--seed", type=int, default=7, help="demo scene seed")
    parser.add_argument("--frames", type=int, default=300, help="frames in the recording (10 per second)")
    parser.add_argument("--rate", type=float, default=1.0, help="playback speed (1.0 = real time)")
    parser.add_argument("--cache", type=Path, default=Path(".cache/demo"), help="where recordings are kept")
    parser.add_argument("--picture", type=Path, default=Path("docs/demo.png"), help="top-down picture to write")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the node or an answer")
    return parser


def recording_for(args):
    """The cached recording for these settings, generated on first use."""
    out = args.cache / f"seed{args.seed}-frames{args.frames}"
    if not (out / "questions.jsonl").exists():
        print(f"demo: generating the demo scene (seed {args.seed}, {args.frames} frames) into {out}")
        simulate(out, seed=args.seed, frames=args.frames, force=True, progress=True)
    return out


class DemoClient:
    """Calls the node's services and follows its status, from the demo process."""

    def __init__(self, node_name: str = "/reasmory"):
        self.node = rclpy.create_node("reasmory_demo")
        self.ask = self.node.create_client(AskSpatial, f"{node_name}/ask")
        self.save = self.node.create_client(MemoryFile, f"{node_name}/save")
        self.status: dict = {}
        self.status_count = 0
        self.node.create_subscription(String, f"{node_name}/status", self._on_status, 10)

    def _on_status(self, msg: String) -> None:
        self.status = json.loads(msg.data)
        self.status_count += 1

    def call(self, client, request, timeout: float):
        future = client.call_async(request)
        rclpy.spin_until_future_complete(self.node, future, timeout_sec=timeout)
        if not future.done():
            raise TimeoutError(f"{client.srv_name} did not answer within {timeout:.0f} s")
        return future.result()

    def wait_for_node(self, timeout: float) -> None:
        if not self.ask.wait_for_service(timeout_sec=timeout):
            raise TimeoutError(f"the node's {self.ask.srv_name} service did not appear within {timeout:.0f} s")

    def wait_until_idle(self, player: subprocess.Popen, timeout: float) -> None:
        """Spin until the player is done and the node has integrated or dropped every frame: two
        status messages after the player's end with nothing waiting and no new frame received."""
        self.status_count = 0
        previous, deadline = None, None
        while True:
            rclpy.spin_once(self.node, timeout_sec=0.2)
            if player.poll() is None:
                self.status_count = 0
                continue
            deadline = deadline or time.monotonic() + timeout
            if self.status_count and self.status is not previous:
                idle = self.status.get("queue_length") == 0 and self.status.get("pending_frames", 0) == 0
                if idle and previous is not None and \
                        previous.get("frames_received") == self.status.get("frames_received"):
                    return
                previous = self.status
            if time.monotonic() > deadline:
                return


def _truncate(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def ask_every_type(client: DemoClient, questions: list[dict], timeout: float) -> tuple[list[dict], list[dict]]:
    """One question of each type through ~/ask; prints a table row per answer.

    Returns (answers, the questions asked)."""
    chosen = {}
    for question in questions:
        chosen.setdefault(question["type"], question)
    answers = []
    print(f"\n{'type':<36} {'answer':<28} {'truth':<28} {'ok':<3} question / program")
    for qtype, question in chosen.items():
        response = client.call(client.ask, AskSpatial.Request(question=question["question"],
                                                              options=question.get("options") or []), timeout)
        answer = response.value if response.is_numeric else response.value_text
        answers.append({"id": question["id"], "answer": answer if response.success else None,
                        "program": response.program, "ok": response.success})
        score = evaluate([answers[-1]], [question]).overall
        shown = f"{answer:.2f} {response.unit}" if response.is_numeric else (answer or response.error)
        truth = question["answer"]
        truth = f"{truth:.2f}" if isinstance(truth, float) else truth
        print(f"{qtype:<36} {_truncate(shown, 28):<28} {_truncate(truth, 28):<28} "
              f"{'✓' if score >= 0.5 else '✗':<3} {_truncate(question['question'], 90)}")
        print(f"{'':<98} {_truncate(response.program, 90)}")
    return answers, list(chosen.values())


def draw_picture(memory_file: Path, questions: list[dict], picture: Path) -> None:
    """Answer one drawable question offline on the node's saved memory and draw it."""
    from reasmory_ros.memory import SpatialMemory
    from reasmory_ros.planning import answer_question
    from reasmory_ros.replay.topdown import plot_topdown

    snapshot = SpatialMemory.from_file(memory_file).snapshot()
    for qtype in PICTURE_TYPES:
        for question in (q for q in questions if q["type"] == qtype):
            result = answer_question(question["question"], question.get("options"), snapshot)
            if result.ok:
                plot_topdown(snapshot, picture, answer=result.dsl_answer,
                             title=_truncate(question["question"], 110))
                print(f"demo: wrote {picture} (answer drawn: {_truncate(question['question'], 80)})")
                return
    plot_topdown(snapshot, picture)
    print(f"demo: wrote {picture}")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    recording = recording_for(args)
    questions = [json.loads(line) for line in (recording / "questions.jsonl").read_text().splitlines()]
    log_path = args.cache / "node.log"
    memory_file = (args.cache / "demo-memory.npz").resolve()
    print(f"demo: starting the node (log: {log_path})")
    with log_path.open("w") as log:
        node = subprocess.Popen([sys.executable, "-m", "reasmory_ros.ros.node", "--ros-args",
                                 "-p", "qos:=reliable", "-p", f"snapshot_path:={memory_file}"],
                                stdout=log, stderr=subprocess.STDOUT)
    rclpy.init()
    try:
        client = DemoClient()
        client.wait_for_node(args.timeout)
        print(f"demo: playing {args.frames} frames at {args.rate}x real time")
        player = subprocess.Popen([sys.executable, "-m", "reasmory_ros.ros.player", str(recording / "bag"),
                                   "--rate", str(args.rate), "--qos", "reliable",
                                   "--wait-for-subscribers"])
        client.wait_until_idle(player, args.timeout)
        status = client.status
        dropped = sum(status.get("frames_dropped", {}).values())
        print(f"demo: {status.get('frames_integrated')} frames integrated, {dropped} dropped "
              f"{status.get('frames_dropped')}, "
              f"update p50 {status.get('update_ms_p50')} ms, {status.get('objects')} objects")
        answers, asked = ask_every_type(client, questions, args.timeout)
        report = evaluate(answers, asked)
        print(f"\ndemo: {sum(a['ok'] for a in answers)}/{len(answers)} answered, "
              f"VSI-Bench score on these {report.overall:.2f}")
        saved = client.call(client.save, MemoryFile.Request(path=""), args.timeout)
        if not saved.success:
            raise RuntimeError(f"~/save failed: {saved.message}")
        draw_picture(memory_file, questions, args.picture)
    except (TimeoutError, RuntimeError) as err:
        print(f"demo: {err} (node log: {log_path})", file=sys.stderr)
        return 1
    finally:
        rclpy.try_shutdown()
        node.send_signal(signal.SIGINT)
        try:
            node.wait(timeout=20)
        except subprocess.TimeoutExpired:
            node.kill()
    print(f"demo: done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
