"""Aperture photometry of removed compact sources, and the classical annulus method beside it.

The flux of a source is measured on what the removal took out
(``image - background``, zero outside the source's hole) in circular
apertures of several radii, and corrected for the PSF light outside the
aperture with the PSF's encircled energy. The classical estimate --
aperture on the input map minus the sigma-clipped annulus median times the
aperture area -- is measured on the same sources for comparison.
Everything is vectorised over sources by
:func:`astroclean.metrics.aperture_flux` (sub-pixel weighted apertures).

Example
-------
>>> import numpy as np
>>> from astroclean.sources.photometry import measure_sources
>>> class GaussianPsf:                      # any object with these attributes will do
...     pixel_scale_arcsec, fwhm_pixels = 1.6, 3.5
...     def encircled_energy(self, r):
...         return 1 - np.exp(-np.asarray(r) ** 2 / (2 * (3.5 / 2.3548) ** 2))
>>> yy, xx = np.mgrid[:80, :80]
>>> s = 3.5 / 2.3548
>>> source = 2.0 * np.exp(-((xx - 40) ** 2 + (yy - 40) ** 2) / (2 * s**2)) / (2 * np.pi * s**2)
>>> table = measure_sources(source + 1.0, np.ones((80, 80)), [40.0], [40.0], psf=GaussianPsf(),
...                         radii=(6, 8), annulus=(15, 25), error=0.01)
>>> round(float(table["flux_r8"][0]), 2), round(float(table["flux_annulus"][0]), 2), str(table["flag"][0])
(2.0, 2.0, 'ok')
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from astroclean.errors import AstrocleanValueError
from astroclean.image import native_float
from astroclean.photometry import aperture_flux, pixel_scale_arcsec  # noqa: F401  (pixel_scale_arcsec re-exported)

__all__ = ["measure_sources", "pixel_scale_arcsec", "radius_label", "DEFAULT_RADII", "DEFAULT_ANNULUS"]

#: Aperture radii in pixels of the band's native map (PACS 1.6"/px blue and green, 3.2"/px red: the PSF
#: FWHM is 3.5, 4.3 and 3.6 px, so the same pixel radii fit all three bands).
DEFAULT_RADII = (4.0, 6.0, 8.0, 12.0)
#: Sky annulus (inner, outer) in pixels, outside the largest default aperture and the largest default hole.
DEFAULT_ANNULUS = (20.0, 28.0)
_CLIP_SIGMA, _CLIP_ITERS = 3.0, 5
_MIN_ANNULUS_FRACTION = 0.5


def radius_label(radius) -> str:
    """Column suffix of an aperture radius: ``4 -> 'r4'``, ``6.5 -> 'r6p5'``."""
    return "r" + f"{float(radius):g}".replace(".", "p")


def _encircled_energy(psf, radius):
    """``psf.encircled_energy`` evaluated once per distinct radius (works for scalar-only implementations)."""
    radius = np.asarray(radius, dtype=np.float64)
    unique, inverse = np.unique(radius, return_inverse=True)
    values = np.array([float(psf.encircled_energy(float(r))) for r in unique])
    return values[inverse].reshape(radius.shape)


def _hole_encircled_energy(psf, hole, x, y, radii, subsample):
    """Fraction of each source's PSF inside (aperture of each radius) AND (the removal's hole): (radii, N).

    The PSF stamp is interpolated (cubic spline) to each source's sub-pixel
    position on a stencil around it, multiplied by the hole, and the tiles
    are stacked into one mosaic so that :func:`aperture_flux` measures all
    sources at once. Cost O(sources x aperture). The stamp is taken as the
    image of a 1 Jy source: its sum is the fraction of the total flux it
    holds (1, or less when the PSF is normalised to the total flux as the
    shipped PACS PSFs are), the same normalisation as ``psf.encircled_energy``.
    """
    from scipy import ndimage

    stamp = np.asarray(psf.array, dtype=np.float64)
    c = (stamp.shape[0] - 1) / 2.0
    half = int(math.ceil(radii.max() + 1))
    side = 2 * half + 1
    offsets = np.arange(-half, half + 1)
    x0, y0 = np.round(x).astype(np.int64), np.round(y).astype(np.int64)
    py = y0[:, None, None] + offsets[None, :, None]
    px = x0[:, None, None] + offsets[None, None, :]
    ny, nx = hole.shape
    inside = (py >= 0) & (py < ny) & (px >= 0) & (px < nx)
    in_hole = inside & hole[np.clip(py, 0, ny - 1), np.clip(px, 0, nx - 1)]
    sy = np.broadcast_to(py - y[:, None, None] + c, in_hole.shape)
    sx = np.broadcast_to(px - x[:, None, None] + c, in_hole.shape)
    values = ndimage.map_coordinates(stamp, [sy.ravel(), sx.ravel()], order=3, mode="constant", cval=0.0)
    mosaic = (values.reshape(in_hole.shape) * in_hole).reshape(-1, side)  # tiles stacked along y
    mx = np.tile(half + (x - x0), radii.size)
    my = np.tile(np.arange(x.size) * side + half + (y - y0), radii.size)
    ee, _ = aperture_flux(mosaic, mx, my, np.repeat(radii, x.size), subsample=subsample)
    return ee.reshape(radii.size, x.size)  # the stamp holds its share of 1 Jy: EE relative to the total flux


def _check_pixel_scale(psf, wcs):
    scale = pixel_scale_arcsec(wcs)
    if scale is None or getattr(psf, "pixel_scale_arcsec", None) is None:
        return
    if abs(scale / psf.pixel_scale_arcsec - 1) > 0.01:
        raise AstrocleanValueError(
            f"the map has {scale:.3f} arcsec/pixel but the PSF is sampled at {psf.pixel_scale_arcsec:.3f}; "
            "use the PSF of this band and pixel scale (e.g. load_pacs_psf(band)) or resample one of them")


def _annulus_stats(data, bad, x, y, r_in, r_out):
    """Sigma-clipped median, std and number of valid pixels of each source's annulus (vectorised)."""
    half = int(math.ceil(r_out)) + 1
    offsets = np.arange(-half, half + 1)
    ny, nx = data.shape
    median, std = np.full(x.size, np.nan), np.full(x.size, np.nan)
    n_valid, n_geometric = np.zeros(x.size, np.int64), np.zeros(x.size, np.int64)
    chunk = max(1, 2_000_000 // offsets.size**2)
    for start in range(0, x.size, chunk):
        sl = slice(start, start + chunk)
        x0, y0 = np.round(x[sl]).astype(np.int64), np.round(y[sl]).astype(np.int64)
        py = y0[:, None, None] + offsets[None, :, None]
        px = x0[:, None, None] + offsets[None, None, :]
        r2 = (py - y[sl, None, None]) ** 2 + (px - x[sl, None, None]) ** 2
        ring = (r2 >= r_in**2) & (r2 <= r_out**2)
        outside = (py < 0) | (py >= ny) | (px < 0) | (px >= nx)
        cy, cx = np.clip(py, 0, ny - 1), np.clip(px, 0, nx - 1)
        ok = ring & ~outside & ~bad[cy, cx]
        values = np.where(ok, data[cy, cx], np.nan).reshape(len(x0), -1)
        n_geometric[sl] = ring.reshape(len(x0), -1).sum(axis=1)
        keep = np.isfinite(values)
        for _ in range(_CLIP_ITERS):  # iterative 3-sigma clipping about the median
            count = keep.sum(axis=1)
            usable = count >= 3
            v = np.where(keep, values, np.nan)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN
                med, sig = np.nanmedian(v, axis=1), np.nanstd(v, axis=1)
            new = keep & (np.abs(values - med[:, None]) <= _CLIP_SIGMA * sig[:, None])
            new[~usable] = keep[~usable]
            if np.array_equal(new, keep):
                break
            keep = new
        count = keep.sum(axis=1)
        v = np.where(keep, values, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            median[sl] = np.where(count >= 3, np.nanmedian(v, axis=1), np.nan)
            std[sl] = np.where(count >= 3, np.nanstd(v, axis=1), np.nan)
        n_valid[sl] = ok.reshape(len(x0), -1).sum(axis=1)
    return median, std, n_valid, n_geometric


def measure_sources(image, background, x, y, *, psf, radii=DEFAULT_RADII, radii_arcsec=None, error=None,
                    mask=None, annulus=DEFAULT_ANNULUS, mask_radius=None, hole=None, snr=None, status=None,
                    ids=None, wcs=None, reference_radius=None, subsample: int = 5):
    """Aperture photometry of removed sources (``image - background``) and the annulus method, per source.

    For each radius ``r`` the flux is the sub-pixel weighted sum of
    ``image - background`` in a circle of radius ``r`` around ``(x, y)``
    divided by the encircled energy: ``flux_r = sum / EE(r_eff)``. When
    ``mask_radius`` is given (the hole of each source: outside it the
    removal left nothing, ``image - background = 0``), the PSF light beyond
    the hole stayed in the background, so ``r_eff = min(r, mask_radius)``.
    With the hole map itself (``hole``) the encircled energy is exact for
    the pixels the removal replaced: the PSF placed at the source's
    sub-pixel position, summed over the aperture's pixels that lie in the
    hole (this also counts the neighbours' circles that overlap it).
    The error is ``sqrt(sum f**2 var) / EE`` with ``var = error**2``, or,
    without ``error``, the annulus's clipped standard deviation squared per
    pixel.

    The classical flux at each radius is ``(sum(image) - median_annulus x
    A_ap) / (EE(r) - A_ap / A_ann x (EE(r_out) - EE(r_in)))``: the
    denominator also removes the source's own PSF wings from the annulus
    level. Its error adds the annulus term ``A_ap**2 std_annulus**2 /
    n_annulus`` in quadrature. The annulus median and std are 3-sigma
    clipped (5 iterations) over its valid pixels (pixel centres with
    ``r_in <= d <= r_out``).

    Parameters
    ----------
    image : array_like (y, x)
        The input map (Jy/pixel).
    background : array_like (y, x)
        The predicted background map (equal to ``image`` outside the holes).
    x, y : array_like (N,)
        Source centres in pixels (0-based, column and row).
    psf : object
        With ``encircled_energy(radius_pixels) -> fraction`` and
        ``pixel_scale_arcsec`` (e.g. :func:`astroclean.sources.simulate.maps.load_pacs_psf`).
    radii : sequence of float
        Aperture radii in pixels (default :data:`DEFAULT_RADII`).
    radii_arcsec : sequence of float, optional
        Radii in arcsec instead, converted with ``psf.pixel_scale_arcsec``.
    error : float or array_like (y, x), optional
        1-sigma per pixel (the map's error plane). Default: the annulus std.
    mask : array_like of bool (y, x), optional
        True = bad. NaN/inf pixels are always bad.
    annulus : (float, float)
        Sky annulus radii ``(r_in, r_out)`` in pixels.
    mask_radius, snr : array_like (N,), optional
        Each source's hole radius (pixels) and signal-to-noise, copied to the table.
    hole : array_like of bool (y, x), optional
        The pixels the removal replaced (True); needs ``psf.array`` (a
        stamp centred on its central pixel, the image of a 1 Jy source).
        Takes precedence over ``mask_radius`` for the encircled energy.
    status : array_like of str (N,), optional
        A source whose status is not ``"ok"`` is not measured (its flag says why).
    ids : array_like (N,), optional
        Source identifiers (default 0 .. N-1).
    wcs : astropy.wcs.WCS, optional
        Adds ``ra``, ``dec`` (degrees) and checks the pixel scale against the PSF's.
    reference_radius : float, optional
        Radius of the ``flux``/``flux_err`` and ``flux_annulus``/``flux_annulus_err``
        columns; default the largest radius at most 2.5 x ``psf.fwhm_pixels``
        (the smallest radius when none is; the largest when the PSF has no FWHM).
    subsample : int
        Sub-pixels per axis of the aperture weights.

    Returns
    -------
    astropy.table.Table
        One row per source: ``id, x, y, [ra, dec], snr, mask_radius``, per
        radius ``flux_r{r}, flux_err_r{r}, ee_r{r}, flux_annulus_r{r},
        flux_annulus_err_r{r}`` (Jy, aperture-corrected; see
        :func:`radius_label` for ``{r}``), ``flux, flux_err, flux_annulus,
        flux_annulus_err`` at the reference radius, ``annulus_median,
        annulus_std, n_annulus`` and ``flag``: ``"ok"`` or the reasons,
        ``; ``-separated (``"near edge"``: an aperture leaves the map,
        ``"NaN in aperture"``: it covers a masked or NaN pixel -- that flux is
        NaN; ``"annulus near edge"``: under half the annulus is valid --
        ``flux_annulus`` is still given when 3 pixels are; or the input
        ``status``). ``meta`` holds the radii, annulus and reference radius.

    Raises
    ------
    AstrocleanValueError
        Shapes disagree, radii or annulus are not positive and increasing,
        or the map and PSF pixel scales differ by more than 1 %.

    Notes
    -----
    Cost: O(sources x aperture) for the apertures, annuli and PSF tiles,
    plus a few element-wise passes over the map (the difference
    ``image - background`` and the validity of its pixels).
    """
    from astropy.table import Table

    data = native_float(image, name="image")
    bkg = native_float(background, name="background")
    if data.ndim != 2 or bkg.shape != data.shape:
        raise AstrocleanValueError(f"image must be 2-D and background of its shape, got {data.shape} and {bkg.shape}")
    xs, ys = np.atleast_1d(np.asarray(x, np.float64)), np.atleast_1d(np.asarray(y, np.float64))
    if xs.shape != ys.shape or xs.ndim != 1:
        raise AstrocleanValueError(f"x and y must be 1-D of one length, got shapes {xs.shape} and {ys.shape}")
    n = xs.size
    if radii_arcsec is not None:
        radii = np.asarray(radii_arcsec, np.float64) / float(psf.pixel_scale_arcsec)
    radii = np.atleast_1d(np.asarray(radii, np.float64))
    if radii.ndim != 1 or radii.size == 0 or not np.all(np.isfinite(radii) & (radii > 0)):
        raise AstrocleanValueError(f"radii must be positive aperture radii in pixels, got {radii.tolist()}")
    r_in, r_out = (float(v) for v in annulus)
    if not (0 < r_in < r_out):
        raise AstrocleanValueError(f"annulus must be (r_in, r_out) with 0 < r_in < r_out pixels, got {annulus}")
    _check_pixel_scale(psf, wcs)
    if reference_radius is None:
        fwhm = getattr(psf, "fwhm_pixels", None)
        small = radii[radii <= 2.5 * fwhm] if fwhm else radii
        reference_radius = float(small.max() if small.size else radii.min())
    if not np.any(np.isclose(radii, reference_radius)):
        raise AstrocleanValueError(f"reference_radius {reference_radius} is not one of the radii {radii.tolist()}")

    def per_source(values, name, default):
        if values is None:
            return np.full(n, default)
        arr = np.asarray(values)
        if arr.shape != (n,):
            raise AstrocleanValueError(f"{name} must have one value per source ({n}), got shape {arr.shape}")
        return arr

    hole_radius = per_source(mask_radius, "mask_radius", np.nan).astype(np.float64)
    given = per_source(status, "status", "ok").astype(str)
    measured = (np.char.strip(given) == "ok") & np.isfinite(xs) & np.isfinite(ys)
    bad = ~np.isfinite(data)
    if mask is not None:
        m = np.asarray(mask)
        if m.shape != data.shape or m.dtype != bool:
            raise AstrocleanValueError(f"mask must be boolean of shape {data.shape}, got {m.dtype} {m.shape}")
        bad = bad | m
    variance = None if error is None else np.square(native_float(np.broadcast_to(error, data.shape), name="error"))

    idx = np.flatnonzero(measured)
    mx, my = xs[idx], ys[idx]
    ee_hole = None
    if hole is not None:
        hole = np.asarray(hole)
        if hole.shape != data.shape or hole.dtype != bool:
            raise AstrocleanValueError(f"hole must be boolean of shape {data.shape}, got {hole.dtype} {hole.shape}")
        ee_hole = _hole_encircled_energy(psf, hole, mx, my, radii, subsample) if idx.size else np.zeros((radii.size, 0))
    ann_med, ann_std, n_ann, n_geo = (np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, np.int64),
                                      np.zeros(n, np.int64))
    if idx.size:
        ann_med[idx], ann_std[idx], n_ann[idx], n_geo[idx] = _annulus_stats(data, bad, mx, my, r_in, r_out)
    # one aperture_flux call per map for all radii: each source repeated once per radius
    tx, ty, tr = np.tile(mx, radii.size), np.tile(my, radii.size), np.repeat(radii, idx.size)
    shape2 = (radii.size, idx.size)
    if idx.size:
        raw_ex, err_ex = aperture_flux(data - bkg, tx, ty, tr, variance=1.0 if variance is None else variance,
                                       mask=bad, subsample=subsample)
        raw_in, err_in = aperture_flux(data, tx, ty, tr, variance=1.0 if variance is None else variance,
                                       mask=bad, subsample=subsample)
        # the weights' sum (the sampled aperture area) multiplies the annulus level, not pi r**2
        area, _ = aperture_flux(np.ones(data.shape), tx, ty, tr, subsample=subsample)
    else:
        raw_ex = err_ex = raw_in = err_in = area = np.zeros(0)
    raw_ex, err_ex, raw_in, err_in, area = (a.reshape(shape2) for a in (raw_ex, err_ex, raw_in, err_in, area))
    if variance is None:  # aperture_flux gave sqrt(sum f**2); scale by the annulus sigma
        err_ex, err_in = err_ex * ann_std[idx], err_in * ann_std[idx]
    area_ann = math.pi * (r_out**2 - r_in**2)
    ee_wing = _encircled_energy(psf, r_out) - _encircled_energy(psf, r_in)
    ny, nx = data.shape
    flags = [[] if measured[i] else [given[i] if given[i].strip() != "ok" else "skipped: NaN coordinates"]
             for i in range(n)]
    columns = {}
    for j, r in enumerate(radii):
        label = radius_label(r)
        r_eff = np.minimum(r, hole_radius[idx]) if mask_radius is not None else np.full(idx.size, r)
        r_eff = np.where(np.isfinite(r_eff), r_eff, r)
        ee = _encircled_energy(psf, r_eff) if ee_hole is None else ee_hole[j]
        ee_ann = _encircled_energy(psf, r) - math.pi * r**2 / area_ann * ee_wing
        cols = {f"flux_{label}": raw_ex[j] / ee, f"flux_err_{label}": err_ex[j] / ee, f"ee_{label}": ee}
        sky_term = area[j] ** 2 * ann_std[idx] ** 2 / np.maximum(n_ann[idx], 1)
        cols[f"flux_annulus_{label}"] = (raw_in[j] - ann_med[idx] * area[j]) / ee_ann
        cols[f"flux_annulus_err_{label}"] = np.sqrt(err_in[j] ** 2 + sky_term) / ee_ann
        for name, values in cols.items():
            full = np.full(n, np.nan)
            full[idx] = values
            columns[name] = full
        edge = (mx - r < -0.5) | (mx + r > nx - 0.5) | (my - r < -0.5) | (my + r > ny - 0.5)
        for k in np.flatnonzero(~np.isfinite(raw_ex[j]) | ~np.isfinite(raw_in[j])):
            flags[idx[k]].append("near edge" if edge[k] else "NaN in aperture")
    for k in np.flatnonzero(n_ann[idx] < _MIN_ANNULUS_FRACTION * n_geo[idx]):
        flags[idx[k]].append("annulus near edge")
    ref = radius_label(radii[np.argmin(np.abs(radii - reference_radius))])

    table = Table()
    table["id"] = per_source(ids, "ids", 0) if ids is not None else np.arange(n)
    table["x"], table["y"] = xs, ys
    if wcs is not None:
        ra, dec = wcs.celestial.pixel_to_world_values(xs, ys)
        table["ra"], table["dec"] = np.asarray(ra, np.float64), np.asarray(dec, np.float64)
    table["snr"] = per_source(snr, "snr", np.nan).astype(np.float64)
    table["mask_radius"] = hole_radius
    for name, values in columns.items():
        table[name] = values
    table["flux"], table["flux_err"] = columns[f"flux_{ref}"], columns[f"flux_err_{ref}"]
    table["flux_annulus"] = columns[f"flux_annulus_{ref}"]
    table["flux_annulus_err"] = columns[f"flux_annulus_err_{ref}"]
    table["annulus_median"], table["annulus_std"], table["n_annulus"] = ann_med, ann_std, n_ann
    table["flag"] = np.array(["; ".join(dict.fromkeys(f)) or "ok" for f in flags], dtype=str)
    table.meta.update({"radii_pixels": radii.tolist(), "annulus_pixels": [r_in, r_out],
                       "reference_radius": float(reference_radius), "flux_unit": "Jy (aperture-corrected)",
                       "error_source": "error plane" if error is not None else "annulus std",
                       "encircled_energy": "PSF over aperture and hole" if hole is not None else
                       "EE(min(r, mask_radius))" if mask_radius is not None else "EE(r)"})
    return table
