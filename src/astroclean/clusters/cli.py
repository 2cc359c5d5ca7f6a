"""Star clusters: age, mass, size, A_V and P(cluster) at catalogue positions in HST WFC3/UVIS F336W, F438W, F814W.

    astroclean clusters f336w.fits f438w.fits f814w.fits --catalog candidates.csv -o out/
    astroclean clusters fields/ -o out/ --workers 2          many fields, each <field>_f336w/_f438w/_f814w.fits
    astroclean simulate clusters -n 20000 -o mocks/
    astroclean train clusters --sets mocks/ --name wfc3-m83
    astroclean evaluate clusters --sets mocks/ -o bench/

A field is its three band files, found from the F336W file by replacing f336w with f438w and f814w in
its name (see astroclean.clusters.batch), plus a catalogue: --catalog (one file for every field, or a
pattern with {field}), else <field>_catalog.csv / .ecsv, <field>.csv / .ecsv or catalog.csv beside the
images. The catalogue (CSV or ECSV) needs columns x, y (pixels, 0-based; --one-based for the FITS /
LEGUS convention) or ra, dec (degrees, through the images' WCS); an id column is kept.

Products per field: <field>_clusters.ecsv (one row per position: 16/50/84 % of log age, log mass,
r_eff, A_V; P(cluster), S/N, flag) and <field>_clusters.png (the cutout sheet). A bad field (a band
missing, a wrong filter, no catalogue, an unreadable file) fails alone, with its reason; the others
go on. Existing products are kept unless --overwrite (or --resume skips the finished fields).
"""

from __future__ import annotations

import argparse
import sys

def add_arguments(p) -> None:
    """The options of ``astroclean clusters`` (inputs, -o, --overwrite, --device and the batch options come from the CLI)."""
    p.add_argument("--catalog", default=None,
                   help="CSV/ECSV with x, y (0-based pixels) or ra, dec [deg]: one file, or a pattern with {field}; "
                        "default: <field>_catalog.csv beside the images")
    p.add_argument("--one-based", action="store_true", help="catalogue x, y are 1-based (FITS, LEGUS)")
    p.add_argument("--model", default="wfc3-m83", help="cluster model (see `astroclean models --task clusters`)")
    p.add_argument("--distance", type=float, default=4.5, help="distance in Mpc (default 4.5, M83)")
    p.add_argument("--zeropoints", type=float, nargs=3, default=None,
                   help="Vega zero points (mag of 1 data unit) of F336W, F438W, F814W when the headers have no PHOTFLAM")
    p.add_argument("--no-png", action="store_true", help="no cutout sheet")


def batch_spec(args):
    """The batch spec of ``astroclean clusters`` from parsed ``args``."""
    from astroclean.clusters.batch import ClustersBatch

    return ClustersBatch(model=args.model, catalog=args.catalog, one_based=args.one_based, distance=args.distance,
                         zeropoints=None if args.zeropoints is None else tuple(args.zeropoints),
                         png=not args.no_png, device=args.device)


def add_simulate_parser(tasks):
    p = tasks.add_parser("clusters", help="mock star clusters with truth (train/val/test npz)")
    p.add_argument("-n", "--n-train", type=int, default=24000)
    p.add_argument("--n-val", type=int, default=1500)
    p.add_argument("--n-test", type=int, default=4000)
    p.add_argument("--size", type=int, default=48)
    p.add_argument("--smooth-fraction", type=float, default=0.0, help="fraction of clusters rendered as smooth light")
    p.add_argument("--smooth-mode", default="mean", choices=["mean", "sampled"],
                   help="smooth light: the mean SSP or the summed light of the drawn stars")
    p.add_argument("--king-fraction", type=float, default=0.0, help="fraction of clusters with a King (1962) profile")
    p.add_argument("--seed-offset", type=int, default=0, help="added to the default seeds (extra sets)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("-o", "--output", default="runs/clusters")
    p.set_defaults(func=run_simulate)
    return p


def run_simulate(args) -> int:
    from astroclean.clusters.sets import main as sets_main

    return sets_main(["-o", args.output, "--n-train", str(args.n_train), "--n-val", str(args.n_val),
                      "--n-test", str(args.n_test), "--size", str(args.size),
                      "--smooth-fraction", str(args.smooth_fraction), "--smooth-mode", args.smooth_mode,
                      "--king-fraction", str(args.king_fraction), "--seed-offset", str(args.seed_offset)]
                     + (["--data-dir", args.data_dir] if args.data_dir else []))


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
    """``python -m astroclean.clusters.cli ...``: the same as ``astroclean clusters ...`` (or ``astroclean
    simulate|train|evaluate clusters ...`` when the first argument is one of those)."""
    from astroclean.cli import main as astroclean_main

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["simulate"], ["train"], ["evaluate"]):
        if len(argv) < 2 or argv[1] != "clusters":
            argv = [argv[0], "clusters", *argv[1:]]
    elif argv[:1] != ["clusters"]:
        argv = ["clusters", *argv]
    return astroclean_main(argv)


if __name__ == "__main__":
    sys.exit(main())
