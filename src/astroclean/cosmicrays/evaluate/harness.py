"""Run every cosmic-ray detector on every benchmark case and score them side by side.

:func:`run_benchmark` runs each method on each case (a failure is caught per
method and case and recorded with its reason; the rest completes), times
it, then computes per flavour and overall, with pixels pooled over the
cases of a group (``ignore = case.bad``). A cosmic-ray pixel is one whose
injected charge is at least 1.5 times the local noise; the rest of the
stored footprint (its zero-charge 3x3 halo, fainter charge) is ignored
(``truth="core"``, see :func:`scored_truth`; ``"footprint"`` scores against
the dilated footprint instead):

- TPR at FPR 1e-4 and 1e-3 (0.01 %, 0.1 %), overall and per injected S/N bin
  (1.5-5 and >= 5 sigma), with bootstrap intervals over cases;
- precision at 95 % TPR and the ROC AUC, with intervals (from scores
  quantised to <= 4096 levels; the estimate itself is exact);
- TPR, FPR, precision, F1, IoU and FDR of each method's default operating
  point (its ``detect`` mask), the TPR per S/N bin there, and intervals
  for F1, IoU and FDR;
- thinned ROC and precision-recall curves for the plots.

Methods are registered detector names (:func:`~astroclean.cosmicrays.evaluate.peers.list_detectors`,
``astroclean:<model>``) or :class:`~astroclean.cosmicrays.evaluate.peers.Detector`
instances. A case whose truth is missing or whose arrays disagree in shape is
skipped with the reason (``results.skipped_cases``).

Example
-------
>>> from astroclean.cosmicrays.evaluate.benchmark_set import build_benchmark_set
>>> from astroclean.cosmicrays.evaluate.harness import run_benchmark
>>> res = run_benchmark(build_benchmark_set("quick"), ["astroscrappy:sigclip3"], rng=0, n_boot=20,
...                     options={"astroscrappy:sigclip3": {"sweep": (2, 3, 5, 10)}})
>>> [r["flavour"] for r in res.rows], res.rows[-1]["status"]
(['space', 'ground', 'crowded', 'all'], 'ok')
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

from astroclean.errors import AstrocleanValueError
from astroclean.evaluate.docs import git_commit
from astroclean.cosmicrays.evaluate.scoring import (FPRS, MIN_SNR, TPR_FOR_PRECISION,  # noqa: F401
                                                    _method_rows, scored_truth)
from astroclean.cosmicrays.evaluate.peers import Detector, DetectorError, get_detector, list_detectors

__all__ = ["run_benchmark", "BenchmarkResults", "MethodRun", "default_methods", "make_detector", "check_case",
           "scored_truth", "FPRS", "TPR_FOR_PRECISION", "METHOD_OPTIONS", "MIN_SNR"]

FLAVOUR_ORDER = ("space", "ground", "crowded")
#: Options the default benchmark gives some methods (lacosmic: a 10-point sweep,
#: since its pure-Python cleaning loop makes each sweep point ~10x astroscrappy's cost).
METHOD_OPTIONS = {"lacosmic": {"sweep": (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 14.0, 20.0)}}
#: Injected pixel S/N below which a truth pixel is neither positive nor negative (truth="core").


@dataclass(frozen=True)
class MethodRun:
    """One method on one case: outputs (None unless ``status == "ok"``), timing, failure reason."""

    method: str
    case: str
    status: str                      # "ok", "failed" or "skipped"
    reason: str = ""
    score: np.ndarray | None = None
    mask: np.ndarray | None = None
    seconds: float = math.nan        # wall seconds for score + operating-point mask
    cpu_seconds: float = math.nan
    n_nonfinite: int = 0             # counted pixels whose score was not finite (set to -inf: never flagged)


@dataclass(frozen=True)
class BenchmarkResults:
    """Everything :func:`run_benchmark` measured.

    Attributes
    ----------
    cases : tuple of BenchmarkCase
        The cases that were scored (valid ones).
    methods : tuple of str
    descriptions : dict
        ``method -> Detector.describe()`` plus ``status``/``reason``/``load_seconds``.
    runs : dict
        ``(method, case name) -> MethodRun``.
    rows : list of dict
        One per method x group (each flavour, then ``"all"``); see :func:`run_benchmark`.
    curves : dict
        ``(method, group) -> {"fpr", "tpr", "recall", "precision"}`` (thinned arrays).
    timing : list of dict
        One per method x case shape: median and total wall/CPU seconds.
    skipped_cases : dict
        ``case name -> reason``.
    detectors : dict
        ``method -> Detector`` (for analyses that rerun a method).
    meta : dict
        Recipe, versions, commit, date, options.
    """

    cases: tuple
    methods: tuple
    descriptions: dict
    runs: dict
    rows: list
    curves: dict
    timing: list
    skipped_cases: dict = field(default_factory=dict)
    detectors: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def outputs(self, method):
        """``[(case, MethodRun)]`` of the cases ``method`` ran on successfully."""
        return [(c, self.runs[method, c.name]) for c in self.cases if self.runs[method, c.name].status == "ok"]

    def row(self, method, group="all") -> dict:
        return next(r for r in self.rows if r["method"] == method and r["flavour"] == group)


def default_methods() -> list:
    """``astroclean:auto`` and every registered peer (unavailable ones are reported as skipped)."""
    from astroclean.cosmicrays.evaluate.ours import register_ours

    register_ours()
    return ["astroclean:auto"] + [n for n in list_detectors() if not n.startswith("astroclean:")]


def make_detector(method, **options):
    """A Detector from a registered name, ``astroclean:<model>``, or a Detector instance (returned as is)."""
    if not isinstance(method, str):
        if options:
            raise AstrocleanValueError(f"options {sorted(options)} given for a Detector instance; configure it "
                                       "when constructing it")
        return method
    from astroclean.cosmicrays.evaluate.ours import PREFIX, make_ours, register_ours

    register_ours()
    return make_ours(method, **options) if method.startswith(PREFIX) else get_detector(method, **options)


def check_case(case) -> str:
    """Empty string when ``case`` can be scored, else the reason it cannot."""
    if case.truth is None:
        return "no truth mask (a benchmark case needs the injected cosmic-ray mask)"
    image = np.asarray(case.image)
    if image.ndim != 2:
        return f"image must be 2-D (y, x), got shape {image.shape}"
    for key in ("truth", "bad", "snr", "clean", "noise", "variance"):
        value = getattr(case, key)
        if value is not None and np.shape(value) != image.shape:
            return f"{key} has shape {np.shape(value)} but the image has shape {image.shape}"
    if np.asarray(case.truth).dtype != bool:
        return f"truth must be boolean, got dtype {np.asarray(case.truth).dtype}"
    return ""


def _name(method) -> str:
    return method if isinstance(method, str) else getattr(method, "name", type(method).__name__)


def _operating_mask(det, score, case, kwargs):
    """The method's default-operating-point mask, from its score when that is what ``detect`` computes."""
    if hasattr(det, "mask_from_score"):
        return np.asarray(det.mask_from_score(score), dtype=bool)
    if isinstance(det, Detector) and type(det)._detect is Detector._detect and det.threshold is not None:
        with np.errstate(invalid="ignore"):
            return score > det.threshold
    return np.asarray(det.detect(case.image, **kwargs), dtype=bool)


