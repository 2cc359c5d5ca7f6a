"""Figures of the cluster benchmark (matplotlib, Agg)."""

from __future__ import annotations

import numpy as np

from astroclean.clusters.network import PARAMETERS
from astroclean.evaluate.figures import save_figure


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _finish(fig, path):
    """Lay out, write at 90 dpi and close ``fig``."""
    fig.tight_layout()
    save_figure(fig, path, dpi=90)
    _plt().close(fig)


def pit(pit_values, path):
    plt = _plt()
    fig, axes = plt.subplots(1, len(PARAMETERS), figsize=(3 * len(PARAMETERS), 2.6))
    for ax, p in zip(axes, PARAMETERS):
        ax.hist(pit_values[p], bins=10, range=(0, 1), color="0.4")
        ax.axhline(len(pit_values[p]) / 10, color="r", lw=1)
        ax.set_title(f"PIT {p}")
    _finish(fig, path)


def roc(fpr, tpr, auc, path):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(3.5, 3.5))
    ax.plot(fpr, tpr)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate (S/N > 10)")
    ax.set_title(f"cluster vs background, AUC {auc:.3f}")
    _finish(fig, path)


def scatter_truth(net, cls, truth, path):
    plt = _plt()
    fig, axes = plt.subplots(2, len(PARAMETERS), figsize=(3.2 * len(PARAMETERS), 6.2))
    for j, p in enumerate(PARAMETERS):
        for i, (name, e) in enumerate((("network", net), ("classical", cls))):
            ax = axes[i, j]
            ax.scatter(truth[p], e[p][:, 1], s=2, c=np.log10(np.clip(truth["snr"], 0.1, None)), cmap="viridis")
            lo, hi = np.nanmin(truth[p]), np.nanmax(truth[p])
            ax.plot([lo, hi], [lo, hi], "r-", lw=0.8)
            ax.set_title(f"{name}: {p}", fontsize=9)
            ax.set_xlabel("truth")
    _finish(fig, path)


def colour_colour(mock, mock_age, real, real_age, hist, frac, path):
    plt = _plt()
    h, ex, ey, thresh = hist
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    ax = axes[0]
    ax.scatter(mock[:, 1], mock[:, 0], s=1, c="0.7", label="mocks (prior)")
    ax.contour(0.5 * (ey[1:] + ey[:-1]), 0.5 * (ex[1:] + ex[:-1]), h, levels=[thresh], colors="k")
    ax.scatter(real[:, 1], real[:, 0], s=3, c="C3", label="LEGUS NGC 1566 cl. 1-2")
    ax.set_xlabel("F438W - F814W")
    ax.set_ylabel("F336W - F438W")
    ax.invert_yaxis()
    ax.set_title(f"{100 * frac:.1f} % of real clusters inside mocks' 95 % region", fontsize=9)
    ax.legend(fontsize=7, markerscale=4)
    for ax, c, name in ((axes[1], 0, "F336W - F438W"), (axes[2], 1, "F438W - F814W")):
        ax.scatter(mock_age, mock[:, c], s=1, c="0.7", label="mocks")
        ax.scatter(real_age, real[:, c], s=3, c="C3", label="LEGUS (SED age)")
        ax.set_xlabel("log age [yr]")
        ax.set_ylabel(name)
    _finish(fig, path)


def legus_ages(legus_age, net_age, cls_age, naive_age, path):
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    for ax, (name, a) in zip(axes, (("network (16-84 %)", net_age), ("classical chi^2", cls_age),
                                    ("two-colour", naive_age))):
        rng = np.random.default_rng(0)
        jitter = rng.uniform(-0.03, 0.03, len(legus_age))
        if a.ndim == 2:
            ax.errorbar(legus_age + jitter, a[:, 1], yerr=[a[:, 1] - a[:, 0], a[:, 2] - a[:, 1]], fmt=".", ms=2,
                        lw=0.3, alpha=0.5)
        else:
            ax.plot(legus_age + jitter, a, ".", ms=2)
        ax.plot([6, 9], [6, 9], "r-", lw=0.8)
        ax.axvline(8, color="k", ls=":", lw=0.8)
        ax.set_xlabel("LEGUS SED log age")
        ax.set_ylabel("inferred log age")
        ax.set_title(name)
    _finish(fig, path)


def cutout_sheet(cutouts, table, path, *, max_rows=48, title=None, task="clusters", overwrite=True):
    """PNG sheet: asinh RGB (F814W, F438W, F336W) of each cutout with its estimates.

    Written atomically with an ``ACTASK`` text chunk (``task``), which marks the file as an astroclean
    product; an existing file is replaced only with ``overwrite``.
    """
    from astroclean import __version__
    from astroclean.io.write import atomic_write

    plt = _plt()
    from astroclean.clusters.network import NOISE_E_PER_S
    n = min(len(cutouts), max_rows)
    cols = 6
    rows = max(1, int(np.ceil(n / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, 2.9 * rows + 0.4), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        c = np.nan_to_num(cutouts[i])
        rgb = np.stack([np.arcsinh(c[b] / (3 * NOISE_E_PER_S[b])) for b in (2, 1, 0)], -1)
        top = np.percentile(rgb, 99.5) or 1.0
        ax.imshow(np.clip(rgb / top, 0, 1), origin="lower")
        r = table[i]
        label = f"{r['id']}" if "id" in table.colnames else f"#{i}"
        ax.set_title(f"{label} {r['flag']} P={r['p_cluster']:.2f}\nlogt {r['log_age_50'].value:.2f} "
                     f"logM {r['log_mass_50'].value:.2f}\nAV {r['a_v_50'].value:.2f} "
                     f"reff {r['r_eff_pc_50'].value:.1f}pc", fontsize=6)
    if title:
        fig.suptitle(title + (f" (first {n} of {len(cutouts)})" if len(cutouts) > n else ""), fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / (2.9 * rows + 0.4)), h_pad=1.2)
    metadata = {"Software": f"astroclean {__version__}", "ACTASK": task}
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=80, metadata=metadata), overwrite=overwrite)
    finally:
        plt.close(fig)
