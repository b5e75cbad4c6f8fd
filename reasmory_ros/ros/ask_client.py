"""`reasmory-ask "question"`: ask the running node's ~/ask service and print the answer.

Exit status: 0 answered, 1 the node could not answer (the reason is printed), 2 no node / timeout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import rclpy
from rclpy.signals import SignalHandlerOptions
from rclpy.utilities import remove_ros_args

from reasmory_interfaces.srv import AskSpatial
from reasmory_ros.config import PLANNER_KINDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reasmory-ask",
        description="Ask the running reasmory node a spatial question (calls <node>/ask).",
        epilog='example: reasmory-ask "how far is the sofa from the tv?"\n'
        '         reasmory-ask "is the lamp left or right of the bed?" --options left right',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("question", help="the question, in quotes")
    parser.add_argument(
        "--options",
        nargs="+",
        default=[],
        metavar="OPTION",
        help="multiple-choice options; the answer is then one of them",
    )
    parser.add_argument(
        "--planner",
        default="",
        choices=["", *PLANNER_KINDS],
        help="override the node's planner parameter for this question",
    )
    parser.add_argument("--node", default="/reasmory", help="the node's fully qualified name (default: %(default)s)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="seconds to wait for the service and for the answer (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print the whole response as JSON")
    return parser


def format_response(response) -> str:
    """Answer, program and attempts, as a person reads them."""
    lines = [f"answer: {response.answer}" if response.success else f"no answer: {response.error}"]
    if response.program:
        lines.append("program:")
        lines += [f"  {line}" for line in response.program.splitlines()]
    if response.attempts:
        lines.append("attempts:")
        for i, attempt in enumerate(response.attempts, 1):
            outcome = "ok" if attempt.ok else "failed: " + attempt.error.replace("\n", "\n     ")
            lines.append(f"  {i}. {attempt.planner}: {outcome}")
    return "\n".join(lines)


def response_dict(response) -> dict:
    return {
        "success": response.success,
        "answer": response.answer,
        "value_text": response.value_text,
        "is_numeric": response.is_numeric,
        "value": response.value,
        "unit": response.unit,
        "program": response.program,
        "error": response.error,
        "attempts": [
            {"planner": a.planner, "program": a.program, "ok": a.ok, "error": a.error} for a in response.attempts
        ],
        "markers": len(response.markers.markers),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(remove_ros_args(["reasmory-ask", *argv])[1:])
    # No rclpy signal handlers: Ctrl-C is a KeyboardInterrupt while the context is still valid.
    rclpy.init(args=["reasmory-ask", *argv], signal_handler_options=SignalHandlerOptions.NO)
    node = rclpy.create_node("reasmory_ask")
    try:
        service = f"{args.node.rstrip('/')}/ask"
        client = node.create_client(AskSpatial, service)
        if not client.wait_for_service(timeout_sec=args.timeout):
            print(
                f"error: service {service} is not available after {args.timeout:g} s. Is the node running "
                "(ros2 launch reasmory_ros reasmory.launch.py) in this ROS_DOMAIN_ID, and is --node its name?",
                file=sys.stderr,
            )
            return 2
        request = AskSpatial.Request(question=args.question, options=args.options, planner=args.planner)
        future = client.call_async(request)
        deadline = time.monotonic() + args.timeout
        while not future.done() and time.monotonic() < deadline:
            rclpy.spin_until_future_complete(node, future, timeout_sec=0.1)
        if not future.done():
            print(f"error: no answer from {service} within {args.timeout:g} s", file=sys.stderr)
            return 2
        response = future.result()
        print(json.dumps(response_dict(response), indent=2) if args.json else format_response(response))
        return 0 if response.success else 1
    except KeyboardInterrupt:
        return 2
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    sys.exit(main())
