"""Write and read mock sets (npz: images in e-/s + truth columns), the input of train and evaluate.

    python -m astroclean.clusters.sets -o runs/clusters --n-train 24000 --n-val 1500 --n-test 4000
    python -m astroclean.clusters.sets -o runs/clusters_mix --n-train 6000 --n-val 0 --n-test 0 \
        --smooth-fraction 0.5 --smooth-mode sampled --king-fraction 0.3 --seed-offset 11

Seeds: train 0, validation 1 (both from the ``train`` background halves), test 1000 (the ``test``
halves and a different seed stream).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from astroclean.clusters.simulate import make_set

SEEDS = {"train": 0, "val": 1, "test": 1000}


def write_set(path, n, *, split, rng, size=48, data_dir=None, progress=True, smooth_fraction=0.0, smooth_mode="mean",
              king_fraction=0.0):
    """Write ``n`` mocks of ``split`` drawn with the integer seed ``rng`` to ``path`` (npz)."""
    t0 = time.time()
    seed = int(rng)
    images, truth = make_set(n, split="test" if split == "test" else "train", rng=seed, size=size,
                             data_dir=data_dir, progress=progress, smooth_fraction=smooth_fraction,
                             smooth_mode=smooth_mode, king_fraction=king_fraction)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, images=images, **{f"truth_{k}": v for k, v in truth.items()},
                        seed=seed, split=split, seconds=time.time() - t0)
    tmp.replace(path)
    print(f"wrote {path}: {n} mocks in {time.time() - t0:.0f} s", flush=True)
    return path


def read_set(path):
    """(images, truth dict) from a set written by :func:`write_set`."""
    with np.load(path, allow_pickle=False) as z:
        images = z["images"]
        truth = {k[6:]: z[k] for k in z.files if k.startswith("truth_")}
    return images, truth


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-o", "--output", default="runs/clusters")
    p.add_argument("--n-train", type=int, default=24000)
    p.add_argument("--n-val", type=int, default=1500)
    p.add_argument("--n-test", type=int, default=4000)
    p.add_argument("--size", type=int, default=48)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--smooth-fraction", type=float, default=0.0,
                   help="fraction of clusters rendered as smooth light (no resolved stars)")
    p.add_argument("--smooth-mode", default="mean", choices=["mean", "sampled"],
                   help="smooth light: the mean SSP ('mean') or the summed light of the drawn stars ('sampled')")
    p.add_argument("--king-fraction", type=float, default=0.0, help="fraction of clusters with a King (1962) profile")
    p.add_argument("--seed-offset", type=int, default=0, help="added to the default seeds (extra sets)")
    args = p.parse_args(argv)
    out = Path(args.output)
    for split, n in (("val", args.n_val), ("test", args.n_test), ("train", args.n_train)):
        if n > 0:
            write_set(out / f"{split}.npz", n, split=split, rng=SEEDS[split] + args.seed_offset, size=args.size,
                      data_dir=args.data_dir, smooth_fraction=args.smooth_fraction, smooth_mode=args.smooth_mode,
                      king_fraction=args.king_fraction)
    return 0


if __name__ == "__main__":
    sys.exit(main())
