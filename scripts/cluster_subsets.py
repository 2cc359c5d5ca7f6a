"""Log-age / A_V / log-mass / log r_eff scatter of models on subsets of a held-out mock set (by rendering and profile).

    python scripts/cluster_subsets.py runs/clusters_mix/test.npz wfc3-m83 runs/clusters_mix/weights/wfc3-m83-mix.json
"""

import sys

from astroclean.clusters.evaluate.benchmark import _network_estimates
from astroclean.clusters.evaluate.metrics import summary
from astroclean.clusters.model import load_cluster_model, sigma_scale
from astroclean.clusters.network import PARAMETERS
from astroclean.clusters.sets import read_set


def main(path, *models):
    x, truth = read_set(path)
    pos = truth["is_cluster"] == 1
    young = pos & (truth["log_age"] <= 8)
    subsets = {"all clusters, log age <= 8": young}
    for key in ("rendering", "profile"):
        for value in sorted(set(truth[key][pos])):
            subsets[f"{key} = {value}"] = young & (truth[key] == value)
    for model in models:
        net, card = load_cluster_model(model)
        _, est = _network_estimates(net, int(card.architecture.get("k", 3)), x, sigma_scale(card))
        print(f"## {card.name}")
        print("| subset (log age <= 8) | n | " + " | ".join(f"{p} scatter / coverage" for p in PARAMETERS) + " |")
        print("|---|---|" + "---|" * len(PARAMETERS))
        for name, sel in subsets.items():
            cells = []
            for p in PARAMETERS:
                s = summary(est[p][sel], truth[p][sel])
                cells.append(f"{s['scatter']:.3f} / {s['coverage']:.2f}")
            print(f"| {name} | {int(sel.sum())} | " + " | ".join(cells) + " |")
        print()


if __name__ == "__main__":
    main(*sys.argv[1:])
