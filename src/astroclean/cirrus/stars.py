"""Bright-star light: fit an extended PSF (core + power-law wings) per band and subtract it.

Stars brighter than ``limit`` (peak signal-to-noise of the smoothed detection
band) are modelled one at a time from the brightest, each on the residual of
the previous ones. In each band the azimuthal median profile of the star (other
sources, cirrus and bad pixels masked; saturated core and bleed trail excluded)
is fitted with

    P(r) = A (1 + (r/alpha)^2)^-beta + B (1 + r/alpha)^-gamma

(a Moffat core plus power-law wings) in log space, between the edge of the
saturated core and ``radius`` arcsec, and subtracted out to that radius.

Example
-------
>>> import numpy as np
>>> from astroclean.cirrus.stars import profile, fit_profile
>>> r = np.linspace(2, 80, 40)
>>> p = fit_profile(r, profile(r, 50.0, 2.0, 2.5, 0.5, 2.0), np.full(40, 1e-3))
>>> bool(abs(p[3] / 0.5 - 1) < 0.2)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, optimize

__all__ = ["profile", "fit_profile", "StarFit", "fit_bright_stars", "find_bright_stars"]


def profile(r, a, alpha, beta, b, gamma):
    r = np.asarray(r, dtype=np.float64)
    return a * (1 + (r / alpha) ** 2) ** (-beta) + b * (1 + r / alpha) ** (-gamma)


def fit_profile(r, values, errors):
    """Least-squares fit of :func:`profile`; returns (A, alpha, beta, B, gamma)."""
    r, values, errors = (np.asarray(v, dtype=np.float64) for v in (r, values, errors))
    ok = np.isfinite(values) & np.isfinite(errors) & (errors > 0)
    r, values, errors = r[ok], values[ok], errors[ok]
    if r.size < 6:
        return None
    v0 = max(values[0], 1e-30)
    x0 = np.array([np.log(v0 * 2), np.log(max(r[0], 1.0)), 1.5, np.log(v0 * 0.05 + 1e-30), 2.0])

    def resid(p):
        model = profile(r, np.exp(p[0]), np.exp(p[1]), p[2], np.exp(p[3]), p[4])
        return (values - model) / errors

    lo = [-80, np.log(0.3), 0.5, -80, 0.8]
    hi = [80, np.log(max(r.max(), 2.0)), 6.0, 80, 5.0]
    x0 = np.clip(x0, np.array(lo) + 1e-6, np.array(hi) - 1e-6)
    try:
        sol = optimize.least_squares(resid, x0, bounds=(lo, hi), loss="soft_l1", max_nfev=400)
    except ValueError:
        return None
    p = sol.x
    return float(np.exp(p[0])), float(np.exp(p[1])), float(p[2]), float(np.exp(p[3])), float(p[4])


@dataclass(frozen=True)
class StarFit:
    x: float
    y: float
    peak_snr: float
    params: tuple        # per band: (A, alpha, beta, B, gamma) in px and data units, or None
    r_inner: float       # px, inner edge of the fit
    r_outer: float       # px


def find_bright_stars(detect: np.ndarray, noise: float, *, limit: float = 300.0, separation: int = 10,
                      max_stars: int = 10):
    """Peaks of the smoothed ``detect`` band above ``limit`` sigma, brightest first: list of (x, y, snr).

    One peak per connected region above the limit (a saturated core with its bleed trail is one star).
    """
    level = limit * noise
    above = np.nan_to_num(detect) > level
    if not above.any():
        return []
    labels, n = ndimage.label(ndimage.binary_dilation(above, iterations=max(1, separation // 2)))
    out = []
    for sl in ndimage.find_objects(labels):
        cut = ndimage.gaussian_filter(np.nan_to_num(detect[sl]).astype(np.float64), 1.5)
        iy, ix = np.unravel_index(np.argmax(cut), cut.shape)
        if cut[iy, ix] <= level:
            continue
        # centre of a saturated plateau: mean position of the pixels within 2 % of the maximum
        flat = cut >= 0.98 * cut[iy, ix]
        lab, _ = ndimage.label(flat)
        yy, xx = np.nonzero(lab == lab[iy, ix])
        out.append((float(sl[1].start + xx.mean()), float(sl[0].start + yy.mean()), float(cut[iy, ix] / noise)))
    out.sort(key=lambda t: -t[2])
    return out[:max_stars]


def _annuli(cutout, mask, rr, edges):
    idx = np.digitize(rr, edges) - 1
    med, err, rad = [], [], []
    for k in range(len(edges) - 1):
        sel = (idx == k) & ~mask
        if sel.sum() < 8:
            med.append(np.nan), err.append(np.nan), rad.append(0.5 * (edges[k] + edges[k + 1]))
            continue
        v = cutout[sel]
        m = np.median(v)
        med.append(m)
        # statistical error of the median plus a 5 % floor: the spread inside an inner annulus is mostly the
        # profile's own gradient, which must not silence the core
        err.append(1.4826 * np.median(np.abs(v - m)) / np.sqrt(sel.sum()) * 1.25 + 0.05 * abs(m) + 1e-30)
        rad.append(np.mean(rr[sel]))
    return np.array(rad), np.array(med), np.array(err)


def fit_bright_stars(data: np.ndarray, noise, *, mask: np.ndarray | None = None, pixel_scale: float = 1.0,
                     limit: float = 300.0, radius: float = 60.0, max_stars: int = 10, detect_band: int = 1,
                     stars=None, cirrus: np.ndarray | None = None):
    """Model the light of bright stars in a sky-subtracted (band, y, x) stack.

    Parameters
    ----------
    data : ndarray (band, y, x)
    noise : per-band pixel sigma
    mask : ndarray (y, x) of bool, optional
        Pixels not to fit (other sources, bad pixels); the star's own
        segment in it is ignored.
    cirrus : ndarray (y, x) of bool, optional
        Cirrus pixels, not fitted; cirrus regions that reach into the star's core
        (its own halo taken for cirrus) are kept in the fit.
    pixel_scale : float
        arcsec / px.
    limit : float
        Peak signal-to-noise (smoothed) of the stars to model.
    radius : float
        Outer radius of the fit and of the model, arcsec.

    Returns
    -------
    star_model : ndarray (band, y, x), float32
    fits : list of StarFit

    Notes
    -----
    The shape (alpha, beta, gamma) is fitted in ``detect_band``; each band gets its own core and
    wing amplitudes (linear least squares), so the star's colour may differ between core and wings.
    """
    nb, ny, nx = data.shape
    noise = np.asarray(noise, dtype=np.float64)
    bad = ~np.all(np.isfinite(data), axis=0)
    base_mask = (np.zeros((ny, nx), bool) if mask is None else mask.copy()) | bad
    labels, _ = ndimage.label(base_mask)
    model = np.zeros(data.shape, dtype=np.float32)
    residual = np.nan_to_num(data.astype(np.float32), nan=0.0)
    rpx = max(4.0, radius / pixel_scale)
    if stars is None:
        stars = find_bright_stars(data[detect_band], noise[detect_band], limit=limit,
                                  separation=max(3, int(round(3.0 / pixel_scale))), max_stars=max_stars)
    fits = []
    done = np.zeros((ny, nx), dtype=bool)     # saturated cores and bleed trails of stars already modelled
    for x, y, snr in stars:
        if done[int(y), int(x)]:
            continue
        x0, x1 = int(max(0, x - rpx)), int(min(nx, x + rpx + 1))
        y0, y1 = int(max(0, y - rpx)), int(min(ny, y + rpx + 1))
        yy, xx = np.mgrid[y0:y1, x0:x1]
        rr = np.hypot(xx - x, yy - y)
        own = labels[int(y), int(x)]
        cut_mask = base_mask[y0:y1, x0:x1] & ((labels[y0:y1, x0:x1] != own) if own else True)
        # saturated core / bleed trail: the plateau connected to the star's centre, and NaN pixels
        core = bad[y0:y1, x0:x1]
        plateau = np.zeros_like(core)
        cy, cx = int(y) - y0, int(x) - x0
        for b in range(nb):
            cut = residual[b, y0:y1, x0:x1]
            peak = cut[max(0, cy - 2): cy + 3, max(0, cx - 2): cx + 3].max()
            flat = cut >= 0.97 * peak
            if flat[max(0, cy - 2): cy + 3, max(0, cx - 2): cx + 3].sum() > 3:
                lab, _ = ndimage.label(flat)
                if lab[cy, cx]:
                    plateau |= lab == lab[cy, cx]
        area = (plateau | (core & (rr < rpx / 3))).sum()
        r_in = float(np.clip(np.sqrt(area / np.pi) * 1.5 + 2.0, 2.0, rpx / 3))
        bleed = grow_line(plateau)
        fit_mask = cut_mask | bleed | core
        if cirrus is not None:
            cl, _ = ndimage.label(cirrus[y0:y1, x0:x1])
            halo = np.unique(cl[(rr < 2 * r_in) & (cl > 0)])
            fit_mask |= (cl > 0) & ~np.isin(cl, halo)
        done[y0:y1, x0:x1] |= bleed
        edges = np.unique(np.geomspace(r_in, rpx, 25))
        profiles = [_annuli(residual[b, y0:y1, x0:x1], fit_mask, rr, edges) for b in range(nb)]
        shape = fit_profile(*profiles[detect_band])
        params = []
        for b in range(nb):
            p = None if shape is None else _amplitudes(shape, *profiles[b])
            params.append(p)
            if p is None:
                continue
            # inside the fitted range's inner edge the profile is an extrapolation: hold it flat there
            m = profile(np.maximum(rr, r_in), *p).astype(np.float32)
            taper = np.clip((rpx - rr) / (0.2 * rpx), 0, 1)  # smooth edge
            m *= taper
            model[b, y0:y1, x0:x1] += m
            residual[b, y0:y1, x0:x1] -= m
        fits.append(StarFit(x, y, snr, tuple(params), r_in, rpx))
    return model, fits


def _amplitudes(shape, rad, med, err):
    """Core and wing amplitudes of band ``med`` with the detection band's shape (alpha, beta, gamma)."""
    _, alpha, beta, _, gamma = shape
    ok = np.isfinite(med) & np.isfinite(err) & (err > 0)
    if ok.sum() < 3:
        return None
    core = profile(rad[ok], 1.0, alpha, beta, 0.0, gamma)
    wing = profile(rad[ok], 0.0, alpha, beta, 1.0, gamma)
    design = np.stack([core, wing], axis=1) / err[ok, None]
    coef, *_ = np.linalg.lstsq(design, med[ok] / err[ok], rcond=None)
    a, b = np.clip(coef, 0, None)
    return float(a), alpha, beta, float(b), gamma


def grow_line(plateau: np.ndarray) -> np.ndarray:
    """Saturated plateau plus its bleed trail, grown by 3 px."""
    return ndimage.binary_dilation(plateau, iterations=3) if plateau.any() else plateau
