"""Refit the S3 colour rectangle of inversion studies with each inversion method (no new simulation).

    PYTHONPATH=src python scripts/cirrus_inversion_compare.py bench_inv/ [bench_inv_seed7/ ...]

Reads each folder's inversion.ecsv (S3 and S4 rows written by
``astroclean evaluate cirrus-colours --simulation S3 --inversion N``) and prints one Markdown row per folder:
the recovered g-r / r-i rectangle (and the largest bootstrap edge error) for the residuals method and for the
reference's kernel map with three kernel widths. The true S3 rectangle is g-r 0.50-0.70, r-i 0.00-0.20.
"""

import sys
import warnings

import numpy as np
from astropy.table import QTable

from astroclean.cirrus.inversion import fit_colour_range

CASES = [("residuals", None), ("kde", None), ("kde", (0.025, 0.025)), ("kde", (0.1, 0.1))]


def colours(table, kind):
    return np.column_stack([np.asarray(getattr(table[f"{c}_{kind}"], "value", table[f"{c}_{kind}"]), float)
                            for c in ("g_r", "r_i")])


def main(folders):
    warnings.simplefilter("ignore")
    print("| study | " + " | ".join(f"{m} {bw[0] if bw else 'default'}" for m, bw in CASES) + " |")
    print("|---|" + "---|" * len(CASES))
    for folder in folders:
        t = QTable.read(f"{folder}/inversion.ecsv")
        s3, s4 = t[t["scenario"] == "S3"], t[t["scenario"] == "S4"]
        cells = []
        for method, bw in CASES:
            f = fit_colour_range(colours(s3, "gaussian"), colours(s4, "true"), colours(s4, "gaussian"), n_boot=50,
                                 method=method, bandwidth=bw, rng=0)
            cells.append(f"{f.g_r[0]:.2f}-{f.g_r[1]:.2f} / {f.r_i[0]:.2f}-{f.r_i[1]:.2f} "
                         f"(+-{max(f.g_r_err + f.r_i_err):.2f})")
        print(f"| {folder} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
