"""The colour mock study: S1-S4 squares measured exactly as real filaments are (issue 12, part 3).

    astroclean evaluate cirrus-colours --simulation S1 -o bench/
    astroclean evaluate cirrus-colours --simulation S2 --n-squares 2000 -o bench_s2/

For every mock square: ``extract_filaments`` on its footprint (6" bins, local
sky, the frame's classical source mask), then ``measure_colours`` by the
Gaussian method and by the linear method with each regression (bisector, OLS,
Deming). Writes ``rows.ecsv`` (one row per square: truth and every estimate),
``summary.md`` / ``overall.ecsv`` / ``by_sb.ecsv`` / ``by_area.ecsv`` and the
plots ``measured_vs_true.png``, ``error_vs_sb.png``, ``error_vs_area.png``,
``error_distribution.png``. Exit code 0 whether or not targets pass (the
summary says PASS/FAIL per target with the measured number).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.table import QTable

from astroclean.errors import AstrocleanValueError
from astroclean.cirrus.catalog import extract_filaments
from astroclean.cirrus.colours import measure_colours
from astroclean.cirrus.simulate.squares import get_scenario, gaussian_background, inject_squares, load_sdss_background, source_mask

__all__ = ["run_study", "summarise", "report", "ESTIMATES", "add_parser"]

ESTIMATES = ("gaussian", "linear_bisector", "linear_ols", "linear_deming")
COLOURS = ("g_r", "r_i")
SB_BINS = tuple(float(v) for v in range(21, 31))
AREA_BINS = (1e2, 1e3, 1e4, 1e5)
TARGET_68 = {"g_r": 0.06, "r_i": 0.08}
TARGET_MEDIAN_BRIGHT = 0.05  # for sb_g < 26


def run_study(scenario="S1", *, n_squares: int = 600, per_frame: int = 6, rng=0, data_dir=None, sb_range=None,
              area_range=(1e2, 1e5), profile: str = "gaussian", n_boot: int = 50, sb_values=None,
              structure: float = 0.2, structure_scale: float = 0.0, progress: bool = False) -> QTable:
    """Simulate ``n_squares`` mock squares of a study and measure each; returns one row per square."""
    sc = get_scenario(scenario, sb_range=sb_range)
    rng = np.random.default_rng(rng)
    real = load_sdss_background(data_dir) if sc.background == "real" else None
    smask = source_mask(real, nsigma=3.0, grow=2) if real is not None else None
    rows = []
    frame = 0
    t0 = time.perf_counter()
    while len(rows) < n_squares:
        bg = real if real is not None else gaussian_background(rng=rng)
        mock, cirrus, truth = inject_squares(bg, sc, n_squares=per_frame, rng=rng, area_range=area_range,
                                             sb_values=sb_values, structure=structure,
                                             structure_scale=structure_scale)
        fil = extract_filaments(cirrus, mock, source_mask=smask)
        tab = measure_colours(fil, method="gaussian", profile=profile)
        lin = {reg: measure_colours(fil, method="linear", regression=reg, n_boot=n_boot, rng=rng)
               for reg in ("bisector", "ols", "deming")}
        f = fil.bin_factor
        for tr in truth:
            cy = (int(tr["y0"]) + int(tr["side"]) // 2) // f
            cx = (int(tr["x0"]) + int(tr["side"]) // 2) // f
            cy, cx = min(cy, fil.segments.shape[0] - 1), min(cx, fil.segments.shape[1] - 1)
            fid = int(fil.segments[cy, cx])
            row = {"scenario": sc.name, "frame": frame, "area": float(tr["area"].value),
                   "sb_g": float(tr["sb_g"].value), "g_r_true": float(tr["g_r"].value),
                   "r_i_true": float(tr["r_i"].value)}
            if fid == 0:
                row.update({"n_used": 0, "sb_g_measured": np.nan})
                for est in ESTIMATES:
                    for c in COLOURS:
                        row.update({f"{c}_{est}": np.nan, f"{c}_{est}_err": np.nan,
                                    f"{c}_{est}_flag": "no_segment"})
                rows.append(row)
                continue
            k = fid - 1
            row.update({"n_used": int(tab["n_used"][k]), "sb_g_measured": float(tab["sb_g"][k].value)})
            for c in COLOURS:
                row[f"{c}_gaussian"] = float(tab[f"{c}_gaussian"][k].value)
                row[f"{c}_gaussian_err"] = float(tab[f"{c}_gaussian_err"][k].value)
                row[f"{c}_gaussian_flag"] = str(tab[f"{c}_gaussian_flag"][k])
                for reg, lt in lin.items():
                    row[f"{c}_linear_{reg}"] = float(lt[f"{c}_linear"][k].value)
                    row[f"{c}_linear_{reg}_err"] = float(lt[f"{c}_linear_err"][k].value)
                    row[f"{c}_linear_{reg}_flag"] = str(lt[f"{c}_linear_flag"][k])
            rows.append(row)
        frame += 1
        if progress and frame % 20 == 0:
            print(f"  {sc.name}: {len(rows)}/{n_squares} squares, {frame} frames, "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
    out = QTable(rows=rows[:n_squares])
    for name in out.colnames:
        if name.endswith(("_true", "_err")) or name.startswith(COLOURS) and not name.endswith("_flag"):
            out[name] = out[name] * u.mag
    out["area"] = out["area"] * u.arcsec**2
    out["sb_g"] = out["sb_g"] * u.mag / u.arcsec**2
    out["sb_g_measured"] = out["sb_g_measured"] * u.mag / u.arcsec**2
    out.meta.update({"scenario": sc.name, "g_r_range": list(sc.g_r), "r_i_range": list(sc.r_i),
                     "sb_range": list(sc.sb_range), "background": sc.background, "n_frames": frame,
                     "area_range": list(area_range), "profile": profile, "structure": structure,
                     "structure_scale": structure_scale,
                     "seconds": time.perf_counter() - t0})
    return out


def load_rows(path) -> QTable:
    """Read a study's rows.ecsv back (empty flags read as masked become "ok")."""
    rows = QTable.read(path, format="ascii.ecsv")
    for name in rows.colnames:
        if name.endswith("_flag") and hasattr(rows[name], "filled"):
            rows[name] = rows[name].filled("ok")
        if name.endswith("_flag"):
            rows[name] = [str(v) or "ok" for v in rows[name]]
    return rows


