"""Viewpoints: standing somewhere facing something, and what lies where from there."""

from __future__ import annotations

import numpy as np

from ..context import ExecContext
from ..errors import OperationError
from ..geometry import camera_view, direction_to, heading_between, intrinsics, location, view_pose
from ..registry import Param, StaticArg, StaticContext, operation
from ..rendering import fit_intrinsics, render_map
from ..types import (
    CAMERA,
    DIRECTION,
    DIRECTION_WORDS,
    IMAGE,
    POINT,
    TEXT,
    VIEW,
    Camera,
    Image,
    Obj,
    Point,
    View,
    angle_gap,
    list_of,
    to_text,
)
from .selection import LOCATABLE

SEEN_FROM = (VIEW, CAMERA)


def as_view(value: View | Camera) -> View:
    """A view, or a camera taken as its own standpoint and horizontal heading."""
    return camera_view(value) if isinstance(value, Camera) else value


def _name(value: object) -> str:
    return value.label if isinstance(value, Obj) else to_text(value)


def _check_view_from(args: dict[str, StaticArg], ctx: StaticContext) -> None:
    if "facing" not in args and args["origin"].type not in SEEN_FROM:
        raise OperationError(f"view_from() needs facing= unless the origin is a Camera or a "
                             f"View (got {args['origin'].type})",
                             "write view_from(origin, facing=<object, camera or point>)",
                             "origin")


@operation("view_from", category="views", returns=VIEW, check=_check_view_from,
           params=[Param("origin", LOCATABLE, "where to stand"),
                   Param("facing", LOCATABLE, "what to face", default=None)],
           doc="A standpoint with a horizontal facing: at origin (an object's box centre, a "
               "camera's optical centre, a point) facing the target; without facing, a camera's "
               "own heading (its optical axis projected on the floor plane).")
def view_from_op(ctx: ExecContext, origin, facing):
    ctx.trace.value(origin)
    if facing is None:
        view = as_view(origin)
    else:
        ctx.trace.value(facing)
        start = location(origin)
        view = View(start, heading_between(start, location(facing)),
                    f"at {_name(origin)} facing {_name(facing)}")
    ctx.trace.value(view)
    return view


@operation("direction", category="views", returns=DIRECTION,
           params=[Param("view", SEEN_FROM, "standpoint and facing (a camera: its own heading)"),
                   Param("target", LOCATABLE, "what to locate")],
           doc="Where the target lies as seen from the view, on the floor plane: .angle in deg "
               "(0 ahead, positive = left), .side, .front_back, .quadrant, .label (nearest of 8 "
               "words), .distance.")
def direction_op(ctx: ExecContext, view, target):
    ctx.trace.value(target)
    direction = direction_to(as_view(view), location(target))
    ctx.trace.value(direction)
    return direction


def word_angle(word: str) -> float | None:
    """Angle of a direction word ("left", "front-right", "behind", "right front"...), or None."""
    synonyms = {"ahead": "front", "forward": "front", "forwards": "front", "behind": "back",
                "backward": "back", "backwards": "back", "rear": "back"}
    parts = [synonyms.get(p, p) for p in word.lower().replace("_", " ").replace("-", " ").split()]
    order = {"front": 0, "back": 0, "left": 1, "right": 1}
    key = "-".join(sorted(parts, key=lambda p: order.get(p, 2)))
    return DIRECTION_WORDS.get(key)


def _check_words(args: dict[str, StaticArg], ctx: StaticContext) -> None:
    among = args["among"]
    if among.known:
        if not among.constant:
            raise OperationError("among= is empty", 'list the options, e.g. ["left", "right"]',
                                 "among")
        for word in among.constant:
            if word_angle(word) is None:
                raise OperationError(f"{word!r} is not a direction word",
                                     "use " + ", ".join(DIRECTION_WORDS), "among")


@operation("direction_label", category="views", returns=TEXT, check=_check_words,
           params=[Param("direction", (DIRECTION,), "a direction"),
                   Param("among", (list_of(TEXT),), "the allowed words")],
           doc="The word among the given ones whose angle is nearest to the direction's "
               "(the first listed on a tie): "
               '["left", "right", "back"] answers "back" beyond 135 deg from ahead, '
               '["front-left", "front-right", "back-left", "back-right"] gives the quadrant.')
def direction_label_op(ctx: ExecContext, direction, among):
    angles = [word_angle(word) for word in among]
    if not among or any(a is None for a in angles):
        raise OperationError("among= must list direction words",
                             "use " + ", ".join(DIRECTION_WORDS), "among")
    best = min(range(len(among)), key=lambda i: angle_gap(direction.angle, angles[i]))
    return among[best]


@operation("to_view", category="views", returns=POINT,
           params=[Param("view", SEEN_FROM, "standpoint and facing"),
                   Param("point", LOCATABLE, "what to express")],
           doc="Coordinates of a point in the view's frame, in metres: x forward, y left, z up "
               "(relative to the standpoint).")
def to_view_op(ctx: ExecContext, view, point):
    view = as_view(view)
    delta = location(point) - view.position
    return Point(np.array([delta[:2] @ view.forward, delta[:2] @ view.left, delta[2]]))


@operation("render", category="views", returns=IMAGE,
           params=[Param("view", SEEN_FROM, "where to look from")],
           doc="A picture from the memory: for a camera with a stored keyframe, that keyframe; "
               "otherwise a z-buffered splat of the coloured map voxels through the stream's "
               "pinhole (or 640x480 by default), looking horizontally for a view.")
def render_op(ctx: ExecContext, view):
    ctx.trace.value(view)
    if isinstance(view, Camera):
        for keyframe in ctx.snapshot.keyframes:
            if keyframe.frame_index == view.frame_index:
                return Image(keyframe.rgb, keyframe.depth, keyframe.T_world_camera, keyframe.K,
                             "keyframe")
        pose = view.pose
    else:
        pose = view_pose(view)
    K, size = fit_intrinsics(*intrinsics(ctx.snapshot))
    if ctx.snapshot.scene_map.points.shape[0] == 0:
        raise OperationError("the map is empty, so there is nothing to render")
    rgb, depth = render_map(ctx.snapshot.scene_map, pose, K, size)
    return Image(rgb, depth, pose, K, "map")
