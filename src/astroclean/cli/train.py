"""``astroclean train cosmic-rays``: train and export a cosmic-ray model.

    astroclean train cosmic-rays --flavour ground --name ground --epochs 12 -o src/astroclean/weights
    astroclean train sources --band blue --name pacs-blue --epochs 8 --threads 2 -o src/astroclean/weights
"""

from __future__ import annotations

import shlex
import sys


def add_parser(subparsers):
    p = subparsers.add_parser("train", help="train models (needs the real training data folder)")
    tasks = p.add_subparsers(dest="task", required=True)
    cr = tasks.add_parser("cosmic-rays", help="train a cosmic-ray detector")
    cr.add_argument("--flavour", required=True,
                    help="training backgrounds: ground, space, crowded, a mix such as ground+crowded, or all")
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
    cr.add_argument("--in-channels", dest="in_channels", type=int, default=None, choices=[1, 2],
                    help="1: the normalised image; 2: plus the per-pixel noise channel (default 1)")
    cr.add_argument("--target-snr", type=float, default=0.0,
                    help="train on the charge core: injected pixels at least this many sigma (e.g. 1.0); "
                         "0 (default) = the 3x3-dilated footprint of the version-1 models")
    cr.add_argument("--wide", action="store_true",
                    help="wide training data: extra real backgrounds, simulated fields of PSF FWHM 0.8-8 px "
                         "(stars, crowded, galaxy-dominated) and detector artefacts as negatives")
    cr.add_argument("--dilate", type=int, default=0,
                    help="post-threshold dilation recorded in the card as the model's default (default 0)")
    cr.add_argument("--target-fpr", type=float, default=None,
                    help="set the card's default threshold to the one giving this FPR on the validation "
                         "negatives (default: 0.5)")
    cr.add_argument("--init-from", default=None,
                    help="warm start from this shipped model's weights (new input channels start at zero)")
    cr.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    cr.add_argument("--device", default=None)
    cr.add_argument("--overwrite", action="store_true")
    _add_sources_parser(tasks)
    p.set_defaults(func=run)


def _add_sources_parser(tasks):
    src = tasks.add_parser("sources", help="train a compact-source removal (inpainting) network")
    src.add_argument("--band", default="blue", choices=["blue", "green", "red"], help="PACS band of the cutouts")
    src.add_argument("--mode", default="scan", choices=["scan", "chopnod"], help="observing mode (mask table)")
    src.add_argument("--name", required=True, help="model name (card and weights file)")
    src.add_argument("-o", "--output", default=None, help="directory for weights + card (default: do not export)")
    src.add_argument("--n-train", type=int, default=4000, help="training cutouts")
    src.add_argument("--n-val", type=int, default=500, help="validation cutouts")
    src.add_argument("--epochs", type=int, default=None)
    src.add_argument("--batch-size", type=int, default=None)
    src.add_argument("--lr", type=float, default=None)
    src.add_argument("--depth", type=int, default=None)
    src.add_argument("--width", type=int, default=None)
    src.add_argument("--flux-weight", type=float, default=None, help="weight of the hole-mean flux term")
    src.add_argument("--time-limit", type=float, default=None, help="minutes; stop before an epoch would pass it")
    src.add_argument("--seed", type=int, default=0)
    src.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    src.add_argument("--device", default=None)
    src.add_argument("--overwrite", action="store_true")


def run(args) -> int:
    if args.task == "sources":
        return _run_sources(args)
    from ..inference.device import set_threads
    from ..training.cosmicrays import train_cosmic_ray_model
    from ..training.export import config_from_args
    from ..training.loop import TrainConfig

    set_threads(args.threads)
    command = "astroclean " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else ""
    _, card, _ = train_cosmic_ray_model(
        args.flavour, name=args.name, config=config_from_args(TrainConfig, args), n_patches=args.n_patches,
        val_patches=args.val_patches, patch_size=args.patch_size, rng=args.seed, data_dir=args.data_dir,
        output_dir=args.output, overwrite=args.overwrite, device=args.device, command=command,
        target_snr=args.target_snr, wide=args.wide, default_dilate=args.dilate, init_from=args.init_from,
        target_fpr=args.target_fpr)
    print(card.summary())
    return 0


def _run_sources(args) -> int:
    from ..inference.device import set_threads
    from ..training.export import config_from_args
    from ..training.sources import SourceTrainConfig, train_source_model

    set_threads(args.threads)
    command = "astroclean " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else ""
    _, card, _ = train_source_model(
        args.band, name=args.name, config=config_from_args(SourceTrainConfig, args), n_train=args.n_train, n_val=args.n_val,
        mode=args.mode, rng=args.seed, output_dir=args.output, overwrite=args.overwrite, device=args.device,
        command=command)
    print(card.summary())
    return 0
