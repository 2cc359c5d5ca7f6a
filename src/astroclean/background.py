"""Robust 2-D background and noise maps (numpy only).

Sigma-clipped medians and MAD-based standard deviations in boxes, smoothly
interpolated back to full resolution, as photutils' ``Background2D`` does,
but small and fast enough for the inference hot path. Masked and non-finite
pixels are ignored.

Example
-------
>>> import numpy as np
>>> from astroclean.background import background_and_noise
>>> rng = np.random.default_rng(0)
>>> sky, noise = background_and_noise(100 + 5 * rng.standard_normal((256, 256)), box=64)
>>> round(float(sky.mean())), round(float(noise.mean()))
(100, 5)
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import ndimage

MAD_TO_SIGMA = 1.4826


def _row_nanmedian(a: np.ndarray) -> np.ndarray:
    """Median of each row ignoring NaN (NaN for all-NaN rows); one vectorised sort."""
    s = np.sort(a, axis=1)  # NaN sort last
    n = np.isfinite(s).sum(axis=1)
    rows = np.arange(a.shape[0])
    lo, hi = np.maximum((n - 1) // 2, 0), np.maximum(n // 2, 0)
    med = 0.5 * (s[rows, lo] + s[rows, hi])
    med[n == 0] = np.nan
    return med


def _clipped_stats(blocks: np.ndarray, n_iter: int = 3, clip: float = 3.0):
    """Median and sigma of each row of ``blocks`` (NaN = ignored), sigma-clipped."""
    data = blocks.copy()
    for _ in range(n_iter + 1):
        med = _row_nanmedian(data)
        sig = MAD_TO_SIGMA * _row_nanmedian(np.abs(data - med[:, None]))
        if _ == n_iter:
            break
        with np.errstate(invalid="ignore"):
            data[np.abs(data - med[:, None]) > clip * np.maximum(sig, 1e-30)[:, None]] = np.nan
    return med, sig


def _fill_nan(grid: np.ndarray) -> np.ndarray:
    """Replace NaN cells of a coarse grid by their nearest finite cell."""
    bad = ~np.isfinite(grid)
    if not bad.any():
        return grid
    if bad.all():
        return np.zeros_like(grid)
    idx = ndimage.distance_transform_edt(bad, return_distances=False, return_indices=True)
    return grid[tuple(idx)]


def block_statistics(data: np.ndarray, mask: np.ndarray | None = None, *, box: int = 64,
                     max_samples: int = 1024):
    """Clipped median and sigma on a grid of ``box`` x ``box`` cells.

    Returns ``(median_grid, sigma_grid)``; edge cells cover the remainder.
    """
    values = np.array(data, dtype=np.float32, copy=True)
    bad = ~np.isfinite(values)
    if mask is not None:
        bad |= mask
    values[bad] = np.nan
    ny, nx = values.shape
    gy, gx = max(ny // box, 1), max(nx // box, 1)
    ys = np.linspace(0, ny, gy + 1).astype(int)
    xs = np.linspace(0, nx, gx + 1).astype(int)
    # At most ``max_samples`` evenly strided pixels per cell: the statistics of a
    # 64x64 sky cell are as good from 1/4 of its pixels, and 4x cheaper.
    cell_size = (ys[1] - ys[0]) * (xs[1] - xs[0])
    stride = max(1, int(np.sqrt(cell_size / max_samples)))
    sy = (ys[1] - ys[0] + stride - 1) // stride
    sx = (xs[1] - xs[0] + stride - 1) // stride
    blocks = np.full((gy * gx, sy * sx), np.nan, dtype=np.float32)
    for i in range(gy):
        for j in range(gx):
            cell = values[ys[i]:ys[i + 1]:stride, xs[j]:xs[j + 1]:stride].ravel()
            n = min(cell.size, blocks.shape[1])
            blocks[i * gx + j, :n] = cell[:n]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells are filled below
        med, sig = _clipped_stats(blocks)
    return _fill_nan(med.reshape(gy, gx)), _fill_nan(sig.reshape(gy, gx))


def _interp_matrix(n_out: int, n_cells: int) -> np.ndarray:
    """(n_out, n_cells) weights of linear interpolation between cell centres."""
    centres = (np.arange(n_cells) + 0.5) * n_out / n_cells - 0.5
    pos = np.interp(np.arange(n_out), centres, np.arange(n_cells))
    lo = np.floor(pos).astype(int).clip(0, n_cells - 1)
    hi = (lo + 1).clip(0, n_cells - 1)
    frac = (pos - lo).astype(np.float32)
    weights = np.zeros((n_out, n_cells), dtype=np.float32)
    rows = np.arange(n_out)
    np.add.at(weights, (rows, lo), 1 - frac)
    np.add.at(weights, (rows, hi), frac)
    return weights


def expand_grid(grid: np.ndarray, shape) -> np.ndarray:
    """Bilinear interpolation of a coarse cell grid to a full-resolution map (two small matmuls)."""
    ny, nx = shape
    wy, wx = _interp_matrix(ny, grid.shape[0]), _interp_matrix(nx, grid.shape[1])
    return (wy @ grid.astype(np.float32)) @ wx.T


def background_and_noise(data: np.ndarray, mask: np.ndarray | None = None, *, box: int = 64):
    """Full-resolution background and noise (1-sigma) maps of ``data``.

    Parameters
    ----------
    data : ndarray (y, x)
    mask : ndarray of bool, optional
        True = ignore (NaN/inf are always ignored).
    box : int
        Cell size; images smaller than one cell get a single global value.

    Returns
    -------
    background, noise : float32 ndarrays of ``data.shape``
    """
    med, sig = block_statistics(data, mask, box=box)
    return expand_grid(med, data.shape), expand_grid(sig, data.shape)