def _err(rows, est, colour):
    meas = np.asarray(getattr(rows[f"{colour}_{est}"], "value", rows[f"{colour}_{est}"]), float)
    true = np.asarray(getattr(rows[f"{colour}_true"], "value", rows[f"{colour}_true"]), float)
    return meas - true


def _stats(d):
    d = d[np.isfinite(d)]
    if d.size == 0:
        return dict(n_valid=0, median_abs=np.nan, p68=np.nan, p95=np.nan, p997=np.nan, bias=np.nan)
    a = np.abs(d)
    return dict(n_valid=int(d.size), median_abs=float(np.median(a)), p68=float(np.percentile(a, 68.27)),
                p95=float(np.percentile(a, 95.45)), p997=float(np.percentile(a, 99.73)), bias=float(np.median(d)))


def summarise(rows) -> dict:
    """Overall, per surface-brightness bin and per area bin statistics of |measured - true|, per estimate."""
    sb = np.asarray(getattr(rows["sb_g"], "value", rows["sb_g"]), float)
    area = np.asarray(getattr(rows["area"], "value", rows["area"]), float)
    overall, by_sb, by_area = [], [], []
    for est in ESTIMATES:
        for c in COLOURS:
            d = _err(rows, est, c)
            overall.append({"estimate": est, "colour": c, "n": len(d), **_stats(d)})
            for lo, hi in zip(SB_BINS[:-1], SB_BINS[1:]):
                sel = (sb >= lo) & (sb < hi)
                if sel.any():
                    by_sb.append({"estimate": est, "colour": c, "sb_lo": lo, "sb_hi": hi, "n": int(sel.sum()),
                                  **_stats(d[sel])})
            for lo, hi in zip(AREA_BINS[:-1], AREA_BINS[1:]):
                sel = (area >= lo) & (area < hi * 1.0001)
                if sel.any():
                    by_area.append({"estimate": est, "colour": c, "area_lo": lo, "area_hi": hi,
                                    "n": int(sel.sum()), **_stats(d[sel])})
    return {"overall": QTable(rows=overall), "by_sb": QTable(rows=by_sb), "by_area": QTable(rows=by_area),
            "targets": _targets(rows, sb)}


