"""Training and benchmark sets: stacked patches with cosmic rays and their truth.

Each patch: a crop of a real background of the flavour and split (most
patches; a frame is drawn with probability proportional to the number of
patch positions it offers) or of a simulated star field (the rest), a random
flip / rot90, a deepCR-style sky augmentation (a random sky level with its
Poisson noise, in electrons, added to the data and to the variance; only
where the electrons per unit are known), sometimes a random rescaling of the
units (like a gain into ADU, so a model learns unit independence), then
cosmic rays injected with :func:`~astroclean.cosmicrays.simulate.inject_cosmic_rays`'s
engine. Same ``rng`` (seed) -> identical arrays.

Example
-------
>>> from astroclean.cosmicrays.simulate import make_cosmic_ray_set
>>> s = make_cosmic_ray_set("space", "benchmark", n_patches=4, patch_size=64, rng=0)
>>> s.image.shape, s.truth.dtype, len(s.names)
((4, 64, 64), dtype('bool'), 4)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields

import numpy as np

from astroclean.errors import AstrocleanValueError
from astroclean.io.npz import load_npz, save_npz
from astroclean.simulate.common import as_rng
from astroclean.cosmicrays.simulate.artefacts import add_artefacts
from astroclean.cosmicrays.simulate.backgrounds import FLAVOURS, electrons_per_unit, load_backgrounds
from astroclean.cosmicrays.simulate.inject import _check, _resolve_library, bright_star_centres, inject_into_arrays
from astroclean.simulate.starfield import simulate_star_field

__all__ = ["CosmicRaySet", "make_cosmic_ray_set", "write_cosmic_ray_set", "read_cosmic_ray_set"]

_FORMAT = "astroclean-cr-set-1"
# simulated star-field settings per flavour: FWHM (px), sky (e-), read noise (e-), gain (e-/unit), stars per px
_SIM = {
    "space": dict(fwhm=(1.3, 2.5), sky=(5.0, 200.0), read_noise=(3.0, 5.0), gain=(1.0, 1.0), stars=(2e-4, 2e-3)),
    "ground": dict(fwhm=(2.5, 6.0), sky=(200.0, 8000.0), read_noise=(4.0, 10.0), gain=(1.0, 4.5),
                   stars=(2e-4, 3e-3)),
    "crowded": dict(fwhm=(1.8, 4.0), sky=(50.0, 3000.0), read_noise=(3.0, 10.0), gain=(1.0, 4.0),
                    stars=(1e-2, 5e-2)),
}
_SKY_RANGE = {"space": (1.0, 300.0), "ground": (10.0, 5000.0), "crowded": (10.0, 3000.0)}


@dataclass(frozen=True)
class CosmicRaySet:
    """Stacked patches, truth and per-patch metadata.

    Attributes
    ----------
    image : ndarray (N, H, W) float32
        Patches with cosmic rays, native units of the background (after the
        optional unit rescaling).
    variance : ndarray (N, H, W) float32
        Variance of the background noise (the injected charge adds none).
    bad : ndarray (N, H, W) bool
        Pixels to ignore (bad, NaN, saturated, DQ-flagged); never truth.
    truth : ndarray (N, H, W) bool
        Injected cosmic-ray footprints.
    signal : ndarray (N, H, W) float32
        Injected value per pixel (``image - signal`` is the clean patch).
    snr : ndarray (N, H, W) float32
        ``signal / sqrt(variance)``.
    names, units : ndarray (N,) of str
        Background name (with region) and unit of each patch.
    gain : ndarray (N,) float
        Electrons per unit of each patch (NaN when unknown).
    sky : ndarray (N,) float
        Sky added by the augmentation, electrons per pixel (0 when none).
    scale : ndarray (N,) float
        Unit rescaling factor applied (1 when none).
    n_hits : ndarray (N,) int
        Cosmic rays injected per patch.
    meta : dict
        flavour, split, patch size and every generation parameter.
    """

    image: np.ndarray
    variance: np.ndarray
    bad: np.ndarray
    truth: np.ndarray
    signal: np.ndarray
    snr: np.ndarray
    names: np.ndarray
    units: np.ndarray
    gain: np.ndarray
    sky: np.ndarray
    scale: np.ndarray
    n_hits: np.ndarray
    meta: dict = field(default_factory=dict)

    def __len__(self):
        return self.image.shape[0]


#: Hits placed on stars (``on_stars_probability``): round isolated stars peaking at 20 RMS or more
#: (:func:`~astroclean.cosmicrays.simulate.inject.bright_star_centres`), hits centred within 2 px of the
#: star centre, at most 2 per star; ``star_fraction``: the fraction of those stars (drawn independently per
#: star) that get hits at all (1: every one, as up to session 6; below 1 the same patch also shows bright
#: stars left alone, the negatives that keep a network from flagging every compact bright core).
ON_STARS = {"min_peak_rms": 20.0, "spread": 2, "hits_per_star": 2, "star_fraction": 1.0}


def _draw(rng, spec):
    lo, hi = spec
    return float(lo if lo == hi else np.exp(rng.uniform(np.log(lo), np.log(hi))))


#: Kinds of simulated field when ``wide_fields`` is on: stars (the flavour's density), crowded
#: (1-5 % of pixels hold a star), galaxy-dominated (40-150 Sersic galaxies, few stars).
FIELD_KINDS = ("stars", "crowded", "galaxies")


def _patch_noise(var, bad) -> float:
    """The typical 1-sigma noise of a patch (median variance of its good pixels; 1 when none is good): the unit
    of the artefacts painted on it."""
    return float(np.sqrt(np.median(var[~bad]))) if (~bad).any() else 1.0


def _star_field(flavour, size, rng, *, fwhm_range=None, kind="stars"):
    p = _SIM[flavour]
    stars = {"stars": p["stars"], "crowded": (1e-2, 5e-2), "galaxies": (1e-5, 2e-4)}[kind]
    n_galaxies = int(rng.integers(40, 150)) if kind == "galaxies" else int(rng.integers(0, 30))
    n_stars = int(_draw(rng, stars) * size * size)
    fwhm = _draw(rng, fwhm_range if fwhm_range is not None else p["fwhm"])
    img = simulate_star_field((size, size), rng=rng, n_stars=n_stars, n_galaxies=n_galaxies,
                              psf_fwhm=fwhm, sky=_draw(rng, p["sky"]), gain=_draw(rng, p["gain"]),
                              read_noise=_draw(rng, p["read_noise"]), psf_beta=float(rng.uniform(2.5, 4.5)))
    label = "star" if kind == "stars" else kind
    return img.replace(name=f"simulated_{label}_field_{flavour}" + (f"_fwhm{fwhm:.1f}" if fwhm_range else ""))


def make_cosmic_ray_set(flavour: str, split: str, *, n_patches: int, patch_size: int = 128, rng,
                        data_dir=None, density=(0.002, 0.02), snr_range=(3.0, 3000.0),
                        simulated_fraction: float = 0.3, star_field_fraction: float = 0.2,
                        sky_probability: float = 0.5, gain_probability: float = 0.3, library=None,
                        max_bad_fraction: float = 0.5, fwhm_range=None, artefact_probability: float = 0.0,
                        extra_backgrounds=(), artefact_pool=None, saturated_star_probability: float = 0.0,
                        saturation_grow: int = 0, on_stars_probability: float = 0.0,
                        on_stars=None, spiked_star_probability: float = 0.0) -> CosmicRaySet:
    """Make ``n_patches`` patches with injected cosmic rays and their truth.

    Parameters
    ----------
    flavour : {"space", "ground", "crowded"}
    split : {"train", "benchmark"}
        Selects disjoint backgrounds and the matching real-hit library.
    n_patches, patch_size : int
        Number and side (pixels) of the patches. Backgrounds smaller than the
        patch are skipped.
    rng : numpy.random.Generator or int
    data_dir : str or Path, optional
        Real-data folder for the train split (see :func:`load_backgrounds`).
    density : float or (float, float)
        Fraction of good pixels covered by cosmic rays; a pair draws it
        log-uniformly per patch.
    snr_range : (float, float)
        Peak S/N range of the hits (log-uniform).
    simulated_fraction : float
        Fraction of hits from the track simulator instead of the real library.
    star_field_fraction : float
        Fraction of patches cut from simulated star fields.
    sky_probability : float
        Probability of the sky augmentation (log-uniform sky in electrons,
        flavour-dependent range) on patches whose electrons per unit is known.
    gain_probability : float
        Probability of multiplying a patch (and its variance by the square)
        by a factor log-uniform in 1/4-4, dividing its ``gain`` likewise.
    library : CosmicRayLibrary, optional
        Defaults to the shipped library of ``split``.
    max_bad_fraction : float
        Patches with more bad pixels are redrawn.
    fwhm_range : (float, float), optional
        PSF FWHM range (px, log-uniform) of the simulated fields; when given, the simulated fields
        are also of mixed kinds (:data:`FIELD_KINDS`: stars, crowded, galaxy-dominated). Default:
        the flavour's range, star fields only.
    artefact_probability : float
        Probability that a patch gets detector artefacts
        (:func:`~astroclean.cosmicrays.simulate.artefacts.add_artefacts`: bad rows/columns, amplifier steps,
        fringes, persistence, saturated stars with bleed trails, row noise) as negatives before the
        injection; their saturated pixels are masked half of the time.
    saturated_star_probability : float
        Probability that a patch also gets a saturated star with its bleed trail whose saturated pixels
        are always masked, the mask grown by 0 to ``saturation_grow`` pixels (as pipelines grow it, and as
        the unseen benchmark's frames have it): the steep unmasked wing next to a masked core is a negative.
    saturation_grow : int
        Largest growth (pixels, drawn per patch) of those saturation masks.
    on_stars_probability : float
        Probability that a patch also gets hits placed on its stars, as positives (:data:`ON_STARS`
        or ``on_stars``): after the uniform injection, hits are centred within ``spread`` px of the stars
        whose peak is at least ``min_peak_rms`` x the local RMS
        (:func:`~astroclean.cosmicrays.simulate.inject.bright_star_centres`), at most ``hits_per_star`` each.
        Uniform injection rarely lands on a star, so without it a network learns to leave stars alone.
    on_stars : dict, optional
        ``min_peak_rms``, ``spread``, ``hits_per_star``, ``star_fraction`` (default :data:`ON_STARS`).
    spiked_star_probability : float
        Probability that a patch also gets a bright, unsaturated star with diffraction spikes (a negative:
        straight, thin streaks radial to a star, which a track detector flags).
    artefact_pool : sequence of str, optional
        Kinds of artefact drawn from (default :data:`~astroclean.cosmicrays.simulate.artefacts.ARTEFACTS`).
    extra_backgrounds : sequence of Image
        More real backgrounds (with variance) drawn like the flavour's own.

    Returns
    -------
    CosmicRaySet

    Raises
    ------
    AstrocleanValueError
        Bad counts, fractions or no background large enough for the patch.
    """
    if flavour not in FLAVOURS:
        raise AstrocleanValueError(f"unknown flavour {flavour!r}; choose one of {', '.join(FLAVOURS)}")
    if n_patches < 1 or patch_size < 8:
        raise AstrocleanValueError(f"need n_patches >= 1 and patch_size >= 8, got {n_patches}, {patch_size}")
    for name, p in (("star_field_fraction", star_field_fraction), ("sky_probability", sky_probability),
                    ("gain_probability", gain_probability), ("max_bad_fraction", max_bad_fraction)):
        if not 0 <= p <= 1:
            raise AstrocleanValueError(f"{name} must be in [0, 1], got {p}")
    dens = tuple(density) if np.ndim(density) else (float(density), float(density))
    _check(dens[1], snr_range, simulated_fraction)
    if not 0 < dens[0] <= dens[1]:
        raise AstrocleanValueError(f"density must be positive (low <= high), got {density}")
    rng = as_rng(rng)
    library = _resolve_library(split if library is None else library)
    p = patch_size
    frames = [b for b in (*load_backgrounds(flavour, split, data_dir=data_dir), *extra_backgrounds)
              if min(b.shape) >= p]
    weights = np.array([(b.shape[0] - p + 1) * (b.shape[1] - p + 1) for b in frames], float)
    if not frames and star_field_fraction < 1:
        raise AstrocleanValueError(
            f"no {flavour}/{split} background is at least {p} pixels on a side; use a smaller patch_size "
            "or star_field_fraction=1"
        )
    star_hits = dict(ON_STARS, **(on_stars or {}))
    sim_frames = []
    out = {k: [] for k in ("image", "variance", "bad", "truth", "signal", "snr", "names", "units", "gain", "sky",
                           "scale", "n_hits")}
    for _ in range(n_patches):
        if not frames or rng.random() < star_field_fraction:
            if len(sim_frames) < min(8 if fwhm_range is None else 24,
                                     max(1, int(np.ceil(star_field_fraction * n_patches / 32)))):
                kind = "stars" if fwhm_range is None else FIELD_KINDS[len(sim_frames) % len(FIELD_KINDS)]
                sim_frames.append(_star_field(flavour, 4 * p, rng, fwhm_range=fwhm_range, kind=kind))
            src = sim_frames[int(rng.integers(len(sim_frames)))]
        else:
            src = frames[int(rng.choice(len(frames), p=weights / weights.sum()))]
        for _attempt in range(20):
            y0 = int(rng.integers(0, src.shape[0] - p + 1))
            x0 = int(rng.integers(0, src.shape[1] - p + 1))
            bad = src.mask[y0:y0 + p, x0:x0 + p]
            if bad.mean() <= max_bad_fraction:
                break
        sl = (slice(y0, y0 + p), slice(x0, x0 + p))
        k, flip = int(rng.integers(4)), bool(rng.random() < 0.5)

        def orient(a):
            a = np.rot90(a, k)
            return np.ascontiguousarray(a[:, ::-1] if flip else a)

        data = orient(src.data[sl]).astype(np.float64)
        var = orient(src.variance[sl]).astype(np.float64)
        bad = orient(src.mask[sl])
        epu = electrons_per_unit(src)
        sky = 0.0
        if np.isfinite(epu) and epu > 0 and rng.random() < sky_probability:
            sky = _draw(rng, _SKY_RANGE[flavour])
            data = data + rng.poisson(sky, data.shape) / epu
            var = var + sky / epu ** 2
        scale = 1.0
        if rng.random() < gain_probability:
            scale = _draw(rng, (0.25, 4.0))
            data, var, epu = data * scale, var * scale ** 2, epu / scale
        sat = src.saturation * scale if src.saturation is not None else None
        if artefact_probability and rng.random() < artefact_probability:
            data, saturated, _ = add_artefacts(data, _patch_noise(var, bad), rng=rng, saturation=sat,
                                               **({} if artefact_pool is None else {"pool": tuple(artefact_pool)}))
            if rng.random() < 0.5:
                bad = bad | saturated
        if saturated_star_probability and rng.random() < saturated_star_probability:
            from scipy import ndimage

            data, saturated, _ = add_artefacts(data, _patch_noise(var, bad), rng=rng, saturation=sat,
                                               kinds=("bleed_star",))
            grow = int(rng.integers(0, saturation_grow + 1))
            if grow and saturated.any():
                saturated = ndimage.binary_dilation(saturated, iterations=grow)
            bad = bad | saturated
        if spiked_star_probability and rng.random() < spiked_star_probability:
            data, _, _ = add_artefacts(data, _patch_noise(var, bad), rng=rng, kinds=("spiked_star",))
        sigma = np.sqrt(np.where(bad, 1.0, var))
        d = float(_draw(rng, dens))
        signal, truth, peaks, origins, _ = inject_into_arrays(
            data, sigma, bad, rng=rng, library=library, density=d, snr_range=snr_range,
            simulated_fraction=simulated_fraction, saturation=sat,
        )
        if on_stars_probability and rng.random() < on_stars_probability:
            centres = bright_star_centres(data, bad, min_peak_rms=star_hits["min_peak_rms"])
            if star_hits["star_fraction"] < 1:   # only then: draws of star_fraction 1 are unchanged
                centres = centres[rng.random(len(centres)) < star_hits["star_fraction"]]
            more, more_truth, _, more_origins, _ = inject_into_arrays(
                data + signal, sigma, bad, rng=rng, library=library, density=1.0, snr_range=snr_range,
                simulated_fraction=simulated_fraction, saturation=sat, centres=centres, spread=int(star_hits["spread"]),
                max_hits=int(star_hits["hits_per_star"]) * len(centres))
            signal, truth, origins = signal + more, truth | more_truth, (*origins, *more_origins)
        for key, value in (("image", data + signal), ("variance", var), ("bad", bad), ("truth", truth),
                           ("signal", signal), ("snr", np.where(bad, 0.0, signal / sigma)), ("names", src.name),
                           ("units", src.unit or ""), ("gain", epu), ("sky", sky), ("scale", scale),
                           ("n_hits", len(origins))):
            out[key].append(value)
    arrays = {k: np.stack(out[k]).astype(np.float32) for k in ("image", "variance", "signal", "snr")}
    arrays.update(bad=np.stack(out["bad"]), truth=np.stack(out["truth"]),
                  names=np.array(out["names"], dtype=str), units=np.array(out["units"], dtype=str),
                  gain=np.array(out["gain"], float), sky=np.array(out["sky"], float),
                  scale=np.array(out["scale"], float), n_hits=np.array(out["n_hits"], int))
    meta = {"flavour": flavour, "split": split, "patch_size": p, "density": list(dens),
            "snr_range": list(snr_range), "simulated_fraction": simulated_fraction,
            "star_field_fraction": star_field_fraction, "sky_probability": sky_probability,
            "gain_probability": gain_probability, "fwhm_range": None if fwhm_range is None else list(fwhm_range),
            "artefact_probability": artefact_probability, "saturated_star_probability": saturated_star_probability,
            "saturation_grow": saturation_grow, "on_stars_probability": on_stars_probability,
            "spiked_star_probability": spiked_star_probability,
            "on_stars": star_hits if on_stars_probability else None,
            "library_split_rule": library.meta.get("split_rule", "")
            if library is not None else "", "backgrounds": sorted({b.name for b in frames})}
    return CosmicRaySet(**arrays, meta=meta)


def write_cosmic_ray_set(crset: CosmicRaySet, path, *, overwrite: bool = False):
    """Save a :class:`CosmicRaySet` as a compressed ``.npz`` (atomic: temp file + rename).

    Raises
    ------
    AstrocleanFileError
        ``path`` exists and ``overwrite`` is False.

    Example
    -------
    >>> import tempfile, pathlib
    >>> from astroclean.cosmicrays.simulate import make_cosmic_ray_set, read_cosmic_ray_set
    >>> s = make_cosmic_ray_set("ground", "benchmark", n_patches=2, patch_size=32, rng=1)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "set.npz"
    >>> _ = write_cosmic_ray_set(s, path)
    >>> bool((read_cosmic_ray_set(path).truth == s.truth).all())
    True
    """
    arrays = {f.name: getattr(crset, f.name) for f in fields(crset) if f.name != "meta"}
    arrays["meta"] = np.array(json.dumps(crset.meta, sort_keys=True))
    arrays["format"] = np.array(_FORMAT)
    return save_npz(path, arrays, overwrite=overwrite)


def read_cosmic_ray_set(path) -> CosmicRaySet:
    """Read a set written by :func:`write_cosmic_ray_set`."""
    a = load_npz(path)
    if str(a.pop("format", "")) != _FORMAT:
        raise AstrocleanValueError(f"{path} is not an astroclean cosmic-ray set ({_FORMAT})")
    meta = json.loads(str(a.pop("meta")))
    return CosmicRaySet(**a, meta=meta)
