"""A sheet of mock clusters and negatives with their truth (docs figure).

    python scripts/plot_cluster_mocks.py runs/clusters/val.npz docs/clusters/mocks.png
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from astroclean.clusters.network import NOISE_E_PER_S  # noqa: E402
from astroclean.clusters.sets import read_set  # noqa: E402


def main(src, dst, n=24):
    images, truth = read_set(src)
    fig, axes = plt.subplots(4, 6, figsize=(12, 8.6))
    for i, ax in enumerate(axes.flat[:n]):
        c = images[i]
        rgb = np.stack([np.arcsinh(c[b] / (3 * NOISE_E_PER_S[b])) for b in (2, 1, 0)], -1)
        ax.imshow(np.clip(rgb / np.percentile(rgb, 99.5), 0, 1), origin="lower")
        ax.axis("off")
        if truth["is_cluster"][i]:
            title = (f"cluster on {truth['background'][i]}\nlog t {truth['log_age'][i]:.2f} log M {truth['log_mass'][i]:.2f}"
                     f"\nA_V {truth['a_v'][i]:.1f} r_eff {truth['r_eff_pc'][i]:.1f} pc S/N {truth['snr'][i]:.0f}")
        else:
            title = f"{truth['kind'][i]} on {truth['background'][i]}\n(negative)"
        ax.set_title(title, fontsize=7)
    fig.suptitle("mock WFC3/UVIS cutouts (RGB = F814W, F438W, F336W; 48 px = 1.92\")", fontsize=9)
    fig.tight_layout()
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(dst, dpi=60)


if __name__ == "__main__":
    main(*sys.argv[1:3])
