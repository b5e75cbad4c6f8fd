"""`reasmory-ask-offline SNAPSHOT "question"`: ask a saved memory a question, print program and answer.

Exit status: 0 answered, 1 not answered (not understood or every attempt failed), 2 the memory
file or the planner configuration could not be used.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from reasmory_ros.config import PLANNER_KINDS
from reasmory_ros.config.settings import PlannerSettings
from reasmory_ros.memory.snapshot import MemorySnapshot
from reasmory_ros.planning.answering import answer_question
from reasmory_ros.planning.base import QuestionResult
from reasmory_ros.planning.factory import build_planner

DEFAULTS = PlannerSettings()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reasmory-ask-offline", description="Answer a spatial question from a saved Reasmory memory."
    )
    parser.add_argument("snapshot", help="memory file written by SpatialMemory.save")
    parser.add_argument("question", help="the question, in natural language")
    parser.add_argument("--options", nargs="+", help="multiple-choice options (the answer is one of them)")
    parser.add_argument("--planner", choices=PLANNER_KINDS, default="rule",
                        help="who writes the program (default: rule); model planners fall back to rules")
    # Flags are the node's planner parameters, so a parameters file and a command line read alike.
    parser.add_argument("--local-model-path", help="local transformers model directory (--planner local)")
    parser.add_argument("--device", default="cpu", help="torch device for the local model (default: cpu)")
    parser.add_argument("--remote-base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1")
    parser.add_argument("--remote-model", help="model name sent to the endpoint (--planner remote)")
    parser.add_argument("--remote-api-key-env", default=DEFAULTS.remote_api_key_env,
                        help="environment variable holding the API key (default: %(default)s)")
    parser.add_argument("--remote-timeout", type=float, default=DEFAULTS.remote_timeout,
                        help="seconds per HTTP request (default: %(default)s)")
    parser.add_argument("--max-attempts", type=int, default=DEFAULTS.max_attempts,
                        help="model tries before the rule fallback (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return parser


def load_snapshot(path: str) -> MemorySnapshot:
    from reasmory_ros.memory import SpatialMemory

    return SpatialMemory.from_file(path).snapshot()


def render(result: QuestionResult, as_json: bool) -> str:
    if as_json:
        return json.dumps({"question": result.question, **result.to_json()}, indent=2, default=str)
    lines = [f"program ({result.planner or 'none'}):"] + [f"  {line}" for line in result.program.splitlines()]
    if result.ok:
        unit = f" {result.unit}" if result.unit else ""
        lines += [f"answer: {result.answer}{unit}", result.text]
    else:
        lines.append(f"no answer: {result.error}")
    failed = [a for a in result.attempts if a.error and a is not result.attempts[-1]]
    for attempt in failed:
        lines.append(f"attempt by {attempt.planner} failed ({attempt.stage}): {attempt.error.splitlines()[0]}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = PlannerSettings(
            planner=args.planner, max_attempts=args.max_attempts, local_model_path=args.local_model_path or "",
            remote_base_url=args.remote_base_url or "", remote_model=args.remote_model or "",
            remote_api_key_env=args.remote_api_key_env, remote_timeout=args.remote_timeout)
        planner = build_planner(args.planner, settings, device=args.device)
    except ValueError as err:
        print(f"reasmory-ask-offline: {err}", file=sys.stderr)
        return 2
    try:
        snapshot = load_snapshot(args.snapshot)
    except Exception as err:  # the memory reports unreadable files with its own error types
        print(f"reasmory-ask-offline: cannot load {args.snapshot}: {err}", file=sys.stderr)
        return 2
    result = answer_question(args.question, args.options, snapshot, planner=planner, max_attempts=args.max_attempts)
    print(render(result, args.json))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
