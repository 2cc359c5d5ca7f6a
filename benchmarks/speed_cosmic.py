#!/usr/bin/env python
"""Speed and peak memory of cosmic-ray detectors, ours and the peers', on the same images.

Each (method, size) runs in its own fresh subprocess, so its peak RSS is its
own: the worker loads the shared frame from a .npy file, records its resident
memory, loads the method (timed apart), runs it once to warm up, then times
``--repeats`` calls (median wall and CPU seconds; CPU counts every thread).
torch uses ``--threads`` threads (OMP/MKL/OpenBLAS too). The frames are
float32 electrons with sky, noise, stars and injected cosmic-ray tracks, the
same for every method (``--seed``). Ratios are ``reference / method`` for the
same size: ``ref_time/time`` < 1 means the method is slower than the reference.
``tpr`` (fraction of injected cosmic-ray pixels flagged) and ``n_flagged``
are a sanity check that each method ran sensibly, not a benchmark
(see ``astroclean evaluate`` for that).

Methods are registry names (``astroclean.cosmicrays.evaluate.peers.list_detectors()``),
optionally with constructor options in brackets, and ``astroclean:<model>``
for astroclean's own detector::

    python benchmarks/speed_cosmic.py --sizes 2048x4096 \\
        --methods astroscrappy "deepcr:ACS-WFC[patch=256]" deepcr:ACS-WFC cosmic-conn:ground_imaging \\
        --reference astroscrappy --output speed_cosmic.ecsv

Sizes are ``rows x columns``. The machine's load average is recorded with
each measurement: compare only numbers taken on one machine in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT_SIZES = ("1024x1024", "2048x4096", "4096x4096")
DEFAULT_METHODS = ("astroscrappy", "deepcr:ACS-WFC[patch=256]", "deepcr:ACS-WFC", "cosmic-conn:ground_imaging")
GAIN, READ_NOISE, SKY = 1.0, 5.0, 800.0


# ----------------------------------------------------------------------------- inputs

def parse_size(text: str) -> tuple:
    try:
        rows, cols = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"--sizes takes ROWSxCOLUMNS like 2048x4096, got {text!r}") from None
    if rows < 16 or cols < 16:
        raise SystemExit(f"sizes must be at least 16x16, got {text!r}")
    return rows, cols


def _value(text: str):
    low = text.lower()
    if low in ("none", "true", "false"):
        return {"none": None, "true": True, "false": False}[low]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_method(spec: str) -> tuple:
    """``"deepcr:ACS-WFC[patch=256,inference_mode=true]"`` -> ``("deepcr:ACS-WFC", {...})``."""
    if "[" not in spec:
        return spec, {}
    if not spec.endswith("]"):
        raise SystemExit(f"method options go in brackets at the end, e.g. deepcr:ACS-WFC[patch=256]; got {spec!r}")
    name, _, body = spec[:-1].partition("[")
    options = {}
    for item in filter(None, body.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"option {item!r} in {spec!r} must be key=value")
        options[key.strip()] = _value(value.strip())
    return name, options


def make_frame(shape, *, rng, sky=SKY, read_noise=READ_NOISE):
    """A float32 frame in electrons (sky + Poisson/read noise + stars + CR tracks) and its CR truth mask."""
    rng = np.random.default_rng(rng)
    ny, nx = shape
    clean = np.full(shape, sky, dtype=np.float64)
    sigma, half = 1.5, 7  # Gaussian PSF, FWHM 3.5 px
    yy, xx = np.mgrid[-half:half + 1, -half:half + 1]
    n_stars = max(3, ny * nx // 20000)
    fluxes = 1e3 * (1.0 - rng.random(n_stars)) ** (-1.0 / 0.8)  # power law, brighter ones rarer
    for flux, y, x in zip(np.minimum(fluxes, 2e6), rng.uniform(half, ny - half - 1, n_stars),
                          rng.uniform(half, nx - half - 1, n_stars)):
        iy, ix = int(y), int(x)
        stamp = np.exp(-((yy - (y - iy)) ** 2 + (xx - (x - ix)) ** 2) / (2 * sigma ** 2))
        clean[iy - half:iy + half + 1, ix - half:ix + half + 1] += flux * stamp / stamp.sum()
    image = rng.poisson(clean).astype(np.float32)
    image += rng.normal(0.0, read_noise, shape).astype(np.float32)
    del clean
    cr = np.zeros(shape, dtype=np.float32)
    n_hits = max(3, ny * nx // 3000)
    lengths = np.where(rng.random(n_hits) < 0.6, rng.integers(1, 4, n_hits), rng.integers(4, 40, n_hits))
    for length, y0, x0, angle in zip(lengths, rng.uniform(0, ny, n_hits), rng.uniform(0, nx, n_hits),
                                     rng.uniform(0, np.pi, n_hits)):
        t = np.linspace(0.0, length, 3 * length + 1)
        ys = np.clip((y0 + t * np.sin(angle)).astype(int), 0, ny - 1)
        xs = np.clip((x0 + t * np.cos(angle)).astype(int), 0, nx - 1)
        deposit = rng.lognormal(np.log(600.0), 0.7) / 3.0  # e- per sub-step, about 600 e- per pixel
        np.add.at(cr, (ys, xs), deposit)
    image += cr
    return image, cr > 0


# ----------------------------------------------------------------------------- one measurement (subprocess)

def _rss_mb(field: str) -> float | None:
    """VmRSS / VmHWM from /proc (MB), or ru_maxrss for the peak where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    if field == "VmHWM":
        import resource

        scale = 1.0 if sys.platform == "darwin" else 1024.0  # bytes on macOS, KiB on Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0 / scale / 2 ** 20
    return None


