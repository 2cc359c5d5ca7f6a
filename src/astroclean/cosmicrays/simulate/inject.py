"""Inject cosmic rays into an image and return the truth.

Stamps come from the library of real hits (random rot90 and flip, no
interpolation, so their sharp edges survive) and from the track simulator
(any angle). Each is rescaled so that its brightest pixel has a peak S/N
drawn log-uniformly in ``snr_range`` relative to the local noise of the
target image, then added where the image is good. Hits are added until the
requested fraction of good pixels is covered by truth.

Example
-------
>>> import numpy as np
>>> from astroclean.cosmicrays.simulate import inject_cosmic_rays
>>> clean = np.random.default_rng(0).normal(100.0, 5.0, (128, 128))
>>> dirty, truth = inject_cosmic_rays(clean, rng=1, library="train", density=0.01)
>>> bool(truth.mask.any()), np.allclose(dirty.data - clean, truth.signal, atol=1e-3)
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from astroclean.errors import AstrocleanValueError
from astroclean.image import as_image
from astroclean.background import noise_map
from astroclean.simulate.common import as_rng
from astroclean.cosmicrays.simulate.library import CosmicRayLibrary, load_cosmic_ray_library
from astroclean.cosmicrays.simulate.tracks import simulate_cosmic_ray

__all__ = ["inject_cosmic_rays", "CosmicRayTruth", "bright_star_centres"]


@dataclass(frozen=True)
class CosmicRayTruth:
    """What :func:`inject_cosmic_rays` added.

    Attributes
    ----------
    mask : ndarray of bool
        The injected footprints (each hit's core dilated by 3x3); never on
        pixels that were masked in the input.
    signal : ndarray of float32
        Added value per pixel, image units (0 outside the cores).
    snr : ndarray of float32
        ``signal / sigma`` with sigma the image's 1-sigma noise per pixel.
    peak_snr : ndarray
        Peak S/N of every injected hit.
    origins : tuple of str
        Origin of every injected hit (library or ``simulated:<kind>``).
    positions : ndarray (n, 2) of int
        (y, x) of each stamp's lower-left corner in the image (may be negative).
    """

    mask: np.ndarray
    signal: np.ndarray
    snr: np.ndarray
    peak_snr: np.ndarray
    origins: tuple
    positions: np.ndarray

    @property
    def n_hits(self) -> int:
        return len(self.origins)

    @property
    def density(self) -> float:
        """Fraction of pixels covered."""
        return float(self.mask.mean())


def _resolve_library(library):
    if library is None or isinstance(library, CosmicRayLibrary):
        return library
    if isinstance(library, str):
        return load_cosmic_ray_library(library)
    raise AstrocleanValueError(
        f"library must be a CosmicRayLibrary, 'train', 'benchmark' or None, got {type(library).__name__}"
    )


def _check(density, snr_range, simulated_fraction):
    lo, hi = snr_range
    if not 0 < lo <= hi:
        raise AstrocleanValueError(f"snr_range must be (low, high) with 0 < low <= high, got {snr_range}")
    if not 0 <= density < 0.5:
        raise AstrocleanValueError(f"density is the fraction of pixels covered, in [0, 0.5), got {density}")
    if not 0 <= simulated_fraction <= 1:
        raise AstrocleanValueError(f"simulated_fraction must be in [0, 1], got {simulated_fraction}")


def bright_star_centres(clean, bad, *, min_peak_rms: float) -> np.ndarray:
    """(n, 2) (y, x) centres of the stars of ``clean`` whose peak is at least ``min_peak_rms`` x the local RMS.

    The stars of the photometry analysis (:func:`~astroclean.photometry.find_point_sources`, background
    and RMS in boxes of a quarter of the frame, at most 64 px, as the stars analysis does). The
    near-stars benchmark puts its hits on them (``min_peak_rms`` 160), and so does training with
    ``on_stars`` (:func:`~astroclean.cosmicrays.simulate.make_cosmic_ray_set`).

    >>> import numpy as np
    >>> yy, xx = np.mgrid[:64, :64]
    >>> sky = np.random.default_rng(0).normal(0.0, 1.0, (64, 64))
    >>> star = 500.0 * np.exp(-((yy - 30) ** 2 + (xx - 20) ** 2) / 4.0)
    >>> bright_star_centres(sky + star, np.zeros((64, 64), bool), min_peak_rms=160).round().tolist()
    [[30.0, 20.0]]
    """
    from astroclean.background import background_and_noise
    from astroclean.photometry import find_point_sources

    clean = np.asarray(clean, dtype=np.float64)
    bad = np.asarray(bad, bool) | ~np.isfinite(clean)
    box = int(min(64, max(8, min(clean.shape) // 2)))   # as stars.clean_background
    background, rms = background_and_noise(np.where(bad, np.nan, clean), bad, box=box, filter_size=3)
    sources = find_point_sources(np.where(bad, 0.0, clean), background=background, rms=rms, mask=bad)
    if len(sources) == 0:
        return np.zeros((0, 2))
    yi = np.clip(np.round(sources["y"]).astype(int), 0, clean.shape[0] - 1)
    xi = np.clip(np.round(sources["x"]).astype(int), 0, clean.shape[1] - 1)
    keep = sources["peak"] >= float(min_peak_rms) * rms[yi, xi]
    return np.stack([sources["y"][keep], sources["x"][keep]], axis=1).reshape(-1, 2)


def inject_into_arrays(data, sigma, bad, *, rng, library, density, snr_range, simulated_fraction,
                       saturation=None, max_hits: int = 10000, centres=None, spread: int = 0):
    """Core of :func:`inject_cosmic_rays` on plain arrays; returns (signal, truth_mask, peaks, origins, pos).

    ``centres`` (n, 2) of (y, x), optional: place every hit's stamp centre on one
    of them (drawn uniformly), shifted by up to ``spread`` pixels in y and x,
    instead of uniformly over the frame (the near-stars benchmark); an empty
    ``centres`` injects nothing. Without ``centres`` the draws are unchanged.
    """
    rng = as_rng(rng)
    ny, nx = data.shape
    good = ~bad
    n_good = int(good.sum())
    signal = np.zeros((ny, nx), np.float64)
    truth = np.zeros((ny, nx), bool)
    covered, target = 0, density * n_good
    peaks, origins, positions = [], [], []
    use_sim = library is None or len(library) == 0
    log_lo, log_hi = np.log(snr_range[0]), np.log(snr_range[1])
    if centres is not None:
        centres = np.asarray(centres, dtype=float).reshape(-1, 2)
        if len(centres) == 0:
            max_hits = 0
    tries = 0
    while covered < target and tries < max_hits:
        tries += 1
        if use_sim or rng.random() < simulated_fraction:
            stamp = simulate_cosmic_ray(rng)
        else:
            stamp = library.sample(rng)
        values, foot = stamp.values, stamp.footprint
        k = int(rng.integers(4))
        values, foot = np.rot90(values, k), np.rot90(foot, k)
        if rng.random() < 0.5:
            values, foot = values[:, ::-1], foot[:, ::-1]
        h, w = values.shape
        if centres is None:
            y0 = int(rng.integers(0, ny)) - h // 2
            x0 = int(rng.integers(0, nx)) - w // 2
        else:
            cy, cx = centres[int(rng.integers(len(centres)))]
            dy, dx = rng.integers(-int(spread), int(spread) + 1, size=2)
            y0 = int(round(cy)) + int(dy) - h // 2
            x0 = int(round(cx)) + int(dx) - w // 2
        ys, xs = slice(max(y0, 0), min(y0 + h, ny)), slice(max(x0, 0), min(x0 + w, nx))
        vs = slice(ys.start - y0, ys.stop - y0)
        ws = slice(xs.start - x0, xs.stop - x0)
        v = values[vs, ws]
        ok = good[ys, xs]
        core = (v > 0) & ok
        if not core.any():
            continue
        ratio = np.where(core, v / sigma[ys, xs], 0.0)
        target_snr = np.exp(rng.uniform(log_lo, log_hi))
        add = np.where(ok, v * (target_snr / ratio.max()), 0.0)
        if saturation is not None:            # a real pixel stops at full well
            room = np.clip(saturation - data[ys, xs] - signal[ys, xs], 0.0, None) * (1 - 1e-6)
            add = np.minimum(add, room)
        signal[ys, xs] += add
        new = foot[vs, ws] & ok
        covered += int((new & ~truth[ys, xs]).sum())
        truth[ys, xs] |= new
        peaks.append(target_snr)
        origins.append(stamp.origin)
        positions.append((y0, x0))
    return signal, truth, np.array(peaks), tuple(origins), np.array(positions, dtype=int).reshape(-1, 2)


def inject_cosmic_rays(image, *, rng, library="train", density: float = 0.01, snr_range=(3.0, 3000.0),
                       simulated_fraction: float = 0.3):
    """Add cosmic rays to an image and return the contaminated copy with its truth.

    Parameters
    ----------
    image : array_like or Image
        The clean background, native units. Its ``variance`` sets the noise
        of the S/N scale (a robust local estimate when absent); masked
        pixels (bad, NaN, saturated) receive nothing and are never truth.
    rng : numpy.random.Generator or int
    library : CosmicRayLibrary, {"train", "benchmark"} or None
        Real hits to draw from (a split name loads the shipped library);
        None uses only simulated hits.
    density : float
        Fraction of the good pixels to cover with injected footprints.
    snr_range : (float, float)
        Peak S/N of every hit is log-uniform in this range.
    simulated_fraction : float
        Probability that a hit is simulated rather than drawn from the library.

    Returns
    -------
    contaminated : Image
        A new Image (input untouched) with the hits added; mask, variance
        and metadata as the input's, ``meta["cosmic_rays"]`` = hits added.
    truth : CosmicRayTruth

    Raises
    ------
    AstrocleanValueError
        Bad density, S/N range, fraction or library.
    """
    _check(density, snr_range, simulated_fraction)
    library = _resolve_library(library)
    img = as_image(image)
    data = img.data.astype(np.float64)
    bad = img.mask
    if img.variance is not None:
        sigma = np.sqrt(np.where(bad, 1.0, img.variance))
    else:
        sigma = noise_map(data, mask=bad)
    signal, truth, peaks, origins, positions = inject_into_arrays(
        data, sigma, bad, rng=rng, library=library, density=density, snr_range=snr_range,
        simulated_fraction=simulated_fraction, saturation=img.saturation,
    )
    out = (data + signal).astype(img.data.dtype)
    snr = np.where(bad, 0.0, signal / sigma).astype(np.float32)
    contaminated = img.replace(data=out, mask=img.mask.copy(), meta={**img.meta, "cosmic_rays": len(origins)})
    return contaminated, CosmicRayTruth(truth, signal.astype(np.float32), snr, peaks, origins, positions)
