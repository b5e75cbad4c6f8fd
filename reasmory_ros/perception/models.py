"""Loading transformers models from local directories only, and choosing the torch device.

Robots run offline and these machines cannot download weights, so every model is read with
`local_files_only=True` from a directory named by a config field. A missing or incomplete
directory is reported once, up front, naming that field and what the directory must hold.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from .config import PerceptionConfigError

FILE_GROUPS = {
    "config.json": ("config.json",),
    "model weights": ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
                      "pytorch_model.bin.index.json"),
    "processor files": ("preprocessor_config.json", "processor_config.json"),
}
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "vocab.txt")
"""What a save_pretrained / hf download directory holds: at least one file of each group."""


def resolve_torch_device(name: str) -> torch.device:
    """'auto' picks cuda when torch sees a GPU; an explicit cuda without one is a config error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise PerceptionConfigError("device", f"not a torch device: {name!r}") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise PerceptionConfigError("device", f"{name!r} requested but torch sees no CUDA device")
    return device


def _file_groups(needs_tokenizer: bool) -> dict[str, tuple[str, ...]]:
    return {**FILE_GROUPS, "tokenizer files": TOKENIZER_FILES} if needs_tokenizer else FILE_GROUPS


def load_pretrained(
    field_name: str,
    path: str,
    load_model: Callable[..., Any],
    load_processor: Callable[..., Any],
    device: torch.device,
    needs_tokenizer: bool,
    example_model_id: str,
) -> tuple[Any, Any]:
    """Load (model in eval mode on `device`, processor) from the local directory `path`.

    Raises one PerceptionConfigError naming `field_name` when the directory is missing,
    incomplete or unreadable by transformers.
    """
    directory = Path(path).expanduser()
    groups = _file_groups(needs_tokenizer)
    expected = "; ".join(label if names == (label,) else f"{label} ({' or '.join(names)})"
                         for label, names in groups.items())
    hint = (
        f"Expected a local directory holding {expected}, as written by save_pretrained() or "
        f"`hf download {example_model_id} --local-dir DIR`; nothing is downloaded."
    )
    if not directory.is_dir():
        raise PerceptionConfigError(field_name, f"model directory {str(directory)!r} does not exist. {hint}")
    missing = [label for label, names in groups.items() if not any((directory / n).is_file() for n in names)]
    if missing:
        raise PerceptionConfigError(
            field_name, f"model directory {str(directory)!r} lacks {', '.join(missing)}. {hint}"
        )
    try:
        processor = load_processor(str(directory), local_files_only=True)
        model = load_model(str(directory), local_files_only=True)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, ImportError) as err:
        raise PerceptionConfigError(
            field_name, f"transformers cannot load {str(directory)!r}: {err}. {hint}"
        ) from err
    return model.to(device).eval(), processor
