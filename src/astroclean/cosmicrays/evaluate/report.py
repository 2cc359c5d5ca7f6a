"""Write a benchmark's tables and plots: table.md/.ecsv, timing.md/.ecsv, roc.png, pr.png and the analyses.

:func:`write_report` writes, into one folder, atomically and never over
existing files unless ``overwrite=True``:

- ``table.md`` (per flavour, one line per method, intervals in brackets;
  provenance: command, commit, recipe, date) and ``table.ecsv`` (every
  number, one row per method x flavour, descriptions in the metadata);
- ``timing.md`` / ``timing.ecsv``: seconds per case for each method and case shape;
- ``roc.png`` (log FPR axis down to 1e-5) and ``pr.png``, one panel per flavour;
- when :mod:`astroclean.cosmicrays.evaluate.stars`, ``.photometry`` and ``.density``
  are importable: ``star_regions.png/.ecsv``, ``photometry.png/.ecsv`` and
  ``density.png/.ecsv`` (the density sweep reruns the detectors; see
  ``density_options``). A missing or failing analysis is noted in
  ``table.md`` and the rest is written.

Example
-------
>>> import tempfile
>>> from astroclean.cosmicrays.evaluate.benchmark_set import build_benchmark_set
>>> from astroclean.cosmicrays.evaluate.harness import run_benchmark
>>> res = run_benchmark(build_benchmark_set("quick"), ["astroscrappy:sigclip3"], rng=0, n_boot=20,
...                     options={"astroscrappy:sigclip3": {"sweep": (2, 3, 5, 10)}})
>>> paths = write_report(res, tempfile.mkdtemp(), analyses=())
>>> sorted(paths)
['pr.png', 'roc.png', 'table.ecsv', 'table.md', 'timing.ecsv', 'timing.md']
"""

from __future__ import annotations

import importlib
import math
from pathlib import Path

import numpy as np

from astroclean.errors import AstrocleanFileError
from astroclean.evaluate.docs import format_number, markdown_table
from astroclean.io.write import atomic_write, check_writable
from astroclean.cosmicrays.evaluate.harness import FPRS, TPR_FOR_PRECISION

__all__ = ["write_report", "results_table", "timing_table", "markdown_report", "plot_curves",
           "ANALYSES", "PLOTS", "DENSITY_OPTIONS"]

CORE_FILES = ("table.md", "table.ecsv", "timing.md", "timing.ecsv", "roc.png", "pr.png")
ANALYSES = {"stars": ("star_regions.png", "star_regions.ecsv"), "photometry": ("photometry.png", "photometry.ecsv"),
            "density": ("density.png", "density.ecsv"), "saturated": ("saturated.png", "saturated.ecsv")}
_ABOUT = {"stars": "recall and precision inside isophotes of the clean image, positives as in the table",
          "photometry": "apertures of clean point sources on the raw, truth-mask-cleaned and method-cleaned images",
          "density": "injected pixel fraction swept, each detector rerun at its default operating point",
          "saturated": "false flags within 2 px of saturated stars and bleed trails painted on the held-out frames"}
#: Default density sweep: every benchmark background cropped to 192 px, 7 densities, detect-only runs.
DENSITY_OPTIONS = {"backgrounds": ["space", "ground", "crowded"], "max_size": 192, "rng": 0}
_P = f"precision@tpr={TPR_FOR_PRECISION:g}"
_MD_COLUMNS = (  # (header, key, with interval)
    ("TPR @ FPR 1e-4", "tpr@fpr=0.0001", True), ("TPR @ FPR 1e-3", "tpr@fpr=0.001", True),
    ("TPR @1e-4, S/N 1.5-5", "tpr@fpr=0.0001[snr 1.5-5]", False),
    ("TPR @1e-4, S/N > 5", "tpr@fpr=0.0001[snr 5-inf]", False),
    ("TPR @1e-3, S/N 1.5-5", "tpr@fpr=0.001[snr 1.5-5]", False),
    ("TPR @1e-3, S/N > 5", "tpr@fpr=0.001[snr 5-inf]", False),
    ("precision @ TPR 0.95", _P, True), ("AUC", "auc", True), ("F1", "f1", True), ("IoU", "iou", True),
    ("FDR", "fdr", True), ("TPR (op)", "op_tpr", False), ("s / Mpx", "seconds_per_mpx", False))
#: The plots a docs page shows under the table.
PLOTS = ("roc.png", "pr.png") + tuple(f for files in ANALYSES.values() for f in files if f.endswith(".png"))


def _label(results, method):
    return method + (" (UNTRAINED)" if results.descriptions.get(method, {}).get("untrained") else "")


