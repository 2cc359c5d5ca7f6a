"""``astroclean cosmic``: detect and clean cosmic rays in FITS files.

    astroclean cosmic exposure.fits -o out/
    astroclean cosmic 'night1/*.fits.fz' --hdu SCI --model space --threshold 0.5 --inpaint -o out/
    astroclean cosmic 'night1/*.fits.fz' -o clean/ --workers 2                  # local Dask cluster
    astroclean cosmic 'night1/*.fits.fz' -o clean/ --scheduler tcp://host:8786  # an existing one
    astroclean cosmic 'night1/*.fits.fz' -o clean/ --resume                     # after a crash
    astroclean cosmic exposure.fits -o out/ --inpaint --plot                    # + a quick-look PNG

Each image HDU (each plane of a cube) is one task (astroclean.batch); a failed task
is reported in the summary and the others still run; the exit code is 1 if any failed.
A manifest of every task is kept in OUTPUT/astroclean-manifest.sqlite.
"""

from __future__ import annotations

import shlex
import sys


def add_arguments(p) -> None:
    """The options of ``astroclean cosmic`` (inputs, -o and the batch options are added by the CLI)."""
    p.add_argument("--hdu", default=None, help="HDU number (0 or more) or EXTNAME (default: every image HDU)")
    p.add_argument("--model", default="auto",
                   help="model name (see `astroclean models --task cosmic`); default auto: space for HST and other "
                        "space telescopes (header TELESCOP), cr-any-ens otherwise (cr-any: 1.9x faster, less "
                        "accurate); the summary says which")
    p.add_argument("--threshold", type=float, default=None,
                   help="probability threshold in (0, 1) (default: the model card's, 0.5)")
    p.add_argument("--dilate", type=int, default=None,
                   help="grow the mask by N 3x3 dilations after thresholding (default: the model card's "
                        "default_dilate: 0 for ground and space, 1 for the cr-any family)")
    p.add_argument("--fpr", type=float, default=None,
                   help="pick the threshold per frame for this false-positive rate (e.g. 1e-4), estimated from "
                        "the frame itself (sign-flipped frame); written to the product header; overrides "
                        "--threshold")
    p.add_argument("--saturation", type=float, default=None,
                   help="saturation level in the image's units, > 0 (default: the header's SATURATE)")
    p.add_argument("--inpaint", action="store_true", help="also write the cleaned image (CLEAN extension)")
    p.add_argument("--fill", default="biharmonic", choices=["biharmonic", "median", "noise"],
                   help="how --inpaint fills: biharmonic (default: smooth, keeps star profiles, best for "
                        "photometry), median (faster), noise (biharmonic plus local noise, seeded: looks like data, "
                        "for display and noise statistics)")
    p.add_argument("--noise-seed", type=int, default=0, metavar="N",
                   help="seed of --fill noise (default: 0; the same seed gives the same products)")
    p.add_argument("--plot", action="store_true",
                   help="also write <name>.quicklook.png: input, cosmic rays found, cleaned, residual (zscale)")
    p.add_argument("--no-probability", action="store_true", help="do not write the probability map")
    p.add_argument("--untrained", action="store_true",
                   help="allow a model without trained weights (its output is noise: for testing the plumbing only)")


def batch_spec(args):
    """The batch spec of ``astroclean cosmic`` from parsed ``args``."""
    from astroclean.cosmicrays.batch import CosmicTask

    return CosmicTask(model=args.model, threshold=args.threshold, dilate=args.dilate, fpr=args.fpr,
                      saturation=args.saturation,
                      inpaint=args.inpaint, fill=args.fill, probability=not args.no_probability, hdu=args.hdu,
                      device=args.device, plot=args.plot, rng=args.noise_seed, allow_untrained=args.untrained)


def add_simulate_parser(tasks):
    """Add ``astroclean simulate cosmic``."""
    cr = tasks.add_parser("cosmic", aliases=["cosmic-rays"], help="real backgrounds + injected real/simulated cosmic rays")
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
    cr.set_defaults(func=run_simulate)
    return cr


