"""Change detection in the simulator's change mode: moved, removed, occluded objects; update cost.

For each seed, the camera walks two loops of a generated room (sim/changes.py); between them two
pieces of furniture are moved, one object is removed and a refrigerator is put in front of another
(hidden, not removed). Two memories read the same frames, one tracking changes (the default) and
one with track_changes=False (today's static memory, the baseline of cost and of what was found).

Scored against the ground-truth history, a record "at" a place meaning: the same label, box centre
within 0.5 m in the floor plane and no nearer to another ground-truth object of that label:

- moved, now: a live record at the new place; before: that record's last earlier placement at
  the old place; ghosts: live records left at the old place;
- removed, gone: no live record at its place; counted only where the camera looked at the place
  again (its box centre inside the image, 0.3-5 m ahead, in at least OBSERVED frames of the
  second loop) after perception had found it (the static memory holds a record there): no
  memory can see that an object is gone from a place it never looks at again;
- false changes: unchanged objects the baseline memory holds a record at, for which the tracking
  memory has no live record there any more (reported gone or moved away), occluded ones included;
- cost: update p50 (process CPU time) with and without tracking, and the state bytes at frame 100
  and at the end.

    python benchmarks/bench_changes.py --seeds 0 1 2 --frames 150
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from tqdm import tqdm

from reasmory_ros.memory import MemoryConfig, SpatialMemory
from reasmory_ros.sim import default_intrinsics, generate_scene
from reasmory_ros.sim.changes import change_recording, render_changes

NEAR = 0.5
"""m: a record is at a ground-truth place when its box centre is this close (floor plane)."""
OBSERVED = 10
"""frames of the second loop whose view holds a removed object's place for it to count."""


def _frames_viewing(center: np.ndarray, poses: np.ndarray, K: np.ndarray, width: int, height: int) -> int:
    """How many camera poses hold a world point in the image, 0.3-5 m ahead (occlusion ignored)."""
    camera = np.einsum("nij,ni->nj", poses[:, :3, :3], center - poses[:, :3, 3])
    z = camera[:, 2]
    u = K[0, 0] * camera[:, 0] / np.maximum(z, 1e-6) + K[0, 2]
    v = K[1, 1] * camera[:, 1] / np.maximum(z, 1e-6) + K[1, 2]
    return int(((z > 0.3) & (z < 5.0) & (u >= 0) & (u < width) & (v >= 0) & (v < height)).sum())


def _at(records, label: str, center: np.ndarray, others=()) -> list:
    """Records of `label` within NEAR of `center` and nearer to it than to any of `others` (the
    other ground-truth objects of that label: two books side by side are told apart)."""
    def distance(r, c):
        return float(np.linalg.norm(r.center[:2] - np.asarray(c)[:2]))
    return [r for r in records if r.label == label and distance(r, center) < NEAR
            and all(distance(r, center) <= distance(r, o) for o in others)]


