"""Common handling of a memory part's preallocated tensors: save, restore, count bytes."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class StateBuffers:
    """A memory part whose whole state is its tensor attributes plus a few host scalars.

    Tensors are allocated once in `__init__`; `load_state` copies into them (shapes and dtypes must
    match), so restoring never reallocates and a failed restore of a *fresh* part cannot touch
    the memory in use.
    """

    SCALARS: tuple[str, ...] = ()

    def tensors(self) -> dict[str, torch.Tensor]:
        """The state tensors: every public tensor attribute (underscored ones are caches)."""
        return {
            name: value for name, value in vars(self).items()
            if isinstance(value, torch.Tensor) and not name.startswith("_")
        }

    def scalars(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.SCALARS}

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.tensors().values())

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {name: t.detach().cpu().numpy() for name, t in self.tensors().items()}

    def load_state(self, arrays: dict[str, np.ndarray], scalars: dict[str, Any]) -> None:
        """Copy saved arrays into the preallocated tensors; ValueError names any mismatch."""
        for name, tensor in self.tensors().items():
            if name not in arrays:
                raise ValueError(f"missing array '{name}'")
            array = arrays[name]
            expected = torch.empty(0, dtype=tensor.dtype).numpy().dtype
            if array.shape != tuple(tensor.shape) or array.dtype != expected:
                raise ValueError(
                    f"array '{name}' is {array.dtype}{list(array.shape)}, "
                    f"expected {expected}{list(tensor.shape)}"
                )
            tensor.copy_(torch.from_numpy(np.array(array, order="C")))
        for name in self.SCALARS:
            if name not in scalars:
                raise ValueError(f"missing scalar '{name}'")
            current = getattr(self, name)
            value = scalars[name]
            if isinstance(current, list):
                if not isinstance(value, list):
                    raise ValueError(f"scalar '{name}' must be a list")
                setattr(self, name, list(value))
            else:
                setattr(self, name, type(current)(value))


def rename_ids(ids: torch.Tensor, old_ids: torch.Tensor, new_ids: torch.Tensor) -> None:
    """In place: every entry equal to old_ids[i] becomes new_ids[i] (old ids distinct)."""
    if old_ids.numel() == 0:
        return
    order = torch.argsort(old_ids)
    old_sorted, new_sorted = old_ids[order], new_ids[order]
    position = torch.searchsorted(old_sorted, ids).clamp(max=old_sorted.numel() - 1)
    hit = old_sorted[position] == ids
    ids.copy_(torch.where(hit, new_sorted[position], ids))
