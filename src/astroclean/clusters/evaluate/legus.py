"""Real clusters: the LEGUS NGC 1566 catalogue against the mocks, and the LEGUS age test.

Catalogue columns (1-based, whitespace separated): 8/10/14 F336W/F438W/F814W Vega mag, 9/11/15 their
errors, 17 SED age [yr], 20 mass [Msun], 23 E(B-V), 34 visual class (1-2 clusters).

Age test: each class 1-2 cluster becomes a smooth EFF cluster whose total F336W, F438W, F814W
magnitudes are the LEGUS ones moved from NGC 1566 (18.0 Mpc, the LEGUS distance) to M83 (4.5 Mpc);
r_eff and gamma from the mock priors; placed on held-out backgrounds (test halves of the real
UVIS/COSMOS images and synthetic discs with test seeds), with the mocks' noise. The network,
the classical chi^2 fit and the naive two-colour estimate then infer log age, compared with the LEGUS
five-band SED age (Spearman rank correlation and median |delta log age| for ages <= 100 Myr).
"""

from __future__ import annotations

import numpy as np

from astroclean.simulate.common import resolve_data_dir
from astroclean.clusters.simulate.mocks import PRIORS, _background
from astroclean.clusters.simulate.population import draw_population
from astroclean.clusters.simulate.render import PIXEL_SCALE, add_noise, convolve_psf, eff_image, load_psfs
from astroclean.clusters.tables import distance_modulus, tables

LEGUS_FILE = "stellar_populations/legus/hlsp_legus_hst_wfc3_ngc1566_multiband_v1_padagb-mwext-avgapcor.tab"
NGC1566_MPC = 18.0


def load_legus(data_dir=None, *, classes=(1, 2)):
    """dict of arrays for the LEGUS NGC 1566 clusters of ``classes`` with F336W, F438W, F814W."""
    path = resolve_data_dir(data_dir, need="LEGUS catalogue") / LEGUS_FILE
    d = np.loadtxt(path)
    sel = np.isin(d[:, 33], classes) & (d[:, 7] < 90) & (d[:, 9] < 90) & (d[:, 13] < 90) & (d[:, 16] > 0)
    d = d[sel]
    return {"id": d[:, 0].astype(int), "mag": d[:, [7, 9, 13]], "err": d[:, [8, 10, 14]],
            "log_age": np.log10(d[:, 16]), "log_mass": np.log10(np.clip(d[:, 19], 1, None)),
            "ebv": d[:, 22], "cls": d[:, 33].astype(int)}


def mock_colours(n, *, rng):
    """True integrated (stochastically sampled) colours and log ages of ``n`` prior mock clusters."""
    rng = np.random.default_rng(rng)
    out = np.zeros((n, 2))
    ages = rng.uniform(*PRIORS["log_age"], n)
    for i in range(n):
        pop = draw_population(ages[i], 10 ** rng.uniform(*PRIORS["log_mass"]), a_v=rng.uniform(*PRIORS["a_v"]),
                              rng=rng)
        f = pop.star_flux.sum(0) + pop.smooth_flux
        m = -2.5 * np.log10(f) + tables().zeropoint
        out[i] = m[0] - m[1], m[1] - m[2]
    return out, ages


def fraction_inside(mock_xy, real_xy, *, level=0.95, bins=60, smooth=1.5):
    """Fraction of ``real_xy`` inside the region holding ``level`` of the mocks (histogram HPD region)."""
    from scipy.ndimage import gaussian_filter
    lo = np.minimum(mock_xy.min(0), real_xy.min(0)) - 0.2
    hi = np.maximum(mock_xy.max(0), real_xy.max(0)) + 0.2
    h, ex, ey = np.histogram2d(mock_xy[:, 0], mock_xy[:, 1], bins=bins, range=[[lo[0], hi[0]], [lo[1], hi[1]]])
    h = gaussian_filter(h, smooth)
    h /= h.sum()
    flat = np.sort(h.ravel())[::-1]
    thresh = flat[np.searchsorted(np.cumsum(flat), level)]
    ix = np.clip(np.digitize(real_xy[:, 0], ex) - 1, 0, bins - 1)
    iy = np.clip(np.digitize(real_xy[:, 1], ey) - 1, 0, bins - 1)
    return float(np.mean(h[ix, iy] >= thresh)), (h, ex, ey, thresh)


