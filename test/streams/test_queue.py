"""The drop-oldest queue: bounded, counts drops, wakes a waiting worker on close."""

from __future__ import annotations

import threading

import pytest

from reasmory_ros.streams import DropOldestQueue


def test_full_queue_evicts_the_oldest_and_counts_it():
    queue = DropOldestQueue(3)
    evicted = [queue.put(i) for i in range(5)]
    assert evicted == [None, None, None, 0, 1]
    assert len(queue) == 3 and queue.dropped == 2 and queue.put_count == 5
    assert [queue.get(0) for _ in range(3)] == [2, 3, 4]
    assert queue.get(timeout=0.01) is None


def test_close_wakes_a_blocked_worker():
    queue = DropOldestQueue(2)
    results = []
    worker = threading.Thread(target=lambda: results.append(queue.get(timeout=10)))
    worker.start()
    queue.close()
    worker.join(2)
    assert not worker.is_alive() and results == [None]


def test_concurrent_producers_never_exceed_the_bound():
    queue = DropOldestQueue(8)
    threads = [threading.Thread(target=lambda: [queue.put(i) for i in range(1000)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(queue) == 8 and queue.dropped == 4000 - 8


def test_size_must_be_positive():
    with pytest.raises(ValueError, match="maxsize must be >= 1"):
        DropOldestQueue(0)
