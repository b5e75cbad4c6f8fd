"""Services of the node over DDS: run_program, save/load/reset, ask errors, parameter descriptors,
bad input messages, and start-up refusals of bad parameters."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
from rcl_interfaces.srv import DescribeParameters, SetParameters
from sensor_msgs.msg import Image
from std_msgs.msg import String
from std_srvs.srv import Trigger

from reasmory_interfaces.srv import AskSpatial, MemoryFile, RunProgram
from reasmory_ros.ros.conversions import header

pytestmark = [pytest.mark.ros, pytest.mark.slow]

REPO_CONFIG = "config/reasmory.yaml"
N = 12
WALKED = "answer(distance(camera(frame=1), camera(frame=12)))"
WALKED_QUESTION = "How far is the camera at frame 12 from where it was at frame 1, in meters?"


def publish_bad_messages(harness, stamp_ns: int) -> None:
    """A depth image in an unsupported encoding and labels that are not JSON."""
    bad_depth = Image(header=header(stamp_ns, "camera"), height=2, width=2, encoding="bgr8", step=6, data=bytes(12))
    harness.publishers["depth"].publish(bad_depth)
    harness.publishers["labels"].publish(String(data="{not json"))


def test_services_and_bad_inputs(recording, harness, start_node, tmp_path):
    start_node(("--params-file", REPO_CONFIG), qos="reliable", queue_size=32, status_rate=4.0)
    run = harness.client(RunProgram, "run_program")
    save, load = harness.client(MemoryFile, "save"), harness.client(MemoryFile, "load")
    reset, ask = harness.client(Trigger, "reset"), harness.client(AskSpatial, "ask")
    harness.wait_for_subscribers()

    frames = recording.frames[:N]
    harness.stream(frames, rate=10.0)
    publish_bad_messages(harness, int(round(frames[-1].timestamp * 1e6)) * 1000 + 50_000_000)
    status = harness.wait_status(lambda s: s["frames_integrated"] == N and s["errors"].get("labels"))
    assert status["errors"] == {"depth": 1, "labels": 1}, "each bad message is counted against its topic"

    # A type error is refused before anything runs, with a position.
    bad = harness.call(run, RunProgram.Request(program="answer(count(5))"))
    assert not bad.success and "line 1, column" in bad.error and bad.answer == ""
    walked = harness.call(run, RunProgram.Request(program=WALKED))
    expected = np.linalg.norm(frames[-1].T_world_camera[:3, 3] - frames[0].T_world_camera[:3, 3])
    assert walked.success and walked.is_numeric and walked.unit == "m"
    assert walked.value == pytest.approx(expected, abs=0.01)
    assert {m.ns for m in walked.markers.markers} >= {"answer_cameras", "answer_distances"}

    # Save to the default path and to a new folder; an unwritable path is a clear failure.
    assert harness.call(save, MemoryFile.Request(path="")).success
    copy = tmp_path / "nested" / "copy.npz"
    saved = harness.call(save, MemoryFile.Request(path=str(copy)))
    assert saved.success and copy.is_file() and str(copy) in saved.message
    refused = harness.call(save, MemoryFile.Request(path="/proc/reasmory/memory.npz"))
    assert not refused.success and refused.message

    assert harness.call(reset, Trigger.Request()).success
    harness.wait_status(lambda s: s["memory_frames"] == 0)
    assert not harness.call(run, RunProgram.Request(program=WALKED)).success

    missing = harness.call(load, MemoryFile.Request(path=str(tmp_path / "missing.npz")))
    assert not missing.success and "missing.npz" in missing.message
    loaded = harness.call(load, MemoryFile.Request(path=str(copy)))
    assert loaded.success, loaded.message
    harness.wait_status(lambda s: s["memory_frames"] == N)
    again = harness.call(run, RunProgram.Request(program=WALKED))
    assert again.success and again.value == pytest.approx(walked.value)

    # A place answer over DDS (its position, goal and object fields: test_ask_response_fields).
    label = harness.call(run, RunProgram.Request(program="answer(largest(all_objects()).memory_label)")).answer
    where = harness.call(ask, AskSpatial.Request(question=f"Where is the largest {label}?"))
    assert where.success and f"The {label} is" in where.answer, where.error

    # Planner problems are answers with a reason, not crashes.
    unknown = harness.call(ask, AskSpatial.Request(question="How many beds are there?", planner="oracle"))
    assert not unknown.success and "expected one of rule, local, remote" in unknown.error
    local = harness.call(ask, AskSpatial.Request(question="How many beds are there?", planner="local"))
    assert not local.success and "local_model_path" in local.error
    empty = harness.call(ask, AskSpatial.Request(question="  "))
    assert not empty.success and "empty" in empty.error

    # The command-line client prints the answer, the program and the attempts.
    printed = ask_cli(WALKED_QUESTION)
    assert printed.returncode == 0 and "answer:" in printed.stdout and "program:" in printed.stdout, printed.stderr
    as_json = json.loads(ask_cli("How many oracles are there?", "--json").stdout)
    assert as_json["success"] is False and as_json["error"] and as_json["attempts"]

    # Descriptors carry the spec table's ranges; choices are enforced on run-time changes too.
    describe = harness.client(DescribeParameters, "describe_parameters")
    described = {
        d.name: d
        for d in harness.call(
            describe, DescribeParameters.Request(names=["marker_rate", "queue_size", "planner", "memory.voxel_size"])
        ).descriptors
    }
    assert described["marker_rate"].floating_point_range[0].to_value == 30.0
    assert described["queue_size"].integer_range[0].from_value == 1 and described["queue_size"].read_only
    assert not described["planner"].read_only and "one of: rule, local, remote" in described["planner"].description
    assert "unit: m" in described["memory.voxel_size"].description
    set_parameters = harness.client(SetParameters, "set_parameters")
    result = harness.call(
        set_parameters,
        SetParameters.Request(
            parameters=[
                Parameter(
                    name="planner", value=ParameterValue(type=ParameterType.PARAMETER_STRING, string_value="oracle")
                )
            ]
        ),
    )
    assert not result.results[0].successful and "expected one of" in result.results[0].reason


def ask_cli(*args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "reasmory_ros.ros.ask_client", *args], capture_output=True, text=True, timeout=timeout
    )


def test_ask_client_without_a_node_says_so():
    result = ask_cli("how far is the sofa from the tv?", "--node", "/nobody", "--timeout", "1")
    assert result.returncode == 2 and "service /nobody/ask is not available" in result.stderr


@pytest.mark.parametrize(
    "override, message",
    [
        ("qos:=fast", "parameter 'qos' is 'fast'; expected one of sensor_data, reliable"),
        ("marker_rate:=100.0", "marker_rate out of range"),
        ("memory.max_depth:=0.05", "MemoryConfig.min_depth must be smaller than max_depth"),
        ("depth_topic:=''", "depth_topic is empty, so depth must be estimated from color: set perception.depth_model_path"),
    ],
)
def test_bad_parameters_stop_the_node_with_a_reason(override, message):
    result = subprocess.run(
        [sys.executable, "-m", "reasmory_ros.ros.node", "--ros-args", "-p", "device:=cpu", "-p", override],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and message in result.stderr, result.stderr[-2000:]


def test_ask_response_fields_carry_place_goal_time_and_objects():
    """QuestionResult -> AskSpatial response: position, a unit-quaternion goal facing along its yaw in
    the node's frame, the stamp split into sec/nanosec, and the objects used."""
    from builtin_interfaces.msg import Time
    from rclpy.serialization import deserialize_message, serialize_message

    from reasmory_ros.planning.base import QuestionResult
    from reasmory_ros.ros.node import _fill_ask

    place = QuestionResult(question="Where is the sofa?", options=None, ok=True, answer="on the floor",
                           text="The sofa is on the floor.", position=[1.0, 2.0, 0.4],
                           goal={"position": [1.5, 1.0, 0.0], "yaw": np.pi / 2},
                           objects=[{"id": 4, "label": "sofa"}, {"id": 9, "label": "tv"}])
    response = AskSpatial.Response()
    _fill_ask(response, place, "map", Time(sec=7))
    # Through the wire format: a field holding a look-alike type (not the message class) fails here.
    response = deserialize_message(serialize_message(response), AskSpatial.Response)
    assert response.has_position and (response.position.x, response.position.y, response.position.z) == (1.0, 2.0, 0.4)
    assert response.has_goal and response.goal.header.frame_id == "map" and response.goal.header.stamp.sec == 7
    q = response.goal.pose.orientation
    assert (q.x, q.y) == (0.0, 0.0) and (q.z, q.w) == pytest.approx((np.sqrt(0.5), np.sqrt(0.5)))
    assert response.goal.pose.position.x == 1.5 and not response.has_stamp
    assert list(response.object_ids) == [4, 9] and list(response.object_labels) == ["sofa", "tv"]

    when = QuestionResult(question="When did I last see the tv?", options=None, ok=True, answer=12,
                          stamp=1700000000.25, objects=[{"id": 9, "label": "tv"}])
    response = AskSpatial.Response()
    _fill_ask(response, when, "map", Time())
    response = deserialize_message(serialize_message(response), AskSpatial.Response)
    assert response.has_stamp and (response.stamp.sec, response.stamp.nanosec) == (1700000000, 250_000_000)
    assert response.is_numeric and response.value == 12 and not response.has_position and not response.has_goal

