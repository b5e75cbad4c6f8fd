"""Draw a recorded ~/markers set and ~/map cloud with matplotlib, as RViz would show them.

RViz needs a display; this renders the same messages (read back from a `reasmory-replay --record`
MCAP with rosbags) headless, for documentation and for a quick look without a ROS install:

    python -m reasmory_ros.visual.render RUN.mcap OUT.png [--answer QUESTION_ID] [--top] [--below Z]
    python -m reasmory_ros.visual.render RUN.mcap OUT.png --timeline

Without --answer the state at the end of the stream is drawn; with it, the set written with that
answer (its touched objects highlighted). --timeline draws, from every recorded set, when each
object was in the memory and how far its box centre was from where it ended.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from reasmory_ros.visual.messages import Marker
from reasmory_ros.visual.pointcloud import points_and_colors

MAX_POINTS = 20_000
"""Map points drawn at most (a random subset beyond), so a large map stays quick to draw."""


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # headless: files only
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    _pyplot().close(fig)
    return path


def _xyz(points) -> np.ndarray:
    return np.array([[p.x, p.y, p.z] for p in points], dtype=np.float64).reshape(-1, 3)


def _rgba(color) -> tuple[float, float, float, float]:
    return color.r, color.g, color.b, max(color.a, 0.2)


def render_outputs(markers, cloud, path: str | Path, title: str = "", top: bool = False,
                   below: float | None = None) -> Path:
    """Write a PNG of a MarkerArray (any message object with the ROS fields: rosbags, rclpy or
    `reasmory_ros.visual.messages`) over a PointCloud2 of the map; `top` looks straight down;
    `below` (m) draws only the map points lower than that (a ceiling hides the room)."""
    plt = _pyplot()
    fig = plt.figure(figsize=(9, 7.5), dpi=100)
    ax = fig.add_subplot(projection="3d")
    background = (0.19, 0.19, 0.19, 1.0)  # RViz's
    ax.set_facecolor(background)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_pane_color(background)
    extent = []
    if cloud is not None and cloud.width * cloud.height:
        points, colors = points_and_colors(cloud)
        if below is not None:
            points, colors = points[points[:, 2] < below], colors[points[:, 2] < below]
        if len(points) > MAX_POINTS:
            keep = np.random.default_rng(0).choice(len(points), MAX_POINTS, replace=False)
            points, colors = points[keep], colors[keep]
        ax.scatter(*points.T, c=colors / 255.0, s=3, depthshade=False, linewidths=0)
        extent.append(points)
    for marker in markers.markers:
        if marker.action != Marker.ADD:
            continue
        xyz = _xyz(marker.points)
        color = _rgba(marker.color)
        width = 0.6 + 40 * marker.scale.x
        if marker.type == Marker.LINE_LIST:
            colors = [_rgba(c) for c in marker.colors[::2]] or [color] * (len(xyz) // 2)
            for (start, end), line_color in zip(xyz.reshape(-1, 2, 3), colors):
                ax.plot(*np.stack([start, end]).T, color=line_color, lw=width)
        elif marker.type in (Marker.LINE_STRIP, Marker.ARROW):
            ax.plot(*xyz.T, color=color, lw=width)
        elif marker.type == Marker.TEXT_VIEW_FACING:
            p = marker.pose.position
            ax.text(p.x, p.y, p.z, marker.text, color=color, fontsize=7, ha="center")
        elif marker.type == Marker.SPHERE:
            p = marker.pose.position
            ax.scatter([p.x], [p.y], [p.z], color=color, s=60)
        extent.append(xyz)
    everything = np.concatenate([e for e in extent if len(e)]) if any(len(e) for e in extent) else np.zeros((1, 3))
    low, high = everything.min(axis=0), everything.max(axis=0)
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_zlim(low[2], high[2])
    ax.set_box_aspect(np.maximum(high - low, 1e-3))  # metres look like metres
    if top:
        ax.view_init(elev=90, azim=-90)
    else:
        ax.view_init(elev=38, azim=-60)
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    ax.set_zlabel("z [m]")
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


def object_history(marker_sets) -> dict[int, dict]:
    """object id -> {"label", "times" (s), "centers" (N x 3)} over (stamp ns, MarkerArray) sets."""
    history: dict[int, dict] = {}
    for stamp, array in marker_sets:
        labels = {m.id: m.text for m in array.markers if m.ns == "labels"}
        for m in array.markers:
            if m.ns == "objects" and m.action == Marker.ADD:
                entry = history.setdefault(m.id, {"label": labels.get(m.id, str(m.id)), "times": [], "centers": []})
                entry["times"].append(stamp * 1e-9)
                entry["centers"].append(_xyz(m.points).mean(axis=0))
    return {i: {**e, "times": np.array(e["times"]), "centers": np.array(e["centers"])} for i, e in history.items()}


def render_timeline(history: dict[int, dict], path: str | Path, title: str = "") -> Path:
    """When each object was in the memory (top) and its box centre's distance from where it
    ended (bottom), over the recording's time."""
    plt = _pyplot()
    start = min((e["times"][0] for e in history.values()), default=0.0)
    fig, (rows, drift) = plt.subplots(2, 1, figsize=(9, 7), dpi=110, sharex=True,
                                      gridspec_kw={"height_ratios": [max(len(history), 1), 6]})
    for row, (_, entry) in enumerate(sorted(history.items(), key=lambda item: item[1]["times"][0])):
        times = entry["times"] - start
        (line,) = rows.plot(times, np.full(len(times), row), "|-", ms=6, lw=2)
        distance = np.linalg.norm(entry["centers"] - entry["centers"][-1], axis=1)
        drift.plot(times, 100 * distance, "-", lw=1.2, color=line.get_color())  # same colour as its row
    rows.set_yticks(range(len(history)))
    rows.set_yticklabels([e["label"] for _, e in sorted(history.items(), key=lambda item: item[1]["times"][0])],
                         fontsize=7)
    rows.set_title(title or "objects in the memory over time", fontsize=10)
    drift.set_ylabel("box centre from its final place [cm]")
    drift.set_xlabel("recording time [s]")
    drift.grid(True, lw=0.3)
    return _save(fig, path)


