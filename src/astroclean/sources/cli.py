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

import shlex
import sys


def add_arguments(p) -> None:
    """The options of ``astroclean sources`` (inputs, -o and the batch options are added by the CLI)."""
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--catalog", default=None,
                       help="table of positions (CSV, ECSV, FITS, VOTable): ra,dec (degrees or sexagesimal) or x,y "
                            "(pixels); rows with blank cells are skipped with that reason")
    where.add_argument("--detect", type=float, default=None, metavar="NSIGMA",
                       help="detect sources above NSIGMA (matched filter) instead of a catalogue")
    p.add_argument("--one-based", action="store_true", help="catalogue x,y count from 1 (FITS/ds9) instead of 0")
    p.add_argument("--model", default=None,
                   help="model name (see `astroclean models --task sources`; default: by the map's band, pacs-blue "
                        "for 70 and 100 um, pacs-red for 160 um)")
    p.add_argument("--band", default=None, choices=["blue", "green", "red"],
                   help="PACS band of the mask table and PSF (default: the header's WAVELNTH or CAMERA; blue when "
                        "the header says nothing)")
    p.add_argument("--mode", default=None, choices=["scan", "chopnod"],
                   help="observing mode of the mask table (default: the header's OBS_MODE; scan when it says nothing)")
    p.add_argument("--hdu", default=None, help="HDU number (0 or more) or EXTNAME (default: every science image)")
    p.add_argument("--plot", action="store_true",
                   help="also write <name>.quicklook.png: map, holes and sources, source-free map, what was removed")


def batch_spec(args):
    """The batch spec of ``astroclean sources`` from parsed ``args``."""
    from astroclean.sources.batch import SourcesTask

    return SourcesTask(model=args.model, catalog=args.catalog, detect=args.detect, one_based=args.one_based,
                       band=args.band, mode=args.mode, hdu=args.hdu, device=args.device, plot=args.plot)


def add_simulate_parser(tasks):
    """Add ``astroclean simulate sources``."""
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
    src.set_defaults(func=run_simulate)
    return src


def add_train_parser(tasks):
    """Add ``astroclean train sources``."""
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
    src.set_defaults(func=run_train)
    return src


def run_simulate(args) -> int:
    """Write a far-IR map with injected sources and its truth (``astroclean simulate sources``)."""
    from pathlib import Path

    import numpy as np

    from astroclean import __version__
    from astroclean.io import atomic_write, check_writable, write_fits
    from astroclean.sources.simulate.maps import FLUX_LEVELS, make_source_maps

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


def run_train(args) -> int:
    """Train and export a compact-source model (``astroclean train sources``)."""
    from astroclean.inference.device import set_threads
    from astroclean.training.export import config_from_args
    from astroclean.sources.train import SourceTrainConfig, train_source_model

    set_threads(args.threads)
    command = "astroclean " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else ""
    _, card, _ = train_source_model(
        args.band, name=args.name, config=config_from_args(SourceTrainConfig, args), n_train=args.n_train, n_val=args.n_val,
        mode=args.mode, rng=args.seed, output_dir=args.output, overwrite=args.overwrite, device=args.device,
        command=command)
    print(card.summary())
    return 0
