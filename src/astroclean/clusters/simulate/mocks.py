"""Mock cluster cutouts with their truth, and negatives (empty fields, chance groupings, galaxies).

Priors: log age uniform in 6-9 (1 Myr - 1 Gyr), log mass uniform in log 3e3 - log 3e5 Msun,
A_V uniform 0-3 mag, r_eff log-uniform 0.04-0.4" (EFF profile, gamma uniform 2.5-3.5; or, for a
fraction ``king_fraction`` of the clusters, a King (1962) profile with concentration
c = log10(r_t/r_c) uniform 0.5-2.0), centre within +-1 px of the cutout centre, M83 distance 4.5 Mpc.

Rendering (``smooth_light``): ``False`` draws the bright stars one by one (the default);
``"mean"`` renders the mean SSP light as a smooth profile; ``"sampled"`` draws the stars (so the
integrated colours scatter stochastically as in real clusters of this mass) but renders their
summed light as a smooth profile, as the LEGUS age test renders real clusters.

Example
-------
>>> import numpy as np
>>> from astroclean.clusters.simulate import make_mock      # doctest: +SKIP
>>> image, truth = make_mock(rng=np.random.default_rng(0), split="train")   # doctest: +SKIP
>>> image.shape, truth["is_cluster"]                        # doctest: +SKIP
((3, 48, 48), 1)
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from astroclean.errors import AstrocleanValueError
from astroclean.simulate.common import as_rng
from astroclean.clusters.tables import PC_PER_ARCSEC_M83, tables
from astroclean.clusters.simulate.backgrounds import SPLITS, aegis_galaxies, real_cutout, synthetic_disc
from astroclean.clusters.simulate.population import draw_population
from astroclean.clusters.simulate.render import EXPTIME, MAD_SIGMA, PIXEL_SCALE, add_noise, convolve_psf, deposit, \
    load_psfs, profile_image, profile_radius_sample

PRIORS = {"log_age": (6.0, 9.0), "log_mass": (np.log10(3e3), np.log10(3e5)), "a_v": (0.0, 3.0),
          "log_r_eff": (np.log10(0.04), np.log10(0.4)), "gamma": (2.5, 3.5), "concentration": (0.5, 2.0)}
TRUTH_KEYS = ("is_cluster", "log_age", "log_mass", "a_v", "r_eff_arcsec", "log_r_eff", "gamma", "snr",
              "log_snr", "x", "y", "kind", "background", "profile", "concentration", "rendering")
PROFILES = ("eff", "king")
RENDERINGS = {False: "stars", True: "mean", "mean": "mean", "sampled": "sampled", "stars": "stars", None: "stars"}
KINDS = ("cluster", "empty", "group", "galaxy")
SNR_RADIUS = 3.0


def _snr(signal, noisy, center, band=1):
    """S/N of ``signal`` in band F438W inside a 3-px aperture, noise from the cutout's residual."""
    size = signal.shape[-1]
    yy, xx = np.mgrid[0:size, 0:size]
    ap = np.hypot(yy - center[1], xx - center[0]) <= SNR_RADIUS
    s = signal[band][ap].sum()
    resid = (noisy[band] - signal[band]).ravel()
    sigma = MAD_SIGMA * np.median(np.abs(resid - np.median(resid)))
    return float(s / np.sqrt(ap.sum() * sigma**2 + max(s, 0) / EXPTIME[band]))


def _background(size, rng, split, psfs, data_dir, *, real_fraction=0.5, on_peak=False):
    if rng.uniform() < real_fraction or on_peak:
        bg, name = real_cutout(size, split=split, rng=rng, data_dir=data_dir, center_on_peak=on_peak)
        return bg, name
    bg, _ = synthetic_disc(size, rng=rng, psfs=psfs)
    return bg, "disc"