def read_marker_sets(mcap: str | Path, node: str = "reasmory") -> list:
    """Every (stamp ns, MarkerArray) written before the answers (the memory over the stream)."""
    from rosbags.highlevel import AnyReader
    from rosbags.typesys import Stores, get_typestore

    sets, answers = [], []
    with AnyReader([Path(mcap)], default_typestore=get_typestore(Stores.ROS2_HUMBLE)) as reader:
        wanted = [c for c in reader.connections if c.topic in (f"/{node}/markers", f"/{node}/answers")]
        for connection, stamp, raw in reader.messages(connections=wanted):
            if connection.topic.endswith("/answers"):
                answers.append(stamp)
            else:
                sets.append((stamp, reader.deserialize(raw, connection.msgtype)))
    end = min(answers, default=None)
    return [(stamp, array) for stamp, array in sets if end is None or stamp < end]


def read_recorded(mcap: str | Path, answer_id: str | None = None, node: str = "reasmory"):
    """(markers, map cloud, caption) from a recorded MCAP: the end of the stream, or the set
    written with answer `answer_id`."""
    from rosbags.highlevel import AnyReader
    from rosbags.typesys import Stores, get_typestore

    topics = {f"/{node}/{name}": [] for name in ("markers", "map", "answers")}
    with AnyReader([Path(mcap)], default_typestore=get_typestore(Stores.ROS2_HUMBLE)) as reader:
        wanted = [c for c in reader.connections if c.topic in topics]
        for connection, stamp, raw in reader.messages(connections=wanted):
            topics[connection.topic].append((stamp, reader.deserialize(raw, connection.msgtype)))
    answers = {json.loads(msg.data)["id"]: (stamp, json.loads(msg.data)) for stamp, msg in topics[f"/{node}/answers"]}
    end = min([stamp for stamp, _ in answers.values()], default=None)
    cloud = topics[f"/{node}/map"][-1][1] if topics[f"/{node}/map"] else None
    if answer_id is None:
        sets = [(stamp, msg) for stamp, msg in topics[f"/{node}/markers"] if end is None or stamp < end]
        return sets[-1][1], cloud, "end of the stream"
    if answer_id not in answers:
        raise KeyError(f"{mcap} has no answer {answer_id!r}; it has: {', '.join(answers) or 'none'}")
    stamp, record = answers[answer_id]
    markers = [msg for at, msg in topics[f"/{node}/markers"] if at == stamp]
    if not markers:
        raise KeyError(f"answer {answer_id!r} has no markers (it failed: {record.get('error')})")
    return markers[-1], cloud, f"{record['question']}\nanswer: {record['answer']}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reasmory_ros.visual.render", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mcap", type=Path, help="an MCAP written by reasmory-replay --record")
    parser.add_argument("output", type=Path, help="PNG to write")
    parser.add_argument("--answer", metavar="QUESTION_ID", help="draw the markers written with this answer")
    parser.add_argument("--top", action="store_true", help="look straight down instead of RViz's orbit view")
    parser.add_argument("--below", type=float, metavar="Z",
                        help="draw only map points below Z metres (hide the ceiling)")
    parser.add_argument("--timeline", action="store_true",
                        help="when each object was in the memory and how its box moved, instead of a view")
    args = parser.parse_args(argv)
    try:
        if args.timeline:
            history = object_history(read_marker_sets(args.mcap))
            render_timeline(history, args.output, title=f"{args.mcap.name}: {len(history)} objects over time")
            print(f"wrote {args.output}")
            return 0
        markers, cloud, caption = read_recorded(args.mcap, args.answer)
    except (KeyError, IndexError, OSError, ValueError) as err:
        print(f"render: {err}", file=sys.stderr)
        return 1
    render_outputs(markers, cloud, args.output, title=f"{args.mcap.name}: {caption}", top=args.top,
                   below=args.below)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
