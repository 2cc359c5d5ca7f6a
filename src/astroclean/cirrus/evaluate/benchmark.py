"""The cirrus benchmark: held-out mocks on the benchmark regions, every method on the same cases.

    python -m astroclean.cirrus.cli evaluate -o bench/        # astroclean evaluate cirrus -o bench/

Cases: ``n_per_frame`` mocks of the seen generator setting and as many of the unseen settings
(slopes 2.0-2.4 nearly isotropic, and 3.5-4.0 very stretched; never used in training) on the
benchmark regions (last 40 % of the columns) of the SDSS, Legacy Survey and DES frames. All
metrics are pooled over pixels not under the source truth, at the 2"/px working scale.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from astroclean.cirrus.masking import classical_mask
from astroclean.cirrus.simulate.cases import make_cases
from astroclean.cirrus.simulate.fields import TRAIN_SETTING, UNSEEN_SETTING, UNSEEN_STEEP
from astroclean.cirrus.evaluate.baselines import isophote_cirrus, ridge_cirrus
from astroclean.cirrus.evaluate.metrics import alerts, counts, sb_recall, scores

__all__ = ["build_set", "run_benchmark", "time_field"]


def build_set(*, n_per_frame: int = 16, rng: int = 1000, data_dir=None, cache_dir=None):
    """The benchmark cases (seen and unseen parts); pickled into ``cache_dir`` when given.

    ``rng`` is an integer seed here (the three parts use ``rng``, ``rng + 1`` and ``rng + 2``).
    """
    import pickle

    seed = int(rng)
    path = None if cache_dir is None else Path(cache_dir) / f"cirrus_bench_cases_n{n_per_frame}_s{seed}.pkl"
    if path is not None and path.is_file():
        with open(path, "rb") as fh:
            return pickle.load(fh)
    cases = _build_set(n_per_frame=n_per_frame, seed=seed, data_dir=data_dir)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            pickle.dump(cases, fh)
    return cases


def _build_set(*, n_per_frame, seed, data_dir):
    seen = make_cases(split="benchmark", n_per_frame=n_per_frame, rng=seed, setting=TRAIN_SETTING, data_dir=data_dir)
    half = max(1, n_per_frame // 2)
    unseen = make_cases(split="benchmark", n_per_frame=half, rng=seed + 1, setting=UNSEEN_SETTING, data_dir=data_dir)
    unseen += make_cases(split="benchmark", n_per_frame=n_per_frame - half, rng=seed + 2, setting=UNSEEN_STEEP,
                         data_dir=data_dir)
    for c in unseen:
        c["part"] = "unseen"
    for c in seen:
        c["part"] = "seen"
    return seen + unseen


def _methods(models, weights_dir=None):
    from astroclean.cirrus.api import CirrusSegmenter

    segs = {}
    for label, (model, masker, *threshold) in models.items():
        segs[label] = CirrusSegmenter(model=model, masker=masker, star_limit=None, weights_dir=weights_dir,
                                      threshold=threshold[0] if threshold else None)
    return segs


def _baselines(c, base_mask):
    """The non-learned methods on one case."""
    x, noise, scale = c["x"], c["noise"], c["pixel_scale"]
    return {
        "isophote 29 mag/arcsec2": isophote_cirrus(x, base_mask, zeropoint=c["zeropoint"], unit_scale=c["unit_scale"],
                                                   pixel_scale=scale, isophote=29.0),
        "isophote at the frame depth": isophote_cirrus(x, base_mask, zeropoint=c["zeropoint"],
                                                       unit_scale=c["unit_scale"], pixel_scale=scale,
                                                       isophote=c["depth"]),
        "ridge filter (sato)": ridge_cirrus(x, base_mask, noise, pixel_scale=scale),
    }


def run_benchmark(cases, *, models=None, threads: int = 2, weights_dir=None, baselines: bool = True):
    """Rows of per-case counts for every method, plus masking rows.

    ``models``: label -> (cirrus model, masker) or (cirrus model, masker, threshold).
    """
    import torch

    torch.set_num_threads(threads)
    models = models or {"cirrus-gri (learned mask)": ("cirrus-gri", "cirrus-mask-gri"),
                        "cirrus-gri (classical mask)": ("cirrus-gri", "classical")}
    segs = _methods(models, weights_dir)
    rows, mask_rows = [], []
    times = {}
    for c in cases:
        x, noise, valid = c["x"], c["noise"], ~c["ignore"]
        scale = c["pixel_scale"]
        base_mask = classical_mask(x, noise)
        preds = {}
        learned_mask = None
        for label, seg in segs.items():
            t0 = time.perf_counter()
            prob, m = seg.segment_binned(x, noise)
            times[label] = times.get(label, 0.0) + time.perf_counter() - t0
            preds[label] = (prob >= seg.threshold) & ~m
            if seg.masker is not None:
                learned_mask = m
        if baselines:
            preds.update(_baselines(c, base_mask))
        for label, pred in preds.items():
            row = dict(method=label, instrument=c["instrument"], part=c["part"], setting=c["setting"],
                       **counts(pred, c["truth"], valid), sb=sb_recall(pred, c["truth"], c["sb_r"], valid))
            row["alert_hit"], row["alert_n"] = alerts(pred, c["truth"], c["sb_r"], pixel_scale=scale)
            rows.append(row)
        cir_all = c["truth"]
        for label, m in (("learned (cirrus-mask-gri)", learned_mask), ("classical (segmentation + dilation)", base_mask)):
            if m is None:
                continue
            t = c["source_truth"]
            mask_rows.append(dict(method=label, instrument=c["instrument"], inter=int((m & t).sum()),
                                  union=int((m | t).sum()), cirrus_masked=int((m & cir_all).sum()),
                                  cirrus=int(cir_all.sum())))
    return rows, mask_rows, times


def _pool(rows, key=None):
    groups = {}
    for r in rows:
        k = (r["method"],) + ((r[key],) if key else ())
        g = groups.setdefault(k, dict(tp=0, fp=0, fn=0, alert_hit=0, alert_n=0, sb={}))
        for f in ("tp", "fp", "fn", "alert_hit", "alert_n"):
            g[f] += r[f]
        for b, (hit, n) in r["sb"].items():
            h0, n0 = g["sb"].get(b, (0, 0))
            g["sb"][b] = (h0 + hit, n0 + n)
    return groups


def summarise(rows, mask_rows):
    out = {"overall": {}, "by_part": {}, "by_instrument": {}, "sb_recall": {}, "masking": {}}
    for (m,), g in _pool(rows).items():
        s = scores(g)
        s["alert_rate"] = g["alert_hit"] / g["alert_n"] if g["alert_n"] else float("nan")
        s["alert_regions"] = g["alert_n"]
        out["overall"][m] = s
        out["sb_recall"][m] = {b: (h / n if n else float("nan"), n) for b, (h, n) in g["sb"].items()}
    for key, name in (("part", "by_part"), ("instrument", "by_instrument")):
        for (m, k), g in _pool(rows, key).items():
            s = scores(g)
            s["alert_rate"] = g["alert_hit"] / g["alert_n"] if g["alert_n"] else float("nan")
            out[name].setdefault(m, {})[k] = s
    groups = {}
    for r in mask_rows:
        g = groups.setdefault(r["method"], dict(inter=0, union=0, cirrus_masked=0, cirrus=0))
        for f in g:
            g[f] += r[f]
    for m, g in groups.items():
        out["masking"][m] = dict(iou=g["inter"] / max(g["union"], 1), cirrus_masked=g["cirrus_masked"] / max(g["cirrus"], 1))
    return out


def time_field(*, side: int = 4553, threads: int = 2, data_dir=None, repeat: int = 1, weights_dir=None):
    """Seconds for a ``side`` x ``side`` three-band field at 0.396"/px (SDSS g, r, i tiled), whole pipeline."""
    import torch

    from astroclean.cirrus.api import CirrusSegmenter
    from astroclean.cirrus.simulate.backgrounds import load_frames

    torch.set_num_threads(threads)
    frame = load_frames(split="all", data_dir_path=data_dir, instruments=("SDSS",))[0]
    reps = (int(np.ceil(side / frame.data.shape[1])), int(np.ceil(side / frame.data.shape[2])))
    field = np.tile(frame.data, (1,) + reps)[:, :side, :side].copy()
    seg = CirrusSegmenter(weights_dir=weights_dir)
    seg(field[:, :512, :512], zeropoint=22.5, pixel_scale=0.396)    # warm-up
    best, cpu = np.inf, np.inf
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = seg(field, zeropoint=22.5, pixel_scale=0.396)
        if time.perf_counter() - t0 < best:
            best, cpu = time.perf_counter() - t0, time.process_time() - c0
    return dict(side=side, threads=threads, seconds=round(best, 2), cpu_seconds=round(cpu, 2),
                seconds_per_megapixel=round(best / (side * side / 1e6), 3), n_stars=len(result.stars),
                stages=getattr(seg, "last_timings", {}))