def cluster_signal(size, *, log_age, log_mass, a_v, r_eff_arcsec, gamma=None, center, rng, psfs, smooth_light=False,
                   profile="eff", concentration=None):
    """Noise-free (3, size, size) e-/s image of one mock cluster.

    ``profile``: ``"eff"`` (slope ``gamma``) or ``"king"`` (``concentration`` = log10(r_t/r_c)).
    ``smooth_light``: False (stars drawn one by one), ``"mean"`` (or True: the mean SSP light as a smooth
    profile) or ``"sampled"`` (stars drawn, their summed light rendered as a smooth profile).
    """
    if profile not in PROFILES:
        raise AstrocleanValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    if smooth_light not in RENDERINGS:
        raise AstrocleanValueError(f"smooth_light must be False, 'mean' or 'sampled', got {smooth_light!r}")
    mode = RENDERINGS[smooth_light]
    r_eff_px = r_eff_arcsec / PIXEL_SCALE
    shape = dict(profile=profile, gamma=gamma, concentration=concentration)
    smooth = profile_image(size, r_eff_px=r_eff_px, center=(center[1], center[0]), **shape)
    if mode == "mean":
        from astroclean.clusters.simulate.population import expected_flux
        return convolve_psf(expected_flux(log_age, 10**log_mass, a_v=a_v)[:, None, None] * smooth[None], psfs)
    pop = draw_population(log_age, 10**log_mass, a_v=a_v, rng=rng)
    if mode == "sampled":
        total = pop.star_flux.sum(0) + pop.smooth_flux
        return convolve_psf(total[:, None, None] * smooth[None], psfs)
    img = pop.smooth_flux[:, None, None] * smooth[None]
    n = len(pop.star_mass)
    if n:
        r = profile_radius_sample(n, r_eff_px=r_eff_px, rng=rng, r_max=3 * size, **shape)
        phi = rng.uniform(0, 2 * np.pi, n)
        img = img + deposit(size, center[0] + r * np.cos(phi), center[1] + r * np.sin(phi), pop.star_flux)
    return convolve_psf(img, psfs)


def make_mock(*, rng, split="train", size=48, kind="cluster", data_dir=None, params=None, smooth_light=False,
              profile="eff"):
    """One (3, size, size) float32 cutout in e-/s and its truth dict.

    Parameters
    ----------
    rng : numpy.random.Generator or int
    split : {"train", "test"}
        Which half of the real backgrounds to use.
    kind : {"cluster", "empty", "group", "galaxy"}
    params : dict, optional
        Fixed cluster parameters (log_age, log_mass, a_v, r_eff_arcsec, gamma or concentration) instead of
        prior draws.
    smooth_light : False, "mean" or "sampled"
        How the cluster's light is rendered (see the module notes).
    profile : {"eff", "king"}
        Radial profile of a cluster (EFF with gamma, or King 1962 with concentration, from the priors).
    """
    if split not in SPLITS:
        raise AstrocleanValueError(f"split must be one of {SPLITS}, got {split!r}")
    if kind not in KINDS:
        raise AstrocleanValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if profile not in PROFILES:
        raise AstrocleanValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    rng = as_rng(rng)
    psfs = load_psfs(data_dir)
    c0 = (size - 1) / 2
    center = (c0 + rng.uniform(-1, 1), c0 + rng.uniform(-1, 1))
    truth = {k: np.nan for k in TRUTH_KEYS}
    truth.update(kind=kind, is_cluster=int(kind == "cluster"), x=center[0], y=center[1], profile="", rendering="")
    bg, truth["background"] = _background(size, rng, split, psfs, data_dir, on_peak=(kind == "galaxy"
                                                                                     and rng.uniform() < 0.5))
    signal = np.zeros((3, size, size))
    if kind == "cluster":
        p = dict(log_age=rng.uniform(*PRIORS["log_age"]), log_mass=rng.uniform(*PRIORS["log_mass"]),
                 a_v=rng.uniform(*PRIORS["a_v"]), r_eff_arcsec=10 ** rng.uniform(*PRIORS["log_r_eff"]))
        shape = "concentration" if profile == "king" else "gamma"
        p[shape] = rng.uniform(*PRIORS[shape])
        p.update(params or {})
        signal = cluster_signal(size, center=center, rng=rng, psfs=psfs, smooth_light=smooth_light, profile=profile,
                                **p)
        truth.update(p, log_r_eff=np.log10(p["r_eff_arcsec"]), profile=profile, rendering=RENDERINGS[smooth_light])
    elif kind == "group":
        pop = draw_population(rng.uniform(6.5, 8.0), 10 ** rng.uniform(3.5, 4.7), a_v=rng.uniform(0, 2), rng=rng)
        k = min(len(pop.star_mass), int(rng.integers(3, 11)))
        if k:
            bright = np.argsort(pop.star_flux[:, 1])[::-1][:k]
            r, phi = 6 * np.sqrt(rng.uniform(size=k)), rng.uniform(0, 2 * np.pi, k)
            stars = deposit(size, center[0] + r * np.cos(phi), center[1] + r * np.sin(phi), pop.star_flux[bright])
            signal = convolve_psf(stars, psfs)
    elif kind == "galaxy" and truth["background"] == "disc" or (kind == "galaxy" and rng.uniform() < 0.5):
        stamps = aegis_galaxies(data_dir)
        pick = [i for i in range(len(stamps)) if (i % 2 == 0) == (split == "train")] or list(range(len(stamps)))
        g = stamps[pick[rng.integers(len(pick))]]
        g = ndi.zoom(g, (1, *(2 * [rng.uniform(0.5, 1.3)])), order=1)
        g = np.rot90(g, rng.integers(4), axes=(1, 2))
        total = 10 ** (-0.4 * (rng.uniform(20.0, 24.5) - tables().zeropoint[2]))
        colour = 10 ** (-0.4 * rng.uniform(-0.5, 1.0))
        g = g / max(g[2].sum(), 1e-12) * total * np.array([colour * 0.3, colour, 1.0])[:, None, None]
        signal = _paste(np.zeros((3, size, size)), np.clip(g, 0, None), center)
    noisy, _ = add_noise(np.clip(bg, 0, None) + signal, rng=rng)
    noisy = noisy + (bg - np.clip(bg, 0, None))
    snr = _snr(signal, noisy, center)
    truth.update(snr=snr, log_snr=np.log10(max(snr, 0.1)))
    return noisy.astype(np.float32), truth


