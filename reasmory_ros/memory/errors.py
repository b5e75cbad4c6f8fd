"""Errors of the memory core; one base class so callers can catch everything the memory raises."""

from __future__ import annotations


class SpatialMemoryError(Exception):
    """Base of the memory's own errors (FrameError stays a ValueError for input validation)."""


class MemoryFileError(SpatialMemoryError):
    """A memory file cannot be written or read: truncated, corrupt, newer format, no permission.

    When raised by `SpatialMemory.load`, the memory in use is left exactly as it was.
    """
