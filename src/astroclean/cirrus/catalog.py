"""Turn a cirrus segmentation into a catalogue of filaments (issue 12, part 1).

The segmentation (True = cirrus, on the grid of the bands) is rebinned to a
chosen scale (6 arcsec by default): a big pixel is cirrus when at least half
of its small pixels are, and its flux in each band is the mean of its valid
small pixels (valid when at least half of them are: not masked, finite, not
in the source mask). Connected big cirrus pixels (8-connectivity) form the
filaments. Per filament the table gives the id, the centroid (pixels and
RA/Dec through the WCS), the area, the number of big pixels, the mean surface
brightness per band, the Pearson correlation of each pair of bands over its
big pixels with the p-value, and a flag when p >= 0.01 (the bands are not
significantly correlated: the "filament" may be noise or an artefact).

Example
-------
>>> import numpy as np
>>> from astroclean.cirrus.catalog import extract_filaments
>>> rng = np.random.default_rng(0)
>>> data = 0.01 * rng.standard_normal((3, 120, 120)).astype("f4")
>>> cirrus = np.zeros((120, 120), bool); cirrus[20:70, 30:90] = True
>>> data[:, cirrus] += np.array([0.05, 0.08, 0.1], "f4")[:, None]
>>> cat = extract_filaments(cirrus, data, bands=("g", "r", "i"), zeropoints=(22.5,) * 3, pixel_scale=1.0)
>>> len(cat.table), str(cat.table["area"].unit)
(1, 'arcsec2')
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from astropy import units as u
from astropy.table import QTable
from scipy import ndimage, stats

from astroclean.errors import AstrocleanValueError
from astroclean.image import ImageStack

__all__ = ["extract_filaments", "Filaments", "as_band_set", "rebin_factor"]

MAD_TO_SIGMA = 1.4826
P_THRESHOLD = 0.01


def as_band_set(stack, *, bands=None, zeropoints=None, pixel_scale=None, wcs=None, mask=None) -> ImageStack:
    """Validate ``stack`` (an ImageStack or a (band, y, x) array) for the catalogue; an :class:`~astroclean.image.ImageStack`.

    Keyword values override those of an ImageStack. Raises a clear error for
    fewer than two bands, a band without a zero point, no pixel scale (neither
    given nor in the WCS), or a mask of another shape. Inputs are not modified.
    """
    src_mask = None
    if hasattr(stack, "data") and hasattr(stack, "bands"):  # ImageStack (duck type)
        data = np.asarray(stack.data)
        bands = tuple(bands if bands is not None else stack.bands)
        zeropoints = zeropoints if zeropoints is not None else getattr(stack, "zeropoints", None)
        pixel_scale = pixel_scale if pixel_scale is not None else getattr(stack, "pixel_scale", None)
        wcs = wcs if wcs is not None else getattr(stack, "wcs", None)
        src_mask = getattr(stack, "mask", None)
    else:
        data = np.asarray(stack)
    if data.ndim != 3:
        raise AstrocleanValueError(f"the bands must be a (band, y, x) array or an ImageStack, got shape {data.shape}; "
                                   "stack the bands with numpy.stack([g, r, i]) or read them with astroclean.io.read_bands")
    n_band = data.shape[0]
    if n_band < 2:
        raise AstrocleanValueError(f"colours need at least two bands, got {n_band}")
    if bands is None:
        raise AstrocleanValueError("band names are missing; pass bands=('g', 'r', 'i') (one name per plane)")
    bands = tuple(str(b) for b in bands)
    if len(bands) != n_band:
        raise AstrocleanValueError(f"{len(bands)} band names {bands} for {n_band} planes; give one name per plane")
    if zeropoints is None:
        raise AstrocleanValueError(f"bands {bands} have no zero point; pass zeropoints=(...) (magnitude of one data "
                                   "unit; 22.5 for nanomaggies) or a header keyword MAGZERO/MAGZPT/ZP")
    zeropoints = tuple(zeropoints) if np.ndim(zeropoints) else (zeropoints,) * n_band
    missing = [b for b, z in zip(bands, zeropoints) if z is None or not np.isfinite(float(z))]
    if len(zeropoints) != n_band or missing:
        raise AstrocleanValueError(f"band(s) {missing or bands} have no usable zero point (got {zeropoints}); pass "
                                   "zeropoints=(...) with one magnitude per band (22.5 for nanomaggies)")
    zeropoints = tuple(float(z) for z in zeropoints)
    if pixel_scale is None:
        from astroclean.photometry import pixel_scale_arcsec

        pixel_scale = pixel_scale_arcsec(wcs)
    if pixel_scale is None or not np.isfinite(pixel_scale) or pixel_scale <= 0:
        raise AstrocleanValueError(f"no pixel scale (got {pixel_scale}) and none in a WCS; pass pixel_scale=<arcsec per "
                                   "pixel> (SDSS: 0.396)")
    full_mask = ~np.isfinite(data)
    for extra in (src_mask, mask):
        if extra is None:
            continue
        extra = np.asarray(extra, dtype=bool)
        if extra.shape == data.shape[1:]:
            extra = np.broadcast_to(extra, data.shape)
        if extra.shape != data.shape:
            raise AstrocleanValueError(f"mask has shape {extra.shape}, the bands {data.shape}; pass a (y, x) or "
                                       "(band, y, x) boolean mask of the bands' grid")
        full_mask = full_mask | extra
    return ImageStack(data=data, mask=full_mask, bands=bands, zeropoints=zeropoints, pixel_scale=float(pixel_scale),
                      wcs=wcs)


def rebin_factor(pixel_scale: float, bin_arcsec: float) -> int:
    """Small pixels per big pixel side: ``round(bin_arcsec / pixel_scale)``, at least 1."""
    if not np.isfinite(bin_arcsec) or bin_arcsec <= 0:
        raise AstrocleanValueError(f"bin_arcsec must be a positive number of arcsec, got {bin_arcsec}")
    return max(1, int(round(bin_arcsec / pixel_scale)))


def _block_sum(a: np.ndarray, f: int) -> np.ndarray:
    """Sum of f x f blocks of a 2-D array already cropped to multiples of f (float64 accumulation)."""
    ny, nx = a.shape[0] // f, a.shape[1] // f
    if f == 1:
        return a.astype(np.float64)
    # sum columns first (contiguous rows), then rows: two cheap passes, no 4-D copy of the whole band
    cols = np.add.reduceat(a, np.arange(0, nx * f, f), axis=1, dtype=np.float64)
    return np.add.reduceat(cols, np.arange(0, ny * f, f), axis=0)


def _rebin(bandset: ImageStack, cirrus: np.ndarray, f: int, source_mask=None):
    ny, nx = (s // f for s in cirrus.shape)
    if ny == 0 or nx == 0:
        raise AstrocleanValueError(f"the image ({cirrus.shape}) is smaller than one {f}x{f} bin; use a smaller "
                                   "bin_arcsec")
    sl = (slice(0, ny * f), slice(0, nx * f))
    n_small = float(f * f)
    cir_frac = _block_sum(cirrus[sl].astype(np.float32), f) / n_small
    invalid = bandset.mask[:, sl[0], sl[1]].any(axis=0)
    if source_mask is not None:
        invalid = invalid | np.asarray(source_mask, bool)[sl]
    valid_small = ~invalid
    n_valid = _block_sum(valid_small.astype(np.float32), f)
    binned = np.empty((bandset.data.shape[0], ny, nx), np.float64)
    for b in range(bandset.data.shape[0]):
        plane = bandset.data[b, sl[0], sl[1]]
        plane = np.where(valid_small, plane, 0).astype(np.float32, copy=False)
        binned[b] = _block_sum(plane, f)
    with np.errstate(invalid="ignore", divide="ignore"):
        binned /= n_valid
    usable = n_valid >= 0.5 * n_small
    binned[:, ~usable] = np.nan
    return cir_frac >= 0.5, binned, usable


@dataclass(frozen=True)
class Filaments:
    """The catalogue of filaments and what the colour step needs.

    Attributes
    ----------
    table : astropy.table.QTable
        One row per filament (see :func:`extract_filaments`).
    segments : ndarray of int32 (Y, X)
        Labelled segment map on the big-pixel grid (0 = not cirrus; value = ``id``).
    binned : ndarray (band, Y, X)
        Mean flux of each big pixel in the bands' units (NaN where unusable).
    usable : ndarray of bool (Y, X)
        Big pixels with at least half of their small pixels valid.
    noise : ndarray (band,)
        Robust sigma of the big pixels outside cirrus, per band (data units).
    bin_factor, bin_arcsec, bands, zeropoints, pixel_scale, wcs, shape
        The binning and the bands' description; ``shape`` is the input grid.
    """

    table: QTable
    segments: np.ndarray
    binned: np.ndarray
    usable: np.ndarray
    noise: np.ndarray
    bin_factor: int
    bin_arcsec: float
    bands: tuple
    zeropoints: tuple
    pixel_scale: float
    wcs: object = None
    shape: tuple = ()
    provenance: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.table)

    def segment_map(self, *, full: bool = True) -> np.ndarray:
        """The labelled map, upsampled to the input grid when ``full`` (edge rows/columns beyond the last bin = 0)."""
        if not full:
            return self.segments.copy()
        f = self.bin_factor
        out = np.zeros(self.shape, np.int32)
        up = np.repeat(np.repeat(self.segments, f, axis=0), f, axis=1)
        out[: up.shape[0], : up.shape[1]] = up
        return out

    def pixels(self, filament_id):
        """(band, n) fluxes of the usable big pixels of one filament."""
        sel = (self.segments == filament_id) & self.usable
        return self.binned[:, sel]

    def write_segments(self, path, *, full: bool = True, overwrite: bool = False):
        """Write the labelled segment map as FITS (extension ``SEGMENTS``, WCS kept when ``full``)."""
        from astroclean.io import write_fits

        header = None
        if self.wcs is not None and full:
            header = self.wcs.to_header()
        prov = {"task": "cirrus filaments", "bin_arcsec": self.bin_arcsec, "bin_factor": self.bin_factor,
                **self.provenance}
        return write_fits(path, [("SEGMENTS", self.segment_map(full=full), header)], provenance=prov,
                          overwrite=overwrite)


def _grouped_moments(labels, values_a, values_b, n_lab):
    n = np.bincount(labels, minlength=n_lab + 1).astype(np.float64)
    sa = np.bincount(labels, values_a, minlength=n_lab + 1)
    sb = np.bincount(labels, values_b, minlength=n_lab + 1)
    saa = np.bincount(labels, values_a * values_a, minlength=n_lab + 1)
    sbb = np.bincount(labels, values_b * values_b, minlength=n_lab + 1)
    sab = np.bincount(labels, values_a * values_b, minlength=n_lab + 1)
    return n, sa, sb, saa, sbb, sab


def pearson_grouped(labels, a, b, n_lab):
    """Pearson r and two-sided p-value of (a, b) within each label 1..n_lab (NaN when n < 3 or no variance)."""
    n, sa, sb, saa, sbb, sab = _grouped_moments(labels, a, b, n_lab)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sab - sa * sb / n
        va = saa - sa * sa / n
        vb = sbb - sb * sb / n
        r = cov / np.sqrt(va * vb)
        r = np.clip(r, -1.0, 1.0)
        dof = n - 2
        t = r * np.sqrt(dof / np.maximum(1.0 - r * r, 1e-300))
        p = 2.0 * stats.t.sf(np.abs(t), np.maximum(dof, 1))
    bad = (n < 3) | ~(va > 0) | ~(vb > 0)
    r[bad] = np.nan
    p[bad] = np.nan
    return r[1:], p[1:], n[1:]


def extract_filaments(cirrus, stack, *, bin_arcsec: float = 6.0, bands=None, zeropoints=None, pixel_scale=None,
                      wcs=None, mask=None, source_mask=None, min_bins: int = 1, sky: str = "local",
                      sky_ring=(1, 4)) -> Filaments:
    """Catalogue the connected cirrus regions of a segmentation.

    Parameters
    ----------
    cirrus : array_like of bool (y, x), or a result with a ``cirrus`` attribute
        True = cirrus, on the grid of ``stack``. A result's ``source_mask``
        (when present) is used as ``source_mask``.
    stack : ImageStack or array_like (band, y, x)
        The bands, sky-subtracted, in units whose zero point is known.
    bin_arcsec : float
        Side of the big pixels (default 6 arcsec); the bin factor is
        ``round(bin_arcsec / pixel_scale)``. Rows/columns beyond the last full
        bin are left out.
    bands, zeropoints, pixel_scale, wcs, mask : optional
        Needed when ``stack`` is a plain array; override an ImageStack's values.
        ``zeropoints``: AB magnitude of one data unit in one pixel.
    source_mask : array_like of bool (y, x), optional
        Pixels covered by sources or artefacts (True = ignore).
    min_bins : int
        Segments with fewer big pixels are dropped (default 1: keep all).
    sky : {"local", "global", "none"}
        Residual sky subtracted before surface brightness and colours:
        ``local`` (default) the median of the usable non-cirrus big pixels
        whose nearest cirrus pixel belongs to the filament, at
        ``sky_ring = (inner, outer)`` big pixels from it (falls back to the
        global value, flagged, with fewer than 5 such pixels); ``global`` the
        median of all usable non-cirrus big pixels; ``none`` (the input is
        trusted to be sky-subtracted). Faint cirrus in the ring has the
        filament's colour, so subtracting it lowers the surface brightness
        but not the colour.

    Returns
    -------
    Filaments
        ``.table`` (QTable) columns: ``id``, ``x``, ``y`` (centroid, input
        pixels), ``ra``, ``dec`` (deg; NaN without WCS, flagged), ``area``
        (arcsec2), ``n_pixels`` (big pixels), ``n_used`` (usable big pixels),
        ``sb_<band>`` (mag / arcsec2), ``r_<a>_<b>``, ``p_<a>_<b>``,
        ``uncorrelated_<a>_<b>`` (p >= 0.01 or undefined), ``sky_<band>``
        (subtracted sky, data units) and ``flags`` (a ';'-separated list of
        reasons, "ok" when none: every NaN is explained there).
        ``.segments`` is the labelled map (value = ``id``).

    Raises
    ------
    AstrocleanValueError
        The segmentation and the bands are on different grids, a band has no
        zero point, no pixel scale, a non-boolean segmentation.
    """
    if hasattr(cirrus, "cirrus"):
        if source_mask is None:
            source_mask = getattr(cirrus, "source_mask", None)
        cirrus = cirrus.cirrus
    cirrus = np.asarray(cirrus)
    if cirrus.ndim != 2:
        raise AstrocleanValueError(f"the cirrus segmentation must be 2-D (y, x), got shape {cirrus.shape}")
    if cirrus.dtype != bool:
        if cirrus.dtype.kind not in "iu" or not np.isin(np.unique(cirrus), (0, 1)).all():
            raise AstrocleanValueError(f"the cirrus segmentation must be boolean (True = cirrus), got dtype "
                                       f"{cirrus.dtype}; threshold a probability map first (e.g. probability >= 0.5)")
        cirrus = cirrus.astype(bool)
    bandset = as_band_set(stack, bands=bands, zeropoints=zeropoints, pixel_scale=pixel_scale, wcs=wcs, mask=mask)
    if bandset.data.shape[1:] != cirrus.shape:
        raise AstrocleanValueError(f"the segmentation ({cirrus.shape}) and the bands ({bandset.data.shape[1:]}) are on "
                                   "different grids; reproject the bands to the segmentation's grid "
                                   "(astroclean.io.read_bands) or segment the same stack")
    if source_mask is not None and np.shape(source_mask) != cirrus.shape:
        raise AstrocleanValueError(f"source_mask has shape {np.shape(source_mask)}, the segmentation {cirrus.shape}")
    f = rebin_factor(bandset.pixel_scale, bin_arcsec)
    big_cirrus, binned, usable = _rebin(bandset, cirrus, f, source_mask)
    segments, n_lab = ndimage.label(big_cirrus, structure=np.ones((3, 3), bool))
    segments = segments.astype(np.int32)
    if min_bins > 1 and n_lab:
        sizes = np.bincount(segments.ravel(), minlength=n_lab + 1)
        keep = sizes >= min_bins
        keep[0] = False
        new = np.zeros(n_lab + 1, np.int32)
        new[keep] = np.arange(1, keep.sum() + 1)
        segments = new[segments]
        n_lab = int(keep.sum())
    big_area = (f * bandset.pixel_scale) ** 2
    background = usable & ~big_cirrus
    noise = np.array([MAD_TO_SIGMA * np.median(np.abs(v - np.median(v))) if v.size > 10 else np.nan
                      for v in (binned[b][background] for b in range(binned.shape[0]))])
    if sky not in ("local", "global", "none"):
        raise AstrocleanValueError(f"sky must be 'local', 'global' or 'none', got {sky!r}")
    sky_values, sky_flags = _sky(segments, n_lab, big_cirrus, binned, usable, background, sky, sky_ring)
    table = _table(segments, n_lab, binned, usable, bandset, f, big_area, sky_values, sky_flags)
    table.meta["sky"] = sky
    prov = {"bin_arcsec": float(bin_arcsec), "bin_factor": f, "pixel_scale": bandset.pixel_scale, "sky": sky,
            "bands": ",".join(bandset.bands)}
    table.meta.update({"bin_arcsec": float(bin_arcsec), "bin_factor": f, "pixel_scale_arcsec": bandset.pixel_scale,
                       "bands": list(bandset.bands), "zeropoints": list(bandset.zeropoints),
                       "p_threshold": P_THRESHOLD, "connectivity": 8})
    return Filaments(table=table, segments=segments, binned=binned, usable=usable, noise=noise, bin_factor=f,
                     bin_arcsec=float(bin_arcsec), bands=bandset.bands, zeropoints=bandset.zeropoints,
                     pixel_scale=bandset.pixel_scale, wcs=bandset.wcs, shape=cirrus.shape, provenance=prov)


def grouped_median(labels, values, n_lab):
    """Median of ``values`` within each label 1..n_lab (NaN for empty groups)."""
    order = np.lexsort((values, labels))
    lab, val = labels[order], values[order]
    counts = np.bincount(lab, minlength=n_lab + 1)[1:]
    starts = np.searchsorted(lab, np.arange(1, n_lab + 1))
    out = np.full(n_lab, np.nan)
    ok = counts > 0
    lo = starts[ok] + (counts[ok] - 1) // 2
    hi = starts[ok] + counts[ok] // 2
    out[ok] = 0.5 * (val[lo] + val[hi])
    return out, counts


def _sky(segments, n_lab, big_cirrus, binned, usable, background, mode, ring):
    n_band = binned.shape[0]
    sky = np.zeros((n_band, n_lab))
    flags = [[] for _ in range(n_lab)]
    if mode == "none" or n_lab == 0:
        return sky, flags
    glob = np.array([np.median(binned[b][background]) if background.any() else 0.0 for b in range(n_band)])
    if not background.any():
        for fl in flags:
            fl.append("sky:no_background_pixels(0_used)")
    sky[:] = glob[:, None]
    if mode == "global":
        return sky, flags
    dist, (iy, ix) = ndimage.distance_transform_edt(segments == 0, return_indices=True)
    nearest = segments[iy, ix]
    in_ring = background & (dist > ring[0]) & (dist <= ring[1]) & (nearest > 0)
    lab = nearest[in_ring]
    for b in range(n_band):
        med, counts = grouped_median(lab, binned[b][in_ring], n_lab)
        ok = counts >= 5
        sky[b, ok] = med[ok]
    for k in np.flatnonzero(np.bincount(lab, minlength=n_lab + 1)[1:] < 5):
        flags[k].append("sky:global_fallback(ring<5px)")
    return sky, flags


def _table(segments, n_lab, binned, usable, bandset, f, big_area, sky_values, sky_flags) -> QTable:
    flags = [list(fl) for fl in sky_flags]
    flat = segments.ravel()
    n_pix = np.bincount(flat, minlength=n_lab + 1)[1:]
    yy, xx = np.indices(segments.shape)
    cx = np.bincount(flat, xx.ravel(), minlength=n_lab + 1)[1:] / np.maximum(n_pix, 1)
    cy = np.bincount(flat, yy.ravel(), minlength=n_lab + 1)[1:] / np.maximum(n_pix, 1)
    x = (cx + 0.5) * f - 0.5  # big-pixel centre -> input pixel coordinate
    y = (cy + 0.5) * f - 0.5
    sel = (flat > 0) & usable.ravel()
    lab = flat[sel]
    n_used = np.bincount(lab, minlength=n_lab + 1)[1:]
    t = QTable()
    t["id"] = np.arange(1, n_lab + 1, dtype=np.int32)
    t["x"] = x * u.pix
    t["y"] = y * u.pix
    ra = np.full(n_lab, np.nan)
    dec = np.full(n_lab, np.nan)
    if bandset.wcs is not None and n_lab:
        try:
            ra, dec = (np.asarray(v, float) for v in bandset.wcs.celestial.all_pix2world(x, y, 0))
        except Exception as exc:  # noqa: BLE001 - a broken WCS leaves RA/Dec NaN, flagged
            warnings.warn(f"centroids not converted to RA/Dec: {exc}", stacklevel=3)
    if not np.isfinite(ra).all():
        for k in np.flatnonzero(~np.isfinite(ra)):
            flags[k].append("no_wcs")
    t["ra"] = ra * u.deg
    t["dec"] = dec * u.deg
    t["area"] = n_pix * big_area * u.arcsec**2
    t["n_pixels"] = n_pix.astype(np.int32)
    t["n_used"] = n_used.astype(np.int32)
    for k in np.flatnonzero(n_used == 0):
        flags[k].append("no_usable_pixels")
    for b, band in enumerate(bandset.bands):
        vals = binned[b].ravel()[sel]
        mean = np.bincount(lab, vals, minlength=n_lab + 1)[1:] / np.maximum(n_used, 1) - sky_values[b]
        with np.errstate(invalid="ignore", divide="ignore"):
            sb = bandset.zeropoints[b] - 2.5 * np.log10(mean / bandset.pixel_scale**2)
        for k in np.flatnonzero((mean <= 0) & (n_used > 0)):
            flags[k].append(f"sb_{band}:nonpositive_mean_flux")
        sb[(mean <= 0) | (n_used == 0)] = np.nan
        t[f"sb_{band}"] = sb * u.mag / u.arcsec**2
        t[f"sky_{band}"] = sky_values[b]  # data units per pixel, subtracted before SB and colours
    for (i, a), (j, b) in combinations(enumerate(bandset.bands), 2):
        r, p, n = pearson_grouped(lab, binned[i].ravel()[sel], binned[j].ravel()[sel], n_lab)
        for k in np.flatnonzero(~np.isfinite(r)):
            flags[k].append(f"r_{a}_{b}:undefined(n={int(n[k])})")
        t[f"r_{a}_{b}"] = r
        t[f"p_{a}_{b}"] = p
        t[f"uncorrelated_{a}_{b}"] = ~(p < P_THRESHOLD)
    t["flags"] = [";".join(fl) or "ok" for fl in flags] if n_lab else np.array([], dtype=str)
    return t
