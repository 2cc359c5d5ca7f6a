"""Photometry: what cosmic rays, and each method's cleaning, do to the fluxes of stars.

Point sources are detected on the *clean* image (above 3 sigma, more than
16 pixels, axis ratio 0.8-1.2, away from the edges and from bad pixels);
the same circular apertures are measured on the clean image, on the
contaminated image ("raw"), on the contaminated image cleaned with the true
mask ("truth-mask": the best any mask can do with this filling) and on the
image cleaned with each method's mask. Every method's mask is filled by the
same :func:`~astroclean.cosmicrays.fill_masked`, bad pixels excluded, so the
comparison is of masks, not of inpainting recipes.

A star is *contaminated* when its flux moved by more than ``nsigma`` times
its flux error (measured on the clean image with the per-pixel noise), and
*hit* when its aperture still holds a cosmic-ray pixel (a truth pixel that
received charge and that the method did not flag; for "raw", any such pixel).

Example
-------
>>> import numpy as np
>>> from astroclean.cosmicrays.evaluate.cases import BenchmarkCase
>>> from astroclean.cosmicrays.evaluate.photometry import photometry_metrics
>>> yy, xx = np.mgrid[:64, :64]
>>> model = 100 + 4000 * np.exp(-((xx - 30) ** 2 + (yy - 31) ** 2) / 8)     # a star on a sky, electrons
>>> clean = np.random.default_rng(1).poisson(model).astype("f4")
>>> truth = np.zeros((64, 64), bool); truth[28, 33:36] = True                 # a hit in its wing
>>> case = BenchmarkCase(name="demo", flavour="ground", image=clean + 800 * truth, clean=clean, truth=truth,
...                      snr=80.0 * truth, bad=np.zeros_like(truth), noise=np.sqrt(model).astype("f4"))
>>> result = photometry_metrics([case], {"perfect": [truth], "nothing": [np.zeros_like(truth)]})
>>> [(r["method"], r["n_stars"], r["frac_contaminated"]) for r in result.rows]
[('raw', 1, 1.0), ('truth-mask', 1, 0.0), ('perfect', 1, 0.0), ('nothing', 1, 1.0)]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from astroclean.cosmicrays import fill_masked
from astroclean.errors import AstrocleanValueError
from astroclean.metrics import photometric_contamination
from astroclean.photometry import aperture_flux, find_point_sources
from astroclean.cosmicrays.evaluate.cases import BenchmarkCase
from astroclean.cosmicrays.evaluate.stars import case_masks, clean_background
from astroclean.evaluate.figures import new_figure, save_figure

__all__ = ["PhotometryResult", "photometry_metrics", "measure_case", "RAW", "TRUTH"]

RAW = "raw"
TRUTH = "truth-mask"
MIN_RADIUS, MAX_RADIUS = 2.0, 15.0


def _radii(sources, radius):
    if radius is None:  # the equivalent radius of the detection isophote
        return np.clip(np.sqrt(sources["n_pixels"] / np.pi), MIN_RADIUS, MAX_RADIUS)
    radius = float(radius)
    if not (math.isfinite(radius) and radius > 0):
        raise AstrocleanValueError(f"radius must be a positive number of pixels or None, got {radius}")
    return np.full(len(sources), radius)


def _charged(case):
    """Truth pixels that received charge (``snr > 0``); the whole truth when the case has no S/N map."""
    with np.errstate(invalid="ignore"):
        charged = case.truth & (np.asarray(case.snr) > 0)
    return charged if charged.any() or not case.truth.any() else case.truth


def measure_case(case: BenchmarkCase, masks: dict, *, radius=None, nsigma: float = 3.0, min_pixels: int = 16,
                 axis_ratio=(0.8, 1.2), edge: int = 10, fill: str = "biharmonic", truth_reference: bool = True,
                 box: int = 64) -> dict:
    """Aperture photometry of the clean point sources of one case, on every version of the image.

    Parameters
    ----------
    case : BenchmarkCase
    masks : dict of str -> ndarray of bool or None
        Each method's cosmic-ray mask for this case (None: no result; its
        fluxes are NaN).
    radius : float, optional
        Aperture radius in pixels; default: per star, the equivalent radius
        ``sqrt(n_pixels / pi)`` of its detection isophote, clipped to 2-15.
    nsigma, min_pixels, axis_ratio, edge
        Point-source selection on the clean image
        (:func:`~astroclean.metrics.find_point_sources`).
    fill : {"biharmonic", "median"}
        How flagged pixels are filled (:func:`~astroclean.cosmicrays.fill_masked`); the default is the
        package's default fill.
    truth_reference : bool
        Also measure the image cleaned with the true mask (``"truth-mask"``).
    box : int
        Box of the background estimate of the clean image.

    Returns
    -------
    dict
        ``x, y, radius, flux_clean, error`` (one per star) and ``flux`` and
        ``hit`` (dicts method -> array; ``hit`` = weighted number of
        cosmic-ray pixels left inside the aperture: truth pixels with
        ``snr > 0``, i.e. that received charge, not only the dilation ring,
        and that the method did not flag).
    """
    background, rms = clean_background(case, box=box)
    sources = find_point_sources(case.clean, background=background, rms=rms, nsigma=nsigma, min_pixels=min_pixels,
                                 axis_ratio=axis_ratio, edge=edge, mask=case.bad)
    x, y, radii = sources["x"], sources["y"], _radii(sources, radius)
    variance = np.asarray(case.noise, dtype=np.float64) ** 2

    def measure(image):
        return aperture_flux(image, x, y, radii, background=background, variance=variance, mask=case.bad)

    charged = _charged(case)

    def cr_left(flagged):
        left = charged if flagged is None else charged & ~flagged
        return aperture_flux(left.astype(np.float32), x, y, radii, mask=case.bad)[0]

    flux_clean, error = measure(case.clean)
    flux = {RAW: measure(case.image)[0]}
    hit = {RAW: cr_left(None)}
    versions = ({TRUTH: case.truth} if truth_reference else {}) | dict(masks)
    for method, mask in versions.items():
        if mask is None:
            flux[method] = hit[method] = np.full(len(sources), np.nan)
            continue
        cleaned = fill_masked(case.image, mask, exclude=case.bad, method=fill)
        flux[method] = measure(cleaned)[0]
        hit[method] = cr_left(mask)
    return {"x": x, "y": y, "radius": radii, "flux_clean": flux_clean, "error": error, "flux": flux, "hit": hit}


@dataclass(frozen=True)
class PhotometryResult:
    """Flux changes of clean point sources on raw and cleaned images.

    Attributes
    ----------
    rows : tuple of dict
        One per method (``"raw"``, ``"truth-mask"``, then the methods given):
        ``method, n_cases, n_stars`` (stars with finite fluxes),
        ``ratio_median, ratio_scatter`` (flux / clean flux; scatter is
        1.4826 MAD), ``median_deviation`` (in sigma), ``frac_contaminated``
        (flux moved by more than ``nsigma`` sigma), ``frac_hit`` (a
        cosmic-ray pixel left in the aperture), ``n_contaminated_raw`` (of
        these stars, how many the cosmic rays moved), ``frac_restored`` (of
        those, the fraction back within ``nsigma`` after cleaning; NaN for
        raw) and ``n_damaged`` (stars the cosmic rays left alone but the
        cleaning moved).
    stars : dict
        Per star over all cases: ``case`` (name), ``x, y, radius,
        flux_clean, error`` arrays, ``flux`` and ``hit`` (dicts method -> array).
    methods : tuple of str
    nsigma : float
    """

    rows: tuple
    stars: dict
    methods: tuple
    nsigma: float

    def row(self, method: str) -> dict:
        """The summary row of one method (``KeyError`` if absent)."""
        for r in self.rows:
            if r["method"] == method:
                return r
        raise KeyError(f"no photometry row for method {method!r}")

    def table(self):
        """Summary rows (one per method) as an :class:`astropy.table.Table`."""
        from astropy.table import Table

        table = Table(rows=[dict(r) for r in self.rows], names=list(self.rows[0]))
        table.meta["description"] = (f"aperture photometry of clean point sources; contaminated = flux moved by "
                                     f"more than {self.nsigma:g} sigma")
        return table

    def stars_table(self):
        """One row per star: positions, clean flux and error, and each method's flux and CR pixels left."""
        from astropy.table import Table

        s = self.stars
        cols = {k: s[k] for k in ("case", "x", "y", "radius", "flux_clean", "error")}
        for m in self.methods:
            cols[f"flux_{m}"] = s["flux"][m]
            cols[f"hit_{m}"] = s["hit"][m]
        return Table(cols)

    def plot(self, path):
        """Write ``photometry.png``: flux deviations per star and the contaminated/restored fractions."""
        fig, (ax_d, ax_b) = new_figure(2, width=12.0)
        s = self.stars
        with np.errstate(invalid="ignore", divide="ignore"):
            snr = s["flux_clean"] / s["error"]
            for k, m in enumerate(self.methods):
                dev = (s["flux"][m] - s["flux_clean"]) / s["error"]
                ax_d.plot(snr, dev, ".", ms=4, alpha=0.6, color=f"C{k % 10}", label=m)
        ax_d.axhspan(-self.nsigma, self.nsigma, color="0.85", zorder=0)
        ax_d.set_xscale("log")
        ax_d.set_yscale("symlog", linthresh=self.nsigma)
        ax_d.set_xlabel("star S/N (clean flux / flux error)")
        ax_d.set_ylabel("(flux - clean flux) / flux error")
        ax_d.set_title(f"flux deviations (grey: within {self.nsigma:g} sigma)")
        ax_d.legend(fontsize=8, markerscale=2)
        ax_d.grid(alpha=0.3)
        pos = np.arange(len(self.methods))
        contaminated = [self.row(m)["frac_contaminated"] for m in self.methods]
        restored = [self.row(m)["frac_restored"] for m in self.methods]
        ax_b.bar(pos - 0.2, contaminated, 0.4, color="C3", label=f"contaminated (moved > {self.nsigma:g} sigma)")
        ax_b.bar(pos + 0.2, np.nan_to_num(restored, nan=0.0), 0.4, color="C2",
                 label="restored (of the stars the cosmic rays moved)")
        ax_b.set_xticks(pos, self.methods, rotation=30, ha="right", fontsize=8)
        ax_b.set_ylim(0, 1.05)
        ax_b.set_ylabel("fraction of stars")
        n_stars = self.row(RAW)["n_stars"]
        ax_b.set_title(f"{n_stars} stars, {self.row(RAW)['n_contaminated_raw']} moved by cosmic rays")
        ax_b.legend(fontsize=8)
        ax_b.grid(alpha=0.3, axis="y")
        return save_figure(fig, path)


