"""Summaries of the compact-source benchmark: flux ratios per level, spectra per scale, PASS/FAIL of the targets.

Example
-------
>>> from astropy.table import Table
>>> from astroclean.sources.evaluate.summary import summarise_levels
>>> t = Table({"level_flux": [1.0] * 6, "above_limit": [True] * 6, "ratio": [0.99, 1.0, 1.01, 1.0, 1.0, 1.02],
...            "ratio_annulus": [0.9, 1.1, 1.0, 0.95, 1.05, 1.0]})
>>> row = summarise_levels(t)[0]
>>> float(row["median_ratio"]), bool(row["ratio_ok"]), bool(row["iqr_ok"])
(1.0, True, True)
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["summarise_levels", "summarise_spectra", "evaluate_targets", "TARGETS", "MIN_SOURCES_PER_LEVEL"]

#: The benchmark's targets, never adjusted to the results.
TARGETS = {"flux_ratio_tolerance": 0.02, "gamma_dra_tolerance": 0.05, "spectrum_tolerance": 0.01,
           "sources_per_second": 100.0}
MIN_SOURCES_PER_LEVEL = 5


def _quartiles(values):
    return tuple(float(q) for q in np.percentile(values, [25, 75])) if len(values) else (math.nan, math.nan)


def _iqr(values):
    q25, q75 = _quartiles(values)
    return q75 - q25


def _median_error(values):
    """Half-width of the 68% percentile-bootstrap interval of the median (seeded: reproducible)."""
    from astroclean.metrics.bootstrap import bootstrap_ci

    if len(values) < 2:
        return math.nan
    ci = bootstrap_ci(np.median, np.asarray(values, float), n_boot=400, rng=0)
    return 0.5 * (ci.high - ci.low)


def summarise_levels(sources, *, snr_limit=5.0, tolerance=TARGETS["flux_ratio_tolerance"]):
    """Per flux level and population: n, median (with its bootstrap error) and IQR of measured / injected flux.

    ``sources`` needs ``level_flux``, ``above_limit``, ``ratio`` and
    ``ratio_annulus``. A row is judged (``judged`` True) when it is the
    ``S/N >= snr_limit`` population with at least
    :data:`MIN_SOURCES_PER_LEVEL` measured sources for both methods.
    """
    from astropy.table import Table

    rows = []
    level_flux = np.asarray(sources["level_flux"], float)
    for level in np.unique(level_flux[np.isfinite(level_flux)]):
        in_level = level_flux == level
        for above in (True, False):
            sel = in_level & (np.asarray(sources["above_limit"]) == above)
            if not sel.any():
                continue
            net = np.asarray(sources["ratio"], float)[sel]
            ann = np.asarray(sources["ratio_annulus"], float)[sel]
            net, ann = net[np.isfinite(net)], ann[np.isfinite(ann)]
            row = {"flux": float(level),
                   "population": f"snr>={snr_limit:g}" if above else f"snr<{snr_limit:g} (below limit)",
                   "n": int(sel.sum()), "n_measured": int(net.size),
                   "median_ratio": float(np.median(net)) if net.size else math.nan, "iqr_ratio": _iqr(net),
                   "median_err": _median_error(net), "median_err_annulus": _median_error(ann),
                   "n_annulus": int(ann.size),
                   "median_ratio_annulus": float(np.median(ann)) if ann.size else math.nan,
                   "iqr_ratio_annulus": _iqr(ann)}
            (row["q25_ratio"], row["q75_ratio"]), (row["q25_ratio_annulus"], row["q75_ratio_annulus"]) = (
                _quartiles(net), _quartiles(ann))
            judged = above and net.size >= MIN_SOURCES_PER_LEVEL and ann.size >= MIN_SOURCES_PER_LEVEL
            row["judged"] = judged
            row["ratio_ok"] = bool(abs(row["median_ratio"] - 1) <= tolerance) if judged else False
            row["iqr_ok"] = bool(row["iqr_ratio"] < row["iqr_ratio_annulus"]) if judged else False
            rows.append(row)
    names = ["flux", "population", "n", "n_measured", "median_ratio", "median_err", "iqr_ratio", "n_annulus",
             "median_ratio_annulus", "median_err_annulus", "iqr_ratio_annulus", "q25_ratio", "q75_ratio", "q25_ratio_annulus",
             "q75_ratio_annulus", "judged", "ratio_ok", "iqr_ok"]
    table = Table(rows=[[r[k] for k in names] for r in rows], names=names) if rows else Table(names=names)
    table.meta["description"] = (f"measured / injected flux per level (Jy); judged: S/N >= {snr_limit:g} with at "
                                 f"least {MIN_SOURCES_PER_LEVEL} measured sources per method")
    return table


def summarise_spectra(per_map, *, edges):
    """Per scale: median over maps of each spectrum and of ``P_pred / P_true - 1``, and the worst map."""
    from astropy.table import Table

    edges = np.asarray(edges)
    p_true = np.array([m["p_true"] for m in per_map])
    p_pred = np.array([m["p_pred"] for m in per_map])
    p_diff = np.array([m["p_diff"] for m in per_map])
    k = np.nanmedian(np.array([m["k"] for m in per_map]), axis=0)
    oracle = (np.array([m["p_oracle"] for m in per_map]) if all("p_oracle" in m for m in per_map)
              else np.full(p_true.shape, np.nan))
    with np.errstate(invalid="ignore", divide="ignore"):
        dev = p_pred / p_true - 1
        frac_diff = p_diff / p_true
        dev_oracle = oracle / p_true - 1
        dev_inpaint = p_pred / oracle - 1
    worst = np.nanmax(np.abs(dev), axis=0)
    worst_map = [per_map[int(np.nanargmax(np.abs(np.where(np.isfinite(d), d, 0))))]["map"]
                 for d in dev.T]
    table = Table({"k_low": edges[:-1], "k_high": edges[1:], "k": k, "scale_pixels": 1 / k,
                   "p_true": np.nanmedian(p_true, axis=0), "p_pred": np.nanmedian(p_pred, axis=0),
                   "p_diff": np.nanmedian(p_diff, axis=0), "ratio_minus_1": np.nanmedian(dev, axis=0),
                   "worst_abs_ratio_minus_1": worst, "worst_map": worst_map,
                   "diff_over_true": np.nanmedian(frac_diff, axis=0),
                   "oracle_ratio_minus_1": np.nanmedian(dev_oracle, axis=0),
                   "pred_over_oracle_minus_1": np.nanmedian(dev_inpaint, axis=0)})
    table.meta["description"] = ("power per mode (Jy/pixel)^2 in log bins of |k| (cycles/pixel), median over maps; "
                                 "weights: valid pixels tapered from the border and NaNs (see APODISE)")
    return table


def evaluate_targets(levels, spectra, gamma_dra, throughput) -> list:
    """PASS/FAIL of each target (``passed`` None when there is nothing to judge)."""
    t = TARGETS
    judged = levels[levels["judged"]] if len(levels) else levels
    out = []
    if len(judged):
        dev = np.abs(np.asarray(judged["median_ratio"]) - 1)
        worst = int(np.argmax(dev))
        failing = [f"{f:g}" for f, ok in zip(judged["flux"], judged["ratio_ok"]) if not ok]
        out.append({"name": "median flux ratio within 2% of 1 at every level above the limit",
                    "value": f"worst abs(median - 1) = {dev[worst]:.4f} +- {judged['median_err'][worst]:.4f} "
                             f"(68% bootstrap) at {judged['flux'][worst]:g} Jy, over {len(judged)} levels"
                             + (f"; failing at {', '.join(failing)} Jy" if failing else ""),
                    "goal": f"<= {t['flux_ratio_tolerance']}", "passed": bool(np.all(judged["ratio_ok"]))})
        narrower = int(np.sum(judged["iqr_ok"]))
        out.append({"name": "flux-ratio IQR narrower than the annulus method's at every level above the limit",
                    "value": f"{narrower} of {len(judged)} levels narrower", "goal": "all",
                    "passed": bool(np.all(judged["iqr_ok"]))})
    else:
        out.append({"name": "median flux ratio within 2% of 1 at every level above the limit",
                    "value": "no level with enough sources", "goal": "", "passed": None})
    dev = np.asarray(spectra["ratio_minus_1"], float)
    finite = np.isfinite(dev)
    out.append({"name": "power spectra agree to better than 1% at every scale (median over maps)",
                "value": f"worst abs(P_pred/P_true - 1) = {np.max(np.abs(dev[finite])):.4f}" if finite.any() else "-",
                "goal": f"< {t['spectrum_tolerance']}",
                "passed": bool(finite.any() and np.all(np.abs(dev[finite]) < t["spectrum_tolerance"]))})
    if gamma_dra is not None and len(gamma_dra):
        ratios = np.asarray(gamma_dra["ratio"], float)
        have = np.isfinite(ratios)
        out.append({"name": "gamma Dra within 5% of the calibration (network, every band with a model)",
                    "value": ", ".join(f"{b} {r:.3f}" for b, r in zip(gamma_dra["band"], ratios) if np.isfinite(r))
                    or "no band with a model", "goal": f"abs(ratio - 1) <= {t['gamma_dra_tolerance']}",
                    "passed": bool(np.all(np.abs(ratios[have] - 1) <= t["gamma_dra_tolerance"])) if have.any()
                    else None})
    else:
        out.append({"name": "gamma Dra within 5% of the calibration", "value": "not run (no data folder)",
                    "goal": f"abs(ratio - 1) <= {t['gamma_dra_tolerance']}", "passed": None})
    sps = throughput["sources_per_second"]
    out.append({"name": "throughput of remove_compact_sources", "value": f"{sps:.1f} sources/s",
                "goal": f">= {t['sources_per_second']:g}", "passed": bool(sps >= t["sources_per_second"])})
    return out
