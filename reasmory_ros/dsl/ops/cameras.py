"""The camera's own history: poses by frame or time, first sightings, and how it moved."""

from __future__ import annotations

import numpy as np

from ...memory.snapshot import MemorySnapshot
from ..context import ExecContext
from ..errors import OperationError
from ..geometry import camera_view, direction_to
from ..registry import Param, StaticArg, StaticContext, operation
from ..types import CAMERA, DIRECTION, NUMBER, OBJECT, TEXT, Camera, Number, list_of
from ..units import convert
from .selection import check_labels, resolve_labels

TIME_SLACK = 1.0
"""A time may lie this many seconds past the last frame (the stream may just have ended)."""


def camera_at_index(snapshot: MemorySnapshot, i: int) -> Camera:
    """The camera of the trajectory's i-th stored pose; times count from the first frame."""
    trajectory = snapshot.trajectory
    return Camera(int(trajectory.frame_indices[i]),
                  float(trajectory.timestamps[i] - trajectory.timestamps[0]),
                  np.asarray(trajectory.poses[i], dtype=np.float64), float(trajectory.timestamps[i]))


def camera_at_frame(snapshot: MemorySnapshot, frame_index: int) -> Camera:
    """The camera at a 0-based frame index (the nearest stored pose when the store is thinned)."""
    try:
        snapshot.trajectory.pose_at_frame(frame_index)
    except KeyError as err:
        raise OperationError(str(err.args[0]) if err.args else "frame out of range",
                             f"frames are numbered from 1 to {snapshot.stream_frames}",
                             "frame") from None
    i = int(np.abs(snapshot.trajectory.frame_indices - frame_index).argmin())
    return camera_at_index(snapshot, i)


def _check_camera(args: dict[str, StaticArg], ctx: StaticContext) -> None:
    given = [name for name in ("which", "frame", "time") if name in args]
    if len(given) != 1:
        raise OperationError("camera() takes exactly one of: \"current\", frame=N, time=T",
                             'write camera(frame=12), camera(time=3.5) or camera("current")')
    frame = args.get("frame")
    if frame is not None and frame.known:
        number = frame.constant.value
        if not float(number).is_integer() or number < 1:
            raise OperationError(f"frame={number:g} is not a frame number",
                                 "frames are whole numbers counted from 1", "frame")
        if ctx.frame_count is not None and number > ctx.frame_count:
            raise OperationError(f"frame {number:g} is beyond the last frame",
                                 f"frames are numbered from 1 to {ctx.frame_count}", "frame")
    time = args.get("time")
    if time is not None and time.known and time.constant.value < 0:
        raise OperationError("time is counted in seconds from the first frame, so it is >= 0",
                             param="time")


@operation("camera", category="cameras", returns=CAMERA, check=_check_camera,
           params=[Param("which", (TEXT,), "the latest or the first pose", default=None,
                         choices=("current", "first")),
                   Param("frame", (NUMBER,), "frame number, counted from 1", default=None),
                   Param("time", (NUMBER,), "seconds since the first frame", default=None)],
           doc='The camera pose at a frame (1-based), at a stream time (seconds since the first '
               'frame; the nearest stored pose), or "current" (latest) / "first". Exactly one '
               "argument.")
def camera_op(ctx: ExecContext, which, frame, time):
    snapshot = ctx.snapshot
    if len(snapshot.trajectory) == 0:
        raise OperationError("the memory has no camera poses yet")
    if frame is not None:
        if not float(frame.value).is_integer() or frame.value < 1:
            raise OperationError(f"frame={frame.value:g} is not a frame number",
                                 "frames are whole numbers counted from 1", "frame")
        camera = camera_at_frame(snapshot, int(frame.value) - 1)
    elif time is not None:
        stamps = snapshot.trajectory.timestamps
        seconds = convert(time, "s").value
        duration = float(stamps[-1] - stamps[0])
        if not -1e-9 <= seconds <= duration + TIME_SLACK:
            raise OperationError(f"time {seconds:g} s is outside the stream (0 to {duration:.2f} s)",
                                 param="time")
        camera = camera_at_index(snapshot, int(np.abs(stamps - stamps[0] - seconds).argmin()))
    else:
        camera = camera_at_index(snapshot, -1 if which == "current" else 0)
    ctx.trace.value(camera)
    return camera