def run_method(det, method, case):
    kwargs = dict(mask=case.bad, variance=case.variance, gain=case.gain, read_noise=case.read_noise,
                  saturation=case.saturation)
    if hasattr(det, "for_flavour"):
        det = det.for_flavour(case.flavour)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        score = np.array(det.score(case.image, **kwargs), dtype=np.float32)
        if score.shape != case.image.shape:
            raise DetectorError(f"{method} returned a score of shape {score.shape} for a {case.image.shape} image")
        mask = _operating_mask(det, score, case, kwargs)
        if mask.shape != case.image.shape:
            raise DetectorError(f"{method} returned a mask of shape {mask.shape} for a {case.image.shape} image")
    except Exception as exc:  # any failure of a method is recorded, the benchmark goes on
        return MethodRun(method, case.name, "failed", f"{type(exc).__name__}: {exc}")
    bad_score = ~np.isfinite(score) & ~case.bad
    score[~np.isfinite(score)] = -np.inf
    return MethodRun(method, case.name, "ok", score=score, mask=mask, seconds=time.perf_counter() - wall,
                     cpu_seconds=time.process_time() - cpu, n_nonfinite=int(bad_score.sum()))


def _provenance(cases, **settings) -> dict:
    import datetime
    import os
    import platform

    from astroclean import __version__
    from astroclean.cosmicrays.evaluate.benchmark_set import set_digest

    recipes = sorted({f"{c.meta.get('recipe', '?')} v{c.meta.get('recipe_version', '?')}" for c in cases})
    commit, dirty = git_commit()
    return {"astroclean": __version__, "commit": commit, "dirty": dirty, "recipe": ", ".join(recipes),
            "set_digest": set_digest(cases), "n_cases": len(cases),
            "n_pixels": int(sum(c.image.size for c in cases)),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "python": platform.python_version(), "numpy": np.__version__, "platform": platform.platform(),
            "cpu_count": os.cpu_count(), "fprs": list(FPRS), "tpr_for_precision": TPR_FOR_PRECISION,
            **{k: (repr(v) if isinstance(v, dict) else v) for k, v in settings.items()}}