def _targets(rows, sb):
    out = []
    for c in COLOURS:
        d = _err(rows, "gaussian", c)
        p68 = _stats(d)["p68"]
        out.append((f"gaussian 68 % of abs(error) {c} <= {TARGET_68[c]}", p68, p68 <= TARGET_68[c]))
        bright = _stats(d[sb < 26.0])["median_abs"]
        out.append((f"gaussian median abs(error) {c}, sb_g < 26, <= {TARGET_MEDIAN_BRIGHT}", bright,
                    bright <= TARGET_MEDIAN_BRIGHT))
    for reg in ("bisector", "ols", "deming"):
        worse, total = 0, 0
        for c in COLOURS:
            dg, dl = _err(rows, "gaussian", c), _err(rows, f"linear_{reg}", c)
            for lo, hi in zip(SB_BINS[:-1], SB_BINS[1:]):
                sel = (sb >= lo) & (sb < hi)
                if sel.sum() < 5:
                    continue
                total += 1
                worse += _stats(dl[sel])["median_abs"] > _stats(dg[sel])["median_abs"]
        out.append((f"linear ({reg}) worse than gaussian in every (colour, sb) bin", f"{worse}/{total}",
                    worse == total))
    return out


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.3f}" if np.isfinite(v) else "nan"
    return str(v)


def _md_table(table) -> str:
    names = table.colnames
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for row in table:
        lines.append("| " + " | ".join(_fmt(row[n] if not hasattr(row[n], "unit") else float(row[n].value))
                                       for n in names) + " |")
    return "\n".join(lines)


def report(rows, summary, outdir, *, overwrite: bool = False, command: str = "") -> Path:
    """Write rows, summary tables (ECSV + Markdown) and the plots into ``outdir``; returns summary.md."""
    from astroclean.io import check_writable
    from astroclean.cirrus import plots

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    files = {"rows.ecsv": rows, "overall.ecsv": summary["overall"], "by_sb.ecsv": summary["by_sb"],
             "by_area.ecsv": summary["by_area"]}
    for name, tab in files.items():
        check_writable(outdir / name, overwrite=overwrite)
        tab.write(outdir / name, format="ascii.ecsv", overwrite=True)
    meta = rows.meta
    flagged = {est: int(sum(1 for f in rows[f"g_r_{est}_flag"] if f != "ok")) for est in ESTIMATES}
    lines = [f"## Mock study {meta['scenario']} ({meta['background']} background)", "",
             f"`{command}`" if command else "", "",
             f"{len(rows)} squares in {meta['n_frames']} frames, g-r {meta['g_r_range']}, r-i {meta['r_i_range']}, "
             f"sb_g {meta['sb_range']} mag/arcsec^2, area {meta['area_range']} arcsec^2, intensity structure "
             f"{meta.get('structure', 0.2)} (scale {meta.get('structure_scale', 0.0)}\"); "
             f"{meta['seconds']:.0f} s. Flagged (no g-r value, reason in rows.ecsv): "
             + ", ".join(f"{k} {v}" for k, v in flagged.items()) + ". Statistics over the valid values.", "",
             "### abs(measured - true) overall (mag; p68/p95/p997 = 68.27/95.45/99.73 % limits)", "",
             _md_table(summary["overall"]), "", "Reasons of the flagged g-r values: " + _reasons(rows), "", "### Median abs(error) per g surface-brightness bin", "",
             _pivot(summary["by_sb"], "sb_lo"), "", "### Median abs(error) per area bin (arcsec^2)", "",
             _pivot(summary["by_area"], "area_lo"), "", "### Targets (issue 12)", "",
             "| target | measured | verdict |", "|---|---|---|"]
    for name, value, ok in summary["targets"]:
        lines.append(f"| {name} | {_fmt(value)} | {'PASS' if ok else 'FAIL'} |")
    md = outdir / "summary.md"
    check_writable(md, overwrite=overwrite)
    md.write_text("\n".join(lines) + "\n")
    plots.measured_vs_true(rows, outdir / "measured_vs_true.png", estimates=("gaussian", "linear_bisector",
                                                                             "linear_deming"))
    plots.error_vs(rows, "sb_g", outdir / "error_vs_sb.png", estimates=ESTIMATES)
    plots.error_vs(rows, "area", outdir / "error_vs_area.png", estimates=ESTIMATES)
    plots.error_distribution(rows, outdir / "error_distribution.png", estimates=("gaussian", "linear_bisector"))
    return md


