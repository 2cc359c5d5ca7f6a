"""Command line of the cluster slice.

    astroclean clusters f336w.fits f438w.fits f814w.fits --catalog candidates.csv -o out/
    astroclean simulate clusters -n 20000 -o mocks/
    astroclean train clusters --sets mocks/ --name wfc3-m83
    astroclean evaluate clusters --sets mocks/ -o bench/

Until the floor's task registry generates these subcommands, the same commands run as
``python -m astroclean.clusters.cli [simulate|train|evaluate] ...`` (inference when the first
argument is a file). # TODO(floor): register a Task with these add_*_parser hooks.

The catalogue (CSV or ECSV) needs columns ``x``, ``y`` (pixels, 0-based; ``--one-based`` for FITS /
LEGUS convention) or ``ra``, ``dec`` (degrees, through the images' WCS); an ``id`` column is kept.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from astroclean.errors import AstrocleanError, AstrocleanFileError, AstrocleanValueError


def add_parser(subparsers):
    """``astroclean clusters``: inference at catalogue positions."""
    p = subparsers.add_parser("clusters", help="star-cluster age, mass, size, A_V, P(cluster) at catalogue positions",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("images", nargs=3, help="F336W, F438W, F814W FITS files (one grid, e-/s or electrons)")
    p.add_argument("--catalog", required=True, help="CSV/ECSV with x, y (0-based pixels) or ra, dec [deg]")
    p.add_argument("--one-based", action="store_true", help="catalogue x, y are 1-based (FITS, LEGUS)")
    p.add_argument("--model", default="wfc3-m83")
    p.add_argument("--distance", type=float, default=4.5, help="distance in Mpc (default 4.5, M83)")
    p.add_argument("--zeropoints", type=float, nargs=3, default=None,
                   help="Vega zero points (mag of 1 data unit) when the headers have no PHOTFLAM")
    p.add_argument("-o", "--output", default="out", help="output folder")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=run_infer)
    return p


def read_catalog(path, *, one_based=False, wcs=None):
    """(positions (N, 2) pixel x, y or SkyCoord, ids) from a CSV/ECSV catalogue."""
    from astropy.table import Table
    path = Path(path)
    if not path.is_file():
        raise AstrocleanFileError(f"catalogue {path} not found")
    fmt = "ascii.ecsv" if path.suffix == ".ecsv" else "ascii.csv"
    try:
        tab = Table.read(path, format=fmt)
    except Exception as exc:  # noqa: BLE001 - astropy raises many types for a malformed table
        raise AstrocleanValueError(f"cannot read catalogue {path} as {fmt}: {exc}") from exc
    names = {c.lower(): c for c in tab.colnames}
    ids = np.asarray(tab[names["id"]]) if "id" in names else np.arange(len(tab))
    if "x" in names and "y" in names:
        pos = np.stack([np.asarray(tab[names["x"]], float), np.asarray(tab[names["y"]], float)], 1)
        return (pos - 1.0 if one_based else pos), ids
    if "ra" in names and "dec" in names:
        from astropy.coordinates import SkyCoord
        return SkyCoord(np.asarray(tab[names["ra"]], float), np.asarray(tab[names["dec"]], float), unit="deg"), ids
    raise AstrocleanValueError(f"catalogue {path} needs columns x, y or ra, dec; it has {tab.colnames}")


def run_infer(args) -> int:
    from astroclean.clusters.api import extract_cutouts, infer_cluster_parameters
    from astroclean.clusters.evaluate.figures import cutout_sheet
    from astroclean.clusters.inputs import read_uvis_bands

    out = Path(args.output)
    stem = Path(args.images[1]).name.split(".fits")[0]
    table_path, sheet_path = out / f"{stem}_clusters.ecsv", out / f"{stem}_clusters.png"
    if table_path.exists() and not args.overwrite:
        raise AstrocleanFileError(f"{table_path} exists; pass --overwrite to replace it")
    stack = read_uvis_bands(args.images, zeropoints=args.zeropoints)
    positions, ids = read_catalog(args.catalog, one_based=args.one_based, wcs=stack.wcs)
    table = infer_cluster_parameters(stack, positions, model=args.model, distance=args.distance)
    table.add_column(ids, name="id", index=0)
    out.mkdir(parents=True, exist_ok=True)
    tmp = table_path.with_suffix(".tmp.ecsv")
    table.write(tmp, format="ascii.ecsv", overwrite=True)
    tmp.replace(table_path)
    pix = np.stack([table["x"].value, table["y"].value], 1)
    cut, _, _ = extract_cutouts(stack.data, stack.mask, pix, 48)
    cutout_sheet(cut * 10 ** (-0.4 * (_model_zp() - np.asarray(stack.zeropoints)))[None, :, None, None],
                 table, sheet_path)
    flags = list(table["flag"])
    counts = {f: flags.count(f) for f in sorted(set(flags))}
    print(f"{len(table)} positions: {counts}; P(cluster) > 0.5: {int(np.nansum(table['p_cluster'] > 0.5))}")
    print(f"wrote {table_path} and {sheet_path}")
    return 0


def _model_zp():
    from astroclean.clusters.tables import tables
    return tables().zeropoint


def add_simulate_parser(tasks):
    p = tasks.add_parser("clusters", help="mock star clusters with truth (train/val/test npz)")
    p.add_argument("-n", "--n-train", type=int, default=24000)
    p.add_argument("--n-val", type=int, default=1500)
    p.add_argument("--n-test", type=int, default=4000)
    p.add_argument("--size", type=int, default=48)
    p.add_argument("--data-dir", default=None)
    p.add_argument("-o", "--output", default="runs/clusters")
    p.set_defaults(func=lambda a: __import__("astroclean.clusters.sets", fromlist=["main"]).main(
        ["-o", a.output, "--n-train", str(a.n_train), "--n-val", str(a.n_val), "--n-test", str(a.n_test),
         "--size", str(a.size)] + (["--data-dir", a.data_dir] if a.data_dir else [])))
    return p


def add_train_parser(tasks):
    p = tasks.add_parser("clusters", help="train the cluster ResNet", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda a: __import__("astroclean.clusters.train", fromlist=["main"]).main(a.rest))
    return p


def add_evaluate_parser(tasks):
    p = tasks.add_parser("clusters", help="cluster benchmark: held-out mocks, classical fit, LEGUS")
    p.add_argument("--sets", default="runs/clusters", help="folder with test.npz and val.npz")
    p.add_argument("--model", default="wfc3-m83")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--n-colour-mocks", type=int, default=3000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-legus", action="store_true")
    p.add_argument("-o", "--output", default="bench/clusters")
    p.set_defaults(func=run_evaluate)
    return p


def run_evaluate(args) -> int:
    from astroclean.clusters.evaluate.benchmark import run_benchmark
    result = run_benchmark(args.sets, args.output, model=args.model, data_dir=args.data_dir,
                           n_colour_mocks=args.n_colour_mocks, threads=args.threads, legus=not args.no_legus)
    for row in result["targets"]:
        print(f"{'met ' if row['met'] else 'MISS'}  {row['target']}: {row['measured']}")
    print(f"wrote {args.output}/report.md and summary.json")
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m astroclean.clusters.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    for name, hook in (("simulate", add_simulate_parser), ("train", add_train_parser),
                       ("evaluate", add_evaluate_parser)):
        hook(sub.add_parser(name).add_subparsers(dest="task", required=True))
    if argv and argv[0] not in ("simulate", "train", "evaluate", "clusters", "-h", "--help"):
        argv = ["clusters", *argv]
    if argv[:1] in (["simulate"], ["train"], ["evaluate"]) and (len(argv) < 2 or argv[1] != "clusters"):
        argv = [argv[0], "clusters", *argv[1:]]
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except AstrocleanError as exc:
        print(f"astroclean: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
