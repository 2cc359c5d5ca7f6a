"""Figures of the filament catalogue and of the colour mock study (matplotlib, Agg backend).

Every function takes its data and an output path, writes a PNG and returns the path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["colour_colour", "sb_vs_area", "overlay", "measured_vs_true", "error_vs", "error_distribution"]

_LABEL = {"g_r": "g - r", "r_i": "r - i"}


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _v(col):
    return np.asarray(getattr(col, "value", col), float)


def _no_minor_labels(ax):
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())


def _save(fig, path):
    path = Path(path)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    _plt().close(fig)
    return path


def colour_colour(table, path, *, method="gaussian", rectangle=None, rectangle_err=None, title=None,
                  truth_rectangle=None):
    """g-r versus r-i per filament with error bars, the criterion line and a recovered colour range."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    gr, ri = _v(table[f"g_r_{method}"]), _v(table[f"r_i_{method}"])
    egr, eri = _v(table[f"g_r_{method}_err"]), _v(table[f"r_i_{method}_err"])
    ok = np.isfinite(gr) & np.isfinite(ri)
    ax.errorbar(gr[ok], ri[ok], xerr=egr[ok], yerr=eri[ok], fmt="o", ms=3, alpha=0.6, lw=0.6,
                label=f"filaments ({method}, n={ok.sum()})")
    x = np.linspace(-0.5, 2.0, 10)
    ax.plot(x, 0.43 * x - 0.06, "k--", lw=1, label="(r-i) = 0.43 (g-r) - 0.06")
    if truth_rectangle is not None:
        (a, b), (c, d) = truth_rectangle
        ax.add_patch(plt.Rectangle((a, c), b - a, d - c, fill=False, ec="g", lw=2, ls=":", label="true range"))
    if rectangle is not None:
        (a, b), (c, d) = rectangle
        lab = f"recovered g-r {a:.2f}-{b:.2f}, r-i {c:.2f}-{d:.2f}"
        if rectangle_err is not None:
            lab += f" (+-{np.nanmax(rectangle_err):.2f})"
        ax.add_patch(plt.Rectangle((a, c), b - a, d - c, fill=False, ec="r", lw=2, label=lab))
    if ok.any():
        ax.set_xlim(np.nanpercentile(gr[ok], 1) - 0.3, np.nanpercentile(gr[ok], 99) + 0.3)
        ax.set_ylim(np.nanpercentile(ri[ok], 1) - 0.3, np.nanpercentile(ri[ok], 99) + 0.3)
    ax.set_xlabel("g - r (mag)")
    ax.set_ylabel("r - i (mag)")
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(title or "colours of filaments")
    return _save(fig, path)


def sb_vs_area(table, path, *, band="g", title=None):
    """Mean surface brightness versus area per filament."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.scatter(_v(table["area"]), _v(table[f"sb_{band}"]), s=8)
    ax.set_xscale("log")
    _no_minor_labels(ax)
    ax.invert_yaxis()
    ax.set_xlabel("area (arcsec$^2$)")
    ax.set_ylabel(f"mean SB {band} (mag arcsec$^{{-2}}$)")
    ax.set_title(title or f"filaments: surface brightness vs area (n={len(table)})")
    return _save(fig, path)


def overlay(image, segments, path, *, bin_factor=1, title=None, table=None):
    """The image (asinh stretch) with the filaments' outlines and ids."""
    plt = _plt()
    img = np.asarray(image, float)
    fig, ax = plt.subplots(figsize=(7, 7 * img.shape[0] / img.shape[1]))
    fin = img[np.isfinite(img)]
    med = np.median(fin)
    sig = 1.4826 * np.median(np.abs(fin - med))
    ax.imshow(np.arcsinh((img - med) / (3 * sig)), origin="lower", cmap="gray", vmin=-1, vmax=4)
    seg = np.asarray(segments)
    if bin_factor > 1:
        seg = np.repeat(np.repeat(seg, bin_factor, 0), bin_factor, 1)
    h, w = min(seg.shape[0], img.shape[0]), min(seg.shape[1], img.shape[1])
    full = np.zeros(img.shape, float)
    full[:h, :w] = seg[:h, :w] > 0
    ax.contour(full, levels=[0.5], colors="orange", linewidths=0.8)
    if table is not None:
        for row in table:
            ax.text(float(_v(row["x"])), float(_v(row["y"])), str(int(row["id"])), color="cyan", fontsize=6)
    ax.set_title(title or "filaments")
    ax.set_axis_off()
    return _save(fig, path)