def _paste(canvas, stamp, center):
    size = canvas.shape[-1]
    _, h, w = stamp.shape
    y0, x0 = int(round(center[1] - h / 2)), int(round(center[0] - w / 2))
    ys, xs = max(0, -y0), max(0, -x0)
    ye, xe = min(h, size - y0), min(w, size - x0)
    if ye > ys and xe > xs:
        canvas[:, y0 + ys: y0 + ye, x0 + xs: x0 + xe] += stamp[:, ys:ye, xs:xe]
    return canvas


def make_set(n: int, *, split: str = "train", rng=0, size: int = 48, positive_fraction: float = 0.6,
             data_dir=None, progress: bool = False, smooth_fraction: float = 0.0, smooth_mode: str = "mean",
             king_fraction: float = 0.0):
    """``n`` mocks: images (n, 3, size, size) float32 e-/s and a truth dict of arrays.

    A fraction ``smooth_fraction`` of the clusters is rendered smooth (``smooth_mode`` "mean" or
    "sampled", see :func:`cluster_signal`), a fraction ``king_fraction`` has a King profile. With both
    fractions 0 the random stream is the one the shipped sets were drawn with.

    The random stream is ``SeedSequence([seed, split_index])``, so train and test never share
    draws even with the same seed, and the backgrounds come from disjoint halves.
    """
    seed = rng if isinstance(rng, (int, np.integer)) else as_rng(rng).integers(2**31)
    gen = np.random.default_rng(np.random.SeedSequence([int(seed), SPLITS.index(split)]))
    images = np.zeros((n, 3, size, size), np.float32)
    truths = {k: [] for k in TRUTH_KEYS}
    neg = ("empty", "group", "galaxy")
    for i in range(n):
        kind = "cluster" if gen.uniform() < positive_fraction else neg[gen.integers(3)]
        smooth = kind == "cluster" and smooth_fraction > 0 and gen.uniform() < smooth_fraction
        king = kind == "cluster" and king_fraction > 0 and gen.uniform() < king_fraction
        images[i], t = make_mock(rng=gen, split=split, size=size, kind=kind, data_dir=data_dir,
                                 smooth_light=smooth_mode if smooth else False, profile="king" if king else "eff")
        for k in TRUTH_KEYS:
            truths[k].append(t[k])
        if progress and (i + 1) % 1000 == 0:
            print(f"  {i + 1}/{n} mocks", flush=True)
    out = {k: np.array(v) for k, v in truths.items()}
    out["r_eff_pc"] = out["r_eff_arcsec"] * PC_PER_ARCSEC_M83
    return images, out
