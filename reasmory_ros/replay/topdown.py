"""A top-down picture of the memory: map, object boxes with labels, camera path and one answer.

What changed is drawn too: a moved object's previous footprint dashed with an arrow to where it
is now, a removed object's last footprint dashed in grey, marked "gone".

People would rather look than read: the demo and `reasmory-replay --plot` write this PNG so a
user sees at a glance what the robot remembers and what an answer measured.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from reasmory_ros.memory.snapshot import MemorySnapshot

ANSWER_COLOR = "#d62728"
MOVED_COLOR = "#9467bd"
REMOVED_COLOR = "#7f7f7f"
GOAL_COLOR = "#1f77b4"


def plot_topdown(snapshot: MemorySnapshot, path: str | Path, answer=None, title: str = "") -> Path:
    """Write a PNG of the snapshot seen from above; `answer` (a DSL Answer) is drawn on top."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon

    fig, ax = plt.subplots(figsize=(8, 8), dpi=110)
    raster, extent = _map_raster(snapshot)
    if raster is not None:
        ax.imshow(raster, origin="lower", extent=extent, interpolation="nearest")

    touched = set(answer.touched.object_ids) if answer is not None else set()
    for obj in snapshot.objects:
        footprint = obj.corners()[:4, :2]
        highlight = obj.id in touched
        ax.add_patch(Polygon(footprint, closed=True, fill=False, lw=2.2 if highlight else 1.2,
                             ec=ANSWER_COLOR if highlight else "#1f3b73"))
        ax.text(obj.center[0], obj.center[1], f"{obj.label}\n#{obj.id}", ha="center", va="center",
                fontsize=7, color=ANSWER_COLOR if highlight else "#1f3b73",
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.7))

    _draw_changes(ax, snapshot, Polygon)

    if len(snapshot.trajectory):
        xy = snapshot.trajectory.poses[:, :2, 3]
        ax.plot(xy[:, 0], xy[:, 1], "-", color="#2ca02c", lw=1.2, label="camera path")
        ax.plot(*xy[0], "o", color="#2ca02c", ms=6)
        ax.plot(*xy[-1], "s", color="#2ca02c", ms=6)

    if answer is not None:
        _draw_answer(ax, answer)

    ax.set_aspect("equal")
    ax.set_xlabel("x [m] (map frame)")
    ax.set_ylabel("y [m]")
    ax.grid(True, lw=0.3, alpha=0.5)
    ax.set_title(title or f"{len(snapshot.objects)} objects, {snapshot.frame_count} frames", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _map_raster(snapshot: MemorySnapshot, floor_height: float = 0.12, ceiling_height: float = 2.2):
    """RGB image of the map seen from above: floor cells light grey, obstacle cells coloured by
    their highest voxel below `ceiling_height` (so a ceiling does not hide the room)."""
    points, colors = snapshot.scene_map.points, snapshot.scene_map.colors
    keep = points[:, 2] < ceiling_height
    points, colors = points[keep], colors[keep]
    if not len(points):
        return None, None
    size = snapshot.scene_map.voxel_size
    lo = points[:, :2].min(axis=0)
    cells = np.rint((points[:, :2] - lo) / size).astype(int)  # voxel centres: offsets are whole cells
    shape = cells.max(axis=0) + 1
    raster = np.ones((shape[1], shape[0], 3))
    order = np.argsort(points[:, 2])  # later writes win: the highest voxel of a cell stays
    floor = points[order, 2] < floor_height
    values = np.where(floor[:, None], 0.85, colors[order] / 255.0)
    raster[cells[order, 1], cells[order, 0]] = values
    lo = lo - size / 2  # image edges are cell edges
    extent = (lo[0], lo[0] + shape[0] * size, lo[1], lo[1] + shape[1] * size)
    return raster, extent


def _draw_changes(ax, snapshot: MemorySnapshot, Polygon) -> None:
    moved = [obj for obj in snapshot.objects if obj.moved]
    for i, obj in enumerate(moved):
        before = obj.placements[-1]
        ghost = replace(obj, center=before.center, extent=before.extent, yaw=before.yaw)
        ax.add_patch(Polygon(ghost.corners()[:4, :2], closed=True, fill=False, lw=1.0, ls="--", ec=MOVED_COLOR,
                             label="moved from" if i == 0 else None))
        delta = obj.center[:2] - before.center[:2]
        ax.arrow(*before.center[:2], *delta, width=0.025, length_includes_head=True, color=MOVED_COLOR)
    for i, obj in enumerate(snapshot.removed):
        ax.add_patch(Polygon(obj.corners()[:4, :2], closed=True, fill=False, lw=1.0, ls="--", ec=REMOVED_COLOR,
                             label="removed" if i == 0 else None))
        ax.text(obj.center[0], obj.center[1], f"{obj.label}\n#{obj.id} gone", ha="center", va="center",
                fontsize=7, color=REMOVED_COLOR)


def _draw_answer(ax, answer) -> None:
    """What the answer measured: distance segments, direction arrows, routes and walked paths,
    views, positions of place answers, navigation goals, points, cameras."""
    touched = answer.touched
    for segment in touched.segments:
        (x0, y0), (x1, y1) = segment.start[:2], segment.end[:2]
        ax.plot([x0, x1], [y0, y1], "-", color=ANSWER_COLOR, lw=2.5)
        ax.text((x0 + x1) / 2, (y0 + y1) / 2, answer.text, color=ANSWER_COLOR, fontsize=9,
                fontweight="bold", bbox=dict(fc="white", ec=ANSWER_COLOR, alpha=0.85))
    for arrow in touched.directions:
        start, delta = arrow.start[:2], arrow.end[:2] - arrow.start[:2]
        ax.arrow(*start, *delta, width=0.03, length_includes_head=True, color=ANSWER_COLOR)
    for path in touched.paths:
        ax.plot(path[:, 0], path[:, 1], "--", color=ANSWER_COLOR, lw=2.0, label="route")
    for view in touched.views:
        x, y = view.position[:2]
        ax.arrow(x, y, 0.6 * np.cos(view.heading), 0.6 * np.sin(view.heading), width=0.04,
                 length_includes_head=True, color="#ff7f0e")
        ax.plot(x, y, "o", color="#ff7f0e", ms=7)
    for position in touched.positions:
        ax.plot(position[0], position[1], "X", color=ANSWER_COLOR, ms=12, mec="white", label="position")
    for goal in touched.goals:
        x, y = goal.position[:2]
        ax.arrow(x, y, 0.5 * np.cos(goal.heading), 0.5 * np.sin(goal.heading), width=0.05,
                 length_includes_head=True, color=GOAL_COLOR)
        ax.plot(x, y, "o", color=GOAL_COLOR, ms=8, label="navigation goal")
    for point in touched.points:
        ax.plot(point[0], point[1], "P", color=ANSWER_COLOR, ms=9)
    for camera in touched.cameras:
        x, y = camera.pose[:2, 3]
        ax.plot(x, y, "^", color=ANSWER_COLOR, ms=9)
        ax.annotate(f"frame {camera.frame}", (x, y), textcoords="offset points", xytext=(6, 6),
                    fontsize=8, color=ANSWER_COLOR)
    ax.text(0.01, 0.99, f"answer: {answer.text}", transform=ax.transAxes, va="top", fontsize=9,
            color=ANSWER_COLOR, bbox=dict(fc="white", ec=ANSWER_COLOR, alpha=0.9))
