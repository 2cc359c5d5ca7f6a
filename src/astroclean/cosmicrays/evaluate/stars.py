"""Near stars: recall and precision of cosmic-ray masks inside isophotal star regions.

Cleaning methods fail most often on stars: a bright, sharp core looks like
a cosmic ray (false positives that eat the star) and a cosmic ray on a star
is hard to separate from it (misses). Following the CSST evaluation of
deepCR, the pixels of each *clean* image are grouped by isophotes at
3, 5, 10, 20, 40, 80 and 160 times the background RMS, and every method's
mask is scored inside each region, pooled over all benchmark cases.

Example
-------
>>> import numpy as np
>>> from astroclean.cosmicrays.evaluate.cases import BenchmarkCase
>>> from astroclean.cosmicrays.evaluate.stars import star_region_metrics
>>> rng = np.random.default_rng(0)
>>> clean = rng.normal(100.0, 5.0, (64, 64)).astype("f4")
>>> yy, xx = np.mgrid[:64, :64]
>>> clean += (3000 * np.exp(-((xx - 32) ** 2 + (yy - 32) ** 2) / 8.0)).astype("f4")
>>> truth = np.zeros((64, 64), bool); truth[30:35, 20] = True; truth[5, 5:9] = True
>>> image = clean + 500 * truth
>>> case = BenchmarkCase(name="demo", flavour="ground", image=image, clean=clean, truth=truth,
...                      snr=100.0 * truth, bad=np.zeros_like(truth), noise=np.full((64, 64), 5.0))
>>> result = star_region_metrics([case], {"perfect": [truth]})
>>> row = result.row("perfect", "all")
>>> row["recall"], row["precision"]
(1.0, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from astroclean.errors import AstrocleanValueError
from astroclean.evaluate.figures import new_figure, save_figure
from astroclean.background import background_and_noise
from astroclean.metrics import detection_scores, isophote_bins, isophote_regions
from astroclean.metrics.regions import DEFAULT_LEVELS
from astroclean.cosmicrays.evaluate.cases import BenchmarkCase

__all__ = ["StarRegionResult", "star_region_metrics", "case_masks", "clean_background"]

ALL = "all"
SKY = "sky"


def case_masks(cases: Sequence[BenchmarkCase], masks_by_method: Mapping) -> dict:
    """Validate ``{method: masks}`` into ``{method: [mask or None, one per case]}``.

    Parameters
    ----------
    cases : sequence of BenchmarkCase
    masks_by_method : mapping of str -> sequence or mapping
        Per method, either a sequence of boolean masks aligned with
        ``cases`` or a mapping ``case.name -> mask``. ``None`` (or a missing
        name) means the method has no result on that case (it failed or was
        skipped); that case is then left out of the method's pooled numbers.

    Raises
    ------
    AstrocleanValueError
        Wrong number of masks, a mask of the wrong shape or not boolean.
    """
    cases = list(cases)
    out = {}
    for method, masks in masks_by_method.items():
        if isinstance(masks, Mapping):
            masks = [masks.get(c.name) for c in cases]
        else:
            if isinstance(masks, np.ndarray) and masks.ndim == 2:
                raise AstrocleanValueError(
                    f"method {method!r}: got one 2-D mask; pass a list of masks, one per case ([mask] for one case)"
                )
            masks = list(masks)
            if len(masks) != len(cases):
                raise AstrocleanValueError(
                    f"method {method!r} gives {len(masks)} masks for {len(cases)} cases; pass one per case "
                    "(None where the method has no result) or a mapping case name -> mask"
                )
        checked = []
        for case, mask in zip(cases, masks):
            if mask is None:
                checked.append(None)
                continue
            mask = np.asarray(mask)
            if mask.shape != case.shape:
                raise AstrocleanValueError(
                    f"method {method!r}: mask of shape {mask.shape} for case {case.name!r} of shape {case.shape}"
                )
            if mask.dtype != bool:
                raise AstrocleanValueError(
                    f"method {method!r}: the mask for case {case.name!r} must be boolean (True = cosmic ray), "
                    f"got dtype {mask.dtype}; threshold scores first"
                )
            checked.append(mask)
        out[str(method)] = checked
    return out


def clean_background(case: BenchmarkCase, *, box: int = 64):
    """Background and background-RMS maps of ``case.clean`` (bad pixels excluded)."""
    box = int(min(box, max(8, min(case.shape) // 2)))
    background, rms = background_and_noise(case.clean, case.bad, box=box, filter_size=3)
    nonfinite = ~np.isfinite(case.clean)
    background[nonfinite] = np.nan
    rms[nonfinite] = np.nan
    return background, rms


def _label(lo, hi):
    return f">{lo:g} rms" if hi is None else (f"{lo:g}-{hi:g} rms" if math.isfinite(hi) else f">{lo:g} rms")


def _regions(case, levels, exclusive, min_pixels, box):
    """Ordered ``{label: (low, high, mask)}`` for one case: all, sky, then the isophotes."""
    background, rms = clean_background(case, box=box)
    nested = isophote_regions(case.clean, background=background, rms=rms, levels=levels, mask=case.bad,
                              min_pixels=min_pixels)
    lowest = nested[min(nested)]
    good = ~case.bad
    out = {ALL: (0.0, math.inf, good), SKY: (0.0, min(nested), good & ~lowest)}
    if exclusive:
        for (lo, hi), mask in isophote_bins(nested).items():
            out[_label(lo, hi)] = (lo, hi, mask)
    else:
        for k, mask in nested.items():
            out[_label(k, None)] = (k, math.inf, mask)
    return out


@dataclass(frozen=True)
class StarRegionResult:
    """Recall and precision of each method inside isophotal star regions.

    Attributes
    ----------
    rows : tuple of dict
        One per (method, region), in method order then region order, with
        ``method, region, level_low, level_high, n_cases, n_pixels, n_truth,
        n_flagged, tp, fp, fn, recall, precision``. ``region`` is ``"all"``
        (every good pixel), ``"sky"`` (below the lowest isophote), then
        ``">k rms"`` (inside the isophote ``k``; nested) or ``"k1-k2 rms"``
        (between two isophotes; with ``exclusive=True``). Counts are pooled
        over cases; rates are NaN when undefined (no truth pixel, nothing
        flagged).
    methods : tuple of str
    regions : tuple of str
    levels : tuple of float
        Isophote levels in units of the background RMS.
    exclusive : bool
    """

    rows: tuple
    methods: tuple
    regions: tuple
    levels: tuple
    exclusive: bool

    def row(self, method: str, region: str) -> dict:
        """The row of one method and region (``KeyError`` if absent)."""
        for r in self.rows:
            if r["method"] == method and r["region"] == region:
                return r
        raise KeyError(f"no row for method {method!r} and region {region!r}")

    def table(self):
        """The rows as an :class:`astropy.table.Table`."""
        from astropy.table import Table

        table = Table(rows=[dict(r) for r in self.rows], names=list(self.rows[0])) if self.rows else Table()
        table.meta["description"] = "cosmic-ray recall/precision inside isophotal star regions of the clean image"
        table.meta["levels_rms"] = list(self.levels)
        table.meta["exclusive"] = self.exclusive
        return table

    def plot(self, path):
        """Write ``star_regions.png``: recall and precision against isophote level, one line per method."""
        fig, (ax_r, ax_p) = new_figure(2, width=11.0)
        level_regions = [r for r in self.regions if r not in (ALL, SKY)]
        for k, method in enumerate(self.methods):
            colour = f"C{k % 10}"
            rows = [self.row(method, region) for region in level_regions]
            x = [r["level_low"] for r in rows]
            for ax, key in ((ax_r, "recall"), (ax_p, "precision")):
                ax.plot(x, [r[key] for r in rows], "o-", color=colour, label=method)
                ax.axhline(self.row(method, ALL)[key], color=colour, ls="--", lw=0.8)
                ax.plot([x[0] * 0.6], [self.row(method, SKY)[key]], "s", color=colour, mfc="none")
        what = "between isophotes" if self.exclusive else "inside isophote"
        for ax, key in ((ax_r, "recall"), (ax_p, "precision")):
            ax.set_xscale("log")
            ax.set_xlabel(f"{what} (x background RMS of the clean image)")
            ax.set_ylabel(key)
            ax.set_ylim(-0.02, 1.02)
            ax.grid(alpha=0.3)
            ax.set_title(f"{key} near stars (dashed: whole image; square: sky)")
        ax_r.legend(fontsize=8, loc="lower left")
        return save_figure(fig, path)


def star_region_metrics(cases, masks_by_method, *, levels=DEFAULT_LEVELS, exclusive: bool = False,
                        min_pixels: int = 9, box: int = 64) -> StarRegionResult:
    """Score cosmic-ray masks inside star regions defined on the clean images.

    For each case, the background and its RMS are measured on ``case.clean``
    (:func:`~astroclean.background.background_and_noise`, grid median-filtered), and the pixels brighter
    than ``k x RMS`` above it are the region of level ``k``
    (:func:`~astroclean.metrics.isophote_regions`). Recall is the fraction of
    truth pixels inside the region that a method flags; precision is the
    fraction of a method's flagged pixels inside the region that are truth.
    Bad pixels (``case.bad``) count nowhere. True, false and missed pixels
    are summed over cases before the rates are taken (pooled).

    Parameters
    ----------
    cases : sequence of BenchmarkCase
    masks_by_method : mapping of str -> masks
        Boolean masks (True = cosmic ray), one per case; see :func:`case_masks`.
    levels : sequence of float
        Isophote levels in units of the background RMS.
    exclusive : bool
        Score the bins between consecutive isophotes instead of the nested
        regions inside each isophote.
    min_pixels : int
        A star region at the lowest level must hold a connected component of
        at least this many pixels (drops isolated noise peaks; 1 = none).
    box : int
        Box size of the background estimate (reduced for small images).

    Returns
    -------
    StarRegionResult

    Raises
    ------
    AstrocleanValueError
        No case, masks that do not match the cases, invalid levels.
    """
    cases = list(cases)
    if not cases:
        raise AstrocleanValueError("star_region_metrics needs at least one BenchmarkCase")
    masks = case_masks(cases, masks_by_method)
    counts, meta = {}, {}
    for i, case in enumerate(cases):
        regions = _regions(case, levels, exclusive, min_pixels, box)
        for label, (lo, hi, region) in regions.items():
            meta[label] = (lo, hi)
            for method, per_case in masks.items():
                if per_case[i] is None:
                    continue
                s = detection_scores(case.truth, per_case[i], ignore=~region)
                c = counts.setdefault((method, label), np.zeros(5, np.int64))
                c += (1, int(region.sum()), s.tp, s.fp, s.fn)
    rows = []
    for method in masks:
        for label, (lo, hi) in meta.items():
            n_cases, n_pixels, tp, fp, fn = (int(v) for v in counts.get((method, label), np.zeros(5)))
            rows.append({
                "method": method, "region": label, "level_low": float(lo), "level_high": float(hi),
                "n_cases": n_cases, "n_pixels": n_pixels, "n_truth": tp + fn, "n_flagged": tp + fp,
                "tp": tp, "fp": fp, "fn": fn, "recall": _ratio(tp, tp + fn), "precision": _ratio(tp, tp + fp),
            })
    return StarRegionResult(rows=tuple(rows), methods=tuple(masks), regions=tuple(meta),
                            levels=tuple(float(k) for k in levels), exclusive=bool(exclusive))


def _ratio(num, den) -> float:
    return float(num / den) if den else math.nan
