"""``astroclean cosmic``: detect and clean cosmic rays in FITS files.

    astroclean cosmic exposure.fits -o out/
    astroclean cosmic 'night1/*.fits.fz' --hdu SCI --model space --threshold 0.5 --inpaint -o out/
    astroclean cosmic 'night1/*.fits.fz' -o clean/ --workers 2                  # local Dask cluster
    astroclean cosmic 'night1/*.fits.fz' -o clean/ --scheduler tcp://host:8786  # an existing one
    astroclean cosmic 'night1/*.fits.fz' -o clean/ --resume                     # after a crash

Each image HDU (each plane of a cube) is one task (astroclean.batch); a failed task
is reported in the summary and the others still run; the exit code is 1 if any failed.
A manifest of every task is kept in OUTPUT/astroclean-manifest.sqlite.
"""

from __future__ import annotations

from .inputs import add_batch_arguments, run_batch_command


def add_parser(subparsers):
    p = subparsers.add_parser("cosmic", help="detect and clean cosmic rays", description=__doc__,
                              formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", help="FITS files, quoted globs or directories")
    p.add_argument("-o", "--output", default=".", help="output directory (default: current)")
    p.add_argument("--hdu", default=None, help="HDU number or EXTNAME (default: every image HDU)")
    p.add_argument("--model", default="ground", help="model name (see `astroclean models`; default ground)")
    p.add_argument("--threshold", type=float, default=None, help="probability threshold in (0, 1)")
    p.add_argument("--dilate", type=int, default=None,
                   help="grow the mask by N 3x3 dilations after thresholding (default: the model card's "
                        "default_dilate: 1 for models trained on the charge core, 0 for the version-1 models)")
    p.add_argument("--fpr", type=float, default=None,
                   help="pick the threshold per frame for this false-positive rate (e.g. 1e-4), estimated from "
                        "the frame itself (sign-flipped frame); written to the product header; overrides "
                        "--threshold")
    p.add_argument("--saturation", type=float, default=None, help="saturation level (overrides SATURATE)")
    p.add_argument("--inpaint", action="store_true", help="also write the cleaned image")
    p.add_argument("--fill", default="biharmonic", choices=["biharmonic", "median"],
                   help="inpainting method (default biharmonic: keeps star profiles; median is faster)")
    p.add_argument("--no-probability", action="store_true", help="do not write the probability map")
    add_batch_arguments(p)
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from ..batch import CosmicTask

    spec = CosmicTask(model=args.model, threshold=args.threshold, dilate=args.dilate, fpr=args.fpr,
                      saturation=args.saturation,
                      inpaint=args.inpaint, fill=args.fill, probability=not args.no_probability, hdu=args.hdu,
                      device=args.device)
    return run_batch_command(spec, args)
