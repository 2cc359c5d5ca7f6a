"""``astroclean sources``: remove compact sources from far-infrared maps and measure them.

    astroclean sources map.fits --catalog sources.csv -o out/     # ra,dec (or x,y) columns
    astroclean sources map.fits --detect 5 -o out/                # find sources above 5 sigma first
    astroclean sources 'maps/*.fits.gz' --detect 5 -o out/ --workers 2 --resume

Products per map: ``<stem>_nosources.fits`` (source-free background, same
header and WCS, provenance cards), ``<stem>_sources.fits`` (what was removed,
and the HOLE mask) and ``<stem>_photometry.ecsv`` (one row per source:
position, SNR, mask radius, aperture-corrected flux and error per radius,
annulus-method flux; skipped sources with the reason).
"""

from __future__ import annotations

import argparse

from .inputs import add_batch_arguments, run_batch_command


def add_parser(subparsers):
    p = subparsers.add_parser("sources", help="remove compact sources from far-infrared maps", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", help="FITS maps, quoted globs or directories")
    p.add_argument("-o", "--output", default=".", help="output directory (default: current)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--catalog", default=None, help="table of positions: ra,dec (degrees) or x,y (pixels)")
    where.add_argument("--detect", type=float, default=None, metavar="NSIGMA",
                       help="detect sources above NSIGMA (matched filter) instead of a catalogue")
    p.add_argument("--one-based", action="store_true", help="catalogue x,y count from 1 (FITS/ds9) instead of 0")
    p.add_argument("--model", default="pacs-blue", help="model name (see `astroclean models`; default pacs-blue)")
    p.add_argument("--band", default=None, choices=["blue", "green", "red"],
                   help="PACS band of the mask table and PSF (default: the model's)")
    p.add_argument("--mode", default="scan", choices=["scan", "chopnod"], help="observing mode (mask table)")
    p.add_argument("--hdu", default=None, help="HDU number or EXTNAME (default: every science image)")
    add_batch_arguments(p)
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from ..batch.sources import SourcesTask

    spec = SourcesTask(model=args.model, catalog=args.catalog, detect=args.detect, one_based=args.one_based,
                       band=args.band, mode=args.mode, hdu=args.hdu, device=args.device)
    return run_batch_command(spec, args)