def resolve_detector(name: str, options: dict):
    """A registry detector, or astroclean's own for ``astroclean:<model>`` (imported lazily)."""
    if name.startswith("astroclean:"):
        from astroclean.cosmicrays.evaluate.ours import make_ours

        return make_ours(name, **options)
    from astroclean.cosmicrays.evaluate.peers import get_detector

    return get_detector(name, **options)


def worker(job: dict) -> dict:
    """Measure one method on one frame; runs in a fresh interpreter."""
    out = {"status": "ok", "load1": os.getloadavg()[0]}
    image = np.load(job["frame"])
    out["base_rss_mb"] = _rss_mb("VmRSS")
    det = resolve_detector(job["name"], job["options"])
    ok, reason = det.available()
    if not ok:
        return {**out, "status": f"skipped: {reason}"}
    out["describe"] = det.describe()
    t0 = time.perf_counter()
    det.load()
    out["load_s"] = time.perf_counter() - t0
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(job["threads"])
    call = getattr(det, job["call"])
    kwargs = {"gain": GAIN, "read_noise": READ_NOISE}
    t0 = time.perf_counter()
    result = call(image, **kwargs)  # warm-up
    out["warmup_s"] = time.perf_counter() - t0
    walls, cpus = [], []
    for _ in range(job["repeats"]):
        w0, c0 = time.perf_counter(), time.process_time()
        result = call(image, **kwargs)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    out.update(wall_s=statistics.median(walls), cpu_s=statistics.median(cpus), walls=walls,
               peak_rss_mb=_rss_mb("VmHWM"), torch_threads=job["threads"] if "torch" in sys.modules else None)
    if result.dtype == bool:  # a sanity check that the method ran sensibly, not a benchmark
        out.update(n_flagged=int(result.sum()), tpr=float(result[np.load(job["truth"])].mean()))
    return out


