"""Stars of a cluster: Kroupa IMF along PARSEC isochrones, magnitudes in F336W, F438W, F814W.

Stars above half the turn-off mass (at most 15 Msun) are drawn one by one (they carry the stochastic light); the
stars below are represented by their expected flux (a smooth component), so a 3e5 Msun cluster
costs ~1e4 drawn stars instead of ~5e5. Log age is interpolated between the 0.05-dex isochrone
grid stochastically: each drawn star belongs to the younger or older bracketing isochrone with
probabilities given by the distance in log age (so the expected light is the linear blend), which
avoids the artefacts of blending magnitudes of different evolutionary phases at fixed mass.

Example
-------
>>> from astroclean.clusters.simulate.population import draw_population
>>> pop = draw_population(7.3, 1e4, a_v=1.0, rng=1)
>>> pop.star_flux.shape[1], pop.smooth_flux.shape
(3, (3,))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from astroclean.errors import AstrocleanValueError
from astroclean.clusters.stellar import KROUPA_BREAKS, kroupa_inverse_cdf, kroupa_number_and_mass
from astroclean.clusters.tables import distance_modulus, extinction_coefficient, tables


@dataclass(frozen=True)
class Population:
    """Light of one cluster in e-/s (apparent, after extinction) per band."""

    star_mass: np.ndarray        # initial masses of the drawn (bright) stars [Msun]
    star_flux: np.ndarray        # (n, 3) e-/s
    smooth_flux: np.ndarray      # (3,) e-/s of the undrawn faint stars
    m_cut: float                 # stars below this initial mass are in the smooth component


def _bracket(log_age):
    ages = tables().iso_ages
    la = float(np.clip(log_age, ages[0], ages[-1]))
    i = int(np.clip(np.searchsorted(ages, la) - 1, 0, len(ages) - 2))
    f = (la - ages[i]) / (ages[i + 1] - ages[i])
    return ages[i], ages[i + 1], f


def _apparent(mag, k1, k3, a_v, dm):
    """e-/s of stars of absolute magnitude ``mag`` (n, 3) with extinction ``a_v``."""
    zp = tables().zeropoint
    return 10 ** (-0.4 * (mag + a_v * extinction_coefficient(k1, k3, a_v) + dm - zp))


def draw_population(log_age: float, mass: float, *, a_v: float = 0.0, distance_mpc: float = 4.5,
                    rng=None, m_cut: float | None = None) -> Population:
    """Draw the stars of a cluster of initial mass ``mass`` [Msun] and age 10**log_age yr."""
    if not (5.9 <= log_age <= 10.1):
        raise AstrocleanValueError(f"log_age must be within the isochrone grid 5.9-10.1, got {log_age}")
    if mass <= 0 or a_v < 0:
        raise AstrocleanValueError(f"mass must be > 0 and a_v >= 0, got mass={mass}, a_v={a_v}")
    rng = np.random.default_rng(rng)
    t = tables()
    young, old, f = _bracket(log_age)
    dm = distance_modulus(distance_mpc)
    if m_cut is None:
        m_cut = min(0.5 * t.iso[old][0].max(), 15.0)
    m_cut = float(np.clip(m_cut, KROUPA_BREAKS[0], KROUPA_BREAKS[-1]))
    n_per_msun, _ = kroupa_number_and_mass(m_cut, KROUPA_BREAKS[-1])
    n = rng.poisson(mass * n_per_msun)
    masses = kroupa_inverse_cdf(rng.uniform(size=n), m_min=m_cut)
    which = rng.uniform(size=n) < f
    flux = np.zeros((n, 3))
    smooth = np.zeros(3)
    for use_old, age, weight in ((False, young, 1 - f), (True, old, f)):
        mini, mag, k1, k3, w = t.iso[age]
        sel = which == use_old
        alive = masses[sel] <= mini.max()
        idx = np.where(sel)[0][alive]
        if idx.size:
            m = masses[idx]
            star_mag = np.stack([np.interp(m, mini, mag[:, b]) for b in range(3)], -1)
            sk1 = np.stack([np.interp(m, mini, k1[:, b]) for b in range(3)], -1)
            sk3 = np.stack([np.interp(m, mini, k3[:, b]) for b in range(3)], -1)
            flux[idx] = _apparent(star_mag, sk1, sk3, a_v, dm)
        below = mini < m_cut
        smooth += weight * mass * (w[below, None] * _apparent(mag[below], k1[below], k3[below], a_v, dm)).sum(0)
    return Population(star_mass=masses, star_flux=flux, smooth_flux=smooth, m_cut=m_cut)


def expected_flux(log_age: float, mass: float, *, a_v: float = 0.0, distance_mpc: float = 4.5) -> np.ndarray:
    """Mean e-/s of such a cluster (the SSP integral, no sampling)."""
    from astroclean.clusters.tables import ssp_magnitudes
    m = ssp_magnitudes(log_age, a_v) - 2.5 * np.log10(mass) + distance_modulus(distance_mpc)
    return 10 ** (-0.4 * (m - tables().zeropoint))