def _fmt(v):
    return "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"


def report(summary, timing, outdir, *, command: str = "", n_cases: int = 0, star_rows=None) -> str:
    lines = ["# Cirrus benchmark", "", f"Command: `{command}`  ", f"Cases: {n_cases} held-out mocks "
             "(benchmark regions of SDSS gri, Legacy Survey grz, DES r); pixels under the source truth excluded; "
             "2\"/px working scale.", ""]
    lines += ["## Cirrus class, overall", "", "| method | IoU | precision | recall | alert rate (>36 arcsec2, <28 mag) | regions |",
              "|---|---|---|---|---|---|"]
    for m, s in summary["overall"].items():
        lines.append(f"| {m} | {_fmt(s['iou'])} | {_fmt(s['precision'])} | {_fmt(s['recall'])} | {_fmt(s['alert_rate'])} | {s['alert_regions']} |")
    lines += ["", "## By generator part (seen = training setting, new draws; unseen = settings never trained on)", "",
              "| method | part | IoU | precision | recall | alert rate |", "|---|---|---|---|---|---|"]
    for m, parts in summary["by_part"].items():
        for k, s in sorted(parts.items()):
            lines.append(f"| {m} | {k} | {_fmt(s['iou'])} | {_fmt(s['precision'])} | {_fmt(s['recall'])} | {_fmt(s['alert_rate'])} |")
    lines += ["", "## By background instrument", "", "| method | instrument | IoU | precision | recall |", "|---|---|---|---|---|"]
    for m, parts in summary["by_instrument"].items():
        for k, s in sorted(parts.items()):
            lines.append(f"| {m} | {k} | {_fmt(s['iou'])} | {_fmt(s['precision'])} | {_fmt(s['recall'])} |")
    bins = next(iter(summary["sb_recall"].values())).keys() if summary["sb_recall"] else []
    lines += ["", "## Recall per r-band surface-brightness bin (mag/arcsec2; truth pixels in the bin)", "",
              "| method | " + " | ".join(bins) + " |", "|---|" + "---|" * len(bins)]
    for m, sb in summary["sb_recall"].items():
        lines.append(f"| {m} | " + " | ".join(f"{_fmt(v[0])} ({v[1]})" for v in sb.values()) + " |")
    lines += ["", "## Source masking (truth: sources of the cirrus-free frame, grown)", "",
              "| masker | IoU | fraction of true cirrus pixels masked |", "|---|---|---|"]
    for m, s in summary["masking"].items():
        lines.append(f"| {m} | {_fmt(s['iou'])} | {_fmt(s['cirrus_masked'])} |")
    if timing:
        lines += ["", "## Speed (wall clock on the shared 2-core machine; CPU seconds of this process beside it)", "",
                  "| field | threads | seconds | CPU seconds | s / megapixel | bright stars modelled | stages (s) |",
                  "|---|---|---|---|---|---|---|"]
        for t in timing:
            stages = ", ".join(f"{k} {v}" for k, v in t.get("stages", {}).items())
            lines.append(f"| {t['side']}x{t['side']} x 3 bands | {t['threads']} | {t['seconds']} | {t.get('cpu_seconds', '-')} | "
                         f"{t['seconds_per_megapixel']} | {t['n_stars']} | {stages} |")
    if star_rows:
        from astroclean.cirrus.evaluate.stars import report_lines

        lines += ["", "## Bright-star light (Legacy Survey g, r, z frame): background inner (5-20\") minus outer "
                  "(40-60\") annulus, in 10\" box sigmas, before and after subtracting the star models", ""]
        lines += report_lines(star_rows)
    text = "\n".join(lines) + "\n"
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "cirrus_benchmark.md").write_text(text)
    (out / "cirrus_benchmark.json").write_text(json.dumps(dict(summary=summary, timing=timing, command=command,
                                                               stars=star_rows, n_cases=n_cases),
                                                          indent=1, default=str))
    return text
