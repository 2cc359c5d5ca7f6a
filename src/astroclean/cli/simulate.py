"""``astroclean simulate cosmic-rays``: write a seeded training or benchmark set to disk.

    astroclean simulate cosmic-rays --flavour ground --split train --n-patches 2000 -o ground_train.npz
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
    p.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from ..simulate import make_cosmic_ray_set, write_cosmic_ray_set

    cr_set = make_cosmic_ray_set(args.flavour, args.split, n_patches=args.n_patches, patch_size=args.patch_size,
                                 rng=np.random.default_rng(args.seed), data_dir=args.data_dir,
                                 density=tuple(args.density))
    path = write_cosmic_ray_set(cr_set, args.output, overwrite=args.overwrite)
    n_cr = int(cr_set.truth.sum())
    print(f"wrote {path}: {len(cr_set.image)} patches of {args.patch_size} px, {n_cr} cosmic-ray pixels "
          f"({n_cr / cr_set.truth.size:.2%}), backgrounds: {', '.join(cr_set.meta['backgrounds'])}")
    return 0