def _reasons(rows) -> str:
    parts = []
    for est in ("gaussian", "linear_bisector"):
        counts = {}
        for flag in rows[f"g_r_{est}_flag"]:
            if flag != "ok":
                key = str(flag).split("(")[0].split(":")[0]
                counts[key] = counts.get(key, 0) + 1
        parts.append(f"{est}: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"))
    return "; ".join(parts)


def _pivot(table, key) -> str:
    if len(table) == 0:
        return "(empty)"
    keys = sorted(set(float(v) for v in table[key]))
    head = "| estimate | colour | " + " | ".join(
        (f"{k:.0f}-{k + 1:.0f}" if key == "sb_lo" else f"{k:.0e}-{k * 10:.0e}") for k in keys) + " |"
    lines = [head, "|" + "---|" * (len(keys) + 2)]
    for est in ESTIMATES:
        for c in COLOURS:
            cells = []
            for k in keys:
                sel = [r for r in table if r["estimate"] == est and r["colour"] == c and float(r[key]) == k]
                cells.append(f"{sel[0]['median_abs']:.3f} (n={sel[0]['n']})" if sel else "-")
            lines.append(f"| {est} | {c} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def inversion_study(outdir, *, n_target: int = 300, n_mocks: int = 3000, sb_range=None, rng: int = 0,
                    data_dir=None, estimate: str = "gaussian", n_boot: int = 50, overwrite: bool = False,
                    command: str = "", progress: bool = False) -> dict:
    """Recover a known S3 colour rectangle from S3 mocks with an S4 kernel map (independent seeds).

    Both sets share the surface-brightness range (``sb_range``, default the
    studies' 26-30) and the area law, as the inversion requires. Writes
    ``inversion.md``, ``inversion.ecsv`` (S3 and S4 rows) and
    ``inversion_colour_colour.png``; returns the numbers.
    """
    from astroclean.io import check_writable
    from astroclean.cirrus import plots
    from astroclean.cirrus.inversion import fit_colour_range

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    s3 = run_study("S3", n_squares=n_target, rng=rng, data_dir=data_dir, sb_range=sb_range, progress=progress)
    s4 = run_study("S4", n_squares=n_mocks, rng=rng + 1, data_dir=data_dir, sb_range=sb_range, progress=progress)
    col = lambda t, kind: np.column_stack([np.asarray(t[f"g_r_{kind}"].value, float),  # noqa: E731
                                           np.asarray(t[f"r_i_{kind}"].value, float)])
    t0 = time.perf_counter()
    fit = fit_colour_range(col(s3, estimate), col(s4, "true"), col(s4, estimate), n_boot=n_boot, rng=rng)
    seconds = time.perf_counter() - t0
    truth = get_scenario("S3")
    edge_err = [abs(fit.g_r[0] - truth.g_r[0]), abs(fit.g_r[1] - truth.g_r[1]), abs(fit.r_i[0] - truth.r_i[0]),
                abs(fit.r_i[1] - truth.r_i[1])]
    ok = max(edge_err) <= 0.05 + 1e-9
    both = QTable(s3, copy=True)
    for name in list(both.colnames):
        if name not in s4.colnames:
            both.remove_column(name)
    from astropy.table import vstack
    both = vstack([both, s4[both.colnames]])
    path = outdir / "inversion.ecsv"
    check_writable(path, overwrite=overwrite)
    both.write(path, format="ascii.ecsv", overwrite=True)
    n_valid = int(np.all(np.isfinite(col(s3, estimate)), axis=1).sum())
    lines = ["## Intrinsic colour range: S3 recovered with S4 mocks", "",
             f"`{command}`" if command else "", "",
             f"S3: {n_target} squares ({n_valid} with both {estimate} colours), true g-r {list(truth.g_r)}, "
             f"r-i {list(truth.r_i)}; S4: {n_mocks} squares; sb_g {list(s3.meta['sb_range'])}; method "
             f"{fit.method}" + (f" (kernel widths {fit.bandwidth[0]:.3f}, {fit.bandwidth[1]:.3f} mag)"
                                if fit.method == "kde" else "") + f"; fit {seconds:.1f} s with {n_boot} bootstrap "
             "resamples.", "",
             "| | low edge | high edge |", "|---|---|---|",
             f"| true g-r | {truth.g_r[0]:.2f} | {truth.g_r[1]:.2f} |",
             f"| recovered g-r | {fit.g_r[0]:.2f} +- {fit.g_r_err[0]:.2f} | {fit.g_r[1]:.2f} +- {fit.g_r_err[1]:.2f} |",
             f"| true r-i | {truth.r_i[0]:.2f} | {truth.r_i[1]:.2f} |",
             f"| recovered r-i | {fit.r_i[0]:.2f} +- {fit.r_i_err[0]:.2f} | {fit.r_i[1]:.2f} +- {fit.r_i_err[1]:.2f} |",
             "", f"Largest edge error {max(edge_err):.2f} mag: target (<= 0.05 on each edge) "
             f"{'PASS' if ok else 'FAIL'}."]
    md = outdir / "inversion.md"
    check_writable(md, overwrite=overwrite)
    md.write_text("\n".join(lines) + "\n")
    table = QTable({"g_r_gaussian": s3[f"g_r_{estimate}"], "r_i_gaussian": s3[f"r_i_{estimate}"],
                    "g_r_gaussian_err": s3[f"g_r_{estimate}_err"], "r_i_gaussian_err": s3[f"r_i_{estimate}_err"]})
    plots.colour_colour(table, outdir / "inversion_colour_colour.png", rectangle=(fit.g_r, fit.r_i),
                        rectangle_err=np.array(fit.g_r_err + fit.r_i_err), truth_rectangle=(truth.g_r, truth.r_i),
                        title=f"S3 mocks ({estimate}) and the recovered range")
    return {"fit": fit, "edge_error": edge_err, "pass": ok, "markdown": md}


