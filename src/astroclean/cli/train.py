"""``astroclean train cosmic-rays``: train and export a cosmic-ray model.

    astroclean train cosmic-rays --flavour ground --name ground --epochs 12 -o src/astroclean/weights
"""

from __future__ import annotations

import shlex
import sys


def add_parser(subparsers):
    p = subparsers.add_parser("train", help="train models (needs the real training data folder)")
    tasks = p.add_subparsers(dest="task", required=True)
    cr = tasks.add_parser("cosmic-rays", help="train a cosmic-ray detector")
    cr.add_argument("--flavour", required=True,
                    help="training backgrounds: ground, space, crowded, or a mix such as ground+crowded")
    cr.add_argument("--name", required=True, help="model name (card and weights file)")
    cr.add_argument("-o", "--output", default=None, help="directory for weights + card (default: do not export)")
    cr.add_argument("--data-dir", default=None, help="real data folder (default: $ASTROCLEAN_DATA_DIR)")
    cr.add_argument("--n-patches", type=int, default=3000)
    cr.add_argument("--val-patches", type=int, default=300)
    cr.add_argument("--patch-size", type=int, default=128)
    cr.add_argument("--epochs", type=int, default=None)
    cr.add_argument("--batch-size", type=int, default=None)
    cr.add_argument("--lr", type=float, default=None)
    cr.add_argument("--depth", type=int, default=None)
    cr.add_argument("--width", type=int, default=None)
    cr.add_argument("--norm", choices=["batch", "group"], default=None)
    cr.add_argument("--attention", action="store_true", default=None)
    cr.add_argument("--loss", default=None, help="bce, bce+dice, focal, focal+dice")
    cr.add_argument("--seed", type=int, default=0)
    cr.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    cr.add_argument("--device", default=None)
    cr.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..inference.device import set_threads
    from ..training.cosmicrays import config_from_args, train_cosmic_ray_model

    set_threads(args.threads)
    command = "astroclean " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else ""
    _, card, _ = train_cosmic_ray_model(
        args.flavour, name=args.name, config=config_from_args(args), n_patches=args.n_patches,
        val_patches=args.val_patches, patch_size=args.patch_size, rng=args.seed, data_dir=args.data_dir,
        output_dir=args.output, overwrite=args.overwrite, device=args.device, command=command)
    print(card.summary())
    return 0
