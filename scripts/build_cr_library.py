"""Build the package data of ``astroclean.simulate`` from the real data folder.

    python scripts/build_cr_library.py --data-dir /work/shared/data [--check-dir /tmp/simulate_check]

Writes (overwriting, atomically):

* ``src/astroclean/data/cr_library_train.npz`` and ``cr_library_benchmark.npz``:
  real cosmic-ray hits from
  - the VLT/UVES blue echelle frame ``cosmic_rays/uves_blue_5400s_cols0-749.fits``
    (5400 s, ADU; electrons = ADU x CONAD = 2.03 e-/ADU from ``ESO DET OUT1 CONAD``:
    the header's ``GAIN = 0.49`` is ESO's electrons-to-ADU factor, and a read noise of
    3.9 e- = 1.9 ADU fits the measured 3.0 ADU pixel noise only this way round).
    The echelle orders are found where a 41-pixel running median along the rows exceeds
    1.5 x the pixel noise (a 3-sigma cut let faint orders of the low-blaze corner in as
    "hits") and excluded with a 3-pixel margin; hits are 5 sigma seeds grown to connected pixels
    above 2 sigma over a 9x9 local median, footprint = core dilated by 3x3. Hits
    touching the orders, the edge or a pixel above 0.95 x DATAMAX are dropped.
    Split by detector region: a hit whose charge centroid lies in a row band
    ``floor(y / 128) % 4 == 3`` is benchmark, every other hit train.
  - the two DECam Community Pipeline cutouts with real tracks (DQ code 5):
    c4d_170316_062107 z N2 and c4d_141029_043225 g N26. ADU (checked against the
    weight plane: 1/oow = data/GAIN + (RDNOISE/GAIN)^2), electrons = ADU x mean(GAINA,
    GAINB); background = 15x15 median with every DQ-flagged pixel left out; core = DQ-5
    pixels 5 sigma above it (grown to 2 sigma), sigma = 1/sqrt(oow) (the pipeline sets
    oow = 0 on its cosmic-ray pixels; they get the frame's median sigma). Both go to the
    benchmark split.
* ``src/astroclean/data/benchmark/<flavour>/<name>.npz``: the benchmark backgrounds.

Deterministic: no random numbers are drawn except the simulated benchmark star field,
which has a fixed seed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from astroclean.image import as_image
from astroclean.cosmicrays.simulate import CosmicRayLibrary, extract_cosmic_rays, mask_spectral_orders, write_benchmark_backgrounds
from astroclean.background import local_median, noise_map
from astroclean.simulate.common import PACKAGE_DATA, dilate, read_fits_plane
from astroclean.cosmicrays.simulate.library import library_path

UVES = "cosmic_rays/uves_blue_5400s_cols0-749.fits"
DECAM_TRACKS = ("c4d_170316_062107_{}_z_ls9.N2", "c4d_141029_043225_{}_g_ls9.N26")
BAND, BENCH_EVERY = 128, 4
SPLIT_RULE = (
    f"UVES hits: benchmark when floor(charge-centroid row / {BAND}) % {BENCH_EVERY} == {BENCH_EVERY - 1} "
    "(rows 384-511 and 896-1023 of the 1024-row frame), train otherwise; DECam CP tracks: benchmark"
)


def uves_hits(root: Path):
    data, header = read_fits_plane(root / UVES)
    conad = float(header.get("HIERARCH ESO DET OUT1 CONAD", 2.03))
    datamax = float(header.get("DATAMAX", np.inf))
    img = as_image(data, saturation=0.95 * datamax if np.isfinite(datamax) else None)
    first = noise_map(img.data, mask=img.mask)
    orders = mask_spectral_orders(img, noise=first, nsigma=1.5, length=41, axis=1, grow=3)
    sigma = noise_map(img.data, mask=img.mask | orders)
    lib = extract_cosmic_rays(img, noise=sigma, nsigma=5.0, grow_nsigma=2.0, exclude=orders, background_size=9,
                              gain=conad, origin="uves:blue_5400s")
    info = {"frame": UVES, "electrons_per_adu": conad, "order_fraction": float(orders.mean()),
            "median_noise_adu": lib.meta["median_noise"], **{k: lib.meta[k] for k in ("n_candidates", "dropped")}}
    return lib, info


def decam_hits(root: Path):
    from astropy.io import fits

    stamps = []
    for stem in DECAM_TRACKS:
        path = root / "cosmic_rays/decam_cp_cutouts" / (stem.format("ooi") + ".fits")
        data, header = read_fits_plane(path, hdu=1)
        weight = fits.getdata(str(path).replace("_ooi_", "_oow_")).astype(float)
        dq = fits.getdata(str(path).replace("_ooi_", "_ood_")).astype(int)
        gain = float(np.mean([header["GAINA"], header["GAINB"]]))
        background = local_median(data, size=15, mask=dq != 0)
        # the pipeline zeroes the weight of its cosmic-ray pixels: give them the sky noise
        sigma = 1.0 / np.sqrt(np.where(weight > 0, weight, np.nan))
        sigma = np.where(np.isfinite(sigma), sigma, np.nanmedian(sigma))
        zone = dq == 5
        lib = extract_cosmic_rays(
            as_image(data, mask=(dq != 0) & (dq != 5)), noise=sigma,
            nsigma=5.0, grow_nsigma=2.0, exclude=~dilate(zone, iterations=2), background=background, gain=gain,
            origin="decam:" + stem.format("").replace("__", "_").replace("c4d_", ""), max_size=256,
        )
        stamps.extend(lib.stamps)
    return stamps


def centroid_row(stamp) -> float:
    rows = np.arange(stamp.values.shape[0])[:, None]
    return stamp.position[0] + float((stamp.values * rows).sum() / stamp.values.sum())


def summary(lib: CosmicRayLibrary) -> dict:
    sizes, peaks = lib.sizes, lib.peaks
    return {
        "n_hits": len(lib),
        "core_pixels_percentiles_5_25_50_75_95": np.percentile(sizes, [5, 25, 50, 75, 95]).round(1).tolist(),
        "core_pixels_max": int(sizes.max()),
        "peak_electrons_percentiles_5_25_50_75_95": np.percentile(peaks, [5, 25, 50, 75, 95]).round(0).tolist(),
        "origins": {o: lib.origins.count(o) for o in sorted(set(lib.origins))},
    }


def plot_check(libs: dict, out: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(6, 8, figsize=(16, 12))
    train, bench = libs["train"], libs["benchmark"]
    order = np.argsort(-train.sizes)
    picks = [train[i] for i in order[:16]] + [train[i] for i in np.linspace(0, len(train) - 1, 16).astype(int)]
    picks += [s for s in bench if s.origin.startswith("decam")] + list(bench.stamps[:14])
    for ax, s in zip(axes.flat, picks):
        ax.imshow(np.pad(s.values, 2), origin="lower", cmap="magma", interpolation="nearest")
        ax.contour(np.pad(s.footprint, 2), levels=[0.5], colors="cyan", linewidths=0.6)
        ax.set_title(f"{s.origin.split(':')[0]} {s.n_core}px {s.peak:.0f}e-", fontsize=7)
        ax.axis("off")
    fig.suptitle("real cosmic-ray library: rows 1-2 largest train hits, 3-4 spread of train, 5-6 benchmark")
    fig.tight_layout()
    fig.savefig(out / "cr_library_stamps.png", dpi=70)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--out-dir", type=Path, default=PACKAGE_DATA)
    parser.add_argument("--check-dir", type=Path, default=None, help="write a PNG of stamps and a summary here")
    parser.add_argument("--skip-backgrounds", action="store_true")
    args = parser.parse_args(argv)

    uves, info = uves_hits(args.data_dir)
    bench_flags = [int(centroid_row(s) // BAND) % BENCH_EVERY == BENCH_EVERY - 1 for s in uves]
    meta = {"split_rule": SPLIT_RULE, "units": "electrons above the local background",
            "footprint": "core dilated by a 3x3 square", "uves": info,
            "sources": [UVES] + [f"cosmic_rays/decam_cp_cutouts/{s.format('ooi')}.fits" for s in DECAM_TRACKS]}
    libs = {
        "train": CosmicRayLibrary(tuple(s for s, b in zip(uves, bench_flags) if not b), {**meta, "split": "train"}),
        "benchmark": CosmicRayLibrary(
            tuple(s for s, b in zip(uves, bench_flags) if b) + tuple(decam_hits(args.data_dir)),
            {**meta, "split": "benchmark"},
        ),
    }
    report = {}
    for split, lib in libs.items():
        target = args.out_dir / library_path(split).name
        lib.save(target, overwrite=True)
        report[split] = summary(lib)
        print(f"{split}: {target} ({target.stat().st_size / 1024:.0f} KiB)")
    print(json.dumps(report, indent=1))
    if not args.skip_backgrounds:
        for p in write_benchmark_backgrounds(data_dir=args.data_dir, out_dir=args.out_dir / "benchmark",
                                             overwrite=True):
            print(f"benchmark background: {p} ({p.stat().st_size / 1024:.0f} KiB)")
    if args.check_dir is not None:
        plot_check(libs, args.check_dir)
        (args.check_dir / "cr_library_summary.json").write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
