"""The ~/status JSON: what came in, what was integrated, what was lost and why.

One builder for the node (which adds its queue) and the replay recorder, so a recorded status
reads like a live one.
"""

from __future__ import annotations

import numpy as np


def pipeline_status(assembler, integrator, memory, queue=None) -> dict:
    """Counters of the assembler, integrator and memory (and the node's drop-oldest `queue`)."""
    stats = assembler.stats()
    latencies = np.asarray(integrator.latencies_s) * 1000.0
    dropped = {"incomplete": stats["dropped_incomplete"], "late": stats["dropped_late"]}
    status = {
        "frames_received": stats["received"].get("color", 0),
        "frames_integrated": integrator.integrated,
        "frames_dropped": {"queue_full": queue.dropped, **dropped} if queue is not None else dropped,
        "incomplete_lacking": stats["dropped_lacking"],  # which part the incomplete frames missed
        "errors": stats["errors"],
        "messages_received": stats["received"],
        "messages_unmatched": stats["unmatched"],
        "unknown_label_ids": stats["unknown_label_ids"],
        "pending_frames": stats["pending"],
    }
    if queue is not None:
        status.update(queue_length=len(queue), queue_size=queue.maxsize)
    return {
        **status,
        "update_ms_p50": round(float(np.percentile(latencies, 50)), 2) if len(latencies) else None,
        "update_ms_p99": round(float(np.percentile(latencies, 99)), 2) if len(latencies) else None,
        "memory_frames": memory.frame_count,
        "objects": len(memory.snapshot().objects),
        "device": str(memory.device),
        **integrator.counters(),
    }