def _summary(method, stars, n_cases, nsigma):
    flux, clean, err = stars["flux"][method], stars["flux_clean"], stars["error"]
    raw_flux = stars["flux"][RAW]
    stats = photometric_contamination(clean, flux, err, nsigma=nsigma)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(flux) & np.isfinite(clean) & np.isfinite(err) & (err > 0) & np.isfinite(raw_flux)
        moved = np.abs(flux - clean) > nsigma * err
        moved_raw = np.abs(raw_flux - clean) > nsigma * err
        hit = stars["hit"][method] > 0
    n_raw = int((ok & moved_raw).sum())
    restored = math.nan if method == RAW or n_raw == 0 else float((ok & moved_raw & ~moved).sum() / n_raw)
    n_ok = int(ok.sum())
    return {
        "method": method, "n_cases": int(n_cases), "n_stars": stats.n_sources,
        "ratio_median": stats.ratio_median, "ratio_scatter": stats.ratio_scatter,
        "median_deviation": stats.median_deviation, "frac_contaminated": stats.fraction_moved,
        "frac_hit": float((ok & hit).sum() / n_ok) if n_ok else math.nan,
        "n_contaminated_raw": n_raw, "frac_restored": restored,
        "n_damaged": int((ok & ~moved_raw & moved).sum()) if method != RAW else 0,
    }


