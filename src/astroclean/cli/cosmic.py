"""``astroclean cosmic``: detect and clean cosmic rays in FITS files.

    astroclean cosmic exposure.fits -o out/
    astroclean cosmic 'night1/*.fits.fz' --hdu SCI --model space --threshold 0.5 --inpaint -o out/

Each image HDU (each plane of a cube) is one task; a failed task is reported
in the summary and the others still run; the exit code is 1 if any failed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from ..errors import AstrocleanError
from .inputs import expand_inputs, format_table, product_stem


def add_parser(subparsers):
    p = subparsers.add_parser("cosmic", help="detect and clean cosmic rays", description=__doc__,
                              formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", help="FITS files, quoted globs or directories")
    p.add_argument("-o", "--output", default=".", help="output directory (default: current)")
    p.add_argument("--hdu", default=None, help="HDU number or EXTNAME (default: every image HDU)")
    p.add_argument("--model", default="ground", help="model name (see `astroclean models`; default ground)")
    p.add_argument("--threshold", type=float, default=None, help="probability threshold in (0, 1)")
    p.add_argument("--dilate", type=int, default=0, help="grow the mask by N 3x3 dilations")
    p.add_argument("--saturation", type=float, default=None, help="saturation level (overrides SATURATE)")
    p.add_argument("--inpaint", action="store_true", help="also write the cleaned image")
    p.add_argument("--fill", default="biharmonic", choices=["biharmonic", "median"],
                   help="inpainting method (default biharmonic: keeps star profiles; median is faster)")
    p.add_argument("--no-probability", action="store_true", help="do not write the probability map")
    p.add_argument("--overwrite", action="store_true", help="replace existing products")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.set_defaults(func=run)
    return p


def output_path(outdir: Path, image, n_images: int) -> Path:
    path = Path(image.meta["path"])
    stem = product_stem(path)
    if n_images > 1:
        tag = str(image.meta["hdu"]).replace(",", "_")
        if image.meta.get("plane") is not None:
            tag += f"_p{image.meta['plane']}"
        stem += f".{tag}"
    return outdir / f"{stem}.cr.fits"


def write_product(path: Path, image, result, *, args) -> None:
    from ..io import write_fits

    header = image.header
    extensions = [("CRMASK", result.mask.astype(np.uint8), header)]
    if not args.no_probability:
        extensions.append(("CRPROB", result.probability.astype(np.float32), header))
    if result.cleaned is not None:
        extensions.insert(0, ("CLEAN", result.cleaned, header))
    provenance = {"task": "cosmic-rays", "model": result.model, "model_sha256": result.meta.get("model_sha256"),
                  "threshold": result.threshold, "dilate": args.dilate, "inpaint": bool(args.inpaint),
                  "fill": args.fill if args.inpaint else None, "input": str(image.meta["path"]),
                  "hdu": str(image.meta["hdu"]), "norm": result.meta.get("normalisation")}
    write_fits(path, extensions, primary_header=image.meta.get("primary_header"), provenance=provenance,
               overwrite=args.overwrite)


def run(args) -> int:
    from tqdm import tqdm

    from ..cosmicrays import CosmicRayDetector
    from ..cosmicrays.detect import check_threshold
    from ..io import read_images
    from ..io.write import check_writable

    if args.threshold is not None:
        check_threshold(args.threshold)
    outdir = Path(args.output)
    outdir.mkdir(parents=True, exist_ok=True)
    check_writable(outdir / ".astroclean-probe", overwrite=True)
    files = expand_inputs(args.inputs)
    detector = CosmicRayDetector(args.model, device=args.device)
    rows, failed = [], 0
    for path in tqdm(files, desc="cosmic", unit="file", file=sys.stderr, disable=None):
        try:
            images = read_images(path, hdu=args.hdu, saturation=args.saturation)
        except AstrocleanError as exc:
            failed += 1
            rows.append(dict(file=path.name, hdu="-", cr_pixels="-", fraction="-", seconds="-",
                             status=f"FAILED: {exc}"))
            continue
        for image in images:
            start = time.perf_counter()
            try:
                result = detector.detect(image, threshold=args.threshold, dilate=args.dilate, inpaint=args.inpaint,
                                         fill=args.fill)
                target = output_path(outdir, image, len(images))
                write_product(target, image, result, args=args)
                valid = max(int((~image.mask).sum()), 1)
                rows.append(dict(file=path.name, hdu=image.meta["hdu"], cr_pixels=result.n_pixels,
                                 fraction=f"{result.n_pixels / valid:.2e}",
                                 seconds=f"{time.perf_counter() - start:.2f}", status=f"ok -> {target.name}"))
            except AstrocleanError as exc:
                failed += 1
                rows.append(dict(file=path.name, hdu=image.meta["hdu"], cr_pixels="-", fraction="-",
                                 seconds="-", status=f"FAILED: {exc}"))
    print(format_table(rows))
    print(f"{len(rows) - failed} done, {failed} failed; products in {outdir}/")
    return 1 if failed else 0
