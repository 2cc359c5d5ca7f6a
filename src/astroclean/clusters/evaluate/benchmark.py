"""The cluster benchmark: held-out mocks (network vs classical fit), LEGUS checks, throughput.

    astroclean evaluate clusters --sets runs/clusters -o bench/clusters

Reads ``test.npz`` (held-out backgrounds and seed) and ``val.npz`` (calibrates the classical
aperture corrections and CI -> r_eff relation) from ``--sets``; writes ``summary.json``, ``report.md``
and figures to the output folder.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from astroclean.clusters.classical import aperture_photometry, calibrate, classical_estimates, two_colour_age
from astroclean.clusters.model import load_cluster_model, sigma_scale
from astroclean.clusters.network import PARAMETERS, decode, pit_values, predict_raw
from astroclean.clusters.sets import read_set
from astroclean.clusters.evaluate import figures
from astroclean.clusters.evaluate.legus import age_agreement, colour_offsets, fraction_inside, inject_legus, load_legus, mock_colours, \
    smooth_versus_stochastic
from astroclean.clusters.evaluate.metrics import binned, roc_auc, summary

TARGETS = {"log_age": ("bias", 0.1, "scatter", 0.3), "a_v": ("scatter", 0.3), "log_mass": ("scatter", 0.2),
           "log_r_eff": ("scatter", 0.15)}


def _network_estimates(net, k, x, scale=None):
    raw = predict_raw(net, x)
    dec = decode(raw, k, sigma_scale=scale)
    return raw, {p: dec[p] for p in PARAMETERS} | {"p_cluster": dec["p_cluster"], "log_snr": dec["log_snr"]}


def throughput(net, x, *, threads=2, n=1024):
    """Cutouts per second through normalise + network + decode on ``threads`` CPU threads."""
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        reps = np.concatenate([x] * int(np.ceil(n / len(x))))[:n]
        predict_raw(net, reps[:64])
        t0 = time.time()
        decode(predict_raw(net, reps), getattr(net, "k", 3))
        return n / (time.time() - t0)
    finally:
        torch.set_num_threads(old)


def run_benchmark(sets_dir, outdir, *, model="wfc3-m83", data_dir=None, n_colour_mocks=3000, threads=2,
                  legus=True, rng=2024):
    t_start = time.time()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    net, card = load_cluster_model(model)
    k = int(card.architecture.get("k", 3))
    x, truth = read_set(Path(sets_dir) / "test.npz")
    xv, tv = read_set(Path(sets_dir) / "val.npz")
    pos = truth["is_cluster"] == 1
    scale = sigma_scale(card)
    raw, est = _network_estimates(net, k, x, scale)
    pit = pit_values(raw[torch.from_numpy(pos)], k, {p: truth[p][pos] for p in PARAMETERS}, scale)
    uncal = decode(raw[torch.from_numpy(pos)], k)
    cal = calibrate(xv, tv)
    cls = classical_estimates(x[pos], cal)
    tpos = {key: v[pos] for key, v in truth.items()}
    net_pos = {p: est[p][pos] for p in PARAMETERS}
    net_pos["log_snr"] = est["log_snr"][pos]
    tpos["log_snr"] = np.log10(np.clip(tpos["snr"], 0.1, None))
    young = tpos["log_age"] <= 8.0
    result = {"model": card.name, "model_sha256": card.sha256, "n_test": int(len(x)), "n_clusters": int(pos.sum()),
              "sets": str(sets_dir), "sigma_scale": scale}
    result["network_bins"] = binned(net_pos, tpos, (*PARAMETERS, "log_snr"))
    result["classical_bins"] = binned(cls, tpos, PARAMETERS)
    result["young"] = {}
    for name, e in (("network", net_pos), ("classical", cls)):
        for sel_name, sel in (("log age <= 8", young), ("log age <= 8, S/N > 10", young & (tpos["snr"] > 10))):
            result["young"].setdefault(name, {})[sel_name] = {p: summary(e[p][sel], tpos[p][sel]) for p in PARAMETERS}
    result["young_coverage_without_sigma_scale"] = {p: summary(uncal[p][young], tpos[p][young])["coverage"]
                                                    for p in PARAMETERS}
    # ROC: clusters with S/N > 10 against every negative, and per negative kind
    neg = ~pos
    hi = pos & (truth["snr"] > 10)
    auc, fpr, tpr = roc_auc(np.concatenate([est["p_cluster"][hi], est["p_cluster"][neg]]),
                            np.concatenate([np.ones(hi.sum()), np.zeros(neg.sum())]))
    result["auc_snr_gt_10"] = round(auc, 4)
    result["auc_all"] = round(roc_auc(est["p_cluster"], pos)[0], 4)
    result["auc_by_negative_kind"] = {}
    for kind in ("empty", "group", "galaxy"):
        m = truth["kind"] == kind
        result["auc_by_negative_kind"][kind] = round(roc_auc(
            np.concatenate([est["p_cluster"][hi], est["p_cluster"][m]]),
            np.concatenate([np.ones(hi.sum()), np.zeros(m.sum())]))[0], 4)
    result["pit_histogram"] = {p: np.histogram(pit[p], bins=10, range=(0, 1))[0].tolist() for p in PARAMETERS}
    result["throughput_cutouts_per_s"] = {f"{threads} threads": round(throughput(net, x[:256], threads=threads), 1),
                                          "1 thread": round(throughput(net, x[:256], threads=1), 1)}
    figures.pit(pit, outdir / "pit.png")
    figures.roc(fpr, tpr, auc, outdir / "roc.png")
    figures.scatter_truth(net_pos, cls, tpos, outdir / "estimates_vs_truth.png")
    if legus:
        result["legus"] = legus_checks(net, k, cal, outdir, data_dir=data_dir, n_colour_mocks=n_colour_mocks,
                                       rng=rng, scale=scale)
    result["targets"] = verdicts(result)
    result["seconds"] = round(time.time() - t_start, 1)
    (outdir / "summary.json").write_text(json.dumps(result, indent=1, default=float) + "\n")
    (outdir / "report.md").write_text(report_markdown(result))
    return result


def legus_checks(net, k, cal, outdir, *, data_dir=None, n_colour_mocks=3000, rng=2024, scale=None):
    seed = int(rng)
    lg = load_legus(data_dir)
    real = np.stack([lg["mag"][:, 0] - lg["mag"][:, 1], lg["mag"][:, 1] - lg["mag"][:, 2]], 1)
    mock, mock_age = mock_colours(n_colour_mocks, rng=seed)
    frac, hist = fraction_inside(mock, real)
    figures.colour_colour(mock, mock_age, real, lg["log_age"], hist, frac, outdir / "colour_colour.png")
    cut = inject_legus(lg, rng=seed + 1, data_dir=data_dir)
    _, est = _network_estimates(net, k, cut, scale)
    cls = classical_estimates(cut, cal)
    flux, _, _ = aperture_photometry(cut)
    naive = two_colour_age(flux * cal.aperture_correction)
    out = {"n_class_1_2": int(len(lg["id"])), "fraction_inside_mock_95": round(frac, 3),
           "n_colour_mocks": n_colour_mocks,
           "age_test": {"network": age_agreement(est["log_age"][:, 1], lg["log_age"]),
                        "classical_chi2": age_agreement(cls["log_age"][:, 1], lg["log_age"]),
                        "two_colour": age_agreement(naive, lg["log_age"])},
           "network_p_cluster_median": round(float(np.median(est["p_cluster"])), 3),
           "colour_offsets_vs_ssp": colour_offsets(lg),
           "smooth_vs_stochastic_log_age": smooth_versus_stochastic(
               lambda c: _network_estimates(net, k, c, scale)[1]["log_age"], rng=seed + 2, data_dir=data_dir)}
    figures.legus_ages(lg["log_age"], est["log_age"], cls["log_age"][:, 1], naive, outdir / "legus_ages.png")
    return out


def verdicts(result):
    rows = []
    young = result["young"]["network"]["log age <= 8"]
    for p, spec in TARGETS.items():
        for name, limit in zip(spec[::2], spec[1::2]):
            value = young[p][name]
            ok = abs(value) < limit
            rows.append({"target": f"{p} abs({name}) < {limit} (log age <= 8)", "measured": value, "met": bool(ok)})
    for p in PARAMETERS:
        c = young[p]["coverage"]
        rows.append({"target": f"{p} 16-84 % coverage in 0.60-0.76 (log age <= 8)", "measured": c,
                     "met": bool(0.60 <= c <= 0.76)})
    rows.append({"target": "AUC >= 0.98 at S/N > 10", "measured": result["auc_snr_gt_10"],
                 "met": result["auc_snr_gt_10"] >= 0.98})
    thr = max(result["throughput_cutouts_per_s"].values())
    rows.append({"target": ">= 200 cutouts/s on this 2-core CPU (best of 1 and 2 threads)", "measured": thr,
                 "met": thr >= 200})
    if "legus" in result:
        a = result["legus"]["age_test"]["network"]
        rows.append({"target": "LEGUS ages <= 100 Myr: Spearman >= 0.8", "measured": a["spearman"],
                     "met": a["spearman"] >= 0.8})
        rows.append({"target": "LEGUS ages <= 100 Myr: median abs(dlog age) <= 0.2", "measured": a["median_abs_dlogage"],
                     "met": a["median_abs_dlogage"] <= 0.2})
    # network better than classical per parameter per S/N bin
    net = {(r["bin"], r["parameter"]): r for r in result["network_bins"] if r["bin_kind"] == "S/N"}
    worse = []
    for r in result["classical_bins"]:
        if r["bin_kind"] != "S/N":
            continue
        n = net[(r["bin"], r["parameter"])]
        if np.isfinite(n["scatter"]) and n["scatter"] > r["scatter"]:
            worse.append(f"{r['parameter']} S/N {r['bin']}: {n['scatter']} vs {r['scatter']}")
    rows.append({"target": "network scatter below classical in every S/N bin", "measured": worse or "all better",
                 "met": not worse})
    return rows


def _table(rows, cols):
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")
    return "\n".join(lines)


def report_markdown(result):
    cols = ["bin_kind", "bin", "parameter", "n", "bias", "scatter", "rms", "coverage"]
    parts = [f"# Cluster benchmark ({result['model']})", "",
             f"{result['n_test']} held-out mocks ({result['n_clusters']} clusters); sets {result['sets']}.", "",
             "## Targets", "", _table(result["targets"], ["target", "measured", "met"]), "",
             "## Log age <= 8 (network, classical)", ""]
    for name in ("network", "classical"):
        for sel, per in result["young"][name].items():
            rows = [{"method": name, "selection": sel, "parameter": p, **v} for p, v in per.items()]
            parts += [_table(rows, ["method", "selection", "parameter", "n", "bias", "scatter", "rms", "coverage"]), ""]
    parts += ["## Network, binned", "", _table(result["network_bins"], cols), "",
              "## Classical chi^2 fit, binned", "", _table(result["classical_bins"], cols), "",
              f"AUC (clusters S/N > 10 vs all negatives): {result['auc_snr_gt_10']}; all clusters: {result['auc_all']}; "
              f"by negative kind: {result['auc_by_negative_kind']}", "",
              f"Throughput: {result['throughput_cutouts_per_s']}", "",
              f"Interval widths scaled per parameter by {result['sigma_scale']} (fitted on validation mocks); "
              f"16-84 % coverage for log age <= 8 without that scaling: {result['young_coverage_without_sigma_scale']}",
              ""]
    if "legus" in result:
        lg = result["legus"]
        parts += ["## LEGUS NGC 1566 (classes 1-2)", "",
                  f"Fraction of real clusters inside the mocks' 95 % colour-colour region: {lg['fraction_inside_mock_95']}"
                  f" ({lg['n_class_1_2']} clusters, {lg['n_colour_mocks']} mocks)", "",
                  _table([{"method": m, **v} for m, v in lg["age_test"].items()],
                         ["method", "n", "spearman", "median_abs_dlogage"]), "",
                  "LEGUS colours minus the Kroupa SSP colours at the LEGUS SED age and A_V = 3.1 E(B-V) "
                  "(clusters with errors < 0.15 mag):", "",
                  _table(lg["colour_offsets_vs_ssp"], ["log_age", "n", "d(F336W-F438W)", "d(F438W-F814W)"]), "",
                  "Median network log age of the same mock clusters (log M 4.3, A_V 0.5, r_eff 0.12\") rendered "
                  "smooth (SSP mean light, as the LEGUS injection) or star by star (as in training):", "",
                  _table(lg["smooth_vs_stochastic_log_age"], ["true log_age", "smooth", "stochastic"]), ""]
    return "\n".join(parts) + "\n"
