"""Copy the benchmark's numbers for each shipped model into its card.

    python scripts/update_model_cards.py docs/benchmark/table.ecsv

For every card in ``src/astroclean/weights``, the rows of method
``astroclean:<name>`` (one per flavour) become ``metrics["benchmark"]``; the
weights (and so their sha256) are untouched. Numbers are copied, never typed.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from astropy.table import Table

KEYS = {
    "tpr@fpr=0.0001": "TPR at FPR 1e-4 (CR pixels >= 1.5 sigma)",
    "tpr@fpr=0.0001[snr 5-inf]": "TPR at FPR 1e-4 (CR pixels > 5 sigma)",
    "tpr@fpr=0.0001[snr 1.5-5]": "TPR at FPR 1e-4 (CR pixels 1.5-5 sigma)",
    "tpr@fpr=0.001": "TPR at FPR 1e-3",
    "precision@tpr=0.95": "precision at TPR 0.95",
    "auc": "ROC AUC",
    "f1": "F1 at the card threshold",
    "iou": "IoU at the card threshold",
    "fdr": "FDR at the card threshold",
    "op_fpr": "clean fraction flagged at the card threshold",
    "threshold@fpr=0.0001": "score threshold for FPR 1e-4 (logit)",
}
#: Per-group values that are not averaged over instruments.
NOT_AVERAGED = {KEYS["threshold@fpr=0.0001"]}


def _value(row, key):
    if key not in row.colnames:
        return None
    value = float(row[key])
    return None if math.isnan(value) else round(value, 4)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("table", help="table.ecsv written by `astroclean evaluate cosmic`")
    parser.add_argument("--weights", default=Path(__file__).resolve().parents[1] / "src" / "astroclean" / "weights")
    parser.add_argument("--key", default="benchmark",
                        help="metrics key to write (default benchmark; benchmark_unseen for the unseen-instrument part)")
    parser.add_argument("--alias", action="append", default=[],
                        help="METHOD=MODEL: rows of astroclean:METHOD count for MODEL (e.g. auto=ground, when "
                             "astroclean:auto ran the ground model on every group)")
    parser.add_argument("--only", action="append", default=None, help="update only these cards (repeatable)")
    args = parser.parse_args(argv)
    aliases = dict(a.split("=", 1) for a in args.alias)
    table = Table.read(args.table, format="ascii.ecsv")
    source = {k: table.meta.get(k) for k in ("command", "commit", "date", "recipe_version") if k in table.meta}
    for card_path in sorted(Path(args.weights).glob("*.json")):
        card = json.loads(card_path.read_text())
        if args.only and card["name"] not in args.only:
            continue
        names = {f"astroclean:{card['name']}"} | {f"astroclean:{m}" for m, model in aliases.items()
                                                  if model == card["name"]}
        rows = [r for r in table if r["method"] in names and r["status"] in ("ok", "")]
        if not rows:
            print(f"{card['name']}: no rows in {args.table}; card unchanged")
            continue
        per_flavour = {}
        for row in rows:
            per_flavour[str(row["flavour"])] = {label: _value(row, key) for key, label in KEYS.items()
                                               if _value(row, key) is not None}
        entry = {"source": source, "by_flavour": per_flavour, "see": "docs/benchmark.md for the peers on the same data"}
        unseen = [v for k, v in per_flavour.items() if k.startswith("unseen:")]
        if unseen:   # the summary: plain means over instruments, and the worst one
            entry["mean_over_instruments"] = {label: round(sum(v[label] for v in unseen) / len(unseen), 4)
                                              for label in unseen[0] if all(label in v for v in unseen)
                                              and label not in NOT_AVERAGED}
            entry["worst_instrument_tpr_at_1e-4"] = min(v[KEYS["tpr@fpr=0.0001"]] for v in unseen)
        card["metrics"][args.key] = entry
        card_path.write_text(json.dumps(card, indent=2) + "\n")
        print(f"{card['name']}: updated from {len(rows)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
