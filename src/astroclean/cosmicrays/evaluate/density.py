"""Cosmic-ray density: how contamination of stars and each method's scores change with the hit rate.

The same clean backgrounds (benchmark split) receive cosmic rays from the
benchmark library at increasing pixel fractions (0.1 % to 15 % by default);
every detector is run on each contaminated image, and for the raw and the
cleaned images the analysis reports the fraction of stars *hit* (a
cosmic-ray pixel left in the aperture) and of *anomalous photometry* (flux
moved by more than 3 sigma), plus each method's TPR and precision.

Each background keeps one random stream for all densities (common random
numbers): the hits injected at a lower density are the first hits injected
at a higher one, so the raw contamination grows monotonically with density
and differences between densities are not sampling noise.

Example
-------
>>> import numpy as np
>>> from astroclean.cosmicrays.evaluate.density import density_sweep
>>> from astroclean.simulate import simulate_star_field
>>> sky = simulate_star_field((96, 96), rng=3, n_stars=30, n_galaxies=0, psf_fwhm=2.5, sky=200.0)
>>> result = density_sweep([sky], {}, densities=(0.002, 0.05), rng=0)
>>> raw = [r["frac_hit"] for r in result.rows if r["method"] == "raw"]
>>> raw[0] <= raw[1]
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from astroclean.errors import AstrocleanValueError
from astroclean.image import Image, as_image
from astroclean.metrics import detection_scores
from astroclean.cosmicrays.simulate import electrons_per_unit, inject_cosmic_rays, load_backgrounds
from astroclean.background import noise_map
from astroclean.simulate.common import as_rng
from astroclean.cosmicrays.evaluate.cases import BenchmarkCase
from astroclean.cosmicrays.evaluate.peers import DetectorError
from astroclean.cosmicrays.evaluate.photometry import RAW, TRUTH, photometry_metrics
from astroclean.evaluate.figures import new_figure, save_figure

__all__ = ["DEFAULT_DENSITIES", "DensityResult", "density_sweep", "inject_case", "run_detector"]

DEFAULT_DENSITIES = (0.001, 0.005, 0.01, 0.02, 0.05, 0.10, 0.15)


def inject_case(background, *, rng, density: float, library="benchmark", name: str | None = None,
                flavour: str = "", snr_range=(3.0, 3000.0)) -> BenchmarkCase:
    """Inject cosmic rays into a clean background and package it as a :class:`BenchmarkCase`.

    Parameters
    ----------
    background : Image or array_like (y, x)
        The clean image (its ``variance`` sets the noise; a robust local
        estimate is used when absent).
    rng : numpy.random.Generator or int
    density : float
        Fraction of the good pixels covered by injected footprints.
    library : {"benchmark", "train"}, CosmicRayLibrary or None
        Real hits to draw from (see :func:`~astroclean.cosmicrays.simulate.inject_cosmic_rays`).
    name, flavour : str
        Labels of the case (default name: the image's).
    snr_range : (float, float)
        Peak S/N range of the hits.

    Returns
    -------
    BenchmarkCase
        ``gain`` is the electrons per image unit when known (else None).
    """
    clean = as_image(background)
    image, truth = inject_cosmic_rays(clean, rng=rng, library=library, density=density, snr_range=snr_range)
    bad = clean.mask | ~np.isfinite(clean.data)
    if clean.variance is not None:
        with np.errstate(invalid="ignore"):
            noise = np.sqrt(np.where(np.isfinite(clean.variance) & (clean.variance > 0), clean.variance, np.nan))
        bad = bad | ~np.isfinite(noise)
    else:
        noise = noise_map(clean.data, mask=bad)
    epu = electrons_per_unit(clean)
    lib = library if isinstance(library, str) or library is None else "custom"
    return BenchmarkCase(
        name=name or clean.name or "image", flavour=flavour, image=image.data, clean=clean.data,
        truth=truth.mask & ~bad, snr=truth.snr, bad=bad, noise=np.nan_to_num(noise, nan=0.0).astype(np.float32),
        variance=clean.variance, gain=float(epu) if np.isfinite(epu) and epu > 0 else None,
        read_noise=clean.read_noise, saturation=clean.saturation,
        meta={"density": float(density), "density_measured": float(truth.mask[~bad].mean()) if (~bad).any() else 0.0,
              "n_hits": truth.n_hits, "library": lib, "background": clean.name},
    )


def run_detector(detector, case: BenchmarkCase) -> np.ndarray:
    """Run a :class:`~astroclean.cosmicrays.evaluate.peers.Detector` on a case at its default operating point."""
    return detector.detect(case.image, mask=case.bad, variance=case.variance, gain=case.gain,
                           read_noise=case.read_noise, saturation=case.saturation)


def _backgrounds(backgrounds, max_size):
    if isinstance(backgrounds, str):
        backgrounds = [backgrounds]
    out = []
    for i, b in enumerate(backgrounds):
        if isinstance(b, str):
            out.extend((img, b) for img in load_backgrounds(b, "benchmark"))
        else:
            img = as_image(b)
            out.append((img if img.name else img.replace(name=f"background{i}"), img.meta.get("flavour", "")))
    if not out:
        raise AstrocleanValueError("density_sweep needs at least one background (an Image or a flavour name)")
    return [(_crop(img, max_size), flavour) for img, flavour in out]


def _crop(img: Image, max_size):
    if max_size is None or max(img.shape) <= max_size:
        return img
    sl = tuple(slice(max(0, (n - max_size) // 2), max(0, (n - max_size) // 2) + min(n, max_size)) for n in img.shape)
    return img.replace(data=img.data[sl].copy(), mask=img.mask[sl].copy(),
                       variance=None if img.variance is None else img.variance[sl].copy(),
                       dq=None if img.dq is None else img.dq[sl].copy(), wcs=None)


@dataclass(frozen=True)
class DensityResult:
    """Star contamination and detection scores against injected cosmic-ray density.

    Attributes
    ----------
    rows : tuple of dict
        One per (density, method), methods ``"raw"``, ``"truth-mask"`` and
        the detectors: ``density`` (requested), ``density_measured`` (truth
        pixels / good pixels), ``method, n_cases, n_stars``, ``frac_hit``
        (stars with a cosmic-ray pixel left in the aperture),
        ``frac_contaminated`` (anomalous photometry: flux moved by more than
        3 sigma), ``ratio_median`` and, for detectors, ``tpr`` and
        ``precision`` pooled over the backgrounds (NaN otherwise).
    densities : tuple of float
    methods : tuple of str
    failures : tuple of str
        One line per detector run that failed (that case is left out of the
        detector's numbers at that density).
    """

    rows: tuple
    densities: tuple
    methods: tuple
    failures: tuple = ()

    def series(self, method: str, key: str) -> np.ndarray:
        """``key`` of ``method`` at every density, in density order."""
        values = {r["density"]: r[key] for r in self.rows if r["method"] == method}
        return np.array([values.get(d, np.nan) for d in self.densities], dtype=np.float64)

    def table(self):
        """The rows as an :class:`astropy.table.Table`."""
        from astropy.table import Table

        table = Table(rows=[dict(r) for r in self.rows], names=list(self.rows[0]))
        table.meta["description"] = "star contamination and detection scores vs injected cosmic-ray density"
        table.meta["failures"] = list(self.failures)
        return table

    def plot(self, path):
        """Write ``density.png``: stars hit, anomalous photometry, and TPR/precision against density."""
        fig, (ax_h, ax_c, ax_s) = new_figure(3, width=15.0)
        x = 100 * np.asarray(self.densities)
        for k, m in enumerate(self.methods):
            style = dict(color="k" if m == RAW else f"C{k % 10}", marker="o", ms=4,
                         ls=":" if m == TRUTH else "-", label=m)
            ax_h.plot(x, self.series(m, "frac_hit"), **style)
            ax_c.plot(x, self.series(m, "frac_contaminated"), **style)
            if m not in (RAW, TRUTH):
                ax_s.plot(x, self.series(m, "tpr"), color=style["color"], marker="o", ms=4, label=f"{m} TPR")
                ax_s.plot(x, self.series(m, "precision"), color=style["color"], marker="s", ms=4, ls="--",
                          label=f"{m} precision")
        titles = ("stars with a cosmic-ray pixel in the aperture", "anomalous photometry (flux moved > 3 sigma)",
                  "detection (pixels): TPR solid, precision dashed")
        for ax, title, ylabel in zip((ax_h, ax_c, ax_s), titles, ("fraction of stars", "fraction of stars", "rate")):
            ax.set_xscale("log")
            ax.set_xlabel("injected cosmic-ray pixel fraction (%)")
            ax.set_ylabel(ylabel)
            ax.set_title(title, fontsize=10)
            ax.set_ylim(-0.02, 1.02)
            ax.grid(alpha=0.3)
        ax_c.legend(fontsize=8)
        if len(self.methods) > 2:
            ax_s.legend(fontsize=7)
        return save_figure(fig, path)


def density_sweep(backgrounds, detectors, *, densities=DEFAULT_DENSITIES, rng=0, library="benchmark",
                  max_size: int | None = 512, radius=None, progress: Callable[[str], None] | None = None
                  ) -> DensityResult:
    """Inject cosmic rays at several densities into clean backgrounds and score raw and cleaned photometry.

    Parameters
    ----------
    backgrounds : str, Image, array_like, or a sequence of them
        Clean images, or flavour names (``"space"``, ``"ground"``,
        ``"crowded"``) whose *benchmark* backgrounds are loaded. Pass
        benchmark-split images only, so no model is scored on its training
        frames.
    detectors : mapping of str -> Detector, or sequence of Detector
        Objects with the :class:`~astroclean.cosmicrays.evaluate.peers.Detector`
        ``detect`` method (a sequence is keyed by each ``.name``). May be empty.
    densities : sequence of float
        Fractions of good pixels covered by injected footprints, each in (0, 0.5).
    rng : numpy.random.Generator or int
        Fixes every injection (one stream per background, reused at every density).
    library : {"benchmark", "train"}, CosmicRayLibrary or None
        Hits to inject (keep ``"benchmark"``: disjoint from the training hits).
    max_size : int or None
        Backgrounds larger than this are cropped to their central
        ``max_size`` x ``max_size`` pixels (cost control); None keeps them whole.
    radius : float, optional
        Aperture radius (see :func:`~astroclean.cosmicrays.evaluate.photometry.measure_case`).
    progress : callable, optional
        Called with a short message after each density.

    Returns
    -------
    DensityResult

    Raises
    ------
    AstrocleanValueError
        No background, or a density outside (0, 0.5).
    """
    densities = tuple(sorted(float(d) for d in densities))
    if not densities or not all(0 < d < 0.5 for d in densities):
        raise AstrocleanValueError(f"densities must be fractions in (0, 0.5), got {densities}")
    if not isinstance(detectors, Mapping):
        detectors = {d.name: d for d in detectors}
    reserved = {RAW, TRUTH} & set(detectors)
    if reserved:
        raise AstrocleanValueError(f"detector names {sorted(reserved)} are reserved; rename them")
    images = _backgrounds(backgrounds, max_size)
    seeds = as_rng(rng).integers(0, 2**63 - 1, size=len(images))
    rows, failures = [], []
    for density in densities:
        cases = [inject_case(img, rng=np.random.default_rng(int(seed)), density=density, library=library,
                             flavour=flavour) for (img, flavour), seed in zip(images, seeds)]
        masks = {name: [] for name in detectors}
        for name, detector in detectors.items():
            for case in cases:
                try:
                    masks[name].append(run_detector(detector, case))
                except DetectorError as exc:
                    masks[name].append(None)
                    failures.append(f"density {density:g}, {case.name}: {exc}")
        phot = photometry_metrics(cases, masks, radius=radius)
        measured = float(np.mean([c.meta["density_measured"] for c in cases]))
        for r in phot.rows:
            tpr = precision = np.nan
            if r["method"] in masks:
                tp = fp = fn = 0
                for case, mask in zip(cases, masks[r["method"]]):
                    if mask is not None:
                        s = detection_scores(case.truth, mask, ignore=case.bad)
                        tp, fp, fn = tp + s.tp, fp + s.fp, fn + s.fn
                tpr = tp / (tp + fn) if tp + fn else np.nan
                precision = tp / (tp + fp) if tp + fp else np.nan
            rows.append({"density": density, "density_measured": measured, "method": r["method"],
                         "n_cases": r["n_cases"], "n_stars": r["n_stars"], "frac_hit": r["frac_hit"],
                         "frac_contaminated": r["frac_contaminated"], "ratio_median": r["ratio_median"],
                         "tpr": float(tpr), "precision": float(precision)})
        if progress is not None:
            progress(f"density {density:g}: {len(cases)} images, {phot.row(RAW)['n_stars']} stars")
    return DensityResult(rows=tuple(rows), densities=densities, methods=tuple(r["method"] for r in phot.rows),
                         failures=tuple(failures))
