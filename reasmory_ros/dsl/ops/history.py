"""When things were seen and how long the walk took: last sightings, time in view, elapsed time,
and picking an instance by when it was first or last seen."""

from __future__ import annotations

import numpy as np

from ..context import ExecContext
from ..errors import OperationError
from ..geometry import in_image, intrinsics, pixels
from ..registry import Param, operation
from ..types import CAMERA, NUMBER, OBJECT, OBJECT_SET, TEXT, Number, Obj
from .cameras import camera_at_frame, trace_walk
from .selection import MAX_VISIBLE_RANGE, MIN_VISIBLE_DEPTH

_BY = Param("by", (TEXT,), "which sighting orders the objects", default="first_seen",
            choices=("first_seen", "last_seen"))


@operation("last_seen", category="cameras", returns=CAMERA,
           params=[Param("object", (OBJECT,), "the object")],
           doc="The camera at the frame where the object was last observed (.frame is 1-based, "
               ".stamp is the stream's clock).")
def last_seen_op(ctx: ExecContext, object):
    ctx.trace.value(object)
    camera = camera_at_frame(ctx.snapshot, int(object.record.last_seen_frame))
    ctx.trace.value(camera)
    return camera


def _sighting(obj: Obj, by: str) -> tuple[int, float]:
    record = obj.record
    if by == "first_seen":
        return record.first_seen_frame, record.first_seen_time
    return record.last_seen_frame, record.last_seen_time


def _by_sighting(ctx: ExecContext, set, by: str, last: bool) -> Obj:
    if not set.objects:
        raise OperationError(f"{set.description} is empty", "check the label or the filter")
    ranked = sorted(set.objects, key=lambda o: (_sighting(o, by), o.id))
    chosen = ranked[-1] if last else ranked[0]
    ctx.trace.value(chosen)
    return chosen


@operation("earliest", category="cameras", returns=OBJECT, params=[
    Param("set", (OBJECT_SET,), "candidates"), _BY],
           doc='The object of the set seen earliest: "the table I saw first" is '
               'earliest(objects("table")); by="last_seen" orders by the last sighting.')
def earliest_op(ctx: ExecContext, set, by):
    return _by_sighting(ctx, set, by, last=False)


@operation("latest", category="cameras", returns=OBJECT, params=[
    Param("set", (OBJECT_SET,), "candidates"), _BY],
           doc='The object of the set seen latest: "which object did I see last" (the newest '
               'to appear) is latest(all_objects()); by="last_seen" takes the most recent '
               "sighting (ties: the higher id).")
def latest_op(ctx: ExecContext, set, by):
    return _by_sighting(ctx, set, by, last=True)


@operation("time_in_view", category="cameras", returns=NUMBER, unit="s",
           params=[Param("object", (OBJECT,), "the object")],
           doc=f"How long the object was in view, in seconds: the stream time of the stored "
               f"camera poses whose image holds its box centre, in front and within "
               f"{MAX_VISIBLE_RANGE:g} m (occlusion is not tested), each pose counting for the "
               "time to the next.")
def time_in_view_op(ctx: ExecContext, object):
    trajectory = ctx.snapshot.trajectory
    if len(trajectory) < 2:
        raise OperationError("the memory holds fewer than two camera poses, so no time has passed")
    K, size = intrinsics(ctx.snapshot)
    poses = np.asarray(trajectory.poses, dtype=np.float64)
    centre = np.asarray(object.record.center, dtype=np.float64)
    in_camera = np.einsum("nji,nj->ni", poses[:, :3, :3], centre[None] - poses[:, :3, 3])
    seen = in_image(*pixels(in_camera, K), size, MIN_VISIBLE_DEPTH, MAX_VISIBLE_RANGE)
    steps = np.diff(np.asarray(trajectory.timestamps, dtype=np.float64))
    ctx.trace.value(object)
    return Number(float(steps[seen[:-1]].sum()), "s")


@operation("elapsed", category="cameras", returns=NUMBER, unit="s",
           params=[Param("a", (CAMERA,), "start pose"), Param("b", (CAMERA,), "end pose")],
           doc="Stream time between two camera poses, in seconds (never negative).")
def elapsed_op(ctx: ExecContext, a, b):
    trace_walk(ctx, a, b)
    return Number(abs(b.stamp - a.stamp), "s")