def add_train_parser(tasks):
    """Add ``astroclean train cosmic``."""
    cr = tasks.add_parser("cosmic", aliases=["cosmic-rays"], help="train a cosmic-ray detector")
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
    cr.add_argument("--in-channels", dest="in_channels", type=int, default=None, choices=[1, 2, 3],
                    help="1: the normalised image; 2: plus the per-pixel noise channel; 3: plus the 3x3 median "
                         "of the first (fine structure) (default 1)")
    cr.add_argument("--target-snr", type=float, default=0.0,
                    help="train on the charge core: injected pixels at least this many sigma (e.g. 1.0); "
                         "0 (default) = the 3x3-dilated footprint of the version-1 models")
    cr.add_argument("--wide", action="store_true",
                    help="wide training data: extra real backgrounds, simulated fields of PSF FWHM 0.8-8 px "
                         "(stars, crowded, galaxy-dominated) and detector artefacts as negatives")
    cr.add_argument("--spectra", action="store_true",
                    help="with --wide: spectra (sky lines, object traces) join the artefacts drawn as negatives")
    cr.add_argument("--saturated", action="store_true",
                    help="a quarter of the patches also get a saturated star, its core masked and the mask grown "
                         "by 0-2 px (the wing beside it is a negative)")
    cr.add_argument("--on-stars", type=float, default=0.0, metavar="P",
                    help="that fraction of the patches also gets hits placed on its stars (peak >= 20 RMS) as "
                         "positives (default 0)")
    cr.add_argument("--on-stars-fraction", type=float, default=1.0, metavar="F",
                    help="with --on-stars: the fraction of those patches' bright stars that get hits, each star "
                         "drawn independently (default 1: all; below 1 the unhit stars are negatives beside them)")
    cr.add_argument("--spiked-stars", type=float, default=0.0, metavar="P",
                    help="that fraction of the patches also gets a bright star with diffraction spikes, as a "
                         "negative (default 0)")
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
    cr.set_defaults(func=run_train)
    return cr


def run_simulate(args) -> int:
    """Write a cosmic-ray set with its truth (``astroclean simulate cosmic``)."""
    import numpy as np

    from astroclean.cosmicrays.simulate import make_cosmic_ray_set, write_cosmic_ray_set

    cr_set = make_cosmic_ray_set(args.flavour, args.split, n_patches=args.n_patches, patch_size=args.patch_size,
                                 rng=np.random.default_rng(args.seed), data_dir=args.data_dir,
                                 density=tuple(args.density))
    path = write_cosmic_ray_set(cr_set, args.output, overwrite=args.overwrite)
    n_cr = int(cr_set.truth.sum())
    print(f"wrote {path}: {len(cr_set.image)} patches of {args.patch_size} px, {n_cr} cosmic-ray pixels "
          f"({n_cr / cr_set.truth.size:.2%}), backgrounds: {', '.join(cr_set.meta['backgrounds'])}")
    return 0


def run_train(args) -> int:
    """Train and export a cosmic-ray model (``astroclean train cosmic``)."""
    from astroclean.inference.device import set_threads
    from astroclean.cosmicrays.train import train_cosmic_ray_model
    from astroclean.training.export import config_from_args
    from astroclean.training.loop import TrainConfig

    set_threads(args.threads)
    command = "astroclean " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else ""
    _, card, _ = train_cosmic_ray_model(
        args.flavour, name=args.name, config=config_from_args(TrainConfig, args), n_patches=args.n_patches,
        val_patches=args.val_patches, patch_size=args.patch_size, rng=args.seed, data_dir=args.data_dir,
        output_dir=args.output, overwrite=args.overwrite, device=args.device, command=command,
        target_snr=args.target_snr, wide=args.wide, default_dilate=args.dilate, init_from=args.init_from,
        target_fpr=args.target_fpr, spectra=args.spectra, saturated=args.saturated,
        on_stars=args.on_stars, on_stars_fraction=args.on_stars_fraction, spiked_stars=args.spiked_stars)
    print(card.summary())
    return 0