def results_table(results):
    """Every metric as an :class:`astropy.table.Table`, one row per method x flavour."""
    from astropy.table import Table

    keys = list(dict.fromkeys(k for r in results.rows for k in r))
    text = {"method", "flavour", "status", "reason"}
    cols = {k: [r.get(k, "" if k in text else np.nan) for r in results.rows] for k in keys}
    table = Table({k: np.array(v, dtype=str if k in text else float) if k not in ("n_cases", "n_failed")
                   else np.array(v, dtype=int) for k, v in cols.items()})
    table.meta.update({k: v for k, v in results.meta.items()})
    table.meta["methods"] = {m: {k: v for k, v in d.items()} for m, d in results.descriptions.items()}
    table.meta["skipped_cases"] = dict(results.skipped_cases)
    return table


def timing_table(results):
    """Seconds per case for each method and case shape, with model-loading time, as a Table."""
    from astropy.table import Table

    rows = [dict(r, load_seconds=results.descriptions[r["method"]]["load_seconds"]) for r in results.timing]
    names = ["method", "shape", "n_cases", "median_seconds", "total_seconds", "cpu_seconds", "seconds_per_mpx",
             "load_seconds"]
    table = Table(rows=[[r[k] for k in names] for r in rows], names=names) if rows else Table(names=names)
    table.meta["description"] = "wall seconds per case (score and operating-point mask), one run, same process"
    return table


def _cell(row, key, interval):
    if row.get("status") in ("skipped", "failed") or key not in row:
        return "-"
    text = format_number(row[key])
    if interval and f"{key}_low" in row and not math.isnan(row[f"{key}_low"]):
        text += f" [{format_number(row[key + '_low'])}, {format_number(row[key + '_high'])}]"
    return text


def markdown_report(results, *, command=None, notes=()) -> str:
    """The Markdown of ``table.md`` (metrics per flavour, skipped methods, provenance)."""
    m = results.meta
    commit = m.get("commit") or "unknown"
    lines = ["# Cosmic-ray benchmark", ""]
    if command:
        lines += [f"Command: `{command}`  ", ""]
    dirty = " (with uncommitted changes)" if m.get("dirty") else ""
    threads = f"{m['threads']} thread(s) per method" if m.get("threads") else "library-default threads"
    lines += [f"astroclean {m.get('astroclean')}, commit `{commit}`{dirty}, {m.get('date')}  ",
              f"Benchmark set: recipe {m.get('recipe')}, {m.get('n_cases')} cases, "
              f"{m.get('n_pixels', 0) / 1e6:.2f} Mpx, digest `{m.get('set_digest')}`; machine: "
              f"{m.get('cpu_count')} CPU cores, {threads}, {m.get('platform')}", ""]
    untrained = [k for k, d in results.descriptions.items() if d.get("untrained")]
    if untrained:
        lines += [f"**WARNING: {', '.join(untrained)} ha{'s' if len(untrained) == 1 else 've'} no trained weights "
                  "(random initialisation): these rows test the plumbing and are not results.**", ""]
    conf = m.get("confidence", 0.68)
    truth = (f"a cosmic-ray pixel is one whose injected charge is at least {m.get('min_snr')} times the local "
             "noise; the rest of the injected footprint is ignored" if m.get("truth", "core") == "core" else
             "a cosmic-ray pixel is any pixel of the injected footprint (hit cores dilated by 3x3)")
    lines += [f"Pixels pooled over the cases of each flavour; {truth}; bad pixels ignored. Brackets: {conf:.0%} "
              f"bootstrap interval over cases ({m.get('n_boot')} replicates). TPR @ FPR: best TPR with at most "
              f"that fraction of clean pixels flagged; S/N: injected signal over the local noise per pixel. F1, "
              f"IoU, FDR and TPR (op) are at each method's default operating point. A TPR @ FPR of 0 for a sweep method "
              f"(astroscrappy, lacosmic) means that even its strictest setting (sigclip 20) flags more clean "
              f"pixels than that. s / Mpx: wall seconds per megapixel (score and mask; a sweep method runs once "
              f"per sweep value).", ""]
    header = ["method"] + [h for h, _, _ in _MD_COLUMNS]
    for group in dict.fromkeys(r["flavour"] for r in results.rows):
        rows = [r for r in results.rows if r["flavour"] == group]
        ok = [r for r in rows if r["status"] in ("ok", "partial")]
        n_pos = max((r.get("n_positive", 0) for r in ok), default=0)
        title = "all flavours" if group == "all" else group
        n_cases = max((r["n_cases"] for r in rows), default=0)
        lines += [f"## {title} ({n_cases} case{'s' * (n_cases != 1)}, {n_pos} cosmic-ray pixels)", ""]
        lines += markdown_table(header, [[_label(results, r["method"]) + ("" if r["status"] == "ok" else
                                                                      f" ({r['status']})")]
                                    + [_cell(r, key, ci) for _, key, ci in _MD_COLUMNS] for r in ok])
        lines.append("")
    problems = [(r["method"], r["status"] if r["status"] != "partial" else f"failed on {r['n_failed']} of "
                 f"{r['n_failed'] + r['n_cases']} cases", r["reason"])
                for r in results.rows if r["flavour"] == "all" and r["status"] != "ok"]
    if problems or results.skipped_cases:
        lines += ["## Not run, failed, skipped", ""]
        lines += [f"- {name}: {status}: {reason}" for name, status, reason in problems]
        lines += [f"- case {name}: skipped: {reason}" for name, reason in results.skipped_cases.items()]
        lines.append("")
    lines += ["## Methods", ""]
    for name, d in results.descriptions.items():
        params = ", ".join(f"{k}={v}" for k, v in d.items() if k not in ("name", "status", "reason", "load_seconds"))
        lines.append(f"- `{name}`: {params}")
    lines += ["", "Plots: [ROC](roc.png), [precision-recall](pr.png), timing in [timing.md](timing.md).", ""]
    if notes:
        lines += ["## Analyses", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)


