"""Overlap tiling that gives every pixel the same value as a whole-image pass.

The image is reflect-padded by ``halo`` pixels; it is cut into cores of
``tile`` x ``tile`` pixels, each read with ``halo`` pixels of context on every
side, and only the core of each window's output is kept. With ``halo`` at
least the network's receptive radius and windows starting on multiples of the
network's pooling factor, a convolutional network with per-pixel
normalisation (BatchNorm in eval mode) gives the whole-image result up to
float rounding, edges included. Memory is bounded by one window.

Example
-------
>>> import numpy as np
>>> from astroclean.inference.tiling import predict_tiled, predict_whole
>>> x = np.random.default_rng(0).standard_normal((37, 53)).astype("f4")
>>> blur = lambda a: a.copy()          # any per-window function of a (B, y, x) batch
>>> np.allclose(predict_tiled(blur, x, tile=16, halo=8), predict_whole(blur, x, halo=8))
True
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from astroclean.errors import AstrocleanValueError


def _pad(x: np.ndarray, halo: int) -> np.ndarray:
    """Reflect-pad the last two (y, x) axes by ``halo``."""
    width = [(0, 0)] * (x.ndim - 2) + [(halo, halo)] * 2
    return np.pad(x, width, mode="symmetric") if halo else x


def predict_whole(fn: Callable, x: np.ndarray, *, halo: int) -> np.ndarray:
    """Apply ``fn`` to the whole padded image at once (the reference tiling must match)."""
    padded = _pad(x, halo)
    out = fn(padded[None])[0]
    return out[..., halo: halo + x.shape[-2], halo: halo + x.shape[-1]]


def tile_windows(shape, *, tile: int, halo: int):
    """Yield ``(core_slices, window_slices)`` in padded coordinates for an image of ``shape``."""
    ny, nx = shape
    for y0 in range(0, ny, tile):
        for x0 in range(0, nx, tile):
            y1, x1 = min(y0 + tile, ny), min(x0 + tile, nx)
            core = (slice(y0, y1), slice(x0, x1))
            window = (slice(y0, y1 + 2 * halo), slice(x0, x1 + 2 * halo))
            yield core, window


def predict_tiled(fn: Callable, x: np.ndarray, *, tile: int = 1024, halo: int = 64,
                  multiple: int = 1, batch_size: int = 1, progress: Callable | None = None) -> np.ndarray:
    """Apply ``fn`` window by window and stitch the cores.

    Parameters
    ----------
    fn : callable
        Maps a float32 batch ``(B, h, w)`` (or ``(B, C, h, w)`` for a ``(C, y, x)`` image) to an
        output batch ``(B, h, w)`` or ``(B, K, h, w)``.
    x : ndarray (y, x) or (C, y, x)
    tile : int
        Core size; must be a multiple of ``multiple`` (the network's pooling
        factor) so that every window is aligned like the whole-image pass.
    halo : int
        Context each side; also a multiple of ``multiple``.
    batch_size : int
        Windows of equal shape evaluated together.
    progress : callable, optional
        Called with the number of windows done after each batch.
    """
    if tile % multiple or halo % multiple:
        raise AstrocleanValueError(f"tile ({tile}) and halo ({halo}) must be multiples of {multiple}")
    if tile < multiple or halo < 0:
        raise AstrocleanValueError(f"tile must be >= {multiple} and halo >= 0, got tile={tile}, halo={halo}")
    padded = _pad(x, halo)
    lead = (slice(None),) * (x.ndim - 2)
    out = None
    groups: dict = {}
    for core, window in tile_windows(x.shape[-2:], tile=tile, halo=halo):
        shape = (window[0].stop - window[0].start, window[1].stop - window[1].start)
        groups.setdefault(shape, []).append((core, window))
    for items in groups.values():
        for start in range(0, len(items), batch_size):
            chunk = items[start: start + batch_size]
            batch = np.stack([padded[lead + w] for _, w in chunk])
            result = fn(batch)
            if out is None:
                out = np.empty(result.shape[1:-2] + x.shape[-2:], dtype=np.float32)
            for (core, _), res in zip(chunk, result):
                h, w = core[0].stop - core[0].start, core[1].stop - core[1].start
                out[(Ellipsis,) + core] = res[..., halo: halo + h, halo: halo + w]
            if progress is not None:
                progress(len(chunk))
    return out
