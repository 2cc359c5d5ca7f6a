"""Copy the held-out benchmark numbers of docs/clusters_benchmark/summary.json into the wfc3-m83 card.

    python scripts/update_cluster_card.py docs/clusters_benchmark/summary.json src/astroclean/weights/wfc3-m83.json
"""

import json
import sys
from pathlib import Path


def main(summary_path, card_path):
    summary = json.loads(Path(summary_path).read_text())
    card = json.loads(Path(card_path).read_text())
    young = summary["young"]["network"]
    card["metrics"]["benchmark"] = {
        "command": "astroclean evaluate clusters --sets runs/clusters -o docs/clusters_benchmark",
        "page": "docs/clusters.md",
        "held_out": f"{summary['n_test']} test mocks ({summary['n_clusters']} clusters): test halves of the real "
                    "backgrounds, seed 1000",
        "log_age<=8": young["log age <= 8"],
        "log_age<=8, S/N>10": young["log age <= 8, S/N > 10"],
        "auc_snr_gt_10": summary["auc_snr_gt_10"],
        "throughput_cutouts_per_s": summary["throughput_cutouts_per_s"],
        "legus_age_test": summary.get("legus", {}).get("age_test"),
        "legus_fraction_inside_mock_95": summary.get("legus", {}).get("fraction_inside_mock_95"),
        "targets": [{"target": t["target"], "measured": t["measured"],
                     "verdict": "met" if t["met"] else "MISSED"} for t in summary["targets"]],
    }
    Path(card_path).write_text(json.dumps(card, indent=2) + "\n")
    print(f"updated {card_path}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