def _timing_markdown(results) -> str:
    methods = [name for name in results.methods if any(t["method"] == name for t in results.timing)]
    shapes = sorted({t["shape"] for t in results.timing}, key=lambda s: (np.prod([int(v) for v in s.split("x")]), s))
    look = {(t["method"], t["shape"]): t for t in results.timing}
    lines = ["# Timing", "", "Median wall seconds per case (score and operating-point mask), by case shape; "
             "one run of each method in the same process, so ratios are fair. CPU seconds are less sensitive to "
             "other work on the machine than wall seconds.", ""]
    body = []
    for shape in shapes:
        n = max(look[m, shape]["n_cases"] for m in methods if (m, shape) in look)
        body.append([f"{shape} ({n})"] + [format_number(look[m, shape]["median_seconds"]) if (m, shape) in look else "-"
                                          for m in methods])
    for label, key in (("total wall (s)", "total_seconds"), ("total CPU (s)", "cpu_seconds")):
        body.append([label] + [format_number(sum(t[key] for t in results.timing if t["method"] == m)) for m in methods])
    body.append(["model load (s)"] + [format_number(results.descriptions[m]["load_seconds"]) for m in methods])
    return "\n".join(lines + markdown_table(["shape (cases)"] + methods, body)) + "\n"


def plot_curves(results, path, *, kind="roc"):
    """Write the ROC (``kind="roc"``, log FPR axis from 1e-5) or precision-recall (``"pr"``) curves.

    One panel per flavour and one for all flavours; dots mark the default operating points.
    """
    from astroclean.evaluate.figures import new_figure, save_figure

    groups = list(dict.fromkeys(r["flavour"] for r in results.rows))
    height = 4.4 + 0.25 * math.ceil(len(results.methods) / 5)  # room for the legend below
    fig, axes = new_figure(len(groups), width=4.2 * len(groups), height=height)
    for ax, group in zip(axes, groups):
        for k, method in enumerate(results.methods):
            curve = results.curves.get((method, group))
            if curve is None:
                continue
            row = results.row(method, group)
            style = dict(color=f"C{k % 10}", lw=1.4)
            if kind == "roc":
                ax.plot(np.clip(curve["fpr"], 1e-5, None), curve["tpr"], label=_label(results, method),
                        drawstyle="steps-post", **style)
                ax.plot(max(row["op_fpr"], 1e-5), row["op_tpr"], "o", color=style["color"], ms=5)
            else:
                ax.plot(curve["recall"], curve["precision"], label=_label(results, method), **style)
                ax.plot(row["op_tpr"], row["op_precision"], "o", color=style["color"], ms=5)
        if kind == "roc":
            for fpr in FPRS:
                ax.axvline(fpr, color="0.6", ls=":", lw=0.8)
            ax.set_xscale("log")
            ax.set_xlim(1e-5, 1)
            ax.set_xlabel("false positive rate (clean pixels flagged)")
            ax.set_ylabel("true positive rate (cosmic-ray pixels found)")
        else:
            ax.set_xlim(0, 1)
            ax.set_xlabel("recall (TPR)")
            ax.set_ylabel("precision")
        ax.set_ylim(0, 1.01)
        ax.grid(alpha=0.3)
        ax.set_title("all flavours" if group == "all" else group)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(5, max(1, len(labels))), fontsize=8)
    fig.suptitle(("ROC" if kind == "roc" else "precision-recall") + " (dots: default operating points"
                 + ("; FPR < 1e-5 drawn at 1e-5)" if kind == "roc" else ")"), fontsize=10)
    return save_figure(fig, path)


