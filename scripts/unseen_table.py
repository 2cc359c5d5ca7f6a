"""Summarise the unseen-instrument part of a cosmic-ray benchmark run: means over instruments,
the worst instrument, and per-instrument tables (the issue-10 targets).

    astroclean evaluate cosmic-rays --benchmark unseen --analyses none -o bench_unseen/
    python scripts/unseen_table.py bench_unseen/table.ecsv [--docs docs/benchmark.md]

Every number comes from ``table.ecsv`` (one row per method and group); a group is one instrument
(``unseen:<frame>``). Means are plain means over instruments (each instrument counts once,
whatever its number of cosmic-ray pixels), as in the issue.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from astropy.table import Table

PREFIX = "unseen:"
BEGIN, END = "<!-- unseen-report:begin -->", "<!-- unseen-report:end -->"
COLUMNS = (("tpr@fpr=0.0001", "TPR@1e-4"), ("tpr@fpr=0.0001[snr 5-inf]", "TPR@1e-4, S/N > 5"),
           ("tpr@fpr=0.001", "TPR@1e-3"), ("precision@tpr=0.95", "precision @ 95 % TPR"))


def put_between_markers(path: Path, begin: str, end: str, text: str) -> None:
    """Replace what lies between ``begin`` and ``end`` in the page ``path`` (append both when missing)."""
    page = path.read_text() if path.is_file() else ""
    block = f"{begin}\n{text}{end}"
    page = page.split(begin)[0] + block + page.split(end)[1] if begin in page else page + "\n" + block + "\n"
    path.write_text(page)


def _fmt(v):
    return "-" if v is None or not np.isfinite(v) else f"{v:.3f}"


def summarise(path) -> str:
    table = Table.read(path, format="ascii.ecsv")
    rows = [r for r in table if str(r["flavour"]).startswith(PREFIX) and str(r["status"]) == "ok"]
    methods = list(dict.fromkeys(str(r["method"]) for r in rows))
    groups = list(dict.fromkeys(str(r["flavour"]) for r in rows))
    get = {(str(r["method"]), str(r["flavour"])): r for r in rows}
    out = [f"Instruments ({len(groups)}): " + ", ".join(g[len(PREFIX):] for g in groups), "",
           "| method | " + " | ".join(f"{label} (mean)" for _, label in COLUMNS)
           + " | worst instrument TPR@1e-4 | max clean fraction flagged at the default threshold |",
           "|---" * (len(COLUMNS) + 3) + "|"]
    for m in methods:
        present = [get[(m, g)] for g in groups if (m, g) in get]
        if len(present) < len(groups):
            continue
        means = [float(np.mean([float(r[c]) for r in present])) for c, _ in COLUMNS]
        worst = min(float(r["tpr@fpr=0.0001"]) for r in present)
        op = max(float(r["op_fpr"]) for r in present)
        out.append(f"| {m} | " + " | ".join(_fmt(v) for v in means) + f" | {_fmt(worst)} | {op:.2e} |")
    for column, label in COLUMNS[:2] + (("op_fpr", "clean fraction flagged at the default threshold"),):
        out += ["", f"{label}, per instrument:", "",
                "| method | " + " | ".join(g[len(PREFIX):] for g in groups) + " |", "|---" * (len(groups) + 1) + "|"]
        for m in methods:
            cells = []
            for g in groups:
                r = get.get((m, g))
                v = None if r is None else float(r[column])
                cells.append("-" if v is None else (f"{v:.2e}" if column == "op_fpr" else _fmt(v)))
            out.append(f"| {m} | " + " | ".join(cells) + " |")
    ours = [m for m in methods if m.startswith("astroclean:") and all((m, g) in get for g in groups)]
    if ours and "threshold@fpr=0.0001" in table.colnames:
        out += ["", "Logit threshold giving FPR 1e-4, per instrument (our models; the card's default is the logit "
                "fixed on the validation set):", "",
                "| model | " + " | ".join(g[len(PREFIX):] for g in groups) + " |", "|---" * (len(groups) + 1) + "|"]
        for m in ours:
            out.append(f"| {m} | " + " | ".join(f"{float(get[(m, g)]['threshold@fpr=0.0001']):.2f}" for g in groups)
                       + " |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table", type=Path, help="table.ecsv of an `astroclean evaluate cosmic-rays` run")
    parser.add_argument("--docs", type=Path, help="put the tables into this page between the unseen-report markers")
    parser.add_argument("--header", default="", help="a line to put above the tables (command, commit, date)")
    args = parser.parse_args(argv)
    text = (args.header + "\n\n" if args.header else "") + summarise(args.table)
    print(text)
    if args.docs:
        put_between_markers(args.docs, BEGIN, END, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
