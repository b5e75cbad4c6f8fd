"""Results derived from one snapshot (floor grid, KD-trees), computed once and shared by queries.

A snapshot is frozen, so anything computed from it stays valid as long as it lives; entries are
keyed by the snapshot's identity and dropped when it is garbage collected, and the table is
bounded so a long-running node does not accumulate them.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_MAX_ENTRIES = 64
_entries: OrderedDict[tuple[int, str], tuple[weakref.ref, object]] = OrderedDict()
_lock = threading.Lock()


def derived(snapshot: object, key: str, compute: Callable[[], T]) -> T:
    """`compute()` once per (snapshot, key); later calls return the stored result."""
    slot = (id(snapshot), key)
    with _lock:
        entry = _entries.get(slot)
        if entry is not None and entry[0]() is snapshot:
            _entries.move_to_end(slot)
            return entry[1]  # type: ignore[return-value]
    value = compute()
    with _lock:
        _entries[slot] = (weakref.ref(snapshot, lambda _ref, s=slot: _forget(s)), value)
        while len(_entries) > _MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def _forget(slot: tuple[int, str]) -> None:
    with _lock:
        _entries.pop(slot, None)
