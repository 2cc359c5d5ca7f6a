#!/usr/bin/env python
"""Cosmic-ray flags beside saturated stars, on the real DECam Community Pipeline cutouts of the shared data.

For every ``*_ooi_*`` cutout (its DQ plane read from the ``_ood_`` sibling): the number of saturated or
bleed pixels (DQ 3, 4), the pixels flagged by the ``ground`` model with the saturation-halo rule
(default) and without it (``saturation_halo=0``), how many of those lie within 2 px of a saturated
pixel, the pipeline's own cosmic-ray pixels (DQ 5), and astroscrappy's flags when it is installed::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/saturated_stars.py --data-dir ../shared/data

A cutout with saturated pixels and no real cosmic ray should have no flag within 2 px of them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("ASTROCLEAN_DATA_DIR"),
                        help="the shared real-data folder (default $ASTROCLEAN_DATA_DIR)")
    args = parser.parse_args(argv)
    if not args.data_dir:
        parser.error("give --data-dir or set ASTROCLEAN_DATA_DIR")
    import torch

    from astroclean.cosmicrays import CosmicRayDetector
    from astroclean.io import read_image

    torch.set_num_threads(1)
    try:
        import astroscrappy
    except ImportError:
        astroscrappy = None
    det = CosmicRayDetector("ground")
    files = sorted((Path(args.data_dir) / "cosmic_rays" / "decam_cp_cutouts").glob("*_ooi_*.fits"))
    print("| cutout | saturated px | flagged (halo rule) | within 2 px | flagged (no rule) | within 2 px | "
          "pipeline CR px | astroscrappy flagged | within 2 px |")
    print("|---|---|---|---|---|---|---|---|---|")
    totals = np.zeros(7, int)
    for path in files:
        image = read_image(path)
        sat = np.isin(image.dq, (3, 4)) if image.dq is not None else np.zeros(image.shape, bool)
        near = ndimage.binary_dilation(sat, iterations=2) & ~sat
        ruled = det.detect(image).cr_mask
        raw = det.detect(image, saturation_halo=0).cr_mask
        scrappy = ["-", "-"]
        if astroscrappy is not None:
            flags, _ = astroscrappy.detect_cosmics(np.nan_to_num(image.data).astype(np.float32), inmask=image.mask)
            scrappy = [int(flags.sum()), int((flags & near).sum())]
        row = [int(sat.sum()), int(ruled.sum()), int((ruled & near).sum()), int(raw.sum()), int((raw & near).sum()),
               int((image.dq == 5).sum()) if image.dq is not None else 0]
        totals[:6] += row
        print(f"| {path.name} | " + " | ".join(str(v) for v in row + scrappy) + " |", flush=True)
    print(f"| total | " + " | ".join(str(v) for v in totals[:6]) + " | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
