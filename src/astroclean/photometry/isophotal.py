"""Isolated, round point sources by isophotal segmentation (for photometric-damage tests on clean images)."""

from __future__ import annotations
import numpy as np
from scipy import ndimage
from astroclean.errors import AstrocleanValueError
from astroclean.metrics._common import as_bool
from astroclean.metrics._common import as_2d
from astroclean.photometry.apertures import _broadcast


SOURCE_DTYPE = np.dtype(
    [("x", "f8"), ("y", "f8"), ("n_pixels", "i8"), ("axis_ratio", "f8"), ("peak", "f8"), ("flux", "f8")]
)


def find_point_sources(
    clean, *, background, rms, nsigma=3.0, min_pixels=16, axis_ratio=(0.8, 1.2), edge=10, mask=None
) -> np.ndarray:
    """Detect isolated, round sources above ``nsigma x rms``.

    Pixels with ``clean - background > nsigma * rms`` are grouped into
    8-connected components. A component is kept when it has at least
    ``min_pixels`` pixels, its axis ratio is within ``axis_ratio``, none of
    its pixels lies within ``edge`` pixels of the image border, and it does
    not touch (8-connectivity) a masked or non-finite pixel.

    The centroid and second moments are weighted by ``clean - background``
    over the component. The axis ratio is ``sqrt(l_min / l_max)`` of the
    eigenvalues of the second-moment matrix (b/a, rotation invariant, at
    most 1), so only the lower bound of ``axis_ratio`` matters unless the
    upper bound is below 1. It is NaN (never accepted) for a one-pixel
    component, whose moments vanish.

    Parameters
    ----------
    clean : array_like (y, x)
    background, rms : float or array_like (y, x)
    nsigma : float
    min_pixels : int
    axis_ratio : (float, float)
        Accepted ``(low, high)`` range of b/a, inclusive.
    edge : int
        Border width (pixels) a source must stay clear of.
    mask : array_like of bool, optional
        True = bad.

    Returns
    -------
    ndarray with dtype :data:`SOURCE_DTYPE`
        Fields ``x, y`` (centroid), ``n_pixels``, ``axis_ratio``, ``peak``
        (maximum of ``clean - background``), ``flux`` (isophotal sum of
        ``clean - background``), one row per kept source, in label order.

    Examples
    --------
    >>> yy, xx = np.mgrid[:64, :64]
    >>> clean = 1000 * np.exp(-((xx - 30.3) ** 2 + (yy - 25.6) ** 2) / (2 * 2.0**2))
    >>> src = find_point_sources(clean, background=0.0, rms=1.0)
    >>> len(src), round(float(src["x"][0]), 2), round(float(src["y"][0]), 2)
    (1, 30.3, 25.6)
    """
    data = as_2d(clean, "clean")
    lo_ratio, hi_ratio = (float(a) for a in axis_ratio)
    if not (min_pixels >= 1 and edge >= 0 and nsigma > 0 and lo_ratio <= hi_ratio):
        raise AstrocleanValueError(
            f"need min_pixels >= 1, edge >= 0, nsigma > 0 and axis_ratio low <= high; "
            f"got {min_pixels}, {edge}, {nsigma}, {axis_ratio}"
        )
    excess = data - _broadcast(background, data.shape, "background")
    noise = _broadcast(rms, data.shape, "rms")
    bad = ~(np.isfinite(excess) & np.isfinite(noise))
    if mask is not None:
        bad |= as_bool(mask, name="mask", shape=data.shape)
    with np.errstate(invalid="ignore"):
        detected = ~bad & (excess > nsigma * noise)
    eight = np.ones((3, 3), dtype=bool)
    labels, n = ndimage.label(detected, structure=eight)
    if n == 0:
        return np.zeros(0, dtype=SOURCE_DTYPE)
    flat = np.flatnonzero(labels)
    lab = labels.ravel()[flat]
    w = excess.ravel()[flat].astype(np.float64)
    y, x = np.divmod(flat, data.shape[1])

    def per_label(weights=None):
        return np.bincount(lab, weights, minlength=n + 1)[1:]

    n_pix = per_label().astype(np.int64)
    sw = per_label(w)
    xc, yc = per_label(w * x) / sw, per_label(w * y) / sw
    dx, dy = x - xc[lab - 1], y - yc[lab - 1]
    mxx, myy, mxy = per_label(w * dx * dx) / sw, per_label(w * dy * dy) / sw, per_label(w * dx * dy) / sw
    half_sum, root = (mxx + myy) / 2, np.hypot((mxx - myy) / 2, mxy)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.sqrt(np.clip(half_sum - root, 0, None) / (half_sum + root))
    touches_bad = per_label(ndimage.binary_dilation(bad, structure=eight).ravel()[flat].astype(float)) > 0
    ny, nx = data.shape
    near_edge = np.array(
        [s[0].start < edge or s[0].stop > ny - edge or s[1].start < edge or s[1].stop > nx - edge
         for s in ndimage.find_objects(labels)]
    )
    peak = ndimage.maximum(excess, labels, np.arange(1, n + 1))
    keep = (n_pix >= min_pixels) & (ratio >= lo_ratio) & (ratio <= hi_ratio) & ~touches_bad & ~near_edge
    out = np.zeros(int(np.count_nonzero(keep)), dtype=SOURCE_DTYPE)
    for name, values in (("x", xc), ("y", yc), ("n_pixels", n_pix), ("axis_ratio", ratio), ("peak", peak), ("flux", sw)):
        out[name] = np.asarray(values)[keep]
    return out
