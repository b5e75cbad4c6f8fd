"""A bounded drop-oldest queue between sensor callbacks and the one worker that updates the memory.

The pattern of image_pipeline's camera_calibration: callbacks never block; when the worker falls
behind, the oldest waiting frame is dropped (the newest view of the world is worth more) and
counted, so the backlog and the latency stay bounded.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class DropOldestQueue(Generic[T]):
    """Thread-safe FIFO of at most `maxsize` items; `put` on a full queue evicts the oldest."""

    def __init__(self, maxsize: int):
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize}")
        self.maxsize = int(maxsize)
        self._items: deque[T] = deque()
        self._ready = threading.Condition()
        self._closed = False
        self.dropped = 0
        self.put_count = 0

    def put(self, item: T) -> T | None:
        """Append an item; return the evicted oldest one when the queue was full."""
        with self._ready:
            evicted = None
            if len(self._items) >= self.maxsize:
                evicted = self._items.popleft()
                self.dropped += 1
            self._items.append(item)
            self.put_count += 1
            self._ready.notify()
            return evicted

    def get(self, timeout: float | None = None) -> T | None:
        """The oldest item; None after `timeout` seconds without one or once the queue is closed."""
        with self._ready:
            if not self._ready.wait_for(lambda: self._items or self._closed, timeout):
                return None
            return self._items.popleft() if self._items else None

    def clear(self) -> int:
        """Discard the waiting items (not counted as drops); return how many there were."""
        with self._ready:
            n = len(self._items)
            self._items.clear()
            return n

    def close(self) -> None:
        """Wake every waiting `get` so a worker thread can finish."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def __len__(self) -> int:
        with self._ready:
            return len(self._items)
