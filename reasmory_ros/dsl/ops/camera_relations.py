"""Object-to-object position as the camera saw them at one frame (VSTI-Bench's near/far, left/right, up/down)."""

from __future__ import annotations

import numpy as np

from ..context import ExecContext
from ..errors import OperationError
from ..registry import Param, operation
from ..types import CAMERA, NUMBER, OBJECT, TEXT, Number
from ..units import convert

AXES = {"depth": (2, "near", "far"), "horizontal": (0, "left", "right"), "vertical": (1, "up", "down")}
"""Optical-frame axis and the words for 'a entirely below / above b' on it (z forward, x right, y down)."""
SEPARATION = 0.15
"""Metres of clear gap VSTI-Bench requires between the two boxes along the axis (its position_threshold)."""


def box_extent_in_camera(corners: np.ndarray, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis (min, max) of a box's corners in the camera's optical frame (pose: camera to world)."""
    rotation, origin = pose[:3, :3], pose[:3, 3]
    local = (np.asarray(corners, dtype=np.float64) - origin) @ rotation
    return local.min(axis=0), local.max(axis=0)


@operation("relative_position", category="relations", returns=TEXT,
           params=[Param("a", (OBJECT,), "the object asked about"),
                   Param("b", (OBJECT,), "the reference object"),
                   Param("camera", (CAMERA,), "the frame whose view decides"),
                   Param("axis", (TEXT,), "which relation", choices=tuple(AXES)),
                   Param("gap", (NUMBER,), "clear gap the boxes need along the axis",
                         default=Number(SEPARATION, "m"))],
           doc='Where a lies relative to b in the camera\'s image frame: axis="depth" answers '
               '"near" / "far" (a entirely nearer / farther than b), "horizontal" "left" / '
               '"right", "vertical" "up" / "down". The boxes\' 8 corners are compared in the '
               "optical frame; when they are not apart by `gap` (0.15 m, as VSTI-Bench) the "
               "relation is undecided and the operation refuses.")
def relative_position_op(ctx: ExecContext, a, b, camera, axis, gap):
    k, lower, upper = AXES[axis]
    min_a, max_a = box_extent_in_camera(a.record.corners(), camera.pose)
    min_b, max_b = box_extent_in_camera(b.record.corners(), camera.pose)
    clear = convert(gap, "m").value
    ctx.trace.value(a)
    ctx.trace.value(b)
    ctx.trace.value(camera)
    if min_b[k] - max_a[k] > clear:
        return lower
    if min_a[k] - max_b[k] > clear:
        return upper
    raise OperationError(
        f"at frame {camera.frame_index + 1} the {a.record.label} and the {b.record.label} overlap along the "
        f"{axis} axis (their boxes are not {clear:g} m apart), so neither {lower!r} nor {upper!r} holds")
