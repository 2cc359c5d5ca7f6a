"""Write the compact-source benchmark: table.md, ECSV tables, plots, and the docs page.

:func:`write_sources_report` writes into one folder, atomically and never
over existing files unless ``overwrite=True`` (the cosmic-ray report's
habits, :mod:`astroclean.cosmicrays.evaluate.report`): ``table.md`` (targets with
PASS/FAIL, flux ratios per level, spectra per scale, pixel statistics,
gamma Dra, throughput, provenance), ``sources.ecsv`` (every source),
``levels.ecsv``, ``spectra.ecsv``, ``pixels.ecsv``, ``gamma_dra.ecsv`` (when
run), ``flux_ratio.png``, ``power_spectra.png`` and ``example_cutout.png``.
:func:`astroclean.cosmicrays.evaluate.report.update_docs_page` puts ``table.md`` between the benchmark-report
markers of a docs page.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from astroclean.errors import AstrocleanFileError
from astroclean.io.write import atomic_write, check_writable
from astroclean.evaluate.docs import format_number as _fmt, markdown_table as _md_table

__all__ = ["write_sources_report", "markdown_sources_report", "REPORT_FILES"]

REPORT_FILES = ("table.md", "sources.ecsv", "levels.ecsv", "spectra.ecsv", "pixels.ecsv", "flux_ratio.png",
                "power_spectra.png", "example_cutout.png")


def _verdict(passed):
    return "PASS" if passed is True else "FAIL" if passed is False else "n/a"


def _provenance():
    import platform
    from datetime import datetime, timezone

    from astroclean import __version__
    from astroclean.evaluate.docs import git_commit as _git_commit

    commit, dirty = _git_commit()
    return {"astroclean": __version__, "commit": commit or "unknown", "dirty": bool(dirty),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "platform": platform.platform()}


def markdown_sources_report(bench, *, command=None) -> str:
    """The Markdown of ``table.md``."""
    m, prov = bench.meta, _provenance()
    lines = ["# Compact-source removal benchmark", ""]
    if command:
        lines += [f"Command: `{command}`  ", ""]
    dirty = " (with uncommitted changes)" if prov["dirty"] else ""
    lines += [f"astroclean {prov['astroclean']}, commit `{prov['commit']}`{dirty}, {prov['date']}; model "
              f"`{m.get('model')}`, band {m.get('band')}, mode {m.get('mode')}, device {m.get('device')}, "
              f"{prov['platform']}", ""]
    if m.get("untrained"):
        lines += ["**WARNING: UNTRAINED model (no trained weights, random initialisation): the network numbers test "
                  "the plumbing and are not results.**", ""]
    lines += [f"{m.get('n_maps')} held-out maps (`make_source_maps(split=\"benchmark\")`, {m.get('per_level', '?')} "
              f"sources per flux level per map, seed {m.get('rng')}), sources removed at their injected positions. "
              f"Photometry: apertures of {', '.join(f'{r:g}' for r in m.get('radii_pixels') or [])} px, reference "
              f"radius {m.get('reference_radius', math.nan):g} px; network = aperture on (input - predicted "
              "background) with the encircled energy of the PSF over (aperture AND hole); annulus = aperture on the input minus "
              f"the 3-sigma-clipped median of a {'-'.join(f'{r:g}' for r in m.get('annulus_pixels') or [])} px "
              f"annulus, corrected for the PSF's own light in the annulus. Detection limit: injected peak S/N = "
              f"flux x max(PSF) / pixel noise >= {m.get('snr_limit', math.nan):g}.", ""]
    lines += ["## Targets", ""]
    lines += _md_table(["target", "measured", "goal", "verdict"],
                       [[t["name"], t["value"], t["goal"], _verdict(t["passed"])] for t in bench.targets])
    lines.append("")
    lines += ["## Flux ratio (measured / injected) per level", "",
              "Median (+- the half-width of its 68% bootstrap interval: how well this many sources pin it down) "
              "and interquartile range; rows marked *below limit* are shown, not judged. ", ""]
    body = [[_fmt(r["flux"]), r["population"], r["n"], f"{r['n_measured']}/{r['n_annulus']}",
             f"{_fmt(r['median_ratio'], 4)} +- {_fmt(r['median_err'], 3)}", _fmt(r["iqr_ratio"], 4),
             f"{_fmt(r['median_ratio_annulus'], 4)} +- {_fmt(r['median_err_annulus'], 3)}", _fmt(r["iqr_ratio_annulus"], 4),
             ("ok" if r["ratio_ok"] else "FAIL") + " / " + ("ok" if r["iqr_ok"] else "FAIL") if r["judged"] else "-"]
            for r in bench.levels]
    lines += _md_table(["flux (Jy)", "population", "n", "measured net/ann", "median (net)", "IQR (net)",
                        "median (annulus)", "IQR (annulus)", "2% / IQR"], body)
    lines += ["", _radii_lines(bench), "", "![flux ratio](flux_ratio.png)", ""]
    lines += ["## Power spectra of the backgrounds", "",
              "Azimuthal average of |FFT|^2 / sum(w^2) per mode (`astroclean.metrics.power_spectrum`), weights w = "
              f"valid pixels tapered by a cosine over {m.get('apodise', math.nan):g} px from the border and from NaN / "
              "no-coverage pixels, the same for true, predicted and difference. Median over maps per scale.", ""]
    body = [[_fmt(r["scale_pixels"], 3), _fmt(r["k"], 4), f"{r['p_true']:.3g}", f"{r['p_pred']:.3g}",
             f"{r['p_diff']:.3g}", f"{r['ratio_minus_1']:+.4f}",
             f"{r['worst_abs_ratio_minus_1']:.4f} ({r['worst_map']})",
             f"{r['diff_over_true']:.3g}", f"{r['oracle_ratio_minus_1']:+.4f}",
             f"{r['pred_over_oracle_minus_1']:+.4f}"] for r in bench.spectra]
    lines += _md_table(["scale (px)", "k (cyc/px)", "P true", "P pred", "P diff", "P_pred/P_true - 1 (median)",
                        "worst map abs(.)", "P_diff / P_true", "P_oracle/P_true - 1", "P_pred/P_oracle - 1"], body)
    lines += ["", "*oracle*: the predicted map with the TRUE background in the holes -- what perfect inpainting "
              "would score; it differs from the truth by the PSF wings left outside the holes (the removal keeps "
              "the input there), a floor for this target set by the mask radii, not by the network. "
              "P_pred/P_oracle - 1 isolates the inpainting (a diagnostic: the target is judged against the true "
              "background, as specified)."]
    lines += ["", "![power spectra](power_spectra.png)", ""]
    lines += ["## Pixel statistics in the holes", "", bench.pixels.meta.get("description", "") + ".", ""]
    keys = ["n", "mean", "median", "std", "mad", "skewness", "iqr"]
    lines += _md_table(["quantity"] + keys, [[r["quantity"]] + [_fmt(r[k], 4) for k in keys] for r in bench.pixels])
    lines += ["", "![example](example_cutout.png)", ""]
    lines += ["## gamma Dra (real PACS maps)", ""]
    if bench.gamma_dra is None:
        lines += ["Not run: " + "; ".join(n for n in bench.notes if "gamma" in n), ""]
    else:
        g = bench.gamma_dra
        lines += _md_table(["map", "band", "calibration (mJy)", "model", "network (mJy)", "ratio", "annulus (mJy)",
                            "ratio (annulus)", "flag"],
                           [[r["file"][:28], r["band"], f"{r['calibration_mjy']:.0f}", r["model"] or "-",
                             _fmt(r["flux_mjy"], 4), _fmt(r["ratio"], 4), _fmt(r["flux_annulus_mjy"], 4),
                             _fmt(r["ratio_annulus"], 4), r["flag"]] for r in g])
        tied = "psf_tied_to_calibration" in g.colnames and bool(np.any(g["psf_tied_to_calibration"]))
        lines += ["", "The shipped PSFs are cut from these very maps (`astroclean.instruments.pacs`). "
                  + ("Their normalisation is tied to these calibration fluxes (the stamp holds the flux fraction "
                     "measured on these maps), so agreement is partly BY CONSTRUCTION: it shows that removal and "
                     "photometry keep the star's flux, not that the PSF model is independently right."
                     if tied else "Their stamps are normalised to 1, so flux beyond the stamp is not corrected for."),
                  ""]
    t = bench.throughput
    lines += ["## Throughput", "",
              f"`remove_compact_sources` on the {t['n_maps']} maps (model loaded once before; a warm-up call first): "
              f"{t['n_sources']} sources in {t['seconds']:.2f} s = **{t['sources_per_second']:.1f} sources/s** "
              f"(network alone {t.get('network_seconds', math.nan):.2f} s) on {m.get('device')} "
              f"({m.get('threads', '?')} torch thread(s)), batch size {m.get('batch_size')}. On a CPU shared with "
              "other work the figure varies severalfold from run to run.", ""]
    if bench.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in bench.notes] + [""]
    return "\n".join(lines)


def _radii_lines(bench) -> str:
    s = bench.sources
    sel = np.asarray(s["above_limit"]) & (np.asarray(s["flag"]) == "ok")
    parts = []
    for r in bench.meta.get("radii_pixels") or []:
        lab = "r" + f"{float(r):g}".replace(".", "p")
        with np.errstate(invalid="ignore", divide="ignore"):
            net = np.asarray(s[f"flux_{lab}"])[sel] / np.asarray(s["flux_true"])[sel]
            ann = np.asarray(s[f"flux_annulus_{lab}"])[sel] / np.asarray(s["flux_true"])[sel]
        parts.append(f"r = {r:g} px: {np.nanmedian(net):.4f} (net), {np.nanmedian(ann):.4f} (annulus)"
                     if sel.any() else f"r = {r:g} px: -")
    return ("Median ratio per aperture radius, all levels above the limit with flag ok pooled: " + "; ".join(parts)
            + ".")


def _plot_flux_ratio(bench, path):
    from astroclean.evaluate.figures import new_figure, save_figure

    fig, (ax,) = new_figure(1, width=7.0, height=4.4)
    lv = bench.levels
    for above, alpha in ((True, 1.0), (False, 0.35)):
        rows = [r for r in lv if bool(r["population"].startswith("snr>=")) == above]
        if not rows:
            continue
        f = np.array([r["flux"] for r in rows], float)
        for key, shift, color, label in (("", 0.97, "C0", "network"), ("_annulus", 1.03, "C3", "annulus")):
            med = np.array([r[f"median_ratio{key}"] for r in rows], float)
            q25 = np.array([r[f"q25_ratio{key}"] for r in rows], float)
            q75 = np.array([r[f"q75_ratio{key}"] for r in rows], float)
            ax.errorbar(f * shift, med, yerr=[med - q25, q75 - med], fmt="o" if above else "x", color=color,
                        alpha=alpha, capsize=3, label=label + ("" if above else " (below limit)"))
    ax.axhline(1, color="0.3", lw=0.8)
    ax.axhspan(0.98, 1.02, color="C2", alpha=0.15, label="target +-2%")
    ax.set_xscale("log")
    ax.set_ylim(0.0, 2.0)
    ax.set_xlabel("injected flux (Jy)")
    ax.set_ylabel("measured / injected (median, bars: quartiles)")
    ax.set_title("points outside 0-2 are off the axes; see the table", fontsize=8)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def _plot_spectra(bench, path):
    from astroclean.evaluate.figures import new_figure, save_figure

    sp = bench.spectra
    fig, (a1, a2) = new_figure(2, width=11.0, height=4.2)
    k = np.asarray(sp["k"], float)
    for key, label in (("p_true", "true"), ("p_pred", "predicted"), ("p_diff", "predicted - true")):
        a1.loglog(k, np.asarray(sp[key], float), "o-", ms=3, label=label)
    a1.set_xlabel("k (cycles / pixel)")
    a1.set_ylabel("power per mode (median over maps)")
    a1.legend(fontsize=8)
    a2.semilogx(k, np.asarray(sp["ratio_minus_1"], float), "o-", label="median over maps")
    a2.semilogx(k, np.asarray(sp["worst_abs_ratio_minus_1"], float), "x:", color="0.4", label="worst map abs(.)")
    a2.semilogx(k, np.asarray(sp["oracle_ratio_minus_1"], float), "s--", ms=3, color="C2",
                label="oracle (true background in holes)")
    a2.axhspan(-0.01, 0.01, color="C2", alpha=0.2, label="target +-1%")
    a2.axhline(0, color="0.3", lw=0.8)
    a2.set_xlabel("k (cycles / pixel)")
    a2.set_ylabel("P_pred / P_true - 1")
    a2.legend(fontsize=8)
    for ax in (a1, a2):
        ax.grid(alpha=0.3)
    return save_figure(fig, path)


def _plot_example(bench, path):
    from astroclean.evaluate.figures import new_figure, save_figure

    ex = bench.example
    fig, axes = new_figure(4, width=13.0, height=3.6)
    if not ex:
        axes[0].text(0.5, 0.5, "no source with S/N >= 20 measured", ha="center")
        return save_figure(fig, path)
    stack = np.concatenate([ex[k].ravel() for k in ("predicted", "true")])
    lo, hi = np.nanpercentile(stack, [1, 99.5])
    for ax, key in zip(axes, ("input", "predicted", "true", "residual")):
        data = ex[key]
        if key == "residual":
            lim = np.nanmax(np.abs(data)) or 1.0
            im = ax.imshow(data, origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim)
        elif key == "input":
            im = ax.imshow(data, origin="lower", cmap="magma")
        else:
            im = ax.imshow(data, origin="lower", cmap="magma", vmin=lo, vmax=hi)
        ax.set_title({"input": "input", "predicted": "predicted background", "true": "true background",
                      "residual": "predicted - true"}[key], fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle(f"map {ex['map']}, source at ({ex['x']:.1f}, {ex['y']:.1f}), {ex['flux']:g} Jy, "
                 f"injected S/N {ex['snr']:.0f}", fontsize=10)
    return save_figure(fig, path)


def write_sources_report(bench, outdir, *, overwrite: bool = False, command=None) -> dict:
    """Write the report of a :class:`~astroclean.sources.evaluate.benchmark.SourcesBenchmark` into ``outdir``.

    Returns
    -------
    dict
        File name -> Path of everything written.

    Raises
    ------
    AstrocleanFileError
        A target exists and ``overwrite`` is False (checked before writing anything).
    """
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise AstrocleanFileError(f"{outdir} exists and is not a folder; choose another output directory")
    outdir.mkdir(parents=True, exist_ok=True)
    names = list(REPORT_FILES) + (["gamma_dra.ecsv"] if bench.gamma_dra is not None else [])
    for name in names:
        check_writable(outdir / name, overwrite=overwrite)
    written = {}

    def put(name, fn):
        written[name] = atomic_write(outdir / name, fn, overwrite=overwrite)

    def ecsv(table):
        return lambda tmp: table.write(tmp, format="ascii.ecsv", overwrite=True)

    sources = bench.sources.copy(copy_data=False)
    sources.meta["targets"] = [dict(t) for t in bench.targets]
    sources.meta["benchmark"] = {k: v for k, v in bench.meta.items()}
    put("sources.ecsv", ecsv(sources))
    put("levels.ecsv", ecsv(bench.levels))
    put("spectra.ecsv", ecsv(bench.spectra))
    put("pixels.ecsv", ecsv(bench.pixels))
    if bench.gamma_dra is not None:
        put("gamma_dra.ecsv", ecsv(bench.gamma_dra))
    put("flux_ratio.png", lambda tmp: _plot_flux_ratio(bench, tmp))
    put("power_spectra.png", lambda tmp: _plot_spectra(bench, tmp))
    put("example_cutout.png", lambda tmp: _plot_example(bench, tmp))
    text = markdown_sources_report(bench, command=command)
    put("table.md", lambda tmp: Path(tmp).write_text(text))
    return written

