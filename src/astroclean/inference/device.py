"""Device and thread selection, only ever on explicit request (no import-time side effects).

Example
-------
>>> from astroclean.inference.device import select_device
>>> select_device("cpu").type
'cpu'
"""

from __future__ import annotations

import torch

from astroclean.errors import AstrocleanValueError


def select_device(device=None) -> torch.device:
    """``device`` as a torch.device; None picks CUDA when available, else CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise AstrocleanValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise AstrocleanValueError("device 'cuda' was asked for but no CUDA GPU is available; use device='cpu'")
    return dev


def set_threads(n_threads: int | None) -> None:
    """Set torch's intra-op threads (e.g. to the cores a worker owns); None leaves the default."""
    if n_threads is not None:
        if n_threads < 1:
            raise AstrocleanValueError(f"n_threads must be >= 1, got {n_threads}")
        torch.set_num_threads(int(n_threads))