def run_job(job: dict, timeout: float) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(job["threads"])
    try:
        proc = subprocess.run([sys.executable, __file__, "--worker", json.dumps(job)], env=env, timeout=timeout,
                              capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        return {"status": f"timeout after {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": f"failed: {tail[:200]}"}
    return json.loads(lines[-1])


# ----------------------------------------------------------------------------- table

COLUMNS = ("method", "size", "status", "load_s", "wall_s", "cpu_s", "peak_rss_mb", "delta_rss_mb",
           "ref_time/time", "ref_mem/mem", "tpr", "n_flagged", "load1")


def _ratios(rows, reference):
    refs = {r["size"]: r for r in rows if r["method"] == reference and r["status"] == "ok"}
    for r in rows:
        ref = refs.get(r["size"])
        ok = ref is not None and r["status"] == "ok"
        r["ref_time/time"] = ref["wall_s"] / r["wall_s"] if ok else None
        r["ref_mem/mem"] = ref["peak_rss_mb"] / r["peak_rss_mb"] if ok else None


def markdown(rows) -> str:
    def fmt(v):
        return "" if v is None else (f"{v:.3g}" if isinstance(v, float) else str(v))

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        cells = [fmt(r.get(c)) for c in COLUMNS]
        cells[2] = cells[2][:90]  # long failure messages stay readable
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_ecsv(rows, path, meta):
    from astropy.table import Table

    names = [c.replace("/", "_over_") for c in COLUMNS]
    data = {n: [r.get(c) for r in rows] for n, c in zip(names, COLUMNS)}
    for n in names:
        if all(v is None for v in data[n]) or any(isinstance(v, float) for v in data[n]):
            data[n] = [np.nan if v is None else float(v) for v in data[n]]
        elif any(isinstance(v, int) and not isinstance(v, bool) for v in data[n]):
            data[n] = [-1 if v is None else v for v in data[n]]
    table = Table(data, meta=meta)
    table.write(path, format="ascii.ecsv", overwrite=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=list(DEFAULT_SIZES), help="ROWSxCOLUMNS, e.g. 2048x4096")
    parser.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS),
                        help="registry names, options in brackets: deepcr:ACS-WFC[patch=256]; astroclean:<model>")
    parser.add_argument("--reference", default=None, help="method spec for the ratio columns (default: the first)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs after the warm-up (median reported)")
    parser.add_argument("--threads", type=int, default=2, help="torch/OpenMP threads per method")
    parser.add_argument("--call", choices=("detect", "score"), default="detect",
                        help="detect = one run at the default operating point; score = the ROC map (a sweep "
                             "for classical methods)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per method and size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=None, help="ECSV table to write")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    if args.repeats < 1 or args.threads < 1:
        parser.error("--repeats and --threads must be >= 1")
    methods = [(spec, *parse_method(spec)) for spec in args.methods]
    reference = args.reference or args.methods[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="speed_cosmic_") as tmp:
        for size in args.sizes:
            shape = parse_size(size)
            image, truth = make_frame(shape, rng=args.seed)
            frame, truth_path = Path(tmp, f"frame_{size}.npy"), Path(tmp, f"truth_{size}.npy")
            np.save(frame, image)
            np.save(truth_path, truth)
            del image, truth
            for spec, name, options in methods:
                job = {"frame": str(frame), "truth": str(truth_path), "name": name, "options": options,
                       "call": args.call, "repeats": args.repeats, "threads": args.threads}
                res = run_job(job, args.timeout)
                row = {"method": spec, "size": size, **res}
                if row["status"] == "ok":
                    row["delta_rss_mb"] = row["peak_rss_mb"] - row["base_rss_mb"]
                rows.append(row)
                print(f"{spec:40s} {size:>10s} {row['status'][:60]:10s} "
                      + (f"wall {row['wall_s']:.2f} s  cpu {row['cpu_s']:.2f} s  peak {row['peak_rss_mb']:.0f} MB"
                         if row["status"] == "ok" else ""), file=sys.stderr, flush=True)
    _ratios(rows, reference)
    print(f"\nreference: {reference}; call: {args.call}; {args.repeats} timed runs after a warm-up; "
          f"threads: {args.threads}; cpus: {os.cpu_count()}\n")
    print(markdown(rows))
    if args.output:
        meta = {"reference": reference, "call": args.call, "repeats": args.repeats, "threads": args.threads,
                "seed": args.seed, "cpu_count": os.cpu_count(), "machine": platform.platform(),
                "python": platform.python_version(), "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "describe": {r["method"]: r.get("describe") for r in rows}}
        write_ecsv(rows, args.output, meta)
        print(f"\nwrote {args.output}", file=sys.stderr)
    return 0 if all(r["status"] == "ok" or r["status"].startswith("skipped") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
