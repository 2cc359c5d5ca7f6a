"""SNR-adaptive circular masks for compact far-infrared sources.

Each source gets a signal-to-noise ratio measured on a small cutout,

    SNR = (peak - annulus mean) / annulus std,

where ``peak`` is the brightest finite pixel within ``peak_radius`` of the
source position and the annulus statistics use the finite pixels with
``r_in <= r < r_out``. A :class:`MaskTable` maps the SNR to one of six
circular mask radii. The table for PACS scan maps at 70 um (``("blue",
"scan")``) is the published one:

=============  ===========
SNR            radius [px]
=============  ===========
>= 300         12
140 - 300      11
13 - 140       9
8 - 13         7
4 - 8          6
< 4            5
=============  ===========

(each lower edge inclusive: SNR exactly 300 gets 12 px, 299.9 gets 11).
No table was published for the other bands and observing modes; their
radii (and the SNR annulus) are the blue scan-map ones scaled by the ratio
of the PSF FWHM in pixels, ``(FWHM / pixel scale) / (5.6" / 1.6")``, with
the nominal PACS FWHMs 5.6", 6.8", 11.3" (70, 100, 160 um) and the pixel
scales of the archive products (scan maps 1.6", 1.6", 3.2"; chop-nod
point-source maps 1.0" in both cameras, as in the PPM 181320 maps here).
The SNR thresholds are kept. These derived tables are a scaling argument,
not a calibration.

Everything here works on cutouts: the cost is O(sources x cutout), never
O(sources x map); no map-size array is made.

Example
-------
>>> import numpy as np
>>> from astroclean.sources.masks import DEFAULT_MASK_TABLES, hole_masks
>>> table = DEFAULT_MASK_TABLES[("blue", "scan")]
>>> table.radius([500.0, 299.9, 3.0]).tolist()
[12, 11, 5]
>>> hole_masks((32, 32), [[16.0, 16.0]], [5]).sum()
np.int64(81)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from astroclean.errors import AstrocleanValueError

__all__ = [
    "MaskTable", "DEFAULT_MASK_TABLES", "NOMINAL_FWHM_ARCSEC", "PIXEL_SCALE_ARCSEC", "SnrMeasurement",
    "measure_snr", "hole_masks", "find_neighbours",
]

#: Nominal PACS PSF FWHM (arcsec) per band, used only to scale the published table.
NOMINAL_FWHM_ARCSEC = {"blue": 5.6, "green": 6.8, "red": 11.3}
#: Pixel scale (arcsec) of the archive level-2 maps per (band, mode).
PIXEL_SCALE_ARCSEC = {("blue", "scan"): 1.6, ("green", "scan"): 1.6, ("red", "scan"): 3.2,
                      ("blue", "chopnod"): 1.0, ("green", "chopnod"): 1.0, ("red", "chopnod"): 1.0}


@dataclass(frozen=True)
class MaskTable:
    """SNR thresholds and the six mask radii they select.

    Parameters
    ----------
    snr_edges : tuple of 5 float, strictly descending
        Lower (inclusive) SNR edges of the five upper classes.
    radii : tuple of 6 int, non-increasing
        Radius (pixels) for ``SNR >= snr_edges[0]``, ..., and for
        ``SNR < snr_edges[-1]`` (last). A NaN SNR gets the largest radius.
    annulus : (float, float)
        ``(r_in, r_out)`` of the background annulus for :func:`measure_snr`.
    peak_radius : float
        Search radius of the peak for :func:`measure_snr`.
    """

    snr_edges: tuple = (300.0, 140.0, 13.0, 8.0, 4.0)
    radii: tuple = (12, 11, 9, 7, 6, 5)
    annulus: tuple = (15.0, 25.0)
    peak_radius: float = 2.0

    def __post_init__(self):
        edges = tuple(float(e) for e in self.snr_edges)
        radii = tuple(int(r) for r in self.radii)
        if len(edges) != 5 or any(b >= a for a, b in zip(edges, edges[1:])):
            raise AstrocleanValueError(f"snr_edges must be 5 strictly descending numbers, got {self.snr_edges}")
        if len(radii) != 6 or any(r < 1 for r in radii) or any(b > a for a, b in zip(radii, radii[1:])):
            raise AstrocleanValueError(f"radii must be 6 positive non-increasing integers, got {self.radii}")
        r_in, r_out = (float(v) for v in self.annulus)
        if not 0 <= r_in < r_out:
            raise AstrocleanValueError(f"annulus must be (r_in, r_out) with 0 <= r_in < r_out, got {self.annulus}")
        object.__setattr__(self, "snr_edges", edges)
        object.__setattr__(self, "radii", radii)
        object.__setattr__(self, "annulus", (r_in, r_out))
        object.__setattr__(self, "peak_radius", float(self.peak_radius))

    def radius(self, snr) -> np.ndarray:
        """Mask radius (int pixels) for each SNR (vectorised; NaN -> largest radius)."""
        snr = np.asarray(snr, dtype=np.float64)
        ascending = np.array(self.snr_edges[::-1])
        k = np.searchsorted(ascending, np.where(np.isnan(snr), np.inf, snr), side="right")
        return np.asarray(self.radii[::-1], dtype=np.int64)[k]

    @property
    def max_radius(self) -> int:
        return self.radii[0]

    def to_dict(self) -> dict:
        """Plain JSON-able dict (for a model card's ``extra``)."""
        return {"snr_edges": list(self.snr_edges), "radii": list(self.radii), "annulus": list(self.annulus),
                "peak_radius": self.peak_radius}

    @classmethod
    def from_dict(cls, data: dict) -> "MaskTable":
        known = {"snr_edges", "radii", "annulus", "peak_radius"}
        unknown = set(data) - known
        if unknown:
            raise AstrocleanValueError(f"mask table has unknown keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

    def scaled(self, factor: float) -> "MaskTable":
        """The same SNR edges with radii and annulus scaled by ``factor`` (radii rounded, >= 1)."""
        radii = tuple(max(1, int(round(r * factor))) for r in self.radii)
        return MaskTable(self.snr_edges, radii, tuple(a * factor for a in self.annulus),
                         max(1.0, self.peak_radius * factor))


def _default_tables() -> dict:
    blue = MaskTable()
    ref = NOMINAL_FWHM_ARCSEC["blue"] / PIXEL_SCALE_ARCSEC[("blue", "scan")]
    return {key: blue if key == ("blue", "scan") else blue.scaled(NOMINAL_FWHM_ARCSEC[key[0]] / scale / ref)
            for key, scale in PIXEL_SCALE_ARCSEC.items()}


#: (band, mode) -> MaskTable; ("blue", "scan") is the published table, the others are FWHM-scaled.
DEFAULT_MASK_TABLES = _default_tables()


@dataclass(frozen=True)
class SnrMeasurement:
    """Per-source SNR and its ingredients (arrays of length N, image units)."""

    snr: np.ndarray
    peak: np.ndarray
    mean: np.ndarray
    std: np.ndarray


def _stack_around(image, x, y, half):
    """(N, 2*half+1, 2*half+1) float64 windows centred on round(y), round(x); NaN outside the image."""
    ny, nx = image.shape[-2:]
    iy = np.rint(y).astype(np.int64)
    ix = np.rint(x).astype(np.int64)
    off = np.arange(-half, half + 1)
    rows = iy[:, None] + off[None, :]                       # (N, s)
    cols = ix[:, None] + off[None, :]
    inside = ((rows >= 0) & (rows < ny))[:, :, None] & ((cols >= 0) & (cols < nx))[:, None, :]
    r = np.clip(rows, 0, ny - 1)[:, :, None]
    c = np.clip(cols, 0, nx - 1)[:, None, :]
    if image.ndim == 2:
        win = image[r, c]
    else:
        win = image[np.arange(len(iy))[:, None, None], r, c]
    win = np.where(inside, win.astype(np.float64), np.nan)
    return win, iy, ix


def measure_snr(image, x, y, *, peak_radius: float = 2.0, annulus=(15.0, 25.0)) -> SnrMeasurement:
    """SNR = (peak - annulus mean) / annulus std of each source, on cutouts only.

    Parameters
    ----------
    image : array_like (y, x) or (N, y, x)
        A map (then ``x``, ``y`` are map pixel positions) or a stack of N
        cutouts (then ``x[i]``, ``y[i]`` are positions inside cutout ``i``).
        NaN/inf pixels are ignored.
    x, y : array_like of float (N,)
        Source positions (0-based pixel centres).
    peak_radius : float
        The peak is the largest finite pixel within this radius of the
        rounded position.
    annulus : (float, float)
        ``(r_in, r_out)`` in pixels; the std is the sample std (ddof=1).

    Returns
    -------
    SnrMeasurement
        NaN where fewer than 3 annulus pixels or no peak pixel are finite,
        or the annulus std is 0.

    Raises
    ------
    AstrocleanValueError
        Bad shapes or annulus.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> yy, xx = np.mgrid[:64, :64]
    >>> img = 100 * np.exp(-((xx - 32) ** 2 + (yy - 30) ** 2) / 4.5) + rng.normal(0, 1, (64, 64))
    >>> m = measure_snr(img, [32.0], [30.0])
    >>> bool(90 < m.snr[0] < 115)
    True
    """
    image = np.asarray(image)
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    y = np.atleast_1d(np.asarray(y, dtype=np.float64))
    if image.ndim not in (2, 3):
        raise AstrocleanValueError(f"image must be 2-D (a map) or 3-D (a cutout stack), got shape {image.shape}")
    if x.shape != y.shape or x.ndim != 1:
        raise AstrocleanValueError(f"x and y must be 1-D of equal length, got shapes {x.shape} and {y.shape}")
    if image.ndim == 3 and len(image) != len(x):
        raise AstrocleanValueError(f"a stack of {len(image)} cutouts needs {len(image)} positions, got {len(x)}")
    r_in, r_out = (float(v) for v in annulus)
    if not 0 <= r_in < r_out or peak_radius < 0:
        raise AstrocleanValueError(f"need 0 <= r_in < r_out and peak_radius >= 0, got annulus={annulus}, "
                                   f"peak_radius={peak_radius}")
    if len(x) == 0:
        empty = np.zeros(0)
        return SnrMeasurement(empty, empty, empty, empty)
    half = int(np.ceil(max(r_out, peak_radius))) + 1
    win, iy, ix = _stack_around(image, x, y, half)
    win[~np.isfinite(win)] = np.nan
    off = np.arange(-half, half + 1, dtype=np.float64)
    dy = off[None, :, None] - (y - iy)[:, None, None]
    dx = off[None, None, :] - (x - ix)[:, None, None]
    r2 = dy ** 2 + dx ** 2
    ring = (r2 >= r_in ** 2) & (r2 < r_out ** 2)
    core = (off[:, None] ** 2 + off[None, :] ** 2) <= peak_radius ** 2     # around the rounded pixel
    ann = np.where(ring, win, np.nan)
    n_ann = np.sum(np.isfinite(ann), axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        with warnings.catch_warnings():        # all-NaN windows give NaN, reported as NaN SNR
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(ann, axis=(1, 2))
            std = np.nanstd(ann, axis=(1, 2), ddof=1)
            peak = np.nanmax(np.where(core[None], win, np.nan), axis=(1, 2))
        snr = (peak - mean) / std
    bad = (n_ann < 3) | ~np.isfinite(snr) | (std <= 0)
    snr = np.where(bad, np.nan, snr)
    return SnrMeasurement(snr=snr, peak=peak, mean=mean, std=std)


def hole_masks(shape, centres, radii, *, neighbours=None) -> np.ndarray:
    """Boolean holes (True = masked) for a stack of cutouts.

    Parameters
    ----------
    shape : (int, int)
        Cutout shape ``(size_y, size_x)``.
    centres : array_like (N, 2)
        ``(y, x)`` of each cutout's own source, in cutout pixels.
    radii : array_like (N,)
        Mask radius of each cutout's source; a pixel is masked when its
        centre lies within ``radius`` of the source (``<=``).
    neighbours : sequence of N arrays (k_i, 3), optional
        ``(y, x, radius)`` in cutout pixels of other sources to mask in
        cutout ``i`` (they may lie partly outside). See
        :func:`find_neighbours`. ``None`` or an empty array: none.

    Returns
    -------
    ndarray of bool (N, size_y, size_x)

    Example
    -------
    >>> h = hole_masks((20, 20), [[10, 10]], [3], neighbours=[np.array([[10, 18, 2]])])
    >>> int(h[0].sum()), bool(h[0, 10, 18]), bool(h[0, 10, 15])
    (41, True, False)
    """
    ny, nx = (int(s) for s in shape)
    centres = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
    radii = np.broadcast_to(np.asarray(radii, dtype=np.float64), (len(centres),))
    if neighbours is not None and len(neighbours) != len(centres):
        raise AstrocleanValueError(f"neighbours must hold one array per cutout ({len(centres)}), "
                                   f"got {len(neighbours)}")
    out = np.zeros((len(centres), ny, nx), dtype=bool)
    yy = np.arange(ny, dtype=np.float64)
    xx = np.arange(nx, dtype=np.float64)
    for start in range(0, len(centres), 256):              # bounded temporaries
        c = centres[start:start + 256]
        r = radii[start:start + 256]
        d2 = (yy[None, :, None] - c[:, 0, None, None]) ** 2 + (xx[None, None, :] - c[:, 1, None, None]) ** 2
        out[start:start + 256] = d2 <= (r ** 2)[:, None, None]
    if neighbours is not None:
        for i, nb in enumerate(neighbours):
            if nb is None or len(nb) == 0:
                continue
            for cy, cx, rad in np.asarray(nb, dtype=np.float64).reshape(-1, 3):
                y0, y1 = max(0, int(np.floor(cy - rad))), min(ny, int(np.ceil(cy + rad)) + 1)
                x0, x1 = max(0, int(np.floor(cx - rad))), min(nx, int(np.ceil(cx + rad)) + 1)
                if y0 >= y1 or x0 >= x1:
                    continue
                d2 = (yy[y0:y1, None] - cy) ** 2 + (xx[None, x0:x1] - cx) ** 2
                out[i, y0:y1, x0:x1] |= d2 <= rad ** 2
    return out


def find_neighbours(x, y, radii, origin, *, size) -> list:
    """For each cutout, the other sources whose mask circle touches it.

    Uses a k-d tree on the source positions: O(N log N + pairs), no map.

    Parameters
    ----------
    x, y : array_like (N,)
        Map positions of all sources (0-based pixels).
    radii : array_like (N,)
        Their mask radii.
    origin : array_like (N, 2) int
        ``(y0, x0)`` map pixel of each source's cutout corner (source ``i``
        owns cutout ``i``).
    size : int or (int, int)
        Cutout size.

    Returns
    -------
    list of N arrays (k_i, 3)
        ``(y, x, radius)`` of the neighbours in cutout ``i``'s pixels.

    Example
    -------
    >>> nb = find_neighbours([10.0, 20.0, 90.0], [10.0, 10.0, 90.0], [5, 5, 5], [[-6, -6], [-6, 4], [74, 74]], size=32)
    >>> [len(n) for n in nb]
    [1, 1, 0]
    """
    from scipy.spatial import cKDTree

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    radii = np.broadcast_to(np.asarray(radii, dtype=np.float64), x.shape)
    origin = np.asarray(origin, dtype=np.float64).reshape(-1, 2)
    sy, sx = (size, size) if np.isscalar(size) else size
    if not (len(x) == len(y) == len(origin)):
        raise AstrocleanValueError(f"x, y and origin must have equal lengths, got {len(x)}, {len(y)}, {len(origin)}")
    if len(x) == 0:
        return []
    cy = origin[:, 0] + (sy - 1) / 2.0
    cx = origin[:, 1] + (sx - 1) / 2.0
    reach = 0.5 * np.hypot(sy, sx) + float(radii.max()) + 1.0
    tree = cKDTree(np.column_stack([y, x]))
    hits = tree.query_ball_point(np.column_stack([cy, cx]), r=reach)
    out = []
    for i, idx in enumerate(hits):
        idx = np.asarray([j for j in idx if j != i], dtype=np.int64)
        if idx.size:
            ly = y[idx] - origin[i, 0]
            lx = x[idx] - origin[i, 1]
            r = radii[idx]
            keep = (ly + r >= 0) & (ly - r <= sy - 1) & (lx + r >= 0) & (lx - r <= sx - 1)
            out.append(np.column_stack([ly[keep], lx[keep], r[keep]]))
        else:
            out.append(np.zeros((0, 3)))
    return out