# ----------------------------------------------------------------------------- statistics

def _timing(method, outs):
    rows = []
    for shape in sorted({c.image.shape for c, _ in outs}, key=lambda s: (s[0] * s[1], s)):
        runs = [r for c, r in outs if c.image.shape == shape]
        wall = np.array([r.seconds for r in runs])
        rows.append({"method": method, "shape": f"{shape[0]}x{shape[1]}", "n_cases": len(runs),
                     "median_seconds": float(np.median(wall)), "total_seconds": float(wall.sum()),
                     "cpu_seconds": float(sum(r.cpu_seconds for r in runs)),
                     "seconds_per_mpx": float(wall.sum() / (len(runs) * shape[0] * shape[1]) * 1e6)})
    return rows


def run_benchmark(cases, methods=None, *, rng, log=None, n_boot: int = 200, confidence: float = 0.68,
                  options=None, truth: str = "core", min_snr: float = MIN_SNR,
                  threads: int | None = None) -> BenchmarkResults:
    """Run ``methods`` on ``cases`` and compute the benchmark metrics.

    Parameters
    ----------
    cases : sequence of BenchmarkCase
    methods : sequence of str or Detector, optional
        Default :func:`default_methods` (ours and every registered peer).
    rng : numpy.random.Generator or int
        For the bootstrap intervals (over cases).
    log : callable, optional
        Called with one progress line per method and case (e.g. ``print``).
    n_boot : int
        Bootstrap replicates.
    confidence : float
        Interval coverage (0.68: 1 sigma).
    options : dict, optional
        ``method name -> constructor options``; default :data:`METHOD_OPTIONS`
        for registered names not given here.
    truth : {"core", "footprint"}
        What counts as a cosmic-ray pixel, see :func:`scored_truth`.
    min_snr : float
        Lowest injected S/N of a positive pixel with ``truth="core"``.
    threads : int, optional
        torch threads during the run (restored afterwards). OpenMP methods
        (astroscrappy) read ``OMP_NUM_THREADS`` when first imported: the
        command line sets it from ``--threads``.

    Returns
    -------
    BenchmarkResults
        ``rows``: per method and group (``space``, ``ground``, ``crowded``,
        ``all``): ``status`` (``ok``, ``partial``, ``failed``, ``skipped``),
        ``reason``, ``n_cases``, ``n_failed``, the metrics listed in the
        module notes (``tpr@fpr=0.0001``, ``..._low``/``..._high``,
        ``tpr@fpr=0.0001[snr 1.5-5]``, ``precision@tpr=0.95``, ``auc``, ``f1``,
        ``iou``, ``fdr``, ``op_tpr``...) and ``seconds_per_mpx``.

    Raises
    ------
    AstrocleanValueError
        No case can be scored, or no method is given.
    """
    say = log or (lambda message: None)
    if truth not in ("core", "footprint"):
        raise AstrocleanValueError(f"truth must be 'core' or 'footprint', got {truth!r}")
    rng = np.random.default_rng(rng)
    skipped_cases = {c.name: reason for c in cases if (reason := check_case(c))}
    for name, reason in skipped_cases.items():
        say(f"case {name} skipped: {reason}")
    valid = tuple(c for c in cases if c.name not in skipped_cases)
    if not valid:
        raise AstrocleanValueError(f"none of the {len(cases)} cases can be scored: {skipped_cases}")
    methods = list(default_methods() if methods is None else methods)
    if not methods:
        raise AstrocleanValueError("no method to run; pass names such as 'astroscrappy' or Detector instances")
    names = [_name(m) for m in methods]
    if len(set(names)) != len(names):
        raise AstrocleanValueError(f"method names must be unique, got {names}")
    options = {**METHOD_OPTIONS, **(options or {})}
    runs, descriptions, detectors, rows, curves, timing = {}, {}, {}, [], {}, []
    groups = [f for f in FLAVOUR_ORDER if any(c.flavour == f for c in valid)]
    groups += sorted({c.flavour for c in valid} - set(groups)) + ["all"]
    from astroclean.inference.device import set_threads  # torch only when a benchmark runs

    previous_threads = set_threads(threads)
    try:
        for method, name in zip(methods, names):
            det, descriptions[name] = _load(method, name, options, groups[:-1])
            status, reason = descriptions[name]["status"], descriptions[name]["reason"]
            if det is not None:
                detectors[name] = det
            say(f"{name}: {status}" + (f" ({reason})" if reason else ""))
            for case in valid:
                run = run_method(det, name, case) if status == "ok" else MethodRun(name, case.name, status, reason)
                runs[name, case.name] = run
                if status == "ok":
                    say(f"  {case.name}: {run.status} {run.seconds:.2f} s" + (f" ({run.reason})" if run.reason else ""))
            outs = [(c, runs[name, c.name]) for c in valid]
            timing += _timing(name, [(c, r) for c, r in outs if r.status == "ok"])
            method_rows, method_curves = _method_rows(name, outs, groups, n_boot=n_boot, rng=rng,
                                                      confidence=confidence, truth=truth, min_snr=min_snr)
            rows += method_rows
            curves.update(method_curves)
    finally:
        set_threads(previous_threads)
    meta = _provenance(valid, truth=truth, min_snr=min_snr if truth == "core" else None, confidence=confidence,
                       n_boot=n_boot, options=options, threads=threads,
                       omp_num_threads=os.environ.get("OMP_NUM_THREADS"))
    return BenchmarkResults(cases=valid, methods=tuple(names), descriptions=descriptions, runs=runs, rows=rows,
                            curves=curves, timing=timing, skipped_cases=skipped_cases, detectors=detectors,
                            meta=meta)


