"""What a stricter (or looser) default threshold does to one cosmic-ray model on the benchmark parts: the clean
fraction flagged (pooled, worst frame, worst tile), recall at the operating point, and the near-star gap.

    ASTROCLEAN_DATA_DIR=../shared/data python scripts/cr_threshold_report.py --model cr-any-fs \\
        --logits 1.7 3 4 5 --parts unseen default near-stars-large -o runs/threshold_cr-any-fs

A report, not a tuning tool: the benchmark parts are held out, so a threshold is picked on the training-split
validation (``scripts/cr_validation.py --frames --sweep``) and this script only shows what that pick costs on
the held-out data. The threshold-free numbers (TPR at FPR 1e-4) do not change with the threshold; they are in
the benchmark tables. Each logit runs as its own method (``<model>@logit<L>``) in the same run on the same
cases; ``near-stars`` parts also write the stars analysis, summarised as ``scripts/cr_near_stars_table.py``
does. Prints one markdown table per part and writes ``<part>.md`` (and the report folders) under ``-o``.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np


def detectors(model: str, logits):
    from astroclean.cosmicrays.evaluate.ours import AstrocleanDetector

    return [AstrocleanDetector(model, threshold=1.0 / (1.0 + math.exp(-lg)), name=f"{model}@logit{lg:g}")
            for lg in logits]


def flagged_rows(results) -> list[dict]:
    """Per method and flavour: recall (S/N >= 1.5) and clean fraction flagged at the operating point, pooled,
    on the worst frame (its tiles and realisations pooled: the issue's "every benchmark frame") and on the
    worst single case (one tile)."""
    rows = []
    for name in results.methods:
        frames: dict = {}
        for case in results.cases:
            run = results.runs[name, case.name]
            if run.status != "ok":
                continue
            clean = ~case.truth & ~case.bad
            hits = (case.snr >= 1.5) & case.truth & ~case.bad
            counts = np.array([run.mask[clean].sum(), clean.sum(), run.mask[hits].sum(), hits.sum()], float)
            frame = frames.setdefault(case.name.rsplit("/", 1)[0], {"counts": np.zeros(4), "worst_tile": 0.0})
            frame["counts"] += counts
            frame["worst_tile"] = max(frame["worst_tile"], counts[0] / max(counts[1], 1))
        for flavour in dict.fromkeys(f.split("/")[0] for f in frames):
            mine = {f: v for f, v in frames.items() if f.split("/")[0] == flavour}
            fp, n, tp, p = sum(v["counts"] for v in mine.values())
            fraction = {f: v["counts"][0] / max(v["counts"][1], 1) for f, v in mine.items()}
            worst = max(fraction, key=fraction.get)
            rows.append({"method": name, "flavour": flavour, "recall": tp / max(p, 1), "flagged": fp / max(n, 1),
                         "worst_frame": worst.split("/", 1)[-1], "worst": fraction[worst],
                         "worst_tile": max(v["worst_tile"] for v in mine.values())})
    return rows


def markdown(rows) -> str:
    lines = ["| method | flavour | recall at the threshold | clean flagged: pooled | worst frame | worst tile |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['method']} | {r['flavour']} | {r['recall']:.3f} | {r['flagged']:.2e} | {r['worst']:.2e} "
              f"({r['worst_frame']}) | {r['worst_tile']:.2e} |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True)
    p.add_argument("--logits", type=float, nargs="+", required=True)
    p.add_argument("--parts", nargs="+", default=["unseen", "default", "near-stars-large"])
    p.add_argument("-o", "--output", type=Path, required=True)
    args = p.parse_args(argv)

    from astroclean.cosmicrays.evaluate.benchmark_set import build_benchmark_set
    from astroclean.cosmicrays.evaluate.harness import run_benchmark
    from astroclean.cosmicrays.evaluate.report import write_report

    args.output.mkdir(parents=True, exist_ok=True)
    for part in args.parts:
        cases = build_benchmark_set(part)
        results = run_benchmark(cases, detectors(args.model, args.logits), rng=0, threads=1, n_boot=20)
        text = f"## {part} ({len(cases)} cases)\n\n" + markdown(flagged_rows(results))
        if part.startswith("near-stars"):
            sys.path.insert(0, str(Path(__file__).parent))
            from cr_near_stars_table import table

            folder = args.output / part
            write_report(results, folder, overwrite=True, analyses=["stars", "photometry"])
            text += "\n" + table(folder)
        (args.output / f"{part}.md").write_text(text)
        print(text, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