def inject_legus(legus, *, rng, size=48, data_dir=None):
    """(N, 3, size, size) e-/s cutouts of LEGUS-like clusters at M83's distance on held-out backgrounds."""
    rng = np.random.default_rng(rng)
    psfs = load_psfs(data_dir)
    shift = distance_modulus(4.5) - distance_modulus(NGC1566_MPC)
    flux = 10 ** (-0.4 * (legus["mag"] + shift - tables().zeropoint))
    out = np.zeros((len(flux), 3, size, size), np.float32)
    c0 = (size - 1) / 2
    for i in range(len(flux)):
        r_eff = 10 ** rng.uniform(*PRIORS["log_r_eff"])
        gamma = rng.uniform(*PRIORS["gamma"])
        center = (c0 + rng.uniform(-1, 1), c0 + rng.uniform(-1, 1))
        prof = eff_image(size, r_eff_px=r_eff / PIXEL_SCALE, gamma=gamma, center=(center[1], center[0]))
        signal = convolve_psf(flux[i][:, None, None] * prof[None], psfs)
        bg, _ = _background(size, rng, "test", psfs, data_dir)
        noisy, _ = add_noise(np.clip(bg, 0, None) + signal, rng=rng)
        out[i] = noisy + (bg - np.clip(bg, 0, None))
    return out


def age_agreement(inferred, legus_age, *, max_log_age=8.0):
    """Spearman rho and median |delta log age| for LEGUS ages <= ``max_log_age``."""
    from scipy.stats import spearmanr
    sel = (legus_age <= max_log_age + 1e-9) & np.isfinite(inferred)
    rho = spearmanr(inferred[sel], legus_age[sel]).statistic
    return {"n": int(sel.sum()), "spearman": round(float(rho), 3),
            "median_abs_dlogage": round(float(np.median(np.abs(inferred[sel] - legus_age[sel]))), 3)}


def colour_offsets(legus, *, max_err=0.15):
    """Median LEGUS colour minus the SSP colour at the LEGUS SED age and A_V = 3.1 E(B-V), per age bin."""
    from astroclean.clusters.tables import ssp_magnitudes
    m = legus["mag"]
    model = np.array([ssp_magnitudes(a, 3.1 * e) for a, e in zip(legus["log_age"], legus["ebv"])])
    d1 = (m[:, 0] - m[:, 1]) - (model[:, 0] - model[:, 1])
    d2 = (m[:, 1] - m[:, 2]) - (model[:, 1] - model[:, 2])
    rows = []
    for lo, hi in ((5.9, 6.6), (6.6, 7.2), (7.2, 7.8), (7.8, 8.5)):
        s = (legus["log_age"] >= lo) & (legus["log_age"] < hi) & (legus["err"].max(1) < max_err)
        rows.append({"log_age": f"{lo}-{hi}", "n": int(s.sum()),
                     "d(F336W-F438W)": round(float(np.median(d1[s])), 3) if s.any() else None,
                     "d(F438W-F814W)": round(float(np.median(d2[s])), 3) if s.any() else None})
    return rows


def smooth_versus_stochastic(predict, *, rng, ages=(6.0, 6.5, 7.0, 7.5, 8.0), log_mass=4.3, a_v=0.5, r_eff=0.12,
                             n=40, data_dir=None):
    """Median inferred log age of the same clusters rendered smooth (SSP mean light) or star by star.

    ``predict`` maps (N, 3, 48, 48) e-/s cutouts to (N, 3) log-age percentiles.
    """
    from astroclean.clusters.simulate.mocks import cluster_signal
    from astroclean.clusters.simulate.population import expected_flux
    from astroclean.clusters.simulate.backgrounds import real_cutout
    rng = np.random.default_rng(rng)
    psfs = load_psfs(data_dir)
    rows = []
    for age in ages:
        out = {}
        for mode in ("smooth", "stochastic"):
            cuts = []
            for _ in range(n):
                if mode == "smooth":
                    f = expected_flux(age, 10**log_mass, a_v=a_v)
                    sig = convolve_psf(f[:, None, None] * eff_image(48, r_eff_px=r_eff / PIXEL_SCALE, gamma=3.0)[None],
                                       psfs)
                else:
                    sig = cluster_signal(48, log_age=age, log_mass=log_mass, a_v=a_v, r_eff_arcsec=r_eff, gamma=3.0,
                                         center=(23.5, 23.5), rng=rng, psfs=psfs)
                bg, _ = real_cutout(48, split="test", rng=rng, data_dir=data_dir)
                noisy, _ = add_noise(np.clip(bg, 0, None) + sig, rng=rng)
                cuts.append(noisy + (bg - np.clip(bg, 0, None)))
            out[mode] = round(float(np.median(predict(np.array(cuts, np.float32))[:, 1])), 3)
        rows.append({"true log_age": age, "smooth": out["smooth"], "stochastic": out["stochastic"]})
    return rows