@operation("first_seen", category="cameras", returns=CAMERA,
           params=[Param("object", (OBJECT,), "the object")],
           doc="The camera at the frame where the object was first observed.")
def first_seen_op(ctx: ExecContext, object):
    ctx.trace.value(object)
    camera = camera_at_frame(ctx.snapshot, int(object.record.first_seen_frame))
    ctx.trace.value(camera)
    return camera


@operation("appearance_order", category="cameras", returns=list_of(TEXT),
           check=lambda args, ctx: check_labels(args, ctx, "labels"),
           params=[Param("labels", (list_of(TEXT),), "labels to order")],
           doc="The given labels ordered by when they were first seen: the first-seen frame of "
               "each label's earliest instance, or the frame where the detector first gave the "
               "label to an object it often calls so (a chair merged into a desk's record) when "
               "that is earlier (ties keep the given order).")
def appearance_order_op(ctx: ExecContext, labels):
    resolved = resolve_labels(tuple(labels), {o.label for o in ctx.snapshot.objects})
    earliest = {}
    for query in labels:
        sightings = [(o.first_seen_frame, o.first_seen_time) for o in ctx.snapshot.objects if o.label in resolved[query]]
        sightings += [seen for o in ctx.snapshot.objects for name, seen in o.first_called.items()
                      if name in resolved[query] and name != o.label]
        earliest[query] = min(sightings)
    return tuple(sorted(labels, key=lambda q: earliest[q]))


@operation("displacement", category="cameras", returns=NUMBER, unit="m",
           params=[Param("a", (CAMERA,), "start pose"), Param("b", (CAMERA,), "end pose")],
           doc="Straight-line distance between two cameras' optical centres, in metres.")
def displacement_op(ctx: ExecContext, a, b):
    ctx.trace.segment(a.position, b.position)
    return Number(float(np.linalg.norm(b.position - a.position)), "m")


@operation("travelled", category="cameras", returns=NUMBER, unit="m",
           params=[Param("a", (CAMERA,), "start pose"), Param("b", (CAMERA,), "end pose")],
           doc="Distance the camera travelled along its trajectory between two poses, in metres "
               "(summed over every frame; at least the displacement).")
def travelled_op(ctx: ExecContext, a, b):
    try:
        distance = ctx.snapshot.trajectory.distance_between(a.frame_index, b.frame_index)
    except KeyError as err:
        raise OperationError(str(err.args[0]) if err.args else "frame out of range") from None
    trace_walk(ctx, a, b)
    return Number(distance, "m")


def trace_walk(ctx: ExecContext, a: Camera, b: Camera) -> None:
    """Show both cameras and the camera's path between them (path questions)."""
    ctx.trace.value(a)
    ctx.trace.value(b)
    trajectory = ctx.snapshot.trajectory
    i, j = sorted(int(np.abs(trajectory.frame_indices - c.frame_index).argmin()) for c in (a, b))
    ctx.trace.paths.append(np.asarray(trajectory.poses[i:j + 1, :3, 3], dtype=np.float64))


@operation("movement_direction", category="cameras", returns=DIRECTION,
           params=[Param("a", (CAMERA,), "start pose (its heading defines ahead)"),
                   Param("b", (CAMERA,), "end pose")],
           doc="Where camera b stands as seen from camera a's position and horizontal heading "
               "(e.g. .label is \"front-left\" when the camera moved ahead and to its left).")
def movement_direction_op(ctx: ExecContext, a, b):
    direction = direction_to(camera_view(a), b.position)
    ctx.trace.value(direction)
    return direction