def _load(method, name, options, flavours):
    """``(detector or None, description)``: status ok / skipped / failed, and the seconds spent loading the
    model and warming it up on a small frame (not counted in the per-case timings)."""
    desc, det, start = {"name": name, "status": "ok", "reason": "", "load_seconds": 0.0}, None, time.perf_counter()
    try:
        det = make_detector(method, **(options.get(name, {}) if isinstance(method, str) else {}))
        desc.update(det.describe())
        ok, reason = det.available()
        if ok:
            for part in ([det.for_flavour(f) for f in flavours] if hasattr(det, "for_flavour") else [det]):
                part.load()
                _warm_up(part)
        desc.update(status="ok" if ok else "skipped", reason=reason, load_seconds=time.perf_counter() - start)
    except Exception as exc:  # a method that cannot even be built or loaded is marked failed
        desc.update(status="failed", reason=f"{type(exc).__name__}: {exc}")
    return det, desc


def _warm_up(det):
    """One untimed call on a small frame, so first-call costs (allocations, kernel set-up) count as loading."""
    image = np.random.default_rng(0).normal(1000.0, 30.0, (64, 64)).astype(np.float32)
    try:
        det.score(image, gain=1.0, read_noise=5.0)
    except Exception:  # noqa: BLE001 - a method that fails here fails (and is reported) on the cases
        pass

