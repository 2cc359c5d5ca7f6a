"""Input expansion and summary tables shared by every task's command.

Example
-------
>>> from astroclean.cli.inputs import format_table
>>> print(format_table([{"file": "a.fits", "n": 3}]))
file    n
------  -
a.fits  3
"""

from __future__ import annotations

import glob
import sys
from pathlib import Path

from astroclean.errors import AstrocleanFileError
from astroclean.io.paths import is_fits_name, is_product_name, printable
from astroclean.tasks import list_tasks


def say(message) -> None:
    """Progress and notes for a person: standard error, flushed (standard output keeps the results)."""
    import sys

    print(message, file=sys.stderr, flush=True)


def is_companion(path: Path) -> bool:
    """A DECam Community Pipeline DQ (``_ood_``) or weight (``_oow_``) file whose image (``_ooi_``) is beside it.

    Such files are read with their image, not processed on their own.
    """
    for tag in ("_ood_", "_oow_"):
        if tag in path.name and path.with_name(path.name.replace(tag, "_ooi_")).exists():
            return True
    return False


def expand_inputs(inputs, *, skipped: list | None = None) -> list[Path]:
    """Files, quoted globs and directories (their FITS files) to a sorted, de-duplicated list.

    Companion planes (see :func:`is_companion`) are dropped: they travel with their image. A folder
    or a glob never yields our own products (``*.cr.fits``, ``*_nosources.fits``, ...: see
    ``Task.products`` of every task), so ``-o`` may be the input folder; a product named
    explicitly reaches the batch runner, which recognises it by its ``ACTASK`` card and skips it.
    ``skipped`` (a list) receives the paths left out that way.

    Raises
    ------
    AstrocleanFileError
        When nothing matches at all (an empty glob, a missing path).
    """
    list_tasks()   # every task has declared its products' name endings
    found, missing, products = [], [], []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            listed = sorted(p for p in path.iterdir() if p.is_file() and is_fits_name(p))
        elif any(ch in str(item) for ch in "*?["):
            listed = sorted(Path(p) for p in glob.glob(str(item)) if Path(p).is_file())
            if not listed:
                missing.append(f"{item} (glob matched nothing)")
        else:
            found.append(path)  # missing files are reported per file, as failures
            continue
        products += [p for p in listed if is_product_name(p)]
        found += [p for p in listed if not is_product_name(p)]
    unique = [p for p in dict.fromkeys(found) if not is_companion(p)]
    if skipped is not None:
        skipped += list(dict.fromkeys(products))
    if not unique:
        why = missing or [str(i) for i in inputs]
        if products:
            why.append(f"{len(products)} file(s) there are astroclean products, never inputs")
        raise AstrocleanFileError("no input files: " + "; ".join(printable(w) for w in why) +
                                  "; check the paths or the quoted glob")
    return unique


def format_table(rows: list[dict]) -> str:
    """A plain aligned text table of ``rows`` (dicts with the same keys)."""
    if not rows:
        return "(no rows)"
    keys = list(rows[0])
    cells = [[printable(r.get(k, "")) for k in keys] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    lines = ["  ".join(k.ljust(w) for k, w in zip(keys, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def add_batch_arguments(parser) -> None:
    """The flags every task's command shares for running many files (see docs/batch.md), ``--overwrite`` and ``--device``."""
    group = parser.add_argument_group("running many files (astroclean.batch)")
    group.add_argument("--workers", type=int, default=None, metavar="N",
                       help="run on a local Dask cluster of N single-threaded worker processes, at most one per "
                            "CPU core (default: in this process, no server)")
    group.add_argument("--scheduler", default=None, metavar="ADDR",
                       help="run on the existing Dask scheduler at ADDR (tcp://host:8786)")
    group.add_argument("--resume", action="store_true",
                       help="skip images whose products are complete and valid; redo the rest")
    group.add_argument("--manifest", default=None, metavar="PATH",
                       help="SQLite manifest of the run (default: OUTPUT/astroclean-manifest.sqlite)")
    group.add_argument("--no-progress", action="store_true", help="no progress bar")
    group.add_argument("--overwrite", action="store_true",
                       help="replace existing products (only files astroclean wrote; any other file at a "
                            "product's name is never replaced)")
    parser.add_argument("--device", default=None,
                        help="where the network runs: cpu, cuda or cuda:N (default: cuda when available, else cpu)")


MAX_TABLE_ROWS = 200


def run_batch_command(spec, args) -> int:
    """Run ``spec`` over ``args.inputs`` with the shared batch flags; print the summary; return the exit code.

    Exit code 0 when every image succeeded (or was skipped by ``--resume``), 1 when any
    failed; usage errors (no input, unwritable output, dead scheduler) raise and exit 2.
    """
    from astroclean.batch import run_batch

    skipped = []
    files = expand_inputs(args.inputs, skipped=skipped)
    if skipped:
        print(f"astroclean: {len(skipped)} astroclean product(s) in the inputs left out (products are never inputs)",
              file=sys.stderr)
    report = run_batch(spec, files, outdir=args.output, workers=args.workers, scheduler=args.scheduler,
                       resume=args.resume, overwrite=args.overwrite, manifest=args.manifest,
                       progress=False if args.no_progress else None)
    rows = report.rows if len(report.rows) <= MAX_TABLE_ROWS else report.failures
    table = []
    for r in rows[:MAX_TABLE_ROWS]:
        names = ", ".join(Path(p).name for p in r["outputs"])
        if r["status"] == "skipped" and r["error"]:
            status = f"skipped: {r['error']}"
        else:
            status = {"done": f"ok -> {names}", "skipped": f"skipped (valid) -> {names}"}.get(
                r["status"], f"FAILED: {r['error']}")
        table.append({"file": r["file"], "hdu": r["hdu"] if r["plane"] is None else f"{r['hdu']}[{r['plane']}]",
                      **{c: r["info"].get(c, "-") for c in spec.columns},
                      "seconds": "-" if r["seconds"] is None or r["status"] != "done" else f"{r['seconds']:.2f}",
                      "status": status})
    if table:
        print(format_table(table))
    if len(rows) > MAX_TABLE_ROWS or len(report.rows) > MAX_TABLE_ROWS:
        print(f"(table limited to failures, first {MAX_TABLE_ROWS}; every task is in {report.manifest})")
    n_products = sum(r["status"] == "skipped" and bool(r["error"]) for r in report.rows)
    n_valid = report.n_skipped - n_products
    skipped = (f", {n_valid} skipped (already done)" if n_valid else "") + \
        (f", {n_products} skipped (astroclean products, not inputs)" if n_products else "")
    print(printable(f"{report.n_done} done, {report.n_failed} failed{skipped} in {report.seconds:.1f} s "
                    f"({report.executor}); products in {Path(args.output)}/, manifest {report.manifest}"))
    return 1 if report.n_failed else 0
