"""Routes over the mapped floor, with the turn instructions a person would give."""

from __future__ import annotations

import math

import numpy as np

from ..context import ExecContext
from ..errors import OperationError
from ..geometry import location
from ..navigation import plan
from ..registry import Param, operation
from ..types import CAMERA, OBJECT, PATH, POINT, VIEW, Camera, Path, View, list_of
from .selection import LOCATABLE
from .views import as_view

FORWARD_LIMIT = 45.0
BACK_LIMIT = 135.0


def turn_word(change_deg: float) -> str:
    """Instruction for a change of heading (deg, + = counter-clockwise = left)."""
    change = (change_deg + 180.0) % 360.0 - 180.0
    if abs(change) <= FORWARD_LIMIT:
        return "go forward"
    if abs(change) > BACK_LIMIT:
        return "turn back"
    return "turn left" if change > 0 else "turn right"


def _bearing(a: np.ndarray, b: np.ndarray) -> float | None:
    delta = b[:2] - a[:2]
    return math.degrees(math.atan2(delta[1], delta[0])) if math.hypot(*delta) > 1e-6 else None


def _turns(stops: list[np.ndarray], start_heading: float | None) -> tuple[str, ...]:
    """One instruction at the start and one at each via stop, from straight-line bearings
    between consecutive stops (the legs a person names, whatever detours the floor forces)."""
    heading = start_heading
    turns = []
    for a, b in zip(stops, stops[1:]):
        bearing = _bearing(a, b)
        if bearing is None:
            turns.append("go forward")
            continue
        turns.append("go forward" if heading is None else turn_word(bearing - heading))
        heading = bearing
    return tuple(turns)


def _legs(ctx: ExecContext, stops: list[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """3D waypoints on the floor through all stops, and the indices of straight legs."""
    try:
        grid = ctx.nav_grid()
    except OperationError:  # no usable map: every leg is straight
        grid = None
    points, straight = [stops[0][:2]], []
    for k, (a, b) in enumerate(zip(stops, stops[1:])):
        planned = plan(grid, a, b) if grid is not None else None
        if planned is None:
            straight.append(k)
            planned = np.vstack([a[:2], b[:2]])
        points.extend(planned[1:])
    floor_z = grid.floor.floor_z if grid is not None else min(s[2] for s in stops)
    points = np.array(points)
    return np.column_stack([points, np.full(len(points), floor_z)]), straight


@operation("route", category="room and routes", returns=PATH,
           params=[Param("from", LOCATABLE, "start"), Param("to", LOCATABLE, "goal"),
                   Param("facing", LOCATABLE, "what the traveller faces at the start (default: "
                         "the heading of a view or camera start)", default=None),
                   Param("via", (list_of(OBJECT, CAMERA, POINT, VIEW),),
                         "stops on the way, in order", default=None)],
           doc="A route over the map's free floor (floor observed, nothing between 0.1 and 1.5 m "
               "above it, obstacles grown by a 0.2 m robot radius), through the via stops. "
               ".length is measured along the route on the floor plane; .turns holds one "
               'instruction at the start and at each via stop: "go forward" (within 45 deg), '
               '"turn left", "turn right", "turn back" (beyond 135 deg), from the straight '
               "bearings between stops. Where the floor has no free path a leg is a straight "
               "segment, .planned is False and the answer says so.")
def route_op(ctx: ExecContext, start, goal, facing, via):
    via = tuple(via or ())
    stops = [location(v) for v in (start, *via, goal)]
    for value in (start, *via, goal) + ((facing,) if facing is not None else ()):
        ctx.trace.value(value)
    if facing is not None:
        heading = _bearing(stops[0], location(facing))
        if heading is None:
            raise OperationError("facing= is at the start's floor position", param="facing")
    elif isinstance(start, (View, Camera)):
        heading = math.degrees(as_view(start).heading)
    else:
        heading = None
        ctx.notes.append("no facing given: the first instruction assumes facing the first leg")
    waypoints, straight = _legs(ctx, stops)
    if straight:
        legs = ", ".join(str(k + 1) for k in straight)
        ctx.notes.append(f"no free-floor path for leg(s) {legs} of the route: straight "
                         "segments used, the length is a lower bound")
    length = float(np.linalg.norm(np.diff(waypoints[:, :2], axis=0), axis=1).sum())
    path = Path(waypoints, length, _turns(stops, heading), planned=not straight,
                note="straight segments" if straight else "planned on free floor")
    ctx.trace.value(path)
    return path
