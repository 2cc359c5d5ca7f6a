"""Build the far-infrared package data: PACS PSFs, PACS noise levels, benchmark backgrounds.

Writes into ``src/astroclean/data/far_infrared/`` (package data, so the
benchmark and ``load_pacs_psf`` work without the real-data folder):

* ``pacs_psf_{blue,green,red}.npz``: PSF stamps of a 1 Jy source from the gamma Dra
  maps, with FWHM and encircled-energy curve (see
  ``astroclean.instruments.pacs``);
* ``pacs_noise.json``: 1-sigma pixel noise (Jy/pixel) and lag-1
  autocorrelation per band and mode, measured on the TRAINING PACS maps
  (green scan: the gamma Dra 100 um map, star masked within 40 px; green
  chop-nod: no map, so the blue chop-nod values scaled by green/blue scan);
* ``bench_*.npz``: the benchmark backgrounds (float32): the held-out PACS
  maps (Jy/pixel) and the held-out columns of the Bolocam and Spitzer maps
  (in units of their own noise; rescaled to the band's PACS noise at load).

    python scripts/build_far_ir_data.py --data-dir /work/shared/data [--overwrite]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def _psfs(root, out, overwrite):
    from astropy.io import fits

    from astroclean.io.npz import save_npz
    from astroclean.instruments.pacs import GAMMA_DRA_MJY, extract_psf, make_psf

    gd = root / "far_infrared" / "pacs_gamma_dra"

    def stamp(obsid, cam, half, band):
        path = sorted(gd.glob(f"hpacs{obsid}_20hpppmap{cam}_*.fits*"))[0]
        with fits.open(path) as h:
            scale = abs(float(h["image"].header["CDELT2"])) * 3600
            raw = extract_psf(h["image"].data, h["coverage"].data, half_size=half, normalise=False)
            # the stamp in Jy over the calibration flux in Jy: the PSF of a 1 Jy source
            return raw / raw.sum(), round(scale, 3), path.name, float(raw.sum()) / (GAMMA_DRA_MJY[band] / 1000.0)

    specs = {"blue": [("1342217404", "b", 30)], "green": [("1342216069", "b", 30)],
             "red": [("1342217404", "r", 20), ("1342216069", "r", 20)]}
    rows = []
    for band, parts in specs.items():
        got = [stamp(*p, band) for p in parts]
        arr = np.mean([g[0] for g in got], axis=0)
        fraction = float(np.mean([g[3] for g in got]))
        psf = make_psf(arr, pixel_scale_arcsec=got[0][1], band=band, flux_fraction=fraction,
                       meta={"files": [g[2] for g in got], "object": "gamma Dra",
                             "calibration_mJy": GAMMA_DRA_MJY[band],
                             "flux_fraction_per_map": [round(g[3], 4) for g in got],
                             "method": "astroclean.instruments.pacs.extract_psf"})
        save_npz(out / f"pacs_psf_{band}.npz", {
            "array": psf.array, "pixel_scale_arcsec": np.float64(psf.pixel_scale_arcsec),
            "fwhm_pixels": np.float64(psf.fwhm_pixels), "ee_radii": psf.ee_radii, "ee_values": psf.ee_values,
            "meta": np.array(json.dumps(psf.meta))}, overwrite=overwrite)
        ee = {f'{r}"': round(float(psf.encircled_energy(r / psf.pixel_scale_arcsec)), 3) for r in (4, 8, 12, 16, 24)}
        rows.append(f"{band:6s} {psf.array.shape} {psf.pixel_scale_arcsec}\"/px flux fraction {fraction:.4f} "
                    f"FWHM {psf.fwhm_arcsec:.2f}\" "
                    f"({psf.fwhm_pixels:.2f} px) EE {ee}")
    return rows


def _noise(root, out, overwrite):
    from astroclean.io.write import atomic_write
    from astroclean.sources.simulate.fields import PACS_MAPS, _pacs_path, read_pacs_map

    levels = {}
    for band in ("blue", "red"):
        for mode in ("scan", "chopnod"):
            got = [read_pacs_map(_pacs_path(root, o, band)) for o in PACS_MAPS[(mode, "train")]]
            levels[f"{band}_{mode}"] = {"noise": float(np.median([g[2] for g in got])),
                                        "lag1": float(np.median([g[3] for g in got])),
                                        "source": "training PACS maps " + ", ".join(PACS_MAPS[(mode, "train")])}
    path = sorted((root / "far_infrared" / "pacs_gamma_dra").glob("hpacs1342216069_20hpppmapb_*.fits*"))[0]
    from astropy.io import fits

    from astroclean.background import noise_map
    from astroclean.sources.simulate.fields import _lag1

    with fits.open(path) as h:
        data = np.array(h["image"].data, dtype=np.float64)
        cov = np.array(h["coverage"].data, dtype=np.float64)
    mask = ~np.isfinite(data) | (cov < 0.2 * np.percentile(cov[cov > 0], 95))
    iy, ix = np.unravel_index(np.argmax(np.where(mask, -np.inf, data)), data.shape)
    yy, xx = np.mgrid[:data.shape[0], :data.shape[1]]
    mask |= np.hypot(yy - iy, xx - ix) < 40
    g_noise = float(np.median(noise_map(data, mask=mask)[~mask]))
    levels["green_scan"] = {"noise": g_noise, "lag1": _lag1(data, mask),
                            "source": "gamma Dra 1342216069 100 um, star masked"}
    ratio = g_noise / levels["blue_scan"]["noise"]
    levels["green_chopnod"] = {"noise": levels["blue_chopnod"]["noise"] * ratio, "lag1": levels["blue_chopnod"]["lag1"],
                               "source": "no green chop-nod map: blue chop-nod x (green scan / blue scan)"}
    target = out / "pacs_noise.json"

    def write(tmp):
        Path(tmp).write_text(json.dumps(levels, indent=1, sort_keys=True) + "\n")

    atomic_write(target, write, overwrite=overwrite)
    return [f"{k:14s} noise {v['noise']:.3e} Jy/px lag1 {v['lag1']:.2f} ({v['source']})" for k, v in levels.items()]


def _bench(root, out, overwrite):
    from astroclean.io.npz import save_npz
    from astroclean.sources.simulate.fields import GALACTIC, PACS_MAPS, _pacs_path, read_galactic, read_pacs_map

    rows = []
    for mode in ("scan", "chopnod"):
        for band in ("blue", "red"):
            for obsid in PACS_MAPS[(mode, "benchmark")]:
                data, mask, noise, _, _, header = read_pacs_map(_pacs_path(root, obsid, band))
                keep = {k: header[k] for k in ("CTYPE1", "CTYPE2", "CRPIX1", "CRPIX2", "CRVAL1", "CRVAL2", "CDELT1",
                                               "CDELT2", "CUNIT1", "CUNIT2", "EQUINOX") if k in header}
                from astropy.io.fits import Header

                name = f"pacs_{obsid}_{band}_{mode}"
                path = save_npz(out / f"bench_{name}.npz", {
                    "image": np.where(mask, np.nan, data).astype(np.float32), "mask": mask,
                    "noise": np.float64(noise), "header": np.array(Header(keep).tostring())}, overwrite=overwrite)
                rows.append(f"{path.name}: {data.shape}, noise {noise:.3e}")
    for name, spec in GALACTIC.items():
        if spec[2] is None:
            continue
        img, mask, wcs, native = read_galactic(root, name, "benchmark")
        header = wcs.to_header().tostring() if wcs is not None else ""
        path = save_npz(out / f"bench_{name}_benchmark.npz", {
            "image": np.where(mask, np.nan, img).astype(np.float32), "mask": mask, "native_noise": np.float64(native),
            "header": np.array(header)}, overwrite=overwrite)
        rows.append(f"{path.name}: {img.shape}, native noise {native:.3e}")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="real-data folder ($ASTROCLEAN_DATA_DIR)")
    parser.add_argument("--out-dir", default=None, help="default: the package's data/far_infrared")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    from astroclean.simulate.common import resolve_data_dir
    from astroclean.instruments.pacs import PSF_DIR

    root = resolve_data_dir(args.data_dir, need="far-infrared maps")
    out = Path(args.out_dir) if args.out_dir else PSF_DIR
    out.mkdir(parents=True, exist_ok=True)
    for row in _psfs(root, out, args.overwrite) + _noise(root, out, args.overwrite) + _bench(root, out, args.overwrite):
        print(row)
    total = sum(p.stat().st_size for p in out.glob("*") if p.is_file())
    print(f"total {total / 1e6:.2f} MB in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