def real_field(outdir, *, data_dir=None, sb_limit: float = 27.0, min_bins: int = 5, mocks=None, n_boot: int = 50,
               overwrite: bool = False, command: str = "") -> dict:
    """Catalogue, colours, plots (and the inversion when possible) on the real SDSS g r i frame.

    There is no issue-11 segmentation on this branch, so the filaments come
    from a classical stand-in: the frame's source mask, 6" bins, the r surface
    brightness smoothed over 3x3 bins brighter than ``sb_limit``, segments of
    at least ``min_bins`` big pixels. ``mocks`` (an ECSV of S4 rows, e.g. the
    inversion study's ``inversion.ecsv``) enables the colour-range fit.
    Writes ``real_filaments.ecsv``/``.parquet``, ``real_segments.fits``,
    ``real_overlay.png``, ``real_colour_colour.png``, ``real_sb_area.png``,
    ``real.md``.
    """
    from scipy import ndimage

    from astroclean.cirrus import plots
    from astroclean.cirrus.colours import write_catalogue
    from astroclean.cirrus.inversion import fit_colour_range

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    bg = load_sdss_background(data_dir)
    smask = source_mask(bg, nsigma=3.0, grow=2)
    ones = np.ones(bg.shape, bool)
    pre = extract_filaments(ones, bg, source_mask=smask, sky="none")  # binned fluxes of the whole frame
    f = pre.bin_factor
    r = np.where(pre.usable, pre.binned[1], 0.0)
    w = ndimage.uniform_filter(pre.usable.astype(float), 3)
    smooth = ndimage.uniform_filter(r, 3) / np.maximum(w, 1e-6)
    sky = np.median(pre.binned[1][pre.usable])
    with np.errstate(invalid="ignore", divide="ignore"):
        sb_r = bg.zeropoints[1] - 2.5 * np.log10((smooth - sky) / bg.pixel_scale**2)
    big = (sb_r < sb_limit) & (w > 0.5)
    cirrus = np.zeros(bg.shape, bool)
    up = np.repeat(np.repeat(big, f, 0), f, 1)
    cirrus[: up.shape[0], : up.shape[1]] = up
    fil = extract_filaments(cirrus, bg, source_mask=smask, min_bins=min_bins)
    table = measure_colours(fil, method="both", rng=0)
    for name in ("real_filaments.ecsv", "real_filaments.parquet"):
        write_catalogue(table, outdir / name, overwrite=overwrite)
    fil.write_segments(outdir / "real_segments.fits", overwrite=overwrite)
    ok = np.isfinite(table["g_r_gaussian"].value) & np.isfinite(table["r_i_gaussian"].value)
    fit = None
    note = ""
    if mocks is not None and ok.sum() >= 5:
        m = QTable.read(mocks)
        m = m[m["scenario"] == "S4"] if "scenario" in m.colnames else m
        fit = fit_colour_range(np.column_stack([table["g_r_gaussian"].value[ok], table["r_i_gaussian"].value[ok]]),
                               np.column_stack([m["g_r_true"].value, m["r_i_true"].value]),
                               np.column_stack([m["g_r_gaussian"].value, m["r_i_gaussian"].value]), n_boot=n_boot,
                               rng=0)
    elif ok.sum() < 5:
        note = f"only {int(ok.sum())} filaments with both colours: too few for the inversion (needs >= 5)"
    else:
        note = "no S4 mocks given (--mocks): inversion not run"
    plots.overlay(bg.data[1], fil.segments, outdir / "real_overlay.png", bin_factor=f, table=table,
                  title=f"SDSS r with the {len(table)} candidate filaments (r SB < {sb_limit} smoothed)")
    plots.colour_colour(table, outdir / "real_colour_colour.png",
                        rectangle=(fit.g_r, fit.r_i) if fit else None,
                        rectangle_err=np.array(fit.g_r_err + fit.r_i_err) if fit else None,
                        title="real SDSS frame: candidate filaments (gaussian)")
    plots.sb_vs_area(table, outdir / "real_sb_area.png")
    n_crit = int(np.sum(table["criterion_gaussian"][ok]))
    lines = ["## Real frame (SDSS g r i, 54 s) with a classical stand-in segmentation", "",
             f"`{command}`" if command else "", "",
             f"{len(table)} candidate filaments (>= {min_bins} big pixels of 6\"), {int(ok.sum())} with both Gaussian "
             f"colours; {n_crit} of those satisfy (r-i) < 0.43 (g-r) - 0.06.", ""]
    if fit is not None:
        lines.append(f"Inversion with the S4 mocks: g-r {fit.g_r[0]:.2f}-{fit.g_r[1]:.2f} "
                     f"(+-{fit.g_r_err[0]:.2f}/{fit.g_r_err[1]:.2f}), r-i {fit.r_i[0]:.2f}-{fit.r_i[1]:.2f} "
                     f"(+-{fit.r_i_err[0]:.2f}/{fit.r_i_err[1]:.2f}) from {fit.n_observed} filaments.")
    else:
        lines.append(note)
    cols = ["id", "area", "n_used", "sb_g", "sb_r", "g_r_gaussian", "g_r_gaussian_err", "r_i_gaussian",
            "r_i_gaussian_err", "g_r_linear", "r_i_linear", "criterion_gaussian", "g_r_gaussian_flag", "flags"]
    lines += ["", _md_table(table[cols])]
    md = outdir / "real.md"
    from astroclean.io import check_writable

    check_writable(md, overwrite=overwrite)
    md.write_text("\n".join(lines) + "\n")
    return {"table": table, "fit": fit, "markdown": md, "filaments": fil}


