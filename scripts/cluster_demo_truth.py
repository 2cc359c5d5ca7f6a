"""Compare the CLI's tables of the demo fields with their truth (median |error| per parameter, P(cluster)).

    python scripts/cluster_demo_truth.py runs/clusters_fields runs/clusters_fields/out
"""

import sys
from pathlib import Path

import numpy as np
from astropy.table import Table


def main(fields, out):
    rows = []
    for truth_path in sorted(Path(fields).glob("*_truth.csv")):
        field = truth_path.name[: -len("_truth.csv")]
        table, truth = Table.read(Path(out) / f"{field}_clusters.ecsv"), Table.read(truth_path)
        for r, t in zip(table, truth):
            assert r["id"] == t["id"]
            rows.append((t["is_cluster"], t["profile"], float(r["p_cluster"]), r["log_age_50"] - t["log_age"],
                         r["log_mass_50"] - t["log_mass"], r["a_v_50"] - t["a_v"],
                         np.log10(r["r_eff_arcsec_50"] / t["r_eff_arcsec"]),
                         r["log_age_16"] <= t["log_age"] <= r["log_age_84"]))
    cl = [r for r in rows if r[0] == 1]
    print(f"{len(cl)} clusters: P(cluster) min {min(r[2] for r in cl):.2f}; "
          f"{len(rows) - len(cl)} empty positions: P(cluster) max {max(r[2] for r in rows if r[0] == 0):.2f}")
    for profile in ("eff", "king", None):
        sel = [r for r in cl if profile is None or r[1] == profile]
        err = np.abs(np.array([r[3:7] for r in sel], float))
        print(f"{profile or 'all'} (n={len(sel)}): median |error| log age {np.median(err[:, 0]):.3f} dex, "
              f"log mass {np.median(err[:, 1]):.3f} dex, A_V {np.median(err[:, 2]):.3f} mag, "
              f"log r_eff {np.median(err[:, 3]):.3f} dex; log age inside 16-84 %: {np.mean([r[7] for r in sel]):.2f}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