def _masks(results):
    return {m: {c.name: r.mask for c, r in results.outputs(m)} for m in results.methods if results.outputs(m)}


def _scored_cases(results):
    """The cases with ``truth``/``bad`` replaced by the positives/ignored pixels the metrics table used."""
    from dataclasses import replace

    from astroclean.cosmicrays.evaluate.harness import scored_truth

    truth, min_snr = results.meta.get("truth", "core"), results.meta.get("min_snr") or 0.0
    out = []
    for case in results.cases:
        positives, ignore = scored_truth(case, truth, min_snr=min_snr)
        out.append(replace(case, truth=positives, bad=ignore))
    return out


def _run_analysis(name, results, density_options, log):
    module = importlib.import_module(f"astroclean.cosmicrays.evaluate.{name}")
    if name == "stars":  # scored with the table's truth (same positives, same ignored pixels)
        return module.star_region_metrics(_scored_cases(results), _masks(results))
    if name == "photometry":
        return module.photometry_metrics(results.cases, _masks(results))
    detectors = {m: d for m, d in results.detectors.items() if results.descriptions[m]["status"] == "ok"}
    if name == "saturated":
        return module.saturated_star_metrics(results.cases, detectors)
    options = {**DENSITY_OPTIONS, **(density_options or {})}
    return module.density_sweep(options.pop("backgrounds"), detectors, progress=log, **options)


def write_report(results, outdir, *, overwrite: bool = False, analyses=tuple(ANALYSES), density_options=None,
                 command=None, log=None) -> dict:
    """Write the benchmark report into ``outdir`` (created if missing).

    Parameters
    ----------
    results : BenchmarkResults
    outdir : str or Path
    overwrite : bool
        Replace existing report files; otherwise any existing target file is
        an error, raised before anything is written.
    analyses : sequence of {"stars", "photometry", "density"}
        Extra analyses to run and write when their modules are importable.
    density_options : dict, optional
        Passed to :func:`astroclean.cosmicrays.evaluate.density.density_sweep` (keys
        ``backgrounds``, ``densities``, ``max_size``, ``rng``); default
        :data:`DENSITY_OPTIONS`.
    command : str, optional
        The command line that produced ``results`` (written in ``table.md``).
    log : callable, optional
        Progress lines.

    Returns
    -------
    dict
        File name -> Path of everything written.

    Raises
    ------
    AstrocleanFileError
        A target exists and ``overwrite`` is False, or ``outdir`` is not writable.
    """
    say = log or (lambda message: None)
    unknown = set(analyses) - set(ANALYSES)
    if unknown:
        raise AstrocleanFileError(f"unknown analyses {sorted(unknown)}; choose from {sorted(ANALYSES)}")
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise AstrocleanFileError(f"{outdir} exists and is not a folder; choose another output directory")
    outdir.mkdir(parents=True, exist_ok=True)
    targets = list(CORE_FILES) + [f for a in analyses for f in ANALYSES[a]]
    for name in targets:
        check_writable(outdir / name, overwrite=overwrite)
    written, notes = {}, []

    def put(name, write_fn):
        written[name] = atomic_write(outdir / name, write_fn, overwrite=overwrite)

    for name in analyses:
        png, ecsv = ANALYSES[name]
        say(f"analysis {name}...")
        try:
            result = _run_analysis(name, results, density_options, say)
        except ImportError as exc:
            notes.append(f"{name}: skipped, module not available ({exc})")
            continue
        except Exception as exc:  # an analysis failing must not lose the benchmark tables
            notes.append(f"{name}: failed: {type(exc).__name__}: {exc}")
            continue
        put(png, result.plot)
        put(ecsv, lambda tmp, r=result: r.table().write(tmp, format="ascii.ecsv", overwrite=True))
        notes.append(f"{name} ({_ABOUT[name]}): [{png}]({png}), table [{ecsv}]({ecsv})")
    put("roc.png", lambda tmp: plot_curves(results, tmp, kind="roc"))
    put("pr.png", lambda tmp: plot_curves(results, tmp, kind="pr"))
    put("table.ecsv", lambda tmp: results_table(results).write(tmp, format="ascii.ecsv", overwrite=True))
    put("timing.ecsv", lambda tmp: timing_table(results).write(tmp, format="ascii.ecsv", overwrite=True))
    put("timing.md", lambda tmp: Path(tmp).write_text(_timing_markdown(results)))
    text = markdown_report(results, command=command, notes=notes)
    put("table.md", lambda tmp: Path(tmp).write_text(text))
    return written
