"""Where an object is: a position, words a person understands, and a goal a robot can drive to."""

from __future__ import annotations

import math

import numpy as np

from .. import boxes
from ..context import ExecContext
from ..errors import OperationError
from ..geometry import camera_view, closest_first, direction_to, location
from ..navigation import distances_from
from ..registry import Param, operation
from ..types import OBJECT, PLACE, VIEW, Obj, Place, View, format_number
from .cameras import camera_at_index
from .relations import supports

LANDMARK_FOOTPRINT = 0.3
LANDMARK_HEIGHT = 1.0
"""A landmark is an object covering at least 0.3 m² of floor or at least 1 m tall (furniture,
doors, appliances): what a person names to say where something is."""
FLOOR_TOLERANCE = 0.1
"""m: a bottom this close to the floor stands on the floor."""
NEXT_TO = 0.3
"""m: a landmark this close is "next to" the object instead of "N m from" it."""
STANDOFF = (0.4, 0.8)
"""m: a navigation goal stands this far from the object's footprint (widened to WIDE_STANDOFF
when the map has no free floor in that ring)."""
WIDE_STANDOFF = (0.2, 1.5)


def _name(obj: Obj, ctx: ExecContext) -> str:
    """'the desk', or 'the chair (id 7)' when the memory holds several of its label."""
    label = obj.record.label
    several = sum(o.label == label for o in ctx.snapshot.objects) > 1
    return f"the {label}" + (f" (id {obj.id})" if several else "")


def _floor_z(ctx: ExecContext) -> float:
    try:
        return ctx.floor_grid().floor_z
    except OperationError:  # no usable map: the lowest box bottom stands for the floor
        return min(boxes.bottom(o) for o in ctx.snapshot.objects)


def describe(ctx: ExecContext, obj: Obj) -> tuple[str, Obj | None]:
    """'on the desk, 2.1 m from the door' and the landmark named (None when there is none)."""
    under = supports(ctx, obj)
    if under:
        parts = [f"on {_name(under[0], ctx)}"]
    elif boxes.bottom(obj.record) - _floor_z(ctx) <= FLOOR_TOLERANCE:
        parts = ["on the floor"]
    else:
        parts = [f"{format_number(boxes.bottom(obj.record) - _floor_z(ctx))} m above the floor"]
    skip = {obj.id} | {o.id for o in under[:1]}
    landmarks = [Obj(r, r.label) for r in ctx.snapshot.objects if r.id not in skip
                 and (boxes.footprint_area(r) >= LANDMARK_FOOTPRINT or r.extent[2] >= LANDMARK_HEIGHT)]
    if not landmarks:
        return parts[0], None
    gap, _, _, landmark = closest_first(landmarks, obj)
    if gap <= NEXT_TO:
        parts.append(f"next to {_name(landmark, ctx)}")
    else:
        parts.append(f"{format_number(gap)} m from {_name(landmark, ctx)}")
    return ", ".join(parts), landmark


def goal_in_front(ctx: ExecContext, obj: Obj, robot: np.ndarray) -> View | None:
    """A free floor cell STANDOFF from the object's footprint, the one the robot reaches by the
    shortest route over free floor (the straight-line nearest when none is reachable), facing the
    object's centre; None when the map has no free floor near the object."""
    try:
        grid = ctx.nav_grid()
    except OperationError:
        return None
    if not len(grid.centres):
        return None
    gap = boxes.footprint_distance(obj.record, grid.centres)
    for low, high in (STANDOFF, WIDE_STANDOFF):
        ring = np.flatnonzero((gap >= low) & (gap <= high))
        if len(ring):
            break
    else:
        return None
    route = distances_from(grid, robot)[ring]
    if np.isfinite(route).any():
        best = ring[int(np.argmin(route))]
    else:
        best = ring[int(np.argmin(np.linalg.norm(grid.centres[ring] - robot[:2], axis=1)))]
    xy = grid.centres[best]
    delta = np.asarray(obj.record.center[:2]) - xy
    position = np.array([xy[0], xy[1], grid.floor.floor_z])
    return View(position, math.atan2(delta[1], delta[0]), f"in front of the {obj.label}")


def place_of(ctx: ExecContext, obj: Obj) -> Place:
    if len(ctx.snapshot.trajectory) == 0:
        raise OperationError("the memory has no camera poses yet")
    camera = camera_at_index(ctx.snapshot, -1)
    centre = location(obj)
    description, landmark = describe(ctx, obj)
    goal = goal_in_front(ctx, obj, camera.position)
    if landmark is not None:
        ctx.trace.value(landmark)
    if goal is None:
        ctx.notes.append(f"no free floor near the {obj.label} in the map: no navigation goal")
    place = Place(obj, centre, description, direction_to(camera_view(camera), centre), goal)
    ctx.trace.value(place)
    ctx.trace.value(place.direction)
    return place


@operation("locate", category="places", returns=PLACE,
           params=[Param("object", (OBJECT,), "the object")],
           doc=f"Where the object is: .position (box centre, map frame), .description (what it "
               f"rests on, or the floor, and the nearest landmark, an object of at least "
               f"{LANDMARK_FOOTPRINT:g} m² footprint or {LANDMARK_HEIGHT:g} m height, e.g. "
               '"on the desk, 2.1 m from the door"), .direction from the latest camera '
               "(distance and bearing), and .goal, a navigation goal (see goal_pose).")
def locate_op(ctx: ExecContext, object):
    return place_of(ctx, object)


@operation("goal_pose", category="places", returns=VIEW,
           params=[Param("object", (OBJECT,), "the object to drive to")],
           doc=f"A navigation goal for the object: a free floor position {STANDOFF[0]:g}-"
               f"{STANDOFF[1]:g} m from its footprint (widened to {WIDE_STANDOFF[1]:g} m if "
               "needed), the one with the shortest free-floor route from the latest camera, "
               "facing the object's centre.")
def goal_pose_op(ctx: ExecContext, object):
    if len(ctx.snapshot.trajectory) == 0:
        raise OperationError("the memory has no camera poses yet")
    goal = goal_in_front(ctx, object, camera_at_index(ctx.snapshot, -1).position)
    if goal is None:
        raise OperationError(f"the map has no free floor near the {object.label}",
                             "map more of the floor around it")
    ctx.trace.value(object)
    ctx.trace.goal(goal)
    return goal
