"""Stellar-population physics for the cluster slice: IMF, extinction law, synthetic photometry.

Everything here is small and exact enough to be re-derived by ``scripts/build_cluster_tables.py``
(which writes the vendored table ``clusters/data/wfc3_uvis_tables.npz``) and checked by the tests.

Example
-------
>>> import numpy as np
>>> from astroclean.clusters.stellar import ccm89, sample_kroupa
>>> round(float(ccm89(np.array([5495.0]))[0]), 2)      # A_lambda / A_V at V
1.0
>>> masses = sample_kroupa(1e4, rng=0)
>>> abs(masses.sum() / 1e4 - 1) < 0.01
True
"""

from __future__ import annotations

import numpy as np

from astroclean.errors import AstrocleanValueError

#: Kroupa (2001) IMF: slopes (dN/dm ∝ m^-alpha) and break masses [Msun]; stars from 0.08 to 120 Msun.
KROUPA_BREAKS = (0.08, 0.5, 120.0)
KROUPA_ALPHAS = (1.3, 2.3)


def ccm89(wavelength, *, r_v: float = 3.1) -> np.ndarray:
    """Cardelli, Clayton & Mathis (1989) extinction curve A_lambda / A_V.

    Parameters
    ----------
    wavelength : array_like
        Wavelength in Angstrom (valid 1250-33000 A; outside, the end values are held).
    r_v : float
        Total-to-selective extinction ratio.
    """
    x = 1e4 / np.clip(np.asarray(wavelength, dtype=float), 1250.0, 33000.0)   # inverse micron
    a = np.zeros_like(x)
    b = np.zeros_like(x)
    ir = x < 1.1
    a[ir], b[ir] = 0.574 * x[ir] ** 1.61, -0.527 * x[ir] ** 1.61
    opt = (x >= 1.1) & (x < 3.3)
    y = x[opt] - 1.82
    a[opt] = (1 + 0.17699 * y - 0.50447 * y**2 - 0.02427 * y**3 + 0.72085 * y**4 + 0.01979 * y**5
              - 0.77530 * y**6 + 0.32999 * y**7)
    b[opt] = (1.41338 * y + 2.28305 * y**2 + 1.07233 * y**3 - 5.38434 * y**4 - 0.62251 * y**5
              + 5.30260 * y**6 - 2.09002 * y**7)
    uv = x >= 3.3
    xu = x[uv]
    fa = np.where(xu >= 5.9, -0.04473 * (xu - 5.9) ** 2 - 0.009779 * (xu - 5.9) ** 3, 0.0)
    fb = np.where(xu >= 5.9, 0.2130 * (xu - 5.9) ** 2 + 0.1207 * (xu - 5.9) ** 3, 0.0)
    a[uv] = 1.752 - 0.316 * xu - 0.104 / ((xu - 4.67) ** 2 + 0.341) + fa
    b[uv] = -3.090 + 1.825 * xu + 1.206 / ((xu - 4.62) ** 2 + 0.263) + fb
    return a + b / r_v


def _kroupa_segments(m_min, m_max):
    """(lo, hi, alpha, norm) per power-law piece, continuous at the breaks, dN/dm = norm m^-alpha."""
    segs, norm = [], 1.0
    edges = KROUPA_BREAKS
    for i, alpha in enumerate(KROUPA_ALPHAS):
        lo, hi = edges[i], edges[i + 1]
        if i > 0:  # continuity at edges[i]
            norm = norm * edges[i] ** (-KROUPA_ALPHAS[i - 1]) / edges[i] ** (-alpha)
        lo_c, hi_c = max(lo, m_min), min(hi, m_max)
        if hi_c > lo_c:
            segs.append((lo_c, hi_c, alpha, norm))
    return segs


def _power_integral(lo, hi, p):
    """Integral of m^p from lo to hi."""
    if abs(p + 1) < 1e-12:
        return np.log(hi / lo)
    return (hi ** (p + 1) - lo ** (p + 1)) / (p + 1)


def kroupa_number_and_mass(m_lo: float, m_hi: float):
    """Number and mass of stars between ``m_lo`` and ``m_hi`` per solar mass of a Kroupa population."""
    full = _kroupa_segments(*KROUPA_BREAKS[::2])
    total_mass = sum(n * _power_integral(lo, hi, 1 - a) for lo, hi, a, n in full)
    part = _kroupa_segments(max(m_lo, KROUPA_BREAKS[0]), min(m_hi, KROUPA_BREAKS[-1]))
    number = sum(n * _power_integral(lo, hi, -a) for lo, hi, a, n in part)
    mass = sum(n * _power_integral(lo, hi, 1 - a) for lo, hi, a, n in part)
    return number / total_mass, mass / total_mass


def kroupa_inverse_cdf(u, *, m_min: float = KROUPA_BREAKS[0], m_max: float = KROUPA_BREAKS[-1]) -> np.ndarray:
    """Masses [Msun] for uniform deviates ``u`` (by number) between ``m_min`` and ``m_max``."""
    segs = _kroupa_segments(m_min, m_max)
    weights = np.array([n * _power_integral(lo, hi, -a) for lo, hi, a, n in segs])
    cum = np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
    u = np.asarray(u, dtype=float)
    out = np.empty_like(u)
    if u.size == 0:
        return out
    for i, (lo, hi, a, _) in enumerate(segs):
        sel = (u >= cum[i]) & (u <= cum[i + 1])
        f = (u[sel] - cum[i]) / max(cum[i + 1] - cum[i], 1e-300)
        p = 1 - a
        out[sel] = (lo**p + f * (hi**p - lo**p)) ** (1 / p)
    return out


def sample_kroupa(total_mass: float, *, rng=None, m_min: float = KROUPA_BREAKS[0],
                  m_max: float = KROUPA_BREAKS[-1]) -> np.ndarray:
    """Draw stars from a Kroupa IMF until their summed initial mass reaches ``total_mass`` [Msun].

    The last star is kept when that brings the sum closer to the target (stop-nearest sampling).
    """
    if not np.isfinite(total_mass) or total_mass <= 0:
        raise AstrocleanValueError(f"total_mass must be a positive number of Msun, got {total_mass}")
    rng = np.random.default_rng(rng)
    mean = kroupa_number_and_mass(m_min, m_max)
    mean_mass = mean[1] / mean[0]
    chunks, total = [], 0.0
    while total < total_mass:
        n = int(1.1 * (total_mass - total) / mean_mass) + 10
        m = kroupa_inverse_cdf(rng.uniform(size=n), m_min=m_min, m_max=m_max)
        chunks.append(m)
        total += m.sum()
    masses = np.concatenate(chunks)
    cum = np.cumsum(masses)
    k = int(np.searchsorted(cum, total_mass))
    if k < len(cum) and k > 0 and abs(cum[k] - total_mass) > abs(cum[k - 1] - total_mass):
        k -= 1
    return masses[: k + 1]


def photon_integral(wavelength, flux, curve_wavelength, throughput) -> np.ndarray:
    """Photon-counting band integral  ∫ f_lambda T lambda dlambda  of spectra on the curve's grid.

    ``flux`` may be (n_wave,) or (n_spectra, n_wave); it is interpolated onto ``curve_wavelength``.
    """
    flux = np.atleast_2d(flux)
    resampled = np.stack([np.interp(curve_wavelength, wavelength, f, left=0.0, right=0.0) for f in flux])
    return np.trapezoid(resampled * throughput * curve_wavelength, curve_wavelength, axis=-1)
