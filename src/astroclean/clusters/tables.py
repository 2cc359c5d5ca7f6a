"""The vendored WFC3/UVIS magnitude tables (built by ``scripts/build_cluster_tables.py``).

Example
-------
>>> from astroclean.clusters.tables import tables, ssp_magnitudes
>>> tables().bands
('F336W', 'F438W', 'F814W')
>>> ssp_magnitudes(7.0, 0.0).shape      # absolute Vega magnitudes of 1 Msun, per band
(3,)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

BANDS = ("F336W", "F438W", "F814W")
#: distance of M83 used for the mocks [Mpc] (and its distance modulus)
M83_DISTANCE_MPC = 4.5
PC_PER_ARCSEC_M83 = M83_DISTANCE_MPC * 1e6 * np.pi / (180 * 3600)


def distance_modulus(distance_mpc: float) -> float:
    return 5 * np.log10(distance_mpc * 1e6 / 10)


@dataclass(frozen=True)
class Tables:
    bands: tuple
    zeropoint: np.ndarray          # Vega mag giving 1 e-/s, per band
    zeropoint_bg: dict             # F475W, F606W Vega zero points (background band mapping)
    st_mag_of_vega: np.ndarray
    pivot: np.ndarray
    iso_ages: np.ndarray           # unique log ages
    iso: dict                      # log age -> (mini, mag[n,3], k1[n,3], k3[n,3], imf weight per Msun)
    ssp_logage: np.ndarray
    ssp_av: np.ndarray
    ssp_mag: np.ndarray            # (age, av, band) absolute Vega mag of 1 Msun
    raw: dict


def _imf_weights(mini):
    from astroclean.clusters.stellar import kroupa_number_and_mass
    edges = np.concatenate([[mini[0]], 0.5 * (mini[1:] + mini[:-1]), [mini[-1]]])
    return np.array([kroupa_number_and_mass(lo, hi)[0] for lo, hi in zip(edges[:-1], edges[1:])])


@lru_cache(maxsize=1)
def tables() -> Tables:
    path = resources.files("astroclean.clusters") / "data" / "wfc3_uvis_tables.npz"
    with resources.as_file(path) as p, np.load(p) as z:
        raw = {k: z[k] for k in z.files}
    ages = np.unique(raw["iso_logage"])
    iso = {}
    for age in ages:
        sel = raw["iso_logage"] == age
        mini = raw["iso_mini"][sel].astype(float)
        iso[round(float(age), 3)] = (mini, raw["iso_mag"][sel].astype(float), raw["iso_k_av1"][sel].astype(float),
                                     raw["iso_k_av3"][sel].astype(float), _imf_weights(mini))
    return Tables(bands=tuple(str(b) for b in raw["bands"]), zeropoint=raw["vega_zeropoint"],
                  zeropoint_bg=dict(zip(("F475W", "F606W"), raw["vega_zeropoint_f475w_f606w"])),
                  st_mag_of_vega=raw["st_mag_of_vega"], pivot=raw["pivot"],
                  iso_ages=np.array([round(float(a), 3) for a in ages]), iso=iso,
                  ssp_logage=raw["ssp_logage"], ssp_av=raw["ssp_av"], ssp_mag=raw["ssp_mag_per_msun"], raw=raw)


def extinction_coefficient(k1, k3, a_v):
    """A_band / A_V of a star at ``a_v``, linear between the tabulated A_V = 1 and 3 values."""
    return k1 + (k3 - k1) * (np.asarray(a_v) - 1.0) / 2.0


def ssp_magnitudes(log_age, a_v) -> np.ndarray:
    """Absolute Vega magnitudes of 1 Msun (Kroupa) of a simple stellar population, bilinear in the grid."""
    t = tables()
    la = np.clip(log_age, t.ssp_logage[0], t.ssp_logage[-1])
    av = np.clip(a_v, t.ssp_av[0], t.ssp_av[-1])
    i = int(np.clip(np.searchsorted(t.ssp_logage, la) - 1, 0, len(t.ssp_logage) - 2))
    j = int(np.clip(np.searchsorted(t.ssp_av, av) - 1, 0, len(t.ssp_av) - 2))
    fi = (la - t.ssp_logage[i]) / (t.ssp_logage[i + 1] - t.ssp_logage[i])
    fj = (av - t.ssp_av[j]) / (t.ssp_av[j + 1] - t.ssp_av[j])
    g = t.ssp_mag
    return ((1 - fi) * (1 - fj) * g[i, j] + fi * (1 - fj) * g[i + 1, j] + (1 - fi) * fj * g[i, j + 1]
            + fi * fj * g[i + 1, j + 1])
