"""Device and thread selection, the one home for both, only ever on explicit request (no import-time side
effects).

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


def set_threads(n_threads: int | None) -> int:
    """Set torch's intra-op threads (e.g. to the cores a worker owns); None leaves them. Returns the previous
    count, so a caller can put it back: ``previous = set_threads(1); ...; set_threads(previous)``."""
    previous = torch.get_num_threads()
    if n_threads is not None:
        if n_threads < 1:
            raise AstrocleanValueError(f"n_threads must be >= 1, got {n_threads}")
        torch.set_num_threads(int(n_threads))
    return previous


def limit_openmp_threads(n_threads: int | None) -> list:
    """Set ``OMP_NUM_THREADS`` for OpenMP libraries not imported yet (astroscrappy reads it on first import);
    returns the names of such libraries already imported, for which it comes too late."""
    import os
    import sys

    if n_threads is None:
        return []
    if n_threads < 1:
        raise AstrocleanValueError(f"n_threads must be >= 1, got {n_threads}")
    os.environ["OMP_NUM_THREADS"] = str(int(n_threads))
    return [m for m in ("astroscrappy",) if m in sys.modules]
