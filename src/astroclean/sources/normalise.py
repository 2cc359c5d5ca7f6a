"""Per-cutout linear normalisation for the source-removal network.

Each cutout is shifted by the median of its valid pixels and divided by
their robust standard deviation (1.4826 x MAD) with a floor, so the network
sees the background in units of its own noise whatever the map's units. The
map is linear in the data, so :func:`denormalise` returns the prediction in
the input's units exactly: ``denormalise(x, offset, scale)`` gives the input
back on valid pixels, and fluxes (sums of ``input - background``) are
preserved up to float rounding.

Example
-------
>>> import numpy as np
>>> from astroclean.sources.normalise import normalise_cutouts, denormalise
>>> rng = np.random.default_rng(0)
>>> data = (5.0 + 0.1 * rng.standard_normal((2, 16, 16))).astype("f4")
>>> hole = np.zeros(data.shape, bool); hole[:, 6:10, 6:10] = True
>>> x, valid, offset, scale = normalise_cutouts(data, hole)
>>> x.shape, float(valid[0, 0, 7, 7]), bool(abs(offset[0] - 5) < 0.05)
((2, 1, 16, 16), 0.0, True)
>>> bool(np.allclose(denormalise(x, offset, scale)[~hole], data[~hole], atol=1e-5))
True
"""

from __future__ import annotations

import numpy as np

from astroclean.background import MAD_TO_SIGMA
from astroclean.errors import AstrocleanValueError
from astroclean.inference.normalisers import register_normaliser

DESCRIPTION = ("per cutout, linear: x = (cutout - offset) / scale with offset = median of the valid (not hole, "
               "finite) pixels and scale = max(1.4826 MAD of the valid pixels, 0.1 x their std, min_scale), 1 when "
               "that is 0; hole and NaN pixels are set to 0 and flagged invalid; background = y * scale + offset")


def normalise_cutouts(data, hole, *, min_scale=None):
    """Network inputs from cutouts and their hole masks.

    Parameters
    ----------
    data : array_like (N, S, S)
        Cutouts in map units. NaN/inf pixels are treated as holes.
    hole : array_like of bool (N, S, S)
        True = masked (the sources to remove).
    min_scale : float or array_like (N,), optional
        Floor of ``scale`` in map units (e.g. the map's noise), so a cutout of
        almost constant pixels is not blown up.

    Returns
    -------
    x : ndarray (N, 1, S, S) float32
        Normalised cutouts, exactly 0 in holes.
    valid : ndarray (N, 1, S, S) float32
        1 = valid, 0 = hole or non-finite.
    offset, scale : ndarray (N,) float64
        ``cutout = x * scale + offset`` on valid pixels. A cutout without
        valid pixels gets offset 0, scale 1.

    Raises
    ------
    AstrocleanValueError
        ``data`` is not 3-D or ``hole`` has another shape.
    """
    data = np.asarray(data)
    hole = np.asarray(hole)
    if data.ndim != 3:
        raise AstrocleanValueError(f"data must be a stack of cutouts (N, S, S), got shape {data.shape}")
    if hole.shape != data.shape or hole.dtype != bool:
        raise AstrocleanValueError(f"hole must be a bool array of shape {data.shape}, got {hole.dtype} "
                                   f"{hole.shape}")
    values = data.astype(np.float64)                      # a copy: the input is never modified
    valid = np.isfinite(values) & ~hole
    values[~valid] = np.nan
    flat = values.reshape(len(values), -1)
    n_valid = valid.reshape(len(values), -1).sum(axis=1)
    offset, scale = np.zeros(len(values)), np.ones(len(values))
    some = n_valid > 0
    if some.any():
        rows = flat[some]
        offset[some] = np.nanmedian(rows, axis=1)
        mad = MAD_TO_SIGMA * np.nanmedian(np.abs(rows - offset[some, None]), axis=1)
        scale[some] = np.maximum(mad, 0.1 * np.nanstd(rows, axis=1))
    if min_scale is not None:
        floor = np.broadcast_to(np.asarray(min_scale, dtype=np.float64), scale.shape)
        if not np.all(np.isfinite(floor) & (floor >= 0)):
            raise AstrocleanValueError(f"min_scale must be finite and >= 0, got {min_scale!r}")
        scale = np.maximum(scale, floor)
    scale[~(scale > 0)] = 1.0
    x = (values - offset[:, None, None]) / scale[:, None, None]
    x[~valid] = 0.0
    return x[:, None].astype(np.float32), valid[:, None].astype(np.float32), offset, scale


def denormalise(y, offset, scale) -> np.ndarray:
    """Network output back in map units: ``y * scale + offset``.

    Parameters
    ----------
    y : array_like or torch.Tensor (N, 1, S, S) or (N, S, S)
    offset, scale : array_like (N,)
        From :func:`normalise_cutouts`.

    Returns
    -------
    ndarray (N, S, S) float64
    """
    if hasattr(y, "detach"):
        y = y.detach().cpu().numpy()
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 4:
        if y.shape[1] != 1:
            raise AstrocleanValueError(f"y must have one channel (N, 1, S, S), got shape {y.shape}")
        y = y[:, 0]
    offset, scale = np.asarray(offset, np.float64), np.asarray(scale, np.float64)
    if y.ndim != 3 or offset.shape != (len(y),) or scale.shape != (len(y),):
        raise AstrocleanValueError(f"y must be (N, S, S) with offset and scale of shape (N,), got {y.shape}, "
                                   f"{offset.shape}, {scale.shape}")
    return y * scale[:, None, None] + offset[:, None, None]


register_normaliser("cutout-linear", normalise_cutouts, description=DESCRIPTION)
