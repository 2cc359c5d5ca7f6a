#!/usr/bin/env python
"""Throughput of ``astroclean.batch``: in-process vs a local Dask cluster of 1 and 2 workers.

Writes ``--frames`` synthetic float32 frames (sky + read noise + a few stars and
cosmic-ray tracks, ``--size`` rows x columns) to a temporary folder, then runs the
cosmic-ray task over all of them once per configuration, each in a fresh
subprocess (so its memory is its own):

* ``in-process``: no server, torch with its default threads (all cores);
* ``workers=N``: ``LocalCluster(n_workers=N, threads_per_worker=1, processes=True)``,
  torch one thread per worker (what ``--workers N`` does).

``run s`` is the wall time of ``run_batch`` (listing, checksums, model loading on each
worker, processing, writing); ``total s`` adds starting the cluster, importing torch
in its workers, and closing it.
``speedup`` is ``run s`` of 1 worker over ``run s`` of the row. ``peak RSS`` is the
largest resident memory of a worker process (of the driver for in-process). The
machine's load average is printed first: numbers are only meaningful on an idle
machine (``uptime`` load well under 1 on 2 cores)::

    nice -n 0 python benchmarks/speed_batch.py --frames 8 --size 2048x4096 --workers 1 2
    python benchmarks/speed_batch.py --frames 4 --size 256x512      # a quick check that it works
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_frames(folder: Path, n: int, shape, *, seed: int = 1) -> list:
    from astropy.io import fits

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[-7:8, -7:8]
    star = np.exp(-(yy ** 2 + xx ** 2) / (2 * 1.8 ** 2))
    paths = []
    for k in range(n):
        data = rng.normal(800.0, 30.0, shape).astype(np.float32)
        for _ in range(max(shape[0] * shape[1] // 40000, 5)):
            y, x = rng.integers(8, shape[0] - 8), rng.integers(8, shape[1] - 8)
            data[y - 7:y + 8, x - 7:x + 8] += rng.uniform(500, 20000) * star
        for _ in range(max(shape[0] * shape[1] // 100000, 3)):  # straight tracks, 1-2 px wide
            y, x = rng.integers(0, shape[0] - 40), rng.integers(0, shape[1] - 40)
            length, slope = rng.integers(5, 40), rng.uniform(-1, 1)
            for t in range(length):
                data[y + int(t * abs(slope)), x + t] += rng.uniform(300, 3000)
        header = fits.Header({"GAIN": 1.0, "RDNOISE": 5.0, "EXPTIME": 90.0})
        paths.append(folder / f"frame{k:03d}.fits")
        fits.PrimaryHDU(data, header=header).writeto(paths[-1])
    return paths


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _import_libraries() -> None:
    import astroclean.batch  # noqa: F401
    import torch  # noqa: F401


def run_one(folder: Path, outdir: Path, workers: int, model: str) -> dict:
    """One configuration in this process; ``workers=0`` is in-process."""
    import logging

    from astroclean.batch import run_batch
    from astroclean.cosmicrays.batch import CosmicTask

    files = sorted(folder.glob("*.fits"))
    spec = CosmicTask(model=model)
    start = time.perf_counter()
    if workers == 0:
        t0 = time.perf_counter()
        report = run_batch(spec, files, outdir=outdir, progress=False)
        run_s = time.perf_counter() - t0
        rss = [_peak_rss_mb()]
    else:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            client.run(_import_libraries)  # a worker's start-up, counted in total s, not in run s
            t0 = time.perf_counter()
            report = run_batch(spec, files, outdir=outdir, scheduler=client, progress=False)
            run_s = time.perf_counter() - t0
            rss = list(client.run(_peak_rss_mb).values())
    if report.n_failed:
        raise SystemExit(f"{report.n_failed} unit(s) failed: {report.failures[0]['error']}")
    return {"workers": workers, "frames": len(files), "run_s": run_s, "total_s": time.perf_counter() - start,
            "peak_rss_mb": max(rss)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--size", default="2048x4096", help="ROWSxCOLUMNS (default 2048x4096)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="cluster sizes (default 1 2)")
    parser.add_argument("--no-in-process", action="store_true", help="skip the in-process row")
    parser.add_argument("--model", default="ground")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--folder", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:  # a child: one configuration, JSON on the last line of stdout
        print(json.dumps(run_one(Path(args.folder), Path(args.out), args.one, args.model)))
        return 0

    rows_cols = tuple(int(v) for v in args.size.lower().split("x"))
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} on {os.cpu_count()} cores")
    busy = subprocess.run(["pgrep", "-fa", "train"], capture_output=True, text=True).stdout.strip()
    if busy or os.getloadavg()[0] > 0.5:
        print("WARNING: the machine is busy; timings are not representative:\n" + busy, file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="astroclean-speed-batch-") as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        make_frames(folder, args.frames, rows_cols)
        configs = ([] if args.no_in_process else [0]) + list(args.workers)
        results = []
        for n in configs:
            out = Path(tmp) / f"out{n}"
            proc = subprocess.run([sys.executable, __file__, "--one", str(n), "--folder", str(folder), "--out",
                                   str(out), "--model", args.model], capture_output=True, text=True)
            if proc.returncode:
                print(proc.stdout[-2000:], proc.stderr[-4000:], file=sys.stderr)
                return 1
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    base = next((r["run_s"] for r in results if r["workers"] == 1), None)
    print(f"\n{args.frames} frames of {args.size} float32, model {args.model}\n")
    print("| configuration | frames | run s | total s | frames/s | speedup vs 1 worker | peak RSS MB per process |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        name = "in-process (torch default threads)" if r["workers"] == 0 else f"--workers {r['workers']}"
        speed = f"{base / r['run_s']:.2f}x" if base else "-"
        print(f"| {name} | {r['frames']} | {r['run_s']:.1f} | {r['total_s']:.1f} | {r['frames'] / r['run_s']:.2f} "
              f"| {speed} | {r['peak_rss_mb']:.0f} |")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
