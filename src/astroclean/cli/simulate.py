"""``astroclean simulate``: write seeded simulations with their truth to disk.

    astroclean simulate cosmic-rays --flavour ground --split train --n-patches 2000 -o ground_train.npz
    astroclean simulate sources --band blue --split benchmark --background 0 -o pacs_blue_0.fits
"""

from __future__ import annotations


def add_parser(subparsers):
    p = subparsers.add_parser("simulate", help="write simulated sets with their truth")
    tasks = p.add_subparsers(dest="task", required=True)
    cr = tasks.add_parser("cosmic-rays", help="real backgrounds + injected real/simulated cosmic rays")
    cr.add_argument("--flavour", required=True, choices=["ground", "space", "crowded"])
    cr.add_argument("--split", default="train", choices=["train", "benchmark"],
                    help="which backgrounds and cosmic-ray hits (the two are disjoint)")
    cr.add_argument("--n-patches", type=int, default=1000)
    cr.add_argument("--patch-size", type=int, default=128)
    cr.add_argument("--density", type=float, nargs=2, default=(0.002, 0.02), metavar=("LOW", "HIGH"),
                    help="range of the covered pixel fraction")
    cr.add_argument("--seed", type=int, default=0)
    cr.add_argument("--data-dir", default=None, help="real data folder for the train split ($ASTROCLEAN_DATA_DIR)")
    cr.add_argument("-o", "--output", required=True, help="output .npz file")
    cr.add_argument("--overwrite", action="store_true")
    src = tasks.add_parser("sources", help="far-IR map + injected PACS point sources (FITS + ECSV truth)")
    src.add_argument("--band", default="blue", choices=["blue", "green", "red"])
    src.add_argument("--mode", default="scan", choices=["scan", "chopnod"])
    src.add_argument("--split", default="benchmark", choices=["train", "benchmark"])
    src.add_argument("--background", type=int, default=0, help="index of the background map of the split")
    src.add_argument("--per-level", type=int, default=6, help="sources per flux level (fewer if the map is full)")
    src.add_argument("--levels", type=float, nargs="+", default=None, metavar="JY",
                     help="flux levels in Jy (default 0.01 0.03 0.1 0.3 1 3 10 40)")
    src.add_argument("--seed", type=int, default=0)
    src.add_argument("--data-dir", default=None, help="real data folder for the train split ($ASTROCLEAN_DATA_DIR)")
    src.add_argument("-o", "--output", required=True, help="output FITS map (IMAGE, BACKGROUND, SOURCES, MASK)")
    src.add_argument("--catalogue", default=None, help="output ECSV source list (default: beside the map)")
    src.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=run)


def run_sources(args) -> int:
    from pathlib import Path

    import numpy as np

    from .. import __version__
    from ..io import atomic_write, check_writable, write_fits
    from ..simulate.far_infrared import FLUX_LEVELS, make_source_maps

    out = Path(args.output)
    cat = Path(args.catalogue) if args.catalogue else out.with_suffix(".ecsv")
    check_writable(out, overwrite=args.overwrite)
    check_writable(cat, overwrite=args.overwrite)
    levels = tuple(args.levels) if args.levels else FLUX_LEVELS
    (image, truth), = make_source_maps(1, split=args.split, band=args.band, mode=args.mode, first=args.background,
                                       rng=np.random.default_rng(args.seed), flux_levels=levels,
                                       per_level=args.per_level, data_dir=args.data_dir)
    header = truth.wcs.to_header() if truth.wcs is not None else None
    if header is not None:
        header["BUNIT"] = "Jy/pixel"
    provenance = {"software": f"astroclean {__version__}", "task": "simulate sources", "band": args.band,
                  "mode": args.mode, "split": args.split, "background": truth.meta["background"], "seed": args.seed}
    write_fits(out, [("IMAGE", image, header), ("BACKGROUND", truth.background, header),
                     ("SOURCES", truth.sources.astype(np.float32), header), ("MASK", truth.mask, header)],
               provenance=provenance, overwrite=args.overwrite)
    table = truth.table.copy()
    table.meta = {k: v for k, v in table.meta.items()}

    def write(tmp):
        table.write(tmp, format="ascii.ecsv", overwrite=True)

    atomic_write(cat, write, overwrite=args.overwrite)
    counts = np.bincount(np.asarray(table["level"]), minlength=len(levels))
    print(f"wrote {out} ({image.shape[1]}x{image.shape[0]} px, background {truth.meta['background']}) and {cat}: "
          f"{len(table)} sources, per level " + ", ".join(f"{lv:g} Jy: {c}" for lv, c in zip(levels, counts)))
    return 0


def run(args) -> int:
    import numpy as np

    if args.task == "sources":
        return run_sources(args)

    from ..simulate import make_cosmic_ray_set, write_cosmic_ray_set

    cr_set = make_cosmic_ray_set(args.flavour, args.split, n_patches=args.n_patches, patch_size=args.patch_size,
                                 rng=np.random.default_rng(args.seed), data_dir=args.data_dir,
                                 density=tuple(args.density))
    path = write_cosmic_ray_set(cr_set, args.output, overwrite=args.overwrite)
    n_cr = int(cr_set.truth.sum())
    print(f"wrote {path}: {len(cr_set.image)} patches of {args.patch_size} px, {n_cr} cosmic-ray pixels "
          f"({n_cr / cr_set.truth.size:.2%}), backgrounds: {', '.join(cr_set.meta['backgrounds'])}")
    return 0
