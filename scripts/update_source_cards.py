"""Copy the compact-source benchmark's numbers into the card of the model it ran.

    python scripts/update_source_cards.py pacs-blue docs/sources_benchmark
    python scripts/update_source_cards.py pacs-red docs/sources_benchmark/red

Reads ``levels.ecsv``, ``spectra.ecsv``, ``gamma_dra.ecsv`` and the targets
block of ``table.md`` written by ``astroclean evaluate sources``; the weights
(and their sha256) are untouched. Numbers are copied, never typed.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

import numpy as np
from astropy.table import Table


def _r(value, digits=4):
    value = float(value)
    return None if math.isnan(value) else round(value, digits)


def benchmark_metrics(folder: Path) -> dict:
    levels = Table.read(folder / "levels.ecsv")
    spectra = Table.read(folder / "spectra.ecsv")
    gamma = Table.read(folder / "gamma_dra.ecsv")
    table_md = (folder / "table.md").read_text()
    command = re.search(r"Command: `([^`]*)`", table_md)
    provenance = re.search(r"commit `([0-9a-f]+)`[^,]*, (\d{4}-\d\d-\d\d \d\d:\d\d UTC)", table_md)
    per_level = {}
    for row in levels:
        if "below" in str(row["population"]):
            continue
        per_level[f"{float(row['flux']):g} Jy"] = {
            "n": int(row["n_measured"]), "median": _r(row["median_ratio"]), "median_err_68": _r(row["median_err"]),
            "iqr": _r(row["iqr_ratio"]), "annulus_median": _r(row["median_ratio_annulus"]),
            "annulus_iqr": _r(row["iqr_ratio_annulus"])}
    dev = np.abs(np.asarray(spectra["ratio_minus_1"], float))
    return {
        "source": {"command": command.group(1) if command else None,
                   "commit": provenance.group(1) if provenance else None,
                   "date": provenance.group(2) if provenance else None, "page": "docs/sources_benchmark.md"},
        "flux_ratio_by_level (measured / injected, sources above S/N 5)": per_level,
        "power_spectrum_worst_abs(P_pred/P_true - 1)": _r(np.nanmax(dev)),
        "gamma_dra_ratio_to_calibration": {f"{r['band']} {r['file'][:15]}": {"network": _r(r["ratio"]),
                                                                             "annulus": _r(r["ratio_annulus"])}
                                           for r in gamma},
        "targets": re.findall(r"^\| (.+?) \| (.+?) \| (.+?) \| (PASS|FAIL) \|$", table_md, flags=re.M),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="card name, e.g. pacs-blue")
    parser.add_argument("folder", type=Path, help="output folder of `astroclean evaluate sources`")
    args = parser.parse_args(argv)
    path = Path(__file__).resolve().parents[1] / "src" / "astroclean" / "weights" / f"{args.model}.json"
    card = json.loads(path.read_text())
    metrics = benchmark_metrics(args.folder)
    metrics["targets"] = [{"target": t[0], "measured": t[1], "goal": t[2], "verdict": t[3]} for t in metrics["targets"]]
    card["metrics"]["benchmark"] = metrics
    path.write_text(json.dumps(card, indent=2) + "\n")
    print(f"{path}: benchmark from {args.folder} ({metrics['source']['date']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
