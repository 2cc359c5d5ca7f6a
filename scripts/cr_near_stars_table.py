"""Summarise a near-stars cosmic-ray benchmark run (issue 10): recall in the whole frame against
recall inside the 10- and 160-RMS isophotes of the clean image, and damaged stars.

    astroclean evaluate cosmic-rays --benchmark near-stars --analyses stars,photometry -o docs/benchmark_near_stars/
    python scripts/cr_near_stars_table.py docs/benchmark_near_stars/
    python scripts/cr_near_stars_table.py run_a/ run_b/    # one set, its methods split over two runs

Reads ``star_regions.ecsv`` (rows ``all``, ``>10 rms``, ``>160 rms``: pixels pooled over every case;
recall at each method's operating point) and ``photometry.ecsv`` (``n_damaged``: stars the method's
cleaning changed although no cosmic ray touched them). Prints a markdown table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from astropy.table import Table, vstack

REGIONS = ("all", ">10 rms", ">160 rms")


def table(*runs: Path) -> str:
    """The markdown table of one or more runs of the same set (methods split over runs, e.g. two cores)."""
    regions = vstack([Table.read(run / "star_regions.ecsv") for run in runs])
    phot = vstack([Table.read(run / "photometry.ecsv") for run in runs])
    damaged = {str(r["method"]): (int(r["n_damaged"]), int(r["n_stars"])) for r in phot}
    methods = list(dict.fromkeys(str(m) for m in regions["method"]))
    rows = {(str(r["method"]), str(r["region"])): r for r in regions}
    n_stars = next(iter(damaged.values()))[1] if damaged else 0
    lines = ["| method | recall, all (n) | recall > 10 RMS (n) | recall > 160 RMS (n) | 160 RMS minus all (points) "
             f"| false flags > 10 RMS | damaged stars (of {n_stars}) |", "|---|---|---|---|---|---|---|"]
    for m in methods:
        cells = []
        for reg in REGIONS:
            r = rows.get((m, reg))
            cells.append("-" if r is None else f"{float(r['recall']):.3f} ({int(r['n_truth'])})")
        a, b = rows.get((m, "all")), rows.get((m, ">160 rms"))
        gap = f"{100 * (float(b['recall']) - float(a['recall'])):+.1f}" if a is not None and b is not None else "-"
        ff = rows.get((m, ">10 rms"))
        lines.append(f"| {m} | " + " | ".join(cells) + f" | {gap} | {'-' if ff is None else int(ff['fp'])} | "
                     f"{damaged.get(m, ('-',))[0]} |")
    extra = [f"| {m} (reference) | | | | | | {d} |" for m, (d, _) in damaged.items() if m not in methods]
    return "\n".join(lines + extra) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path, nargs="+", help="output folder(s) of the benchmark run(s) of one set")
    print(table(*p.parse_args(argv).run), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