def photometry_metrics(cases: Sequence[BenchmarkCase], masks_by_method, *, radius=None, nsigma: float = 3.0,
                       fill: str = "biharmonic", truth_reference: bool = True, edge: int = 10) -> PhotometryResult:
    """Measure clean point sources on the raw and cleaned images of every case and summarise per method.

    Parameters
    ----------
    cases : sequence of BenchmarkCase
    masks_by_method : mapping of str -> masks
        Boolean cosmic-ray masks, one per case (see
        :func:`~astroclean.cosmicrays.evaluate.stars.case_masks`). Names ``"raw"`` and
        ``"truth-mask"`` are reserved.
    radius : float, optional
        Aperture radius in pixels (default: per star, see :func:`measure_case`).
    nsigma : float
        Detection threshold on the clean image and the "moved" threshold, in sigma.
    fill : {"biharmonic", "median"}
        Filling of every method's flagged pixels (same for all, the package's default).
    truth_reference : bool
        Include the image cleaned with the true mask.
    edge : int
        Sources within this many pixels of a border are not used.

    Returns
    -------
    PhotometryResult

    Raises
    ------
    AstrocleanValueError
        No case, a reserved method name, masks that do not match the cases.
    """
    cases = list(cases)
    if not cases:
        raise AstrocleanValueError("photometry_metrics needs at least one BenchmarkCase")
    if not nsigma > 0:
        raise AstrocleanValueError(f"nsigma must be positive, got {nsigma}")
    reserved = {RAW, TRUTH} & set(masks_by_method)
    if reserved:
        raise AstrocleanValueError(f"method names {sorted(reserved)} are reserved for the reference rows; rename them")
    masks = case_masks(cases, masks_by_method)
    methods = (RAW,) + ((TRUTH,) if truth_reference else ()) + tuple(masks)
    per_case = []
    for i, case in enumerate(cases):
        per_case.append(measure_case(case, {m: masks[m][i] for m in masks}, radius=radius, nsigma=nsigma,
                                     edge=edge, fill=fill, truth_reference=truth_reference))
    stars = {"case": np.concatenate([np.repeat(np.array([c.name]), len(p["x"])) for p, c in zip(per_case, cases)])}
    for key in ("x", "y", "radius", "flux_clean", "error"):
        stars[key] = np.concatenate([p[key] for p in per_case])
    for key in ("flux", "hit"):
        stars[key] = {m: np.concatenate([p[key][m] for p in per_case]) for m in methods}
    n_cases = {RAW: len(cases), TRUTH: len(cases)} | {m: sum(x is not None for x in masks[m]) for m in masks}
    rows = tuple(_summary(m, stars, n_cases[m], float(nsigma)) for m in methods)
    return PhotometryResult(rows=rows, stars=stars, methods=methods, nsigma=float(nsigma))
