"""The last stage of a stream: perception plug-ins (when configured), then the memory update.

The node's worker thread and the bag replay both run frames through `FrameIntegrator`, so a frame
gets the same plug-ins, the same error handling and the same counters live and offline.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from reasmory_ros.memory import Frame, SpatialMemory
from reasmory_ros.perception.stage import FrameInputs

LATENCY_WINDOW = 500
"""Update latencies kept for the p50/p99 figures (the most recent ones)."""


class FrameIntegrator:
    """Integrates frames one at a time (call from one thread, in stream order: plug-ins keep state).

    report(part, kind, message): where a defect of one frame goes (the assembler's rate-limited
    reporter), so a bad frame is counted and logged and never stops the stream.
    latency_window: update latencies kept (None keeps all: an offline replay has an end).
    """

    def __init__(self, memory: SpatialMemory, report: Callable[[str, str, str], None], perception=None,
                 latency_window: int | None = LATENCY_WINDOW):
        self.memory = memory
        self.perception = perception
        self._report = report
        self.integrated = 0
        self.perception_skipped = 0
        self.last_frame: Frame | None = None
        """The last frame integrated, as the memory took it (with what perception estimated: a
        viewer logs its pose from here instead of building a snapshot for it)."""
        self.latencies_s: deque[float] = deque(maxlen=latency_window)

    def integrate(self, frame: Frame | FrameInputs) -> bool:
        """Perception, then the memory update; False when the frame was skipped or failed.
        FrameInputs (no depth or pose yet) only come when perception estimates what they lack."""
        if self.perception is not None:
            try:
                result = self.perception.process(
                    frame.rgb, frame.K, frame.timestamp, frame.index, depth=frame.depth,
                    T_world_camera=frame.T_world_camera, instances=frame.instances,
                    labels=frame.labels or None)
            except Exception as err:  # a plug-in defect must not stop the robot's memory
                self._report("perception", type(err).__name__, f"frame {frame.index + 1}: {err}")
                return False
            if result.frame is None:
                self.perception_skipped += 1
                return False
            frame = result.frame
        started = time.perf_counter()
        try:
            self.memory.update(frame)
        except Exception as err:  # counted and logged like bad input; the next frame goes on
            self._report("memory", type(err).__name__, f"update of frame {frame.index + 1} failed: {err}")
            return False
        self.latencies_s.append(time.perf_counter() - started)
        self.integrated += 1
        self.last_frame = frame
        return True

    def counters(self) -> dict:
        """Perception counters for a status report; empty without plug-ins."""
        if self.perception is None:
            return {}
        return {"perception": {**self.perception.counters, "skipped_frames": self.perception_skipped}}
