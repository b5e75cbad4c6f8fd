"""Memory files: one numpy .npz (no pickle) holding a JSON header and every state array.

The header carries `format` and `format_version`, the MemoryConfig the buffers were sized from,
and the host-side scalars. Writing goes to a temporary file in the target directory, fsynced, then
`os.replace`d over the target, so a crash never leaves a half-written file under the real name.
Reading checks everything (zip CRCs, header, version, shapes, dtypes) before anything is used.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from reasmory_ros.memory.errors import MemoryFileError

FORMAT = "reasmory-memory"
FORMAT_VERSION = 7
"""7: objects count the views in which one mask covered them and another object of their
category (`joint_views`); older files load with none. 6: the lifecycle keeps each object's first
view in a keyframe before its first detection (`first_view_frame`); older files load with none.
5: objects count the views that missed them (`missed_views`); older files load with none, so
their objects are judged on the views after loading. 4: the lifecycle keeps no colour sums of its
own (moves read the objects' colour votes), so a build that reads only version 3 is told the file
is newer instead of missing an array; the sums in older files are ignored."""
LIFECYCLE_FORMAT = 2
"""First version with object lifecycles and placement histories; version-1 files load with every
object present and no history."""
MASK_EVIDENCE_FORMAT = 3
"""First version with the objects' per-point mask evidence; older files load with none yet."""
MISSED_VIEWS_FORMAT = 5
"""First version with the objects' missed views; older files load with none yet."""
FIRST_VIEW_FORMAT = 6
"""First version with the objects' first views in keyframes; older files load with none."""
JOINT_VIEWS_FORMAT = 7
"""First version with the objects' joint views; older files load with none."""
_HEADER = "header"
_ZIP_MAGIC = b"PK\x03\x04"


def discard_interrupted_saves(path: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that saves to `path` left when their process was killed.

    Call it where one process owns the file (a node at start-up): a save in progress elsewhere
    would lose its temporary file. Returns the files deleted.
    """
    target = Path(path)
    stale = list(target.parent.glob(f".{target.name}.*.tmp")) if target.parent.is_dir() else []
    for temp in stale:
        temp.unlink(missing_ok=True)
    return stale


def write_memory_file(path: str | os.PathLike, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Atomically write header + arrays to `path`; MemoryFileError if it cannot be written."""
    target = Path(path)
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, **header}
    encoded = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    temp_name = None
    try:
        with tempfile.NamedTemporaryFile(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False
        ) as handle:
            temp_name = handle.name
            np.savez(handle, **{_HEADER: encoded}, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
        temp_name = None
    except OSError as err:
        raise MemoryFileError(f"cannot write memory file '{target}': {err.strerror or err}") from err
    finally:
        if temp_name is not None:
            Path(temp_name).unlink(missing_ok=True)


def read_memory_file(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and check a memory file: (header, arrays). MemoryFileError on any defect."""
    try:
        with open(path, "rb") as handle:
            magic = handle.read(len(_ZIP_MAGIC))
        if magic != _ZIP_MAGIC:
            # Checked first: np.load would take anything else for a pickle and say so.
            raise MemoryFileError(f"'{path}' is not a memory file (not an .npz archive)")
        with np.load(path, allow_pickle=False) as data:
            if _HEADER not in data.files:
                raise MemoryFileError(f"'{path}' is not a memory file (no header)")
            header = json.loads(data[_HEADER].tobytes().decode("utf-8"))
            _check_header(path, header)
            arrays = {name: data[name] for name in data.files if name != _HEADER}
    except MemoryFileError:
        raise
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as err:
        raise MemoryFileError(f"cannot read memory file '{path}': {err}") from err
    return header, arrays


def _check_header(path, header: Any) -> None:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise MemoryFileError(f"'{path}' is not a memory file (format {FORMAT!r} expected)")
    version = header.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise MemoryFileError(f"'{path}' has an invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise MemoryFileError(
            f"'{path}' has format_version {version}, newer than the supported {FORMAT_VERSION}: "
            "update reasmory_ros to read it"
        )
