#!/usr/bin/env python
"""Peak memory of ``astroclean cosmic`` per pixel, to set ``astroclean.image.PEAK_BYTES_PER_PIXEL``.

Each size runs in a fresh subprocess that writes a float32 FITS frame (sky, noise, a few tracks),
records its resident memory before processing (Python, numpy, torch and the model loaded), then
runs the batch task on it as the CLI does (read, mask, normalise, tiled network, inpaint, write)
and reports the peak RSS above that baseline, per pixel::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/memory_peak.py --sizes 1024x1024 2048x2048 4096x4096

The largest bytes-per-pixel figure is what the package assumes when it refuses, before reading a
pixel, a frame that would not fit in the available memory (a 20000 x 20000 frame, for instance).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path


def child(rows: int, cols: int, inpaint: bool) -> dict:
    import numpy as np
    import torch
    from astropy.io import fits

    from astroclean.batch import CosmicTask, file_sha256

    torch.set_num_threads(1)
    folder = Path(tempfile.mkdtemp())
    rng = np.random.default_rng(0)
    data = rng.normal(800.0, 30.0, (rows, cols)).astype(np.float32)
    for k in range(20):
        y, x = rng.integers(10, rows - 10), rng.integers(10, cols - 40)
        data[y, x:x + 30] += 3000
    path = folder / "frame.fits"
    fits.PrimaryHDU(data).writeto(path)
    del data
    spec = CosmicTask(model="ground", inpaint=inpaint)
    state = spec.load()
    unit = spec.units(path, sha256=file_sha256(path))[0]
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    spec.process(state, unit, [folder / "frame.cr.fits"], overwrite=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"rows": rows, "cols": cols, "inpaint": inpaint, "baseline_MB": base / 1e6, "peak_MB": peak / 1e6,
            "bytes_per_pixel": (peak - base) / (rows * cols)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["1024x1024", "2048x2048", "4096x4096"])
    parser.add_argument("--no-inpaint", action="store_true", help="measure detection only")
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child, not args.no_inpaint)))
        return 0
    print("| frame | inpaint | baseline MB | peak MB | bytes per pixel above baseline |")
    print("|---|---|---|---|---|")
    for size in args.sizes:
        rows, cols = (int(v) for v in size.lower().split("x"))
        cmd = [sys.executable, __file__, "--child", str(rows), str(cols)] + (["--no-inpaint"] if args.no_inpaint else [])
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        r = json.loads(out)
        print(f"| {rows} x {cols} | {r['inpaint']} | {r['baseline_MB']:.0f} | {r['peak_MB']:.0f} | "
              f"{r['bytes_per_pixel']:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
