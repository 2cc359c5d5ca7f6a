"""Self-test on the user's own frames: inject known cosmic rays, see how many the model finds.

``astroclean evaluate cosmic --images my_frames/ --inject`` calls
:func:`run_selftest`: cosmic rays from the benchmark library (real hits the
shipped models never trained on) are injected into each frame at a small
pixel fraction, the model is run on the result, and its mask is compared
with the injected truth: recall and precision at the chosen threshold, and
the threshold that reaches a target false discovery rate.

Caveat: the frames' own cosmic rays are unknown. Every pixel the model flags
outside the injected truth is counted as a false positive, so the precision
is a lower bound, the FDR an upper bound and the FDR threshold conservative
(higher than needed). With ``lower_bound=True`` the model is also run on the
frames before injection; pixels it flags there (native cosmic rays, or
false positives it makes anyway) give an approximate lower bound on the
FDR (``fdr_lower``): the truth lies between the two.

Example
-------
>>> import numpy as np
>>> from astroclean.cosmicrays.evaluate.selftest import run_selftest
>>> frame = np.random.default_rng(0).normal(500.0, 10.0, (96, 96)).astype("f4")
>>> sigma = lambda image: (image.data - 500.0) / 10.0     # a toy model: S/N of each pixel
>>> result = run_selftest([frame], model=sigma, threshold=5.0, target_fdr=0.05, density=0.01, rng=1)
>>> pooled = result.pooled
>>> pooled["precision"] > 0.99, 0 < pooled["recall"] < 1, bool(np.isfinite(pooled["threshold_at_fdr"]))
(True, True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from astroclean.errors import AstrocleanValueError
from astroclean.image import Image, as_image
from astroclean.metrics import detection_scores, precision_recall_curve, threshold_at_fdr, tpr_by_signal
from astroclean.cosmicrays.simulate import inject_cosmic_rays
from astroclean.simulate.common import as_rng
from astroclean.evaluate.figures import new_figure, save_figure

__all__ = ["SelfTestResult", "run_selftest", "load_frames"]

POOLED = "pooled"


def load_frames(images) -> list:
    """Images from Images, arrays, FITS paths (every image HDU, :func:`astroclean.io.read_images`) or a list of them.

    Folders and globs are expanded by the command line, not here.
    """
    if isinstance(images, (str, Path, Image, np.ndarray)):
        images = [images]
    frames = []
    for item in images:
        if isinstance(item, (str, Path)):
            from astroclean.io import read_images

            frames.extend(read_images(item))
        elif isinstance(item, Image):
            frames.append(item)
        else:
            frames.append(as_image(item, name=f"frame{len(frames)}"))
    if not frames:
        raise AstrocleanValueError("run_selftest needs at least one image (an Image, an array or a FITS path)")
    return frames


def _scorer(model, threshold):
    """``(name, score(Image), flag(Image, score), threshold)`` for a model name, detector or callable."""
    from astroclean.cosmicrays import CosmicRayDetector

    def above(thr):
        return lambda img, score: score >= thr

    if isinstance(model, (str, CosmicRayDetector)):
        det = CosmicRayDetector(model) if isinstance(model, str) else model
        thr = det.card.default_threshold if threshold is None else float(threshold)
        return det.name, (lambda img: det.detect(img, threshold=thr).probability), above(thr), thr
    if hasattr(model, "score") and hasattr(model, "detect"):  # the benchmark's Detector protocol
        name = getattr(model, "name", type(model).__name__)
        thr = getattr(model, "threshold", None) if threshold is None else threshold
        if thr is None:  # no score threshold (e.g. astroscrappy): its own default operating point
            return name, (lambda img: model.score(img)), (lambda img, score: model.detect(img)), math.nan
        return name, (lambda img: model.score(img)), above(float(thr)), float(thr)
    if callable(model):
        thr = 0.5 if threshold is None else float(threshold)
        return getattr(model, "__name__", "model"), model, above(thr), thr
    raise AstrocleanValueError(f"model must be a model name, a CosmicRayDetector, a Detector or a callable "
                               f"returning a score map; got {type(model).__name__}")


def _rates(tp, fp, fn):
    flagged = tp + fp
    return {"recall": tp / (tp + fn) if tp + fn else math.nan,
            "precision": tp / flagged if flagged else math.nan, "fdr": fp / flagged if flagged else math.nan}


@dataclass(frozen=True)
class SelfTestResult:
    """Recall and precision of a model on the user's frames with injected cosmic rays.

    Attributes
    ----------
    frames : tuple of dict
        One row per frame: ``frame, n_pixels`` (counted: not masked),
        ``n_hits, n_truth, tp, fp, fn,
        recall, precision, fdr`` (at ``threshold``; FDR an upper bound),
        ``fdr_lower`` (NaN without ``lower_bound``), ``threshold_at_fdr``
        (lowest threshold whose FDR <= ``target_fdr``; NaN when none) and
        ``recall_at_fdr`` (the recall there).
    pooled : dict
        The same over all frames (counts summed, thresholds from all pixels
        together), plus recall in bins of injected pixel S/N.
    model : str
    threshold, target_fdr, density : float
    library : str
    curve : dict
        Pooled ``thresholds, precision, recall`` (at most ~2000 points) for the plot.
    """

    frames: tuple
    pooled: dict
    model: str
    threshold: float
    target_fdr: float
    density: float
    library: str
    curve: dict

    def table(self):
        """Per-frame rows and the pooled row as an :class:`astropy.table.Table`."""
        from astropy.table import Table

        keys = list(self.frames[0])
        table = Table(rows=[[r[k] for k in keys] for r in (*self.frames, self.pooled)], names=keys)
        table.meta.update(model=self.model, threshold=self.threshold, target_fdr=self.target_fdr,
                          density=self.density, library=self.library,
                          note="false positives include the frames' own cosmic rays: fdr is an upper bound")
        return table

    def summary(self) -> str:
        """A short text report for the command line."""
        p = self.pooled
        lines = [
            f"self-test of model {self.model!r}: {len(self.frames)} frame(s), {p['n_hits']} injected cosmic rays "
            f"({p['n_truth']} pixels, density {self.density:g}, {self.library} library)",
            f"at {self._where()}: recall {p['recall']:.4f}, precision {p['precision']:.4f} "
            f"(FDR {p['fdr']:.4f}" + (f", at least {p['fdr_lower']:.4f})" if np.isfinite(p["fdr_lower"]) else ")"),
        ]
        bins = [k for k in p if k.startswith("recall[snr")]
        if bins:
            lines.append("recall by injected pixel S/N: " + ", ".join(f"{k[7:-1]}: {p[k]:.3f}" for k in bins))
        if np.isfinite(p["threshold_at_fdr"]):
            lines.append(f"threshold for FDR <= {self.target_fdr:g}: {p['threshold_at_fdr']:.4g} "
                         f"(recall there {p['recall_at_fdr']:.4f})")
        else:
            lines.append(f"no threshold reaches FDR <= {self.target_fdr:g} on these frames")
        lines.append("note: the frames' own cosmic rays count as false positives, so precision is a lower "
                     "bound and the FDR threshold is conservative")
        return "\n".join(lines)

    def _where(self) -> str:
        return f"threshold {self.threshold:g}" if np.isfinite(self.threshold) else "its default operating point"

    def plot(self, path):
        """Write a PNG of pooled recall and precision against threshold."""
        fig, (ax,) = new_figure(1, width=6.5)
        c = self.curve
        ax.plot(c["thresholds"], c["recall"], label="recall")
        ax.plot(c["thresholds"], c["precision"], label="precision (lower bound)")
        if np.isfinite(self.threshold):
            ax.axvline(self.threshold, color="k", ls="--", lw=0.8, label=f"threshold {self.threshold:g}")
        if np.isfinite(self.pooled["threshold_at_fdr"]):
            ax.axvline(self.pooled["threshold_at_fdr"], color="C3", ls=":", label=f"FDR {self.target_fdr:g}")
        ax.set_xlabel("threshold")
        ax.set_ylabel("rate")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"self-test of {self.model} on {len(self.frames)} frame(s)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        return save_figure(fig, path)


def run_selftest(images, *, model="ground", threshold: float | None = None, target_fdr: float = 0.05,
                 density: float = 0.005, rng=0, library="benchmark", lower_bound: bool = True) -> SelfTestResult:
    """Inject library cosmic rays into the user's frames and measure a model against them.

    Parameters
    ----------
    images : Image, array_like, str or Path, or a sequence of them
        The user's frames (see :func:`load_frames`); never modified. Their
        masks (bad pixels, saturation, NaN) are respected.
    model : str, CosmicRayDetector, Detector or callable
        A registered cosmic-ray model name (``"ground"``, ``"space"``), a
        loaded :class:`~astroclean.cosmicrays.CosmicRayDetector`, any
        benchmark :class:`~astroclean.cosmicrays.evaluate.peers.Detector` (its
        ``score``), or a callable ``f(Image) -> score map`` (higher = more
        cosmic-ray-like). A pixel is flagged when ``score >= threshold``.
    threshold : float, optional
        Default: the model card's (or the detector's) threshold, 0.5 for a
        callable; a Detector without a score threshold (astroscrappy,
        lacosmic) is then run at its default operating point (``detect``)
        and ``threshold`` is reported as NaN.
    target_fdr : float in [0, 1]
        False discovery rate for which the threshold is reported.
    density : float
        Fraction of each frame's good pixels covered by injected hits.
    rng : numpy.random.Generator or int
    library : {"benchmark", "train"}, CosmicRayLibrary or None
        Hits to inject; keep ``"benchmark"`` for a model trained on ``"train"``.
    lower_bound : bool
        Also run the model on the frames before injection, to bound the FDR
        from below (twice the run time).

    Returns
    -------
    SelfTestResult

    Raises
    ------
    AstrocleanValueError
        No image, a bad ``target_fdr`` or ``density``, or an unusable model.
    """
    if not 0 <= target_fdr <= 1:
        raise AstrocleanValueError(f"target_fdr must be in [0, 1], got {target_fdr}")
    frames = load_frames(images)
    name, score_fn, flag_fn, threshold = _scorer(model, threshold)
    gen = as_rng(rng)
    rows, pooled = [], {"truth": [], "score": [], "snr": [], "flagged": []}
    totals = np.zeros(5, np.int64)   # n_hits, tp, fp, fn, fp_native
    for frame in frames:
        dirty, truth = inject_cosmic_rays(frame, rng=gen, library=library, density=density)
        score = np.asarray(score_fn(dirty), dtype=np.float32)
        if score.shape != frame.shape:
            raise AstrocleanValueError(f"model {name!r} returned a score map of shape {score.shape} for frame "
                                       f"{frame.name!r} of shape {frame.shape}")
        ignore = frame.mask | ~np.isfinite(score)
        with np.errstate(invalid="ignore"):
            flagged = np.asarray(flag_fn(dirty, score), dtype=bool) & ~ignore
        s = detection_scores(truth.mask, flagged, ignore=ignore)
        fp_native = 0
        if lower_bound:
            before = np.asarray(score_fn(frame), dtype=np.float32)
            with np.errstate(invalid="ignore"):
                fp_native = int((flagged & ~truth.mask & np.asarray(flag_fn(frame, before), dtype=bool)).sum())
        counted = ~ignore
        for key, values in (("truth", truth.mask), ("score", score), ("snr", truth.snr), ("flagged", flagged)):
            pooled[key].append(values[counted])
        rows.append(_row(frame.name, int(counted.sum()), truth.n_hits, s.tp, s.fp, s.fn, fp_native,
                         pooled["truth"][-1], pooled["score"][-1], target_fdr, lower_bound))
        totals += (truth.n_hits, s.tp, s.fp, s.fn, fp_native)
    t, sc, snr, fl = (np.concatenate(pooled[k]) for k in ("truth", "score", "snr", "flagged"))
    n_hits, tp, fp, fn, fp_native = (int(v) for v in totals)
    row = _row(POOLED, int(t.size), n_hits, tp, fp, fn, fp_native, t, sc, target_fdr, lower_bound)
    row.update(tpr_by_signal(t, fl, snr).as_row("recall"))
    return SelfTestResult(frames=tuple(rows), pooled=row, model=str(name), threshold=float(threshold),
                          target_fdr=float(target_fdr), density=float(density),
                          library=library if isinstance(library, str) else "custom", curve=_curve(t, sc))


def _row(frame, n_pixels, n_hits, tp, fp, fn, fp_native, truth, score, target_fdr, lower_bound):
    rates = _rates(tp, fp, fn)
    flagged = tp + fp
    thr = threshold_at_fdr(truth, score, target_fdr) if truth.size else math.nan
    recall_at = float(np.count_nonzero(truth & (score >= thr)) / truth.sum()) if np.isfinite(thr) and truth.any() \
        else math.nan
    return {"frame": str(frame), "n_pixels": int(n_pixels), "n_hits": int(n_hits),
            "n_truth": int(tp + fn), "tp": int(tp), "fp": int(fp), "fn": int(fn), **rates,
            "fdr_lower": (fp - fp_native) / flagged if lower_bound and flagged else math.nan,
            "threshold_at_fdr": float(thr), "recall_at_fdr": recall_at}


def _curve(truth, score, max_points: int = 2000):
    if not truth.size:
        return {"thresholds": np.zeros(0), "precision": np.zeros(0), "recall": np.zeros(0)}
    pr = precision_recall_curve(truth, score)
    keep = np.unique(np.linspace(0, pr.thresholds.size - 1, min(max_points, pr.thresholds.size)).astype(int))
    return {"thresholds": pr.thresholds[keep], "precision": pr.precision[keep], "recall": pr.recall[keep]}
