"""THE background and noise estimator: robust 2-D maps (numpy only).

Sigma-clipped medians and MAD-based standard deviations in boxes, smoothly
interpolated back to full resolution, as photutils' ``Background2D`` does,
but small and fast enough for the inference hot path. Masked and non-finite
pixels are ignored. Every task, simulation and analysis uses this one
estimator, with options for the two variants they need:

* ``filter_size``: median-filter the box grid (rejects boxes dominated by a
  bright star, as photutils does); used by the near-star analysis;
* :func:`noise_map`: the noise on the residual from a 5x5 median filter (the
  sources' structure removed), rescaled for the pixel-to-pixel correlation of
  resampled images; used where injected signals are scaled to the noise
  (simulation, cosmic-ray library); :func:`block_median` is its background.

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

from astroclean.background.robust import MAD_TO_SIGMA, robust_sigma
from astroclean.errors import AstrocleanValueError


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
            # quantised data (more than half the values equal): the MAD is 0, the std is not
            flat = sig == 0
            if flat.any():
                rows = blocks[flat]
                std = np.nanstd(rows, axis=1)
                keep = np.abs(rows - med[flat][:, None]) <= 5 * np.maximum(std, 1e-30)[:, None]  # outliers only
                sig[flat] = np.nanstd(np.where(keep, rows, np.nan), axis=1)
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


def local_median(data, *, size: int, mask=None) -> np.ndarray:
    """Median filter of ``data`` in a ``size`` x ``size`` box; masked and non-finite pixels are first
    filled with the global median of the rest (float64 out)."""
    work = np.array(data, dtype=np.float64)
    bad = ~np.isfinite(work) if mask is None else (np.asarray(mask, bool) | ~np.isfinite(work))
    if bad.any():
        work[bad] = np.median(work[~bad]) if (~bad).any() else 0.0
    return ndimage.median_filter(work, size=size, mode="reflect")


def background_and_noise(data: np.ndarray, mask: np.ndarray | None = None, *, box: int = 64,
                         filter_size: int = 1):
    """Full-resolution background and noise (1-sigma) maps of ``data``.

    Parameters
    ----------
    data : ndarray (y, x)
    mask : ndarray of bool, optional
        True = ignore (NaN/inf are always ignored).
    box : int
        Cell size; images smaller than one cell get a single global value.
    filter_size : int
        Side of a median filter applied to the cell grids (1 = none).

    Returns
    -------
    background, noise : float32 ndarrays of ``data.shape``

    Raises
    ------
    ValueError
        Bad ``box`` or ``filter_size``.
    """
    if not isinstance(box, (int, np.integer)) or box < 2:
        raise AstrocleanValueError(f"box must be an integer >= 2 pixels, got {box!r}")
    if not isinstance(filter_size, (int, np.integer)) or filter_size < 1:
        raise AstrocleanValueError(f"filter_size must be a positive integer, got {filter_size!r}")
    med, sig = block_statistics(data, mask, box=box)
    if filter_size > 1:
        med = ndimage.median_filter(med, size=filter_size, mode="nearest")
        sig = ndimage.median_filter(sig, size=filter_size, mode="nearest")
    return expand_grid(med, data.shape), expand_grid(sig, data.shape)


def _block_grid(data, bad, box, statistic, fallback, *, positive=False):
    """``statistic`` of the good pixels of each ``box`` x ``box`` block, blocks counted from the origin.

    Blocks with fewer than 50 good pixels (or, with ``positive``, a statistic <= 0) keep ``fallback``;
    returns ``(grid, measured)``.
    """
    shape = (max(1, -(-data.shape[0] // box)), max(1, -(-data.shape[1] // box)))
    grid = np.full(shape, fallback, dtype=np.float64)
    measured = np.zeros(shape, bool)
    for j in range(shape[0]):
        for i in range(shape[1]):
            sl = (slice(j * box, (j + 1) * box), slice(i * box, (i + 1) * box))
            good = data[sl][~bad[sl]]
            if good.size >= 50:
                value = statistic(good)
                if value > 0 or not positive:
                    grid[j, i], measured[j, i] = value, True
    return grid, measured


def _block_interp(grid, shape, box):
    """Bilinear interpolation of a block grid (values at block centres) to every pixel."""
    if grid.size == 1:
        return np.full(shape, grid[0, 0])
    yy = np.clip((np.arange(shape[0]) + 0.5) / box - 0.5, 0, grid.shape[0] - 1)
    xx = np.clip((np.arange(shape[1]) + 0.5) / box - 0.5, 0, grid.shape[1] - 1)
    return ndimage.map_coordinates(grid, np.meshgrid(yy, xx, indexing="ij"), order=1, mode="nearest")


def noise_map(data, mask=None, *, box: int = 32, filter_size: int = 5) -> np.ndarray:
    """Robust local 1-sigma noise of ``data`` (float64, same units), for scaling injected signals to a frame.

    The noise variant of the estimator for frames whose sources must not count: in each ``box`` x ``box``
    block (counted from the origin), ``robust_sigma`` of the residual from a ``filter_size`` median filter
    (for white noise the residual variance is sigma**2 (1 - 0.43/n), n = filter_size**2: a bias below 2 %).
    Resampled (drizzled, mosaicked) images have noise correlated between neighbours, which that residual
    partly removes; the ratio of the plain to the residual block scatter in the quietest quarter of the
    blocks measures this and rescales the map (never below 1). Blocks with fewer than 50 good pixels take
    the global value; the grid is interpolated bilinearly between block centres. The shipped cosmic-ray
    library and far-infrared data were built with exactly this grid, so they rebuild identically.

    Raises
    ------
    ValueError
        No good pixel with non-zero scatter.
    """
    data = np.asarray(data, dtype=np.float64)
    bad = ~np.isfinite(data) if mask is None else (np.asarray(mask, bool) | ~np.isfinite(data))
    resid = data - local_median(data, size=filter_size, mask=bad)
    resid[bad] = np.nan
    overall = robust_sigma(resid)
    if not np.isfinite(overall) or overall <= 0:
        raise AstrocleanValueError("cannot estimate the noise: no good pixel with non-zero scatter")
    grid, measured = _block_grid(resid, bad, box, robust_sigma, overall, positive=True)
    plain, _ = _block_grid(data, bad, box, robust_sigma, np.nan)
    if measured.any():
        grid *= max(1.0, float(np.percentile(plain[measured] / grid[measured], 25)))
    return _block_interp(grid, data.shape, box)


def block_median(data, mask=None, *, box: int = 32) -> np.ndarray:
    """Smooth background from plain medians of ``box`` x ``box`` blocks (the grid of :func:`noise_map`)."""
    data = np.asarray(data, dtype=np.float64)
    bad = ~np.isfinite(data) if mask is None else (np.asarray(mask, bool) | ~np.isfinite(data))
    overall = float(np.median(data[~bad])) if (~bad).any() else 0.0
    return _block_interp(_block_grid(data, bad, box, np.median, overall)[0], data.shape, box)