def measured_vs_true(rows, path, *, estimates=("gaussian", "linear_bisector")):
    """Measured against true colour, one panel per (colour, estimate), points coloured by g surface brightness."""
    plt = _plt()
    fig, axes = plt.subplots(2, len(estimates), figsize=(3.6 * len(estimates) + 1, 7.5), squeeze=False,
                             constrained_layout=True)
    sb = _v(rows["sb_g"])
    for i, c in enumerate(("g_r", "r_i")):
        true = _v(rows[f"{c}_true"])
        lo, hi = np.nanmin(true) - 0.3, np.nanmax(true) + 0.3
        for j, est in enumerate(estimates):
            ax = axes[i, j]
            meas = _v(rows[f"{c}_{est}"])
            sc = ax.scatter(true, meas, c=sb, s=4, cmap="viridis_r", vmin=np.nanmin(sb), vmax=np.nanmax(sb))
            ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
            ax.set_xlim(lo, hi)
            ax.set_ylim(lo - 0.5, hi + 0.5)
            ax.set_xlabel(f"true {_LABEL[c]}")
            ax.set_ylabel(f"measured {_LABEL[c]}")
            ax.set_title(f"{est} (valid {np.isfinite(meas).sum()}/{len(meas)})", fontsize=9)
    fig.colorbar(sc, ax=axes, label="g SB (mag arcsec$^{-2}$)", shrink=0.6)
    fig.suptitle(f"{rows.meta.get('scenario', '')}: measured vs true colour")
    return _save(fig, path)


def error_vs(rows, key, path, *, estimates=("gaussian", "linear_bisector")):
    """Median |measured - true| (with 68 % band of the gaussian) versus g surface brightness or area."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    x = _v(rows[key])
    if key == "area":
        edges = np.logspace(2, 5, 7)
    else:
        edges = np.arange(np.floor(np.nanmin(x)), np.ceil(np.nanmax(x)) + 0.01, 0.5)
    mid = np.sqrt(edges[1:] * edges[:-1]) if key == "area" else 0.5 * (edges[1:] + edges[:-1])
    for ax, c in zip(axes, ("g_r", "r_i")):
        true = _v(rows[f"{c}_true"])
        for est in estimates:
            err = np.abs(_v(rows[f"{c}_{est}"]) - true)
            med, p68 = [], []
            for lo, hi in zip(edges[:-1], edges[1:]):
                e = err[(x >= lo) & (x < hi) & np.isfinite(err)]
                med.append(np.median(e) if e.size >= 3 else np.nan)
                p68.append(np.percentile(e, 68.27) if e.size >= 3 else np.nan)
            line, = ax.plot(mid, med, "o-", label=f"{est} median")
            ax.plot(mid, p68, ":", color=line.get_color(), label=f"{est} 68 %")
        if ax.has_data() and any(np.nanmax(np.r_[ln.get_ydata(), 0.0]) > 0 for ln in ax.get_lines()):
            ax.set_yscale("log")
        if key == "area":
            ax.set_xscale("log")
            _no_minor_labels(ax)
            ax.set_xlabel("area (arcsec$^2$)")
        else:
            ax.set_xlabel("g surface brightness (mag arcsec$^{-2}$)")
        ax.axhline(0.05, color="grey", lw=0.6)
        ax.set_ylabel(f"|measured - true| {_LABEL[c]} (mag)")
        ax.legend(fontsize=6)
    fig.suptitle(f"{rows.meta.get('scenario', '')}: colour error vs {'area' if key == 'area' else 'surface brightness'}")
    return _save(fig, path)


def error_distribution(rows, path, *, estimates=("gaussian", "linear_bisector")):
    """Histogram of measured - true with the 68.27/95.45/99.73 % limits of |error|."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for ax, c in zip(axes, ("g_r", "r_i")):
        true = _v(rows[f"{c}_true"])
        diffs = [(_v(rows[f"{c}_{est}"]) - true) for est in estimates]
        finite = [d[np.isfinite(d)] for d in diffs]
        span = max([0.3] + [float(np.percentile(np.abs(d), 99)) for d in finite if d.size])
        span = min(1.5, 1.1 * span)
        for est, d in zip(estimates, finite):
            if d.size == 0:
                continue
            lims = np.percentile(np.abs(d), [68.27, 95.45, 99.73])
            ax.hist(np.clip(d, -span, span), bins=100, range=(-span, span), histtype="step",
                    label=f"{est}: 68/95/99.7 % |err| <= " + "/".join(f"{v:.2f}" for v in lims))
            if est == estimates[0]:
                for v, ls in zip(lims, ("-", "--", ":")):
                    ax.axvline(v, color="k", ls=ls, lw=0.7)
                    ax.axvline(-v, color="k", ls=ls, lw=0.7)
        ax.set_xlabel(f"measured - true {_LABEL[c]} (mag; clipped at +-{span:.2f})")
        ax.set_ylabel("mock squares")
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(f"{rows.meta.get('scenario', '')}: error distribution (black lines: {estimates[0]} limits)")
    return _save(fig, path)