def run_seed(seed: int, frames: int, width: int, height: int) -> dict:
    scene = generate_scene(seed)
    history, camera = change_recording(scene, frames, seed)
    tracking, static = SpatialMemory(MemoryConfig()), SpatialMemory(MemoryConfig(track_changes=False))
    cost = {True: [], False: []}
    bytes_early = None
    rendered = render_changes(scene, history, camera, width=width, height=height, seed=seed)
    for i, frame in enumerate(tqdm(rendered, total=len(camera), desc=f"seed {seed}", unit="frame", leave=False)):
        for memory, key in ((tracking, True), (static, False)):
            start = time.process_time()
            memory.update(frame.frame)
            cost[key].append(time.process_time() - start)
        if i == 100:
            bytes_early = tracking.allocated_bytes()
    snap, base = tracking.snapshot(), static.snapshot()
    final = history.scene_at(scene, history.loops - 1)
    placements = history.placements(scene)
    label = {o.id: o.label for o in scene.objects + final.objects}

    def others(objects, oid):
        return [o.center for o in objects if o.label == label[oid] and o.id != oid]
    out = {"moved": 0, "now": 0, "before": 0, "ghosts": 0, "removed_all": 0, "removed": 0, "gone": 0,
           "unchanged": 0, "false": 0, "occluded": 0, "occluded_kept": 0}
    for oid in history.ids("moved"):
        old, new = placements[oid][0].center, placements[oid][-1].center
        out["moved"] += 1
        here = [r for r in _at(snap.objects, label[oid], new, others(final.objects, oid)) if r.moved]
        out["now"] += bool(here)
        out["before"] += any(np.linalg.norm(r.placements[-1].center[:2] - old[:2]) < NEAR for r in here)
        out["ghosts"] += len(_at(snap.objects, label[oid], old, others(final.objects, oid)))
    K = default_intrinsics(width, height)
    for oid in history.ids("removed"):
        out["removed_all"] += 1
        place = placements[oid][0].center
        second_loop = camera.poses[history.frames_per_loop:]
        rivals = others(scene.objects, oid)
        if _frames_viewing(place, second_loop, K, width, height) < OBSERVED or not _at(base.objects, label[oid], place, rivals):
            continue
        out["removed"] += 1
        out["gone"] += not _at(snap.objects, label[oid], place, rivals)
    changed = set(history.ids("moved")) | set(history.ids("removed")) | set(history.ids("added"))
    for obj in final.objects:
        rivals = others(final.objects, obj.id)
        if obj.id in changed or not _at(base.objects, obj.label, obj.center, rivals):
            continue
        kept = bool(_at(snap.objects, obj.label, obj.center, rivals))
        out["unchanged"] += 1
        out["false"] += not kept
        if obj.id in history.occluded:
            out["occluded"] += 1
            out["occluded_kept"] += kept
    out["p50_tracking_ms"] = 1e3 * float(np.median(cost[True]))
    out["p50_static_ms"] = 1e3 * float(np.median(cost[False]))
    out["bytes_early"], out["bytes_end"] = bytes_early, tracking.allocated_bytes()
    out["changes"] = ", ".join(f"{c.object.label} {c.kind}" for c in history.changes)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="sim scene seeds")
    parser.add_argument("--frames", type=int, default=150, help="frames per camera loop (two loops)")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for seed in args.seeds:
        row = run_seed(seed, args.frames, args.width, args.height)
        rows.append(row)
        print(f"seed {seed}: {row['changes']}")
        print("  " + ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                               for k, v in row.items() if k != "changes"))
    total = {k: sum(r[k] for r in rows) for k in rows[0] if isinstance(rows[0][k], (int, float))}

    def share(a: str, b: str) -> str:
        return f"{total[a]}/{total[b]} = {100.0 * total[a] / max(total[b], 1):.1f} %"

    print(f"\n{len(rows)} seeds, {args.frames} frames per loop, {args.width}x{args.height}, "
          f"{args.threads} thread(s)")
    print(f"moved, where now within {NEAR} m:    {share('now', 'moved')}   (target >= 95 %)")
    print(f"moved, where before within {NEAR} m: {share('before', 'moved')}   (target >= 90 %)")
    print(f"removed, reported gone:        {share('gone', 'removed')}   (target >= 95 %; "
          f"{total['removed_all']} removed, {total['removed']} found before and looked at again)")
    print(f"ghosts at old places:          {total['ghosts']}   (target 0)")
    print(f"false changes (unchanged):     {share('false', 'unchanged')}   (target <= 2 %)")
    print(f"occluded objects kept:         {share('occluded_kept', 'occluded')}")
    p50_t = np.median([r["p50_tracking_ms"] for r in rows])
    p50_s = np.median([r["p50_static_ms"] for r in rows])
    print(f"update p50 CPU: tracking {p50_t:.2f} ms, static {p50_s:.2f} ms, "
          f"+{100.0 * (p50_t / p50_s - 1):.1f} %   (target <= +15 %)")
    fixed = all(r["bytes_early"] == r["bytes_end"] for r in rows)
    print(f"state bytes fixed: {fixed} ({rows[0]['bytes_end']} bytes)")


if __name__ == "__main__":
    main()