def add_parser(subparsers):
    """``astroclean evaluate cirrus-colours``."""
    p = subparsers.add_parser("cirrus-colours", help="mock study of filament colours (S1-S4)", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--simulation", default="S1", help="S1, S2, S3 or S4 (default S1)")
    p.add_argument("--n-squares", type=int, default=600, help="mock squares (default 600)")
    p.add_argument("--per-frame", type=int, default=6, help="squares tried per frame (default 6)")
    p.add_argument("--sb-range", type=float, nargs=2, default=None, metavar=("BRIGHT", "FAINT"))
    p.add_argument("--profile", default="gaussian", choices=["gaussian", "gauss+lorentz"])
    p.add_argument("--structure", type=float, default=0.2,
                   help="intensity scatter of the squares (sigma of ln I, common to all bands; default 0.2)")
    p.add_argument("--structure-scale", type=float, default=0.0, metavar="ARCSEC",
                   help="smooth that scatter over this scale (default 0: white, per pixel)")
    p.add_argument("--inversion", type=int, default=0, metavar="N_S4",
                   help="with --simulation S3: also fit the S3 colour rectangle with N_S4 S4 mocks (the inversion "
                        "test) instead of the plain study")
    p.add_argument("--real", action="store_true",
                   help="instead: catalogue, colours and plots of the real SDSS frame (classical stand-in "
                        "segmentation), with the inversion when --mocks is given")
    p.add_argument("--mocks", default=None, help="with --real: an ECSV of S4 rows (the inversion study's inversion.ecsv)")
    p.add_argument("--from-rows", default=None, help="remake the report from a study's rows.ecsv (no simulation)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="real data folder ($ASTROCLEAN_DATA_DIR)")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=run_cli)
    return p


def run_cli(args) -> int:
    import shlex
    import sys

    if args.n_squares < 1:
        raise AstrocleanValueError(f"--n-squares must be >= 1, got {args.n_squares}")
    argv = sys.argv[sys.argv.index("cirrus-colours") + 1:] if "cirrus-colours" in sys.argv else []
    cmd = "astroclean evaluate cirrus-colours " + " ".join(shlex.quote(a) for a in argv)
    if args.from_rows:
        rows = load_rows(args.from_rows)
        md = report(rows, summarise(rows), args.output, overwrite=args.overwrite,
                    command=rows.meta.get("command", cmd))
        print(md.read_text())
        return 0
    if args.real:
        res = real_field(args.output, data_dir=args.data_dir, mocks=args.mocks, overwrite=args.overwrite, command=cmd)
        print(res["markdown"].read_text())
        return 0
    if args.inversion:
        if args.simulation.upper() != "S3":
            raise AstrocleanValueError("--inversion recovers the S3 rectangle; use it with --simulation S3")
        res = inversion_study(args.output, n_target=args.n_squares, n_mocks=args.inversion, sb_range=args.sb_range,
                              rng=args.seed, data_dir=args.data_dir, overwrite=args.overwrite, command=cmd,
                              progress=True)
        print(res["markdown"].read_text())
        return 0
    rows = run_study(args.simulation, n_squares=args.n_squares, per_frame=args.per_frame, rng=args.seed,
                     data_dir=args.data_dir, sb_range=args.sb_range, profile=args.profile, progress=True,
                     structure=args.structure, structure_scale=args.structure_scale)
    rows.meta["command"] = cmd
    summary = summarise(rows)
    md = report(rows, summary, args.output, overwrite=args.overwrite, command=cmd)
    print(md.read_text())
    return 0
