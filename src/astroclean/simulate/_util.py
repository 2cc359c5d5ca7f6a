"""Small helpers shared by the simulation modules (not public API)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from ..errors import AstrocleanFileError, AstrocleanValueError

DATA_DIR_ENV = "ASTROCLEAN_DATA_DIR"

#: Package data folder (the shipped cosmic-ray library and benchmark backgrounds).
PACKAGE_DATA = Path(__file__).resolve().parent.parent / "data"


def as_rng(rng) -> np.random.Generator:
    """Return a Generator from a Generator, an int seed, a SeedSequence or None."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer, np.random.SeedSequence)):
        return np.random.default_rng(rng)
    raise AstrocleanValueError(
        f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}; "
        "pass e.g. rng=numpy.random.default_rng(0)"
    )


def resolve_data_dir(data_dir=None, *, need: str = "") -> Path:
    """Find the real-data folder: argument, then $ASTROCLEAN_DATA_DIR, then ../shared/data.

    Raises
    ------
    AstrocleanFileError
        When none of the candidates exists; the message says how to point at it.
    """
    candidates = []
    if data_dir is not None:
        candidates.append(Path(data_dir))
    elif os.environ.get(DATA_DIR_ENV):
        candidates.append(Path(os.environ[DATA_DIR_ENV]))
    else:
        repo_root = Path(__file__).resolve().parents[3]
        candidates.append(repo_root.parent / "shared" / "data")
    for cand in candidates:
        if cand.is_dir():
            return cand
    what = f" ({need})" if need else ""
    raise AstrocleanFileError(
        f"real-data folder not found{what}: looked in {', '.join(str(c) for c in candidates)}; "
        f"pass data_dir=... or set the environment variable {DATA_DIR_ENV} to the folder that "
        "holds cosmic_rays/, hst/, optical/ and far_infrared/"
    )


def require_file(path: Path) -> Path:
    if not Path(path).is_file():
        raise AstrocleanFileError(
            f"missing input file {path}; check data_dir / ${DATA_DIR_ENV} (see /work/shared/data/README.md)"
        )
    return Path(path)


def _inherit(header, primary):
    """Copy primary-header keywords missing from an extension header (INHERIT = T)."""
    skip = {"SIMPLE", "EXTEND", "NAXIS", "BITPIX", "COMMENT", "HISTORY", ""}
    for key, value in primary.items():
        if key not in header and key not in skip and len(key) <= 8:
            header[key] = value


def read_fits_plane(path, *, hdu=None):
    """Read one image plane and its header: ``(data float array, header)``.

    The pixels come from :func:`astroclean.io.read_image` (the package's one
    reader); primary-header keywords missing from an extension header are
    inherited, as DECam CP files intend. Weight and DQ planes are read
    explicitly by callers.
    """
    from ..io import read_image

    img = read_image(require_file(Path(path)), hdu=hdu)
    header = img.header.copy()
    primary = img.meta.get("primary_header")
    if primary is not None and primary is not img.header:
        _inherit(header, primary)
    return np.array(img.data, dtype=np.float64), header


def robust_sigma(values) -> float:
    """1.4826 x median absolute deviation of the finite values (NaN if none)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan")
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


def local_median(data, *, size: int, mask=None) -> np.ndarray:
    """Median filter of ``data`` in a ``size`` x ``size`` box; masked pixels are first filled."""
    work = np.array(data, dtype=np.float64)
    bad = ~np.isfinite(work) if mask is None else (np.asarray(mask, bool) | ~np.isfinite(work))
    if bad.any():
        fill = np.median(work[~bad]) if (~bad).any() else 0.0
        work[bad] = fill
    return ndi.median_filter(work, size=size, mode="reflect")


def _blocks(shape, box):
    ny, nx = shape
    for j in range(max(1, -(-ny // box))):
        for i in range(max(1, -(-nx // box))):
            yield j, i, (slice(j * box, (j + 1) * box), slice(i * box, (i + 1) * box))


def _interp_grid(grid, shape, box):
    """Bilinear interpolation of a block grid (values at block centres) to every pixel."""
    by, bx = grid.shape
    if grid.size == 1:
        return np.full(shape, grid[0, 0])
    yy = np.clip((np.arange(shape[0]) + 0.5) / box - 0.5, 0, by - 1)
    xx = np.clip((np.arange(shape[1]) + 0.5) / box - 0.5, 0, bx - 1)
    coords = np.meshgrid(yy, xx, indexing="ij")
    return ndi.map_coordinates(grid, coords, order=1, mode="nearest")


def block_median(data, *, mask=None, box: int = 32, min_pixels: int = 50) -> np.ndarray:
    """Smooth background: medians of ``box`` x ``box`` blocks, interpolated bilinearly."""
    data = np.asarray(data, dtype=np.float64)
    bad = ~np.isfinite(data) if mask is None else (np.asarray(mask, bool) | ~np.isfinite(data))
    glob = float(np.median(data[~bad])) if (~bad).any() else 0.0
    shape = (max(1, -(-data.shape[0] // box)), max(1, -(-data.shape[1] // box)))
    grid = np.full(shape, glob)
    for j, i, sl in _blocks(data.shape, box):
        good = data[sl][~bad[sl]]
        if good.size >= min_pixels:
            grid[j, i] = np.median(good)
    return _interp_grid(grid, data.shape, box)


def noise_map(data, *, mask=None, box: int = 32, filter_size: int = 5, min_pixels: int = 50) -> np.ndarray:
    """Robust local 1-sigma pixel noise of ``data`` (same units), smooth over ``box`` pixels.

    In each ``box`` x ``box`` block, 1.4826 x the median absolute deviation
    of the residual from a ``filter_size`` median filter measures the noise
    without the sources' structure (for white noise the residual variance is
    sigma**2 * (1 - 0.43/n), n = filter_size**2: a bias below 2 %). Resampled
    (drizzled, mosaicked) images have noise correlated between neighbours,
    which that residual partly removes; the ratio of the plain block MAD to
    the residual MAD in the quietest quarter of the blocks measures this and
    rescales the map (never below 1). Blocks with too few good pixels take
    the global value; the grid is interpolated bilinearly to every pixel.
    """
    data = np.asarray(data, dtype=np.float64)
    bad = ~np.isfinite(data) if mask is None else (np.asarray(mask, bool) | ~np.isfinite(data))
    resid = data - local_median(data, size=filter_size, mask=bad)
    resid[bad] = np.nan
    glob = robust_sigma(resid)
    if not np.isfinite(glob) or glob <= 0:
        raise AstrocleanValueError("cannot estimate the noise: no good pixel with non-zero scatter")
    shape = (max(1, -(-data.shape[0] // box)), max(1, -(-data.shape[1] // box)))
    grid = np.full(shape, glob)
    ratios = []
    for j, i, sl in _blocks(data.shape, box):
        ok = ~bad[sl]
        if ok.sum() >= min_pixels:
            s = robust_sigma(resid[sl][ok])
            if s > 0:
                grid[j, i] = s
                ratios.append(robust_sigma(data[sl][ok]) / s)
    if ratios:
        grid *= max(1.0, float(np.percentile(ratios, 25)))
    return _interp_grid(grid, data.shape, box)


def dilate(mask, *, iterations: int = 1) -> np.ndarray:
    """Binary dilation with the 3x3 square (8-connected) structuring element."""
    return ndi.binary_dilation(mask, structure=np.ones((3, 3), bool), iterations=iterations)
